"""Draw the plot gallery of the docs (docs/_static/gallery/*.png) from a small real run.

    python scripts/make_gallery.py [--out docs/_static/gallery] [--checkpoint DIR]

Four workers (threads over Propulate's in-memory transport, no MPI needed) tune a mock
training of 8 "epochs": wider networks train longer, so the evaluations differ in length as in
a real search, a learning rate that is too high with much dropout diverges (a failed
evaluation), and every epoch yields its validation loss (the learning curves). The figures are
saved at a low resolution to keep the repository small.
"""

from __future__ import annotations

import argparse
import logging
import math
import random
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PIL import Image  # installed with matplotlib

from propulate.plots import make_figures
from propulate.testing import LocalIsland
from propulate.utils import get_default_propagator

LIMITS = {
    "lr": (1e-4, 1e-1, "log"),
    "width": (16, 256),
    "dropout": (0.0, 0.6),
    "activation": ("relu", "tanh", "gelu"),
}
EPOCHS = 8
RANKS = 4
GENERATIONS = 30
DPI = 72


def mock_training(params: Any) -> Iterator[float]:
    """Yield a validation loss per epoch; the last one is the evaluation's loss."""
    noise = random.Random(hash((params.rank, params.generation)))
    if params["lr"] > 0.03 and params["dropout"] > 0.4:
        time.sleep(0.01)
        raise FloatingPointError("the loss diverged (NaN)")
    floor = (
        0.3 * (math.log10(params["lr"]) + 2.5) ** 2
        + 0.4 * (params["dropout"] - 0.2) ** 2
        + 0.15 * {"relu": 0.0, "tanh": 1.0, "gelu": 0.3}[params["activation"]]
        + 20.0 / params["width"]
        + 0.05
    )
    for epoch in range(1, EPOCHS + 1):
        time.sleep(0.004 * params["width"] / 64 * noise.uniform(0.8, 1.2))
        yield floor + 2.0 / epoch**0.8 + noise.gauss(0, 0.02)


def run(checkpoint: Path) -> None:
    """The search: ``RANKS`` workers, ``GENERATIONS`` evaluations each."""
    rngs = [random.Random(rank) for rank in range(RANKS)]
    propagators = [get_default_propagator(8, LIMITS, rng=rng) for rng in rngs]
    island = LocalIsland(mock_training, propagators, checkpoint, GENERATIONS, rngs=rngs)
    island.run_threads(timeout=600)


def main() -> None:
    """Run the search (unless given a checkpoint) and draw every plot."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root = Path(__file__).resolve().parent.parent
    parser.add_argument("--out", type=Path, default=root / "docs" / "_static" / "gallery")
    parser.add_argument("--checkpoint", type=Path, help="plot this run instead of a new one")
    args = parser.parse_args()
    logging.getLogger("propulate").setLevel(logging.CRITICAL)  # the failures are on purpose
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = args.checkpoint
        if checkpoint is None:
            checkpoint = Path(folder) / "gallery-run"
            run(checkpoint)
        figures, skipped = make_figures(checkpoint)
        evaluations, _ = make_figures(checkpoint, kinds=["history"], x="evaluations")
        figures["history_evaluations"] = evaluations["history"]
    args.out.mkdir(parents=True, exist_ok=True)
    for name, figure in figures.items():
        path = args.out / f"{name}.png"
        figure.savefig(path, dpi=DPI)
        # 256 colours are plenty for a plot and make the file a third of the size.
        Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)
        print(f"{path} ({path.stat().st_size // 1024} KiB)")
    for name, reason in skipped.items():
        print(f"skipped {name}: {reason}")


if __name__ == "__main__":
    main()
