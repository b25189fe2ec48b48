r"""Tune a small PyTorch Lightning CNN on MNIST with Propulate.

Every MPI rank is one Propulate worker. A worker breeds an individual (a set of hyperparameters),
trains a CNN with it for up to ``--epochs`` epochs and returns the best validation accuracy,
declared as an objective to maximize (``objectives={"accuracy": "maximize"}``): Propulate
maximizes it asynchronously across all workers, keeps ``-accuracy`` as each individual's loss
and shows the accuracy itself in ``propulate summary`` and exports. The search space is

* ``conv_layers``: the number of 3x3 convolutional layers, 2 to 10;
* ``activation``: ``relu``, ``sigmoid`` or ``tanh``;
* ``lr``: the SGD learning rate, between 0.0001 and 0.01.

The validation set is MNIST's official test split (10,000 images); the models train on the
60,000 training images, or on a fixed random subset of them with ``--train-subset``.

Run it with one rank per GPU on a GPU node, or with a few ranks on a CPU::

    mpirun -n 4 python tutorials/torch_example.py          # a node with 4 GPUs: the full budget
    mpirun -n 4 python tutorials/torch_example.py --generations 6 --epochs 1 --num-workers 0

The second line is the small-machine budget: 24 models, one epoch each on all 60,000 images. On
a 2-core CPU with nothing else running it took 19.5 minutes and found 97.4 % validation accuracy
(4 ReLU layers, lr 0.0077). Add ``--train-subset 1000`` for a one-minute smoke test. On the
CPU the cores are shared out among the ranks of each machine (``torch.set_num_threads``).

SIGTERM (e.g. from ``timeout`` or a batch scheduler) stops every rank within seconds: Lightning
ends the models in training at their next batch, every finished evaluation is kept, and the same
command resumes.

MNIST is downloaded into ``--data-dir`` on the first run. Offline, put the four original files
(``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``,
``t10k-labels-idx1-ubyte.gz``) into ``<data-dir>/MNIST/raw/`` first; the folder must be writable
because they are unpacked next to themselves.

Everything the run writes goes to ``--checkpoint``: Propulate's checkpoint, its log file
``torch_example.log`` and the TensorBoard logs of every trained model
(``lightning_logs/rank_<r>/version_<n>``; view them with ``tensorboard --logdir <checkpoint>``).
Rerunning the same command after an interruption continues from the checkpoint; raising
``--generations`` extends a finished run. Each model saves its weights after every epoch in its
individual's folder (``propulate.current_dir()``, under ``<checkpoint>/individuals/``): a
training interrupted by SIGTERM or by ``--time-budget`` continues from its last epoch in the
next run instead of starting again.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from lightning.fabric.plugins.environments import LightningEnvironment
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only
from mpi4py import MPI
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, Dataset, Subset
from torchmetrics.classification import MulticlassAccuracy
from torchvision.datasets import MNIST
from torchvision.transforms import Compose, Normalize, ToTensor

from propulate import (
    ASHA,
    DynamicSurrogate,
    MedianStoppingRule,
    Propulator,
    StaticSurrogate,
    Surrogate,
    current_dir,
)
from propulate.devices import select_device, visible_gpus
from propulate.integrations.lightning import PruningCallback
from propulate.utils import get_default_propagator, set_logger_config

LIMITS = {
    "conv_layers": (2, 10),
    "activation": ("relu", "sigmoid", "tanh"),
    "lr": (0.01, 0.0001),
}
ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
# The early-stopping rules --pruning chooses from (factories: one rule per rank).
PRUNING_RULES: dict[str, Callable[[], Surrogate]] = {
    "median": lambda: MedianStoppingRule(warmup_steps=1),
    "asha": lambda: ASHA(),
    "dynamic": lambda: DynamicSurrogate(LIMITS),
    "static": lambda: StaticSurrogate(),
}
# What a resumed run must share with the run it continues (the checkpoint refuses another): the
# options the accuracies depend on. The budget (--generations, --time-budget) and where the run
# happens (--data-dir, --num-workers, --gpus-per-node) may change between resumes.
RUN_OPTIONS = ("epochs", "batch_size", "train_subset", "seed", "pruning")
MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

log = logging.getLogger("propulate.torch_example")


class Net(LightningModule):
    """A CNN of ``conv_layers`` 3x3 convolutions (10 channels each) and one linear classifier.

    Parameters
    ----------
    conv_layers : int
        The number of convolutional layers.
    activation : str
        The activation after every convolution: ``"relu"``, ``"sigmoid"`` or ``"tanh"``.
    lr : float
        The SGD learning rate.

    Attributes
    ----------
    best_val_accuracy : float
        The best validation accuracy over the epochs trained so far.
    """

    def __init__(self, conv_layers: int, activation: str, lr: float) -> None:
        super().__init__()
        self.save_hyperparameters()  # shows the individual next to its curves in TensorBoard
        layers: list[nn.Module] = []
        for i in range(conv_layers):
            layers.append(nn.Conv2d(1 if i == 0 else 10, 10, kernel_size=3, padding=1))
            layers.append(ACTIVATIONS[activation]())
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(10 * 28 * 28, 10)  # padding 1 keeps the 28x28 images whole
        self.lr = lr
        self.train_accuracy = MulticlassAccuracy(num_classes=10, average="micro")
        self.val_accuracy = MulticlassAccuracy(num_classes=10, average="micro")
        self.best_val_accuracy = 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores (logits) of a batch of images of shape ``(batch, 1, 28, 28)``."""
        return self.classifier(self.features(x).flatten(start_dim=1))

    def training_step(
        self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int
    ) -> torch.Tensor:
        """Cross-entropy loss of one training batch."""
        images, labels = batch
        logits = self(images)
        loss = F.cross_entropy(logits, labels)
        self.train_accuracy(logits, labels)
        self.log("train_loss", loss)
        self.log("train_acc", self.train_accuracy, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        """Accumulate the loss and accuracy of one validation batch."""
        images, labels = batch
        logits = self(images)
        self.val_accuracy.update(logits, labels)
        self.log("val_loss", F.cross_entropy(logits, labels), on_epoch=True)

    def on_validation_epoch_end(self) -> None:
        """Log this epoch's validation accuracy and keep the best one."""
        accuracy = self.val_accuracy.compute().item()
        self.val_accuracy.reset()
        self.log("val_acc", accuracy)
        # Lightning's sanity check validates on two batches before training starts: not an epoch.
        if not self.trainer.sanity_checking:
            self.best_val_accuracy = max(self.best_val_accuracy, accuracy)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        """Keep the best accuracy with the weights (a resumed training needs it)."""
        checkpoint["best_val_accuracy"] = self.best_val_accuracy

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        """Restore the best accuracy of the epochs trained before an interruption."""
        self.best_val_accuracy = checkpoint.get("best_val_accuracy", 0.0)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        """Plain SGD with the individual's learning rate."""
        return torch.optim.SGD(self.parameters(), lr=self.lr)


def prepare_mnist(data_dir: Path, comm: MPI.Comm) -> None:
    """Download and unpack MNIST on rank 0 while the other ranks wait.

    Exits every rank with a message saying where to put the files if the data set is missing and
    cannot be downloaded. On several nodes, ``data_dir`` must be on a file system they share.
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
    # The broadcast doubles as the barrier: nobody reads the files before rank 0 has unpacked them.
    error = comm.bcast(error, root=0)
    if error is not None:
        if comm.rank == 0:
            print(f"torch_example.py: error: {error}", file=sys.stderr)
        sys.exit(1)


def load_mnist(data_dir: Path, train_subset: int | None, seed: int) -> tuple[MNIST | Subset, MNIST]:
    """The training set (or a fixed random subset of it) and the validation set (the test split)."""
    transform = Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])
    train_set = MNIST(data_dir, train=True, transform=transform)
    val_set = MNIST(data_dir, train=False, transform=transform)
    if train_subset is not None and train_subset < len(train_set):
        # The same subset on every rank (seeded), so all individuals are judged on equal terms.
        order = torch.randperm(len(train_set), generator=torch.Generator().manual_seed(seed))
        return Subset(train_set, order[:train_subset].tolist()), val_set
    return train_set, val_set


def train_and_evaluate(
    params: dict[str, int | float | str],
    train_set: Dataset,
    val_set: Dataset,
    args: argparse.Namespace,
    device: int | None,
) -> float:
    """Train one model with the given hyperparameters and return its best validation accuracy.

    Parameters
    ----------
    params : dict
        The individual: ``conv_layers``, ``activation`` and ``lr``.
    train_set, val_set : Dataset
        The training and validation data.
    args : argparse.Namespace
        The command-line options (epochs, batch size, data-loader workers, checkpoint folder).
    device : int or None
        The index of the GPU to train on, or ``None`` for the CPU.

    Returns
    -------
    float
        The best validation accuracy over the epochs, in [0, 1].
    """
    model = Net(int(params["conv_layers"]), str(params["activation"]), float(params["lr"]))
    loader_options = {
        "num_workers": args.num_workers,
        "persistent_workers": args.num_workers > 0,
        "pin_memory": device is not None,
    }
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, **loader_options)
    # Validation batches only affect speed, not results: make them large.
    val_loader = DataLoader(val_set, batch_size=1000, **loader_options)
    # The individual's own folder: the weights of its last epoch are saved there, so a training
    # interrupted at the end of a job (SIGTERM, --time-budget) continues in the next job.
    folder = current_dir()
    last = folder / "last.ckpt"
    trainer = Trainer(
        max_epochs=args.epochs,
        accelerator="cpu" if device is None else "gpu",
        devices=1 if device is None else [device],
        # Each rank trains its own models: a single-process environment keeps Lightning from
        # treating the MPI (or SLURM) job as one distributed training run.
        plugins=[LightningEnvironment()],
        callbacks=[
            EarlyStopping(monitor="val_loss", mode="min"),
            # Reports the validation accuracy after each epoch: Propulate keeps it as the
            # individual's learning curve and, with --pruning, its rule stops this model if it
            # looks unpromising (e.g. behind earlier models at the same epoch).
            PruningCallback(monitor="val_acc", mode="max"),
            ModelCheckpoint(dirpath=folder, save_top_k=0, save_last=True),
        ],
        logger=TensorBoardLogger(
            args.checkpoint / "lightning_logs", name=f"rank_{MPI.COMM_WORLD.rank}"
        ),
        default_root_dir=args.checkpoint,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    trainer.fit(model, train_dataloaders=train_loader, val_dataloaders=val_loader,
                ckpt_path=last if last.exists() else None)  # fmt: skip
    return model.best_val_accuracy


def choose_device(args: argparse.Namespace, comm: MPI.Comm) -> int | None:
    """The GPU this rank trains on, or ``None`` for the CPU.

    :func:`propulate.devices.select_device` picks it by the rank's position on its node (right
    with block or cyclic rank placement, and with one GPU per task as ``srun --gpus-per-task``
    gives). On the CPU the machine's cores are shared out among the ranks on this node.
    """
    gpus_available = visible_gpus()
    gpus_per_node = gpus_available if args.gpus_per_node is None else args.gpus_per_node
    if gpus_per_node > gpus_available:
        if comm.rank == 0:
            print(
                f"torch_example.py: error: --gpus-per-node {gpus_per_node}, but this node has "
                f"{gpus_available} usable GPU(s). Pass at most {gpus_available}, or 0 for the CPU.",
                file=sys.stderr,
            )
        sys.exit(2)
    placement = select_device(comm, gpus=gpus_per_node)
    if placement.gpu is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        torch.set_num_threads(max(1, (cores or 1) // placement.local_size))
    return placement.gpu


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        description="Tune the number of convolutional layers, the activation and the learning rate "
        "of a CNN on MNIST with Propulate (validating on MNIST's 10,000 test images). Run it "
        "under MPI, one rank per worker, e.g. "
        "'mpirun -n 4 python torch_example.py'.",
        epilog="On a CPU-only machine with few cores, shrink the budget, e.g. --generations 6 "
        "--epochs 1 --num-workers 0 (about 40 CPU-minutes; 97.3 % validation accuracy), plus "
        "--train-subset 1000 for a one-minute smoke test.",
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
        default=Path("torch_ckpts"),
        help="folder for Propulate's checkpoint, the log file and the TensorBoard logs; running "
        "again with the same folder resumes (default: torch_ckpts)",
    )
    parser.add_argument(
        "--generations",
        type=int,
        default=10,
        help="individuals each rank evaluates in total, counting earlier runs on the same "
        "checkpoint (default: 10)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=100,
        help="maximum epochs per model; early stopping on the validation loss usually ends "
        "training sooner (default: 100)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=8, help="training batch size (default: 8)"
    )
    parser.add_argument(
        "--train-subset",
        type=int,
        default=None,
        metavar="N",
        help="train on a fixed random subset of N of the 60,000 training images, to save time "
        "on small machines (default: all)",
    )
    parser.add_argument(
        "--num-workers",
        type=int,
        default=2,
        help="data-loader worker processes per rank; 0 loads batches in the training process, "
        "best on a CPU with few cores (default: 2)",
    )
    parser.add_argument(
        "--gpus-per-node",
        type=int,
        default=None,
        help="GPUs per node: rank r trains on GPU r %% gpus-per-node; 0 trains on the CPU "
        "(default: the number of GPUs PyTorch sees; the CPU if none)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seeds Propulate's random generators (rank r of n ranks: seed * n + r), the "
        "initial weights and the training subset (default: 0)",
    )
    parser.add_argument(
        "--time-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="end the run after this many seconds (e.g. a little below the job's time limit); "
        "the trainings in progress stop at their next epoch's end and the next run continues "
        "them (default: no limit)",
    )
    parser.add_argument(
        "--pruning",
        nargs="?",
        const="median",
        choices=sorted(PRUNING_RULES),
        help="stop unpromising trainings early, judged on the validation accuracy after each "
        "epoch: 'median' (the default rule: behind the median of earlier models at the same "
        "epoch, after one epoch of warm-up), 'asha' (successive halving at epochs 1, 3, 9, ...), "
        "'dynamic' (a model predicts the final accuracy) or 'static' (behind the best model's "
        "curve); needs --epochs of 2 or more to matter",
    )
    args = parser.parse_args(argv)
    for name in ("generations", "epochs", "batch_size", "train_subset"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1; got {value}")
    if args.num_workers < 0:
        parser.error(f"--num-workers must be 0 or more; got {args.num_workers}")
    if args.gpus_per_node is not None and args.gpus_per_node < 0:
        parser.error(f"--gpus-per-node must be 0 or more; got {args.gpus_per_node}")
    return args


def run_config(args: argparse.Namespace) -> dict[str, object]:
    """What defines this run (``Propulator(run_config=...)``): a resume with others fails."""
    return {"tutorial": "torch_example", **{name: getattr(args, name) for name in RUN_OPTIONS}}


def quiet_lightning() -> None:
    """Keep Lightning's per-model chatter out of Propulate's log."""
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*GPU available but not used.*")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")  # inside Lightning, not ours
    # Lightning reads SLURM_PROCID & co. at import and would then silence the TensorBoard logger
    # on every rank but 0; here every rank trains its own models, so each is its own rank zero.
    rank_zero_only.rank = 0


def main(argv: list[str] | None = None) -> None:
    """Parse the options, prepare the data and run Propulate."""
    args = parse_args(argv)
    comm = MPI.COMM_WORLD
    quiet_lightning()
    device = choose_device(args, comm)
    prepare_mnist(args.data_dir, comm)
    train_set, val_set = load_mnist(args.data_dir, args.train_subset, args.seed)
    torch.manual_seed(args.seed * comm.size + comm.rank)  # initial weights

    set_logger_config(
        level=logging.INFO,
        log_file=args.checkpoint / "torch_example.log",
        log_to_stdout=True,
        log_rank=False,
        colors=True,
    )
    log.info(
        "%d ranks, %s; training on %d images, validating on %d",
        comm.size,
        "CPU" if device is None else "GPUs",
        len(train_set),
        len(val_set),
    )

    # One generator per rank, used only by Propulate; with --seed 0 rank r is seeded with r, and
    # different seeds never share a stream.
    rng = random.Random(args.seed * comm.size + comm.rank)
    propagator = get_default_propagator(
        pop_size=2 * comm.size,
        limits=LIMITS,
        crossover_prob=0.7,
        mutation_prob=0.4,
        random_init_prob=0.1,
        rng=rng,
    )

    def loss_fn(params: dict[str, int | float | str]) -> float:
        return train_and_evaluate(params, train_set, val_set, args, device)

    propulator = Propulator(
        loss_fn=loss_fn,
        propagator=propagator,
        rng=rng,
        island_comm=comm,
        generations=args.generations,
        checkpoint_path=args.checkpoint,
        surrogate_factory=PRUNING_RULES[args.pruning] if args.pruning else None,
        time_budget=args.time_budget,
        objectives={"accuracy": "maximize"},
        run_config=run_config(args),
    )
    propulator.propulate(logging_interval=1, debug=2)  # a line per evaluation
    propulator.summarize(top_n=1, debug=1)


if __name__ == "__main__":
    main()
