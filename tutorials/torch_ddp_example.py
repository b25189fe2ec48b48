r"""Tune a CNN on MNIST with Propulate, training every individual data-parallel on several ranks.

This is :file:`torch_example.py` with multi-rank workers: the MPI ranks are grouped into workers
of ``--ranks-per-worker`` consecutive ranks (``Islands(..., ranks_per_worker=...)``). A worker's
first rank breeds an individual; Propulate then calls ``loss_fn(params, comm)`` on every rank of
the worker, ``comm`` being the worker's own MPI communicator. Inside, the ranks train one model
together with PyTorch's ``DistributedDataParallel`` (DDP):

* the worker's first rank starts a ``torch.distributed.TCPStore`` on a free port and shares its
  address with ``comm.bcast``; every rank of the worker (and no other) joins a process group
  through it, with the ``gloo`` backend on the CPU or ``nccl`` on GPUs. The group is destroyed
  after the evaluation, so each evaluation has a fresh one on a fresh port;
* a ``DistributedSampler`` gives each rank its own part of the training data (two ranks: a half
  each) and DDP averages the gradients, so all ranks take the same SGD steps;
* each rank validates on its share of the validation set, and ``comm.allreduce`` sums the
  correct predictions, so every rank knows the same accuracy.

The loss is the negative best validation accuracy over the epochs (as in ``torch_example.py``;
the worker's first rank reports it). The model, the search space and the data are those of
``torch_example.py``: ``conv_layers`` 3x3 convolutions (2 to 10), an ``activation`` (``relu``,
``sigmoid`` or ``tanh``) and the SGD learning rate ``lr`` (0.0001 to 0.01); MNIST's training
images (or a fixed subset, ``--train-subset``) for training, its 10,000 test images for
validation.

Why a plain PyTorch training loop, not Lightning: Lightning's DDP strategy wants to own the
process group's life (it launches or adopts the processes and initializes the default group
from environment variables once per program). Here the processes already exist (MPI started
them), they are split into many independent workers, and each worker needs a new group for
every individual it evaluates; a dozen lines of loop do that plainly.

Run it with a multiple of ``--ranks-per-worker`` ranks, e.g. two workers of two ranks::

    mpirun -n 4 python tutorials/torch_ddp_example.py                  # 4 GPUs, one per rank
    mpirun -n 4 python tutorials/torch_ddp_example.py --generations 3 \
        --epochs 2 --train-subset 10000 --num-workers 0                # a laptop CPU

On GPUs every rank needs its own GPU (NCCL cannot run two ranks of a group on one device):
rank ``r`` of a node uses GPU ``r % --gpus-per-node``, so launch at most that many ranks per
node. MNIST is read from (or downloaded into) ``--data-dir`` as in ``torch_example.py``; offline,
put the four original ``.gz`` files into ``<data-dir>/MNIST/raw/`` (a writable folder).
Propulate's checkpoint and the log file ``torch_ddp_example.log`` go to ``--checkpoint``;
rerunning the same command resumes. ``--verbose`` logs a line per epoch from every rank, with
the number of training images it saw and a fingerprint of which ones.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import logging
import os
import random
import socket
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from mpi4py import MPI
from torch import nn
from torch.nn import functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Subset
from torchvision.datasets import MNIST
from torchvision.transforms import Compose, Normalize, ToTensor

from propulate import ConfigurationError, Islands
from propulate.devices import select_device, visible_gpus
from propulate.islands import plan_islands
from propulate.utils import get_default_propagator, set_logger_config

SCRIPT = "torch_ddp_example.py"
LIMITS = {
    "conv_layers": (2, 10),
    "activation": ("relu", "sigmoid", "tanh"),
    "lr": (0.01, 0.0001),
}
ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
# What a resumed run must share with the run it continues (the checkpoint refuses another): the
# options the accuracies depend on. The budget (--generations) and where the run happens
# (--data-dir, --num-workers, --gpus-per-node) may change between resumes; the layout of ranks
# (--ranks-per-worker, --num-islands) is checked by Propulate itself.
RUN_OPTIONS = ("epochs", "batch_size", "train_subset", "seed")
MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
PATIENCE = 3  # epochs without a lower validation loss before training stops (Lightning's default)
TIMEOUT = datetime.timedelta(minutes=5)  # for joining the group and for every collective

log = logging.getLogger("propulate.torch_ddp_example")


class Net(nn.Module):
    """The CNN of ``torch_example.py`` as a plain module: 3x3 convolutions, then a linear layer.

    Parameters
    ----------
    conv_layers : int
        The number of convolutional layers (10 channels each, padding 1).
    activation : str
        The activation after every convolution: ``"relu"``, ``"sigmoid"`` or ``"tanh"``.
    """

    def __init__(self, conv_layers: int, activation: str) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(conv_layers):
            layers.append(nn.Conv2d(1 if i == 0 else 10, 10, kernel_size=3, padding=1))
            layers.append(ACTIVATIONS[activation]())
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(10 * 28 * 28, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores (logits) of a batch of images of shape ``(batch, 1, 28, 28)``."""
        return self.classifier(self.features(x).flatten(start_dim=1))


def prepare_mnist(data_dir: Path, comm: MPI.Comm) -> None:
    """Download and unpack MNIST on rank 0 while the other ranks wait (see torch_example.py).

    Exits every rank with a message saying where to put the files if the data set is missing and
    cannot be downloaded.
    """
    error = None
    if comm.rank == 0:
        try:
            for train in (True, False):
                MNIST(data_dir, train=train, download=True)
        except (OSError, RuntimeError) as exc:  # no network, a read-only folder, a corrupt file
            raw = data_dir / "MNIST" / "raw"
            error = (
                f"MNIST is missing from {raw}/ and could not be downloaded.\n"
                f"Put the four original files ({', '.join(MNIST_FILES)}) into {raw}/ (a "
                "writable folder: they are unpacked next to themselves), or point --data-dir at "
                "a writable copy of a folder holding MNIST/raw/, and run again.\n"
                f"Cause: {type(exc).__name__}: {exc}".strip()
            )
    error = comm.bcast(error, root=0)  # also the barrier: nobody reads before rank 0 unpacked
    if error is not None:
        if comm.rank == 0:
            print(f"{SCRIPT}: error: {error}", file=sys.stderr)
        sys.exit(1)


def load_mnist(data_dir: Path, train_subset: int | None, seed: int) -> tuple[Dataset, Dataset]:
    """The training set (or a fixed random subset of it) and the validation set (the test split)."""
    transform = Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])
    train_set: Dataset = MNIST(data_dir, train=True, transform=transform)
    val_set = MNIST(data_dir, train=False, transform=transform)
    if train_subset is not None and train_subset < len(train_set):
        order = torch.randperm(len(train_set), generator=torch.Generator().manual_seed(seed))
        train_set = Subset(train_set, order[:train_subset].tolist())
    return train_set, val_set


def fingerprint(indices: Iterable[int]) -> str:
    """A short digest of a set of sample indices (to compare the ranks' shares in the log)."""
    text = ",".join(map(str, sorted(indices)))
    return hashlib.sha1(text.encode()).hexdigest()[:12]


@contextmanager
def worker_process_group(comm: MPI.Comm, backend: str) -> Iterator[None]:
    """A ``torch.distributed`` process group of exactly the ranks of ``comm``, for one evaluation.

    The first rank serves a ``TCPStore`` on a port the operating system picks (so workers and
    evaluations never collide) and broadcasts where it is; the others connect to it. The group is
    destroyed on leaving the block.

    Parameters
    ----------
    comm : MPI.Comm
        The worker's communicator.
    backend : str
        ``"gloo"`` (CPU) or ``"nccl"`` (GPU).
    """
    store = None
    address: tuple[str, int] | str
    if comm.rank == 0:
        # MASTER_ADDR overrides the host name where that does not reach this node's network.
        host = os.environ.get("MASTER_ADDR", socket.gethostname())
        try:
            # Without wait_for_workers=False the store would wait for the others right here,
            # before they know where to connect.
            store = dist.TCPStore(
                host, 0, comm.size, is_master=True, timeout=TIMEOUT, wait_for_workers=False
            )
            address = (host, store.port)
        except (OSError, RuntimeError) as exc:
            address = f"rank 0 of the worker could not start a TCPStore on {host}: {exc}"
    # Broadcast the failure too: the other ranks must not wait for an address that never comes.
    address = comm.bcast(address if comm.rank == 0 else None, root=0)
    if isinstance(address, str):
        raise RuntimeError(address)
    if store is None:
        store = dist.TCPStore(address[0], address[1], comm.size, is_master=False, timeout=TIMEOUT)
    dist.init_process_group(
        backend, store=store, rank=comm.rank, world_size=comm.size, timeout=TIMEOUT
    )
    try:
        yield
    finally:
        dist.destroy_process_group()
        comm.barrier()  # the first rank's store must outlive everybody's group


def train_and_evaluate(
    params: dict[str, int | float | str],
    comm: MPI.Comm,
    train_set: Dataset,
    val_set: Dataset,
    args: argparse.Namespace,
    device: int | None,
) -> float:
    """Train one model data-parallel on the ranks of ``comm``; the negative best val accuracy.

    Called on every rank of a worker with the same ``params``.

    Parameters
    ----------
    params : dict
        The individual: ``conv_layers``, ``activation`` and ``lr``.
    comm : MPI.Comm
        The worker's communicator.
    train_set, val_set : Dataset
        The training and validation data (each rank uses its share).
    args : argparse.Namespace
        The command-line options (epochs, batch size, data-loader workers, seed).
    device : int or None
        The index of this rank's GPU, or ``None`` for the CPU.

    Returns
    -------
    float
        The negative best validation accuracy over the epochs, in [-1, 0]; the same on all ranks.
    """
    target = torch.device("cpu" if device is None else f"cuda:{device}")
    worker = MPI.COMM_WORLD.rank // comm.size
    with worker_process_group(comm, "gloo" if device is None else "nccl"):
        model = Net(int(params["conv_layers"]), str(params["activation"])).to(target)
        # DDP copies the first rank's initial weights to the others and averages the gradients.
        ddp_model = DistributedDataParallel(model, device_ids=None if device is None else [device])
        optimizer = torch.optim.SGD(ddp_model.parameters(), lr=float(params["lr"]))
        # Every rank gets len/size training images, a different share each epoch (same seed on
        # all ranks, so the shares never overlap).
        sampler = DistributedSampler(
            train_set, num_replicas=comm.size, rank=comm.rank, shuffle=True, seed=args.seed
        )
        loader_options = {
            "num_workers": args.num_workers,
            "persistent_workers": args.num_workers > 0,
            "pin_memory": device is not None,
        }
        train_loader = DataLoader(
            train_set, batch_size=args.batch_size, sampler=sampler, **loader_options
        )
        # Every size-th validation image from the rank's own offset: no image twice, none left out.
        val_share = Subset(val_set, range(comm.rank, len(val_set), comm.size))
        val_loader = DataLoader(val_share, batch_size=1000, **loader_options)

        best_accuracy, best_val_loss, stale_epochs = 0.0, float("inf"), 0
        for epoch in range(args.epochs):
            sampler.set_epoch(epoch)
            ddp_model.train()
            seen = 0
            for images, labels in train_loader:
                images, labels = images.to(target), labels.to(target)
                optimizer.zero_grad()
                F.cross_entropy(ddp_model(images), labels).backward()  # averages the gradients
                optimizer.step()
                seen += len(labels)

            model.eval()  # the plain model: validation needs no gradient synchronization
            counts = np.zeros(3)  # correct predictions, images, summed cross-entropy
            with torch.no_grad():
                for images, labels in val_loader:
                    images, labels = images.to(target), labels.to(target)
                    logits = model(images)
                    counts += (
                        (logits.argmax(dim=1) == labels).sum().item(),
                        len(labels),
                        F.cross_entropy(logits, labels, reduction="sum").item(),
                    )
            correct, total, loss_sum = comm.allreduce(counts)  # the whole validation set
            accuracy, val_loss = correct / total, loss_sum / total
            best_accuracy = max(best_accuracy, accuracy)
            if log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "Worker %d, rank %d of %d, epoch %d: trained on %d of %d images (shard %s); "
                    "validation accuracy %.4f, loss %.4f.",
                    worker,
                    comm.rank,
                    comm.size,
                    epoch,
                    seen,
                    len(train_set),
                    fingerprint(sampler),
                    accuracy,
                    val_loss,
                )
            # Early stopping as in torch_example.py. One decision for the whole worker, taken by
            # its first rank: a rank that trained an epoch more than the others would wait forever
            # for their gradients.
            if val_loss < best_val_loss:
                best_val_loss, stale_epochs = val_loss, 0
            else:
                stale_epochs += 1
            if comm.bcast(stale_epochs >= PATIENCE, root=0):
                break
    return -best_accuracy


def choose_device(args: argparse.Namespace, comm: MPI.Comm) -> int | None:
    """This rank's GPU (by its position on its node, see ``propulate.devices``), or ``None``.

    On the CPU the machine's cores are shared out among the ranks on this node. On GPUs every rank
    of the node needs its own GPU, because NCCL cannot place two ranks of one group on a device.
    """
    gpus_available = visible_gpus()
    gpus_per_node = gpus_available if args.gpus_per_node is None else args.gpus_per_node
    problem = None
    if gpus_per_node > gpus_available:
        problem = (
            f"--gpus-per-node {gpus_per_node}, but this node has {gpus_available} usable GPU(s). "
            f"Pass at most {gpus_available}, or 0 for the CPU."
        )
    placement = select_device(comm, gpus=min(gpus_per_node, gpus_available))
    if problem is None and placement.sharing > 1:
        problem = (
            f"{placement.sharing} ranks on {placement.host} would share GPU {placement.gpu} "
            f"(--gpus-per-node {gpus_per_node}); data-parallel training needs a GPU per rank. "
            f"Launch at most {gpus_per_node} ranks per node, or pass --gpus-per-node 0 for the CPU."
        )
    # Every rank learns whether any rank has a problem, so all of them stop, none waits.
    problems = [p for p in comm.allgather(problem) if p is not None]
    if problems:
        if comm.rank == 0:
            print(f"{SCRIPT}: error: {problems[0]}", file=sys.stderr)
        sys.exit(2)
    if placement.gpu is not None:
        torch.cuda.set_device(placement.gpu)
        return placement.gpu
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(max(1, (cores or 1) // placement.local_size))
    return None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        description="Tune the number of convolutional layers, the activation and the learning rate "
        "of a CNN on MNIST with Propulate, each individual trained data-parallel (PyTorch DDP) by "
        "a worker of several MPI ranks. Run it under MPI with a multiple of --ranks-per-worker "
        "ranks, e.g. 'mpirun -n 4 python torch_ddp_example.py' (two workers of two ranks).",
        epilog="On a CPU-only machine with few cores, shrink the budget, e.g. --generations 3 "
        "--epochs 1 --num-workers 0 --train-subset 10000.",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path("data"),
        help="folder holding MNIST/raw/; MNIST is downloaded there if missing, and offline you "
        "put the four original .gz files into <data-dir>/MNIST/raw/ yourself; must be writable "
        "(default: data)",
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=Path("torch_ddp_ckpts"),
        help="folder for Propulate's checkpoint and the log file; running again with the same "
        "folder resumes (default: torch_ddp_ckpts)",
    )
    parser.add_argument(
        "--generations",
        type=int,
        default=10,
        help="individuals each worker evaluates in total, counting earlier runs on the same "
        "checkpoint (default: 10)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=100,
        help=f"maximum epochs per model; training stops sooner once the validation loss has not "
        f"improved for {PATIENCE} epochs (default: 100)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=8,
        help="training batch size per rank; a worker's SGD step sees ranks-per-worker times as "
        "many images (default: 8)",
    )
    parser.add_argument(
        "--train-subset",
        type=int,
        default=None,
        metavar="N",
        help="train on a fixed random subset of N of the 60,000 training images (split between "
        "the ranks of a worker), to save time on small machines (default: all)",
    )
    parser.add_argument(
        "--num-workers",
        type=int,
        default=2,
        help="data-loader worker processes per rank (PyTorch's, not Propulate's workers); 0 "
        "loads batches in the training process, best on a CPU with few cores (default: 2)",
    )
    parser.add_argument(
        "--gpus-per-node",
        type=int,
        default=None,
        help="GPUs per node: the node's rank r trains on GPU r %% gpus-per-node, one rank per "
        "GPU; 0 trains on the CPU (default: the number of GPUs PyTorch sees; the CPU if none)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seeds Propulate's random generators (worker w of n: seed * n + w), the initial "
        "weights, the training subset and the shuffling of the training data (default: 0)",
    )
    parser.add_argument(
        "--ranks-per-worker",
        type=int,
        default=2,
        help="MPI ranks that train each individual together; the number of ranks must be a "
        "multiple of it (default: 2)",
    )
    parser.add_argument(
        "--num-islands",
        type=int,
        default=1,
        help="islands the workers are split into; they exchange good individuals now and then "
        "(default: 1)",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="log a line per epoch from every rank (prefixed with its MPI rank): the training "
        "images it saw, a fingerprint of which, and the validation accuracy",
    )
    args = parser.parse_args(argv)
    for name in ("generations", "epochs", "batch_size", "train_subset", "num_islands"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1; got {value}")
    if args.num_workers < 0:
        parser.error(f"--num-workers must be 0 or more; got {args.num_workers}")
    if args.gpus_per_node is not None and args.gpus_per_node < 0:
        parser.error(f"--gpus-per-node must be 0 or more; got {args.gpus_per_node}")
    return args


def main(argv: list[str] | None = None) -> None:
    """Parse the options, prepare the data and run Propulate with multi-rank workers."""
    args = parse_args(argv)
    comm = MPI.COMM_WORLD
    try:
        # Check the layout before anything slow; Islands would raise the same error later.
        plan = plan_islands(comm.size, args.num_islands, ranks_per_worker=args.ranks_per_worker)
    except ConfigurationError as error:
        if comm.rank == 0:
            print(f"{SCRIPT}: error: {error}", file=sys.stderr)
        sys.exit(2)
    worker = comm.rank // args.ranks_per_worker
    island = plan.island_of_worker()[worker]
    device = choose_device(args, comm)
    prepare_mnist(args.data_dir, comm)
    train_set, val_set = load_mnist(args.data_dir, args.train_subset, args.seed)

    set_logger_config(
        level=logging.INFO,
        log_file=args.checkpoint / "torch_ddp_example.log",
        log_to_stdout=True,
        log_rank=args.verbose,  # other ranks' lines are dropped unless they are asked for
        colors=True,
    )
    if args.verbose:
        log.setLevel(logging.DEBUG)  # this script's lines only, not Propulate's own debug output
    if comm.rank == 0:
        log.info(
            "%d ranks: %d workers of %d ranks on %d island(s), %s; training on %d images, "
            "validating on %d",
            comm.size,
            plan.num_workers,
            args.ranks_per_worker,
            len(plan.sizes),
            "CPU" if device is None else "GPUs",
            len(train_set),
            len(val_set),
        )

    # Only a worker's first rank breeds, so one generator per worker (the same on its ranks).
    seed = args.seed * plan.num_workers + worker
    torch.manual_seed(seed)  # initial weights (DDP takes them from the worker's first rank)
    rng = random.Random(seed)
    propagator = get_default_propagator(
        pop_size=2 * plan.sizes[island],
        limits=LIMITS,
        crossover_prob=0.7,
        mutation_prob=0.4,
        random_init_prob=0.1,
        rng=rng,
    )

    # With --ranks-per-worker 1, Propulate calls loss_fn(params): a worker of one rank.
    def loss_fn(
        params: dict[str, int | float | str], worker_comm: MPI.Comm = MPI.COMM_SELF
    ) -> float:
        return train_and_evaluate(params, worker_comm, train_set, val_set, args, device)

    islands = Islands(
        loss_fn=loss_fn,
        propagator=propagator,
        rng=rng,
        generations=args.generations,
        num_islands=args.num_islands,
        migration_probability=0.9,
        ranks_per_worker=args.ranks_per_worker,
        checkpoint_path=args.checkpoint,
        run_config={"tutorial": "torch_ddp_example", **{n: getattr(args, n) for n in RUN_OPTIONS}},
    )
    islands.propulate(logging_interval=1, debug=2)  # a line per evaluation
    islands.summarize(top_n=1, debug=1)


if __name__ == "__main__":
    main()
