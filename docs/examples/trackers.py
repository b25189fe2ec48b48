"""Watch a search in TensorBoard, MLflow and Weights & Biases, then open it in Optuna."""

import os
import random
import sys
from pathlib import Path

from mpi4py import MPI

from propulate import Propulator
from propulate.callbacks import Callback, MLflowCallback, TensorBoardCallback, WandbCallback
from propulate.results import to_optuna
from propulate.utils import get_default_propagator

os.environ.setdefault("WANDB_MODE", "offline")  # no account needed: 'wandb sync' uploads later
os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 keeps a folder store behind it


def loss(params):
    """A generator loss: one value per 'epoch' (the learning curve), the last one the loss."""
    penalty = {"relu": 0.0, "tanh": 0.5}[params["activation"]]
    final = (params["lr"] - 0.003) ** 2 * 1e4 + (params["layers"] - 4) ** 2 + penalty
    for epoch in range(5):
        yield final + 1.0 / (epoch + 1)


class PrintBest(Callback):
    """A callback of your own: print each new best result of the island."""

    def on_start(self, context):
        """Start each run with no best."""
        self.best = float("inf")

    def on_result(self, individual):
        """Print ``individual`` if it is the best so far."""
        if individual.status == "ok" and individual.loss < self.best:
            self.best = individual.loss
            print(f"new best {self.best:.3g}: {individual.values_dict()}", flush=True)


limits = {"layers": (2, 8), "activation": ("relu", "tanh"), "lr": (1e-4, 1e-1, "log")}
out = Path(sys.argv[1] if len(sys.argv) > 1 else "tracked").resolve()
comm = MPI.COMM_WORLD
rng = random.Random(comm.rank)
callbacks = [
    PrintBest(),
    TensorBoardCallback(out / "tensorboard"),  # tensorboard --logdir tracked/tensorboard
    MLflowCallback("propulate-example", tracking_uri=(out / "mlruns").as_uri()),
    WandbCallback(project="propulate-example", dir=str(out)),
]
propulator = Propulator(
    loss,
    get_default_propagator(pop_size=2 * comm.size, limits=limits, rng=rng),
    rng,
    island_comm=comm,
    generations=20,
    checkpoint_path=out / "ckpt",
    callbacks=callbacks,  # run on the island's first rank: one view, no duplicates
)
propulator.propulate(logging_interval=0)
if comm.rank == 0:
    # optuna-dashboard sqlite:///tracked/optuna.db
    study = to_optuna(out / "ckpt", f"sqlite:///{out / 'optuna.db'}", load_if_exists=True)
    print(f"Optuna study '{study.study_name}': {len(study.trials)} trials, "
          f"best {study.best_value:.3g}")  # fmt: skip
