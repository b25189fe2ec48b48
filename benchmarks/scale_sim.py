"""Thousands of ranks in one process: the real loop in simulated time, and the scaling model.

    python benchmarks/scale_sim.py                          # 16 ... 1024 ranks, 2 generations
    python benchmarks/scale_sim.py --ranks 64 256 --generations 4
    python benchmarks/scale_sim.py --model-only --send-us 12 --absorb-us 48   # the model alone

Every rank is a real :class:`~propulate.Propulator` with the default propagator on a 10-d
sphere, all of one island, over the in-memory transport, run by
:meth:`propulate.testing.LocalIsland.simulate`: evaluations take exponentially distributed
simulated times, every message a random delay, and each rank absorbs a message when it arrives.
The simulation checks what must hold at any size and measures what the model needs:

* **messages**: every result reaches every peer once; the count must be exactly
  ``W G (W - 1)`` results plus ``2 W (W - 1)`` for the two-phase shutdown (FINISHED, DONE);
* **populations**: after the shutdown every rank knows the same ``W G`` individuals with the
  same losses;
* **CPU per message**: the thread CPU time of every ``absorb`` (one arriving result: decode,
  merge, tell the propagator) and of every ``tell`` (record the own result, then post it to
  each of the ``W - 1`` peers), fitted as ``tell = a + b (W - 1)``;
* **memory**: the resident set size the populations add, per known individual and rank.

The model: in steady state a rank evaluating for ``T`` seconds per evaluation sends its result
to ``W - 1`` peers and absorbs the ``W - 1`` results the others produce meanwhile, so the share
of its time spent on messages is::

    share(W, T) = (W - 1) (c_send + c_absorb) / (T + (W - 1) (c_send + c_absorb))

with ``c_send = b`` and ``c_absorb`` the per-message CPU costs. The simulation's message CPU per
evaluation at each size is compared with the model's prediction from the costs measured in the
two smallest runs (the validation); predictions for 1,000 to 10,000 ranks use the costs
measured here or, given ``--send-us``/``--absorb-us``, the costs measured under MPI.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

DIMENSIONS = 10
LIMITS = {f"x{i}": (-5.12, 5.12) for i in range(DIMENSIONS)}
EVALUATION_TIMES = (1.0, 60.0, 600.0)
PREDICTED_RANKS = (1_000, 4_096, 10_000)


def sphere(params: Any) -> float:
    """The loss: microseconds per call."""
    return float(sum(params[k] ** 2 for k in LIMITS))


def rss_bytes() -> int:
    """The process's resident set size now (Linux: from /proc), in bytes."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize()


def timed(method: Callable[..., Any], spent: list[float]) -> Callable[..., Any]:
    """``method`` that adds the thread CPU time of each call to ``spent``."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return method(*args, **kwargs)
        finally:
            spent.append(time.thread_time() - start)

    return wrapper


def simulate(ranks: int, generations: int, seed: int) -> dict[str, Any]:
    """One island of ``ranks`` Propulators in simulated time; the measurements of the docstring."""
    from propulate.testing import LocalIsland
    from propulate.utils import get_default_propagator

    gc.collect()
    before = rss_bytes()
    rngs = [random.Random(1000 * seed + rank) for rank in range(ranks)]
    propagators = [get_default_propagator(8, LIMITS, rng=rng) for rng in rngs]
    absorbs: list[float] = []
    tells: list[float] = []
    with LocalIsland(sphere, propagators, generations=generations, rngs=rngs) as island:
        for propulator in island.propulators:
            # Instance attributes: simulate() calls these on every rank's Propulator.
            propulator.absorb = timed(propulator.absorb, absorbs)  # type: ignore[method-assign]
            propulator.tell = timed(propulator.tell, tells)  # type: ignore[method-assign]
        empty = rss_bytes()
        start = time.perf_counter()
        # Evaluations of mean 1 (simulated) time unit, messages of mean 0.01: results arrive
        # while others evaluate, out of order, as on a real machine.
        island.simulate(seed, mean_delay=0.01, mean_evaluation=1.0)
        wall = time.perf_counter() - start
        full = rss_bytes()
        sent = island.network.messages_sent
        reference = {(ind.key, ind.loss) for ind in island.propulators[0].population}
        identical = all(
            {(ind.key, ind.loss) for ind in propulator.population} == reference
            for propulator in island.propulators
        )
        known = len(island.propulators[0].population)
    expected = ranks * generations * (ranks - 1) + 2 * ranks * (ranks - 1)
    return {
        "ranks": ranks,
        "generations": generations,
        "messages": sent,
        "expected_messages": expected,
        "known": known,
        "identical": identical,
        "absorb_us": 1e6 * statistics.fmean(absorbs) if absorbs else 0.0,
        "absorbs": len(absorbs),
        "tell_us": 1e6 * statistics.fmean(tells) if tells else 0.0,
        "bytes_per_known": (full - empty) / max(ranks * known, 1),
        "setup_bytes_per_rank": (empty - before) / ranks,
        "wall_s": wall,
    }


def share(ranks: float, seconds: float, send: float, absorb: float) -> float:
    """The model: the share of a rank's time spent on messages (costs in seconds)."""
    messages = (ranks - 1) * (send + absorb)
    return messages / (seconds + messages)


def print_model(ranks: list[int], send: float, absorb: float) -> None:
    """The model's share of messages for ``ranks`` and 1,000-10,000 ranks (costs in seconds)."""
    header = "".join(f"{f'T = {t:g} s':>12}" for t in EVALUATION_TIMES)
    print(f"{'ranks':>8}{header}")
    for size in (*ranks, *PREDICTED_RANKS):
        cells = "".join(f"{100 * share(size, t, send, absorb):>11.3f}%" for t in EVALUATION_TIMES)
        print(f"{size:>8}{cells}")


def fit_send(rows: list[dict[str, Any]]) -> tuple[float, float]:
    """Least-squares ``tell_us = a + b (W - 1)`` over the rows: ``(a, b)`` in microseconds."""
    xs = [row["ranks"] - 1 for row in rows]
    ys = [row["tell_us"] for row in rows]
    if len(rows) < 2:
        return ys[0], 0.0
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs
    )
    return mean_y - slope * mean_x, slope


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ranks", type=int, nargs="+", default=[16, 64, 256, 1024])
    parser.add_argument("--generations", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--send-us", type=float, help="per-peer send cost under MPI (us)")
    parser.add_argument("--absorb-us", type=float, help="per-result absorb cost under MPI (us)")
    parser.add_argument("--json", help="write the rows to this file")
    parser.add_argument(
        "--model-only", action="store_true", help="print the model's table for the given costs"
    )
    args = parser.parse_args()
    if args.model_only:
        if args.send_us is None or args.absorb_us is None:
            parser.error("--model-only needs --send-us and --absorb-us")
        print_model(args.ranks, args.send_us * 1e-6, args.absorb_us * 1e-6)
        return

    rows = []
    print(
        f"{'ranks':>6} {'messages':>10} {'expected':>10} {'known':>6} {'same':>5} "
        f"{'absorb us':>9} {'tell us':>9} {'B/known':>8} {'wall s':>7}"
    )
    for ranks in args.ranks:
        row = simulate(ranks, args.generations, args.seed)
        rows.append(row)
        print(
            f"{ranks:>6} {row['messages']:>10} {row['expected_messages']:>10} {row['known']:>6} "
            f"{'yes' if row['identical'] else 'NO':>5} {row['absorb_us']:>9.1f} "
            f"{row['tell_us']:>9.1f} {row['bytes_per_known']:>8.0f} {row['wall_s']:>7.1f}",
            flush=True,
        )
    fixed, per_peer = fit_send(rows)
    print(f"\nfit over all sizes: tell = {fixed:.1f} us + {per_peer:.2f} us x (W - 1)")
    # Validation: the two smallest runs alone predict the message CPU of every larger one.
    base = rows[:2]
    base_fixed, base_peer = fit_send(base)
    base_absorb = statistics.fmean(row["absorb_us"] for row in base)
    print(
        "\nmessage CPU per evaluation and rank, measured vs predicted from the two smallest runs:"
    )
    for row in rows:
        measured = row["tell_us"] + (row["ranks"] - 1) * row["absorb_us"]
        predicted = base_fixed + (row["ranks"] - 1) * (base_peer + base_absorb)
        print(
            f"  {row['ranks']:>6} ranks: measured {measured / 1e3:9.2f} ms, predicted "
            f"{predicted / 1e3:9.2f} ms, ratio {measured / predicted:5.2f}"
        )
    send = (args.send_us if args.send_us is not None else per_peer) * 1e-6
    absorb = (args.absorb_us if args.absorb_us is not None else rows[-1]["absorb_us"]) * 1e-6
    source = "MPI (given)" if args.send_us is not None else "in-memory (measured here)"
    print(f"\nmodel with {source} costs: send {send * 1e6:.1f} us, absorb {absorb * 1e6:.1f} us")
    print_model(args.ranks, send, absorb)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"rows": rows, "fit_us": [fixed, per_peer]}, handle, indent=1)


if __name__ == "__main__":
    sys.exit(main())
