"""Early stopping on the MNIST tutorial: epochs trained vs. best validation accuracy.

Runs ``tutorials/torch_example.py`` under ``mpirun`` once per rule (no early stopping, then each
``--pruning`` rule) with the same seed, budget and number of individuals, and reads every run's
checkpoint: the epochs trained (the tutorial records each model's validation accuracy per epoch,
with or without a rule), the best validation accuracy of a completed training, how many models
were stopped early, and the wall time. ::

    python benchmarks/pruning_mnist.py --data-dir /tmp/mnist-data
    python benchmarks/pruning_mnist.py --data-dir /tmp/mnist-data --rules none median --seeds 0 1

The defaults are a small CPU budget: 4 ranks x 5 generations = 20 models of up to 8 epochs on a
fixed 1,000-image training subset, validated on all 10,000 test images after every epoch. The
tutorial's own Lightning ``EarlyStopping`` (on the validation loss) is active in every run, the
baseline included, so the epochs saved are on top of it.
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "tutorials" / "torch_example.py"
RULES = ("none", "median", "asha", "dynamic", "static")


def run_tutorial(args: argparse.Namespace, rule: str, seed: int, checkpoint: Path) -> float:
    """Run the tutorial once; return its wall time in seconds."""
    mpirun = shutil.which("mpirun", path=str(Path(sys.executable).parent)) or "mpirun"
    command = [
        mpirun,
        "-n",
        str(args.ranks),
        sys.executable,
        str(SCRIPT),
        f"--data-dir={args.data_dir}",
        f"--checkpoint={checkpoint}",
        f"--generations={args.generations}",
        f"--epochs={args.epochs}",
        f"--train-subset={args.train_subset}",
        f"--batch-size={args.batch_size}",
        "--num-workers=0",
        "--gpus-per-node=0",
        f"--seed={seed}",
        *([] if rule == "none" else [f"--pruning={rule}"]),
    ]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{rule}, seed {seed} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return wall


def measure(checkpoint: Path) -> dict[str, float]:
    """Epochs trained, best completed accuracy and share pruned of one run's checkpoint."""
    from propulate.results import load_results

    records = load_results(checkpoint)
    completed = [r["loss"] for r in records if r["status"] == "ok"]
    return {
        "models": len(records),
        "epochs": sum(len(r["curve"] or ()) for r in records),
        "best_accuracy": -min(completed) if completed else math.nan,
        "pruned": sum(r["status"] == "pruned" for r in records),
    }


def main() -> None:
    """Run every rule for every seed and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="holds MNIST/raw/")
    parser.add_argument("--ranks", type=int, default=4)
    parser.add_argument("--generations", type=int, default=5, help="models per rank")
    parser.add_argument("--epochs", type=int, default=8, help="epochs of a complete training")
    parser.add_argument("--train-subset", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--rules", nargs="+", default=list(RULES), choices=RULES)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="propulate-pruning-mnist-"))
    rows: dict[str, list[dict[str, float]]] = {}
    try:
        for rule in args.rules:
            for seed in args.seeds:
                checkpoint = work / f"{rule}-{seed}"
                wall = run_tutorial(args, rule, seed, checkpoint)
                row = {**measure(checkpoint), "wall": wall}
                rows.setdefault(rule, []).append(row)
                print(
                    f"  {rule} seed {seed}: {row['epochs']:.0f} epochs, best "
                    f"{100 * row['best_accuracy']:.2f} %, {row['pruned']:.0f} pruned, "
                    f"{wall:.0f} s",
                    flush=True,
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_table(args, rows)


def print_table(args: argparse.Namespace, rows: dict[str, list[dict[str, float]]]) -> None:
    """Means over the seeds, compared with the run without early stopping."""
    models = args.ranks * args.generations
    print(
        f"\n{args.ranks} ranks, {models} models of up to {args.epochs} epochs on "
        f"{args.train_subset} images, seeds {args.seeds} (means)"
    )
    header = (
        f"{'rule':<10}{'epochs':>8}{'fewer':>8}{'best val acc':>14}{'loss vs none':>14}"
        f"{'pruned':>8}{'wall s':>8}"
    )
    print(header)
    print("-" * len(header))
    base = rows.get("none")
    for rule, runs in rows.items():
        epochs = statistics.mean(r["epochs"] for r in runs)
        accuracy = statistics.mean(r["best_accuracy"] for r in runs)
        fewer = versus = "n/a"
        if base is not None:
            base_epochs = statistics.mean(r["epochs"] for r in base)
            base_accuracy = statistics.mean(r["best_accuracy"] for r in base)
            fewer = f"{base_epochs / epochs:.2f}x"
            # The loss is the negative accuracy: relative change of the best loss.
            versus = f"{100 * (base_accuracy - accuracy) / base_accuracy:+.2f} %"
        pruned = statistics.mean(r["pruned"] for r in runs)
        wall = statistics.mean(r["wall"] for r in runs)
        print(
            f"{rule:<10}{epochs:>8.1f}{fewer:>8}{100 * accuracy:>13.2f}%{versus:>14}"
            f"{pruned:>8.1f}{wall:>8.0f}"
        )


if __name__ == "__main__":
    main()
