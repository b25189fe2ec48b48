"""What the parts of the loop cost per evaluation: the overhead target's arithmetic, measured.

::

    python benchmarks/loop_budget.py                   # 4 ranks, 10-d sphere, 5,000 known
    python benchmarks/loop_budget.py --ranks 4 --known 5000 --repeats 5

Times, one at a time and without MPI, the parts of the loop's work that the default propagator
cannot skip, on the problem of ``overhead.py`` (the least process CPU time per call over the
repeats, in microseconds):

- ``peer``: a peer's result decoded from its record and merged into the population (the column
  store, its duplicate index and the sorted index of the active individuals);
- ``own``: this worker's evaluated child added to the population;
- ``record``: that child encoded as its checkpoint record;
- ``ga_child``: a child of the default propagator with ``cma_share=0`` (the genetic algorithm
  with its duplicate check), from the known individuals;
- ``cma_ask`` and ``cma_update``: a CMA-ES child without and with the update of its
  distribution before it (the update is the difference), through ``get_state``/``set_state``
  so that every call starts from the same distribution.

It then adds them up per evaluation of the island as the loop spends them with ``--ranks``
workers: every worker merges every result of the others, breeds half of its children by
CMA-ES (the default's ``cma_share``), and updates its distribution once per ``lambda`` results
of the island. The sum leaves out what the loop does besides these parts (the log's frame and
flush, MPI, telling the propagators, the progress line): it is a lower bound of the loop's CPU
time per evaluation, to set against the budget a target allows (see the docs' benchmarks page,
"Optimizer overhead").
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import random
import time
from collections.abc import Callable
from typing import Any

from _launch import result_line
from overhead import BOUNDS, DIMENSIONS  # the same problem as the overhead benchmark


def least_us(call: Callable[[], Any], calls: int, repeats: int) -> float:
    """The least process CPU microseconds per call of ``call`` over ``repeats`` rounds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(calls):
            call()
        best = min(best, (time.process_time() - start) / calls)
    return 1e6 * best


def measure(ranks: int, known: int, repeats: int, seed: int) -> dict[str, float]:
    """Each part's CPU microseconds per call, and their sum per evaluation of the island."""
    from propulate.population import Individual, Population
    from propulate.propagators import BasicCMA, CMAPropagator
    from propulate.propagators.base import call_stage
    from propulate.records import decode_individual, encode_individual
    from propulate.search_space import SearchSpace
    from propulate.utils import get_default_propagator

    space = SearchSpace({f"x{i}": BOUNDS for i in range(DIMENSIONS)})
    rng = random.Random(seed)
    generations = itertools.count()  # every result its own key

    def result(worker: int) -> Individual:
        ind = Individual(space.sample(rng), space)
        ind.worker = ind.current = worker
        ind.generation, ind.island = next(generations), 0
        ind.loss = sum(value * value for value in ind.values())  # type: ignore[operator]
        ind.status, ind.evaltime, ind.evalperiod = "ok", time.time(), 1e-5
        return ind

    population = Population(owner=0)
    for number in range(known):
        population.add(result(number % ranks))
    calls = 2000
    rounds = repeats * calls
    peers = iter([encode_individual(result(1 + number % (ranks - 1))) for number in range(rounds)])
    children = [result(0) for _ in range(rounds)]
    own = iter(children)
    added = itertools.cycle(children[:calls])  # encoded after they were added, as in the loop
    active = population.active

    ga = get_default_propagator(2 * ranks, space, cma_share=0.0, rng=random.Random(seed))
    cma = CMAPropagator(BasicCMA(), space, rng=random.Random(seed))
    cma(active)  # its first distribution, from the known individuals
    steady = cma.get_state()
    due = dict(steady, unused=cma.lambd)  # the same distribution with an update due

    def cma_child(state: dict[str, Any]) -> None:
        cma.set_state(state)
        cma(active)

    parts = {
        "peer": least_us(lambda: population.merge(decode_individual(next(peers), space)),
                         calls, repeats),
        "own": least_us(lambda: population.add(next(own)), calls, repeats),
        "record": least_us(lambda: encode_individual(next(added)), calls, repeats),
        "ga_child": least_us(lambda: call_stage(ga, active), calls, repeats),
    }  # fmt: skip
    restore = least_us(lambda: cma.set_state(steady), calls, repeats)  # taken off both
    asked = least_us(lambda: cma_child(steady), calls, repeats)
    parts["cma_ask"] = asked - restore
    parts["cma_update"] = least_us(lambda: cma_child(due), calls, repeats) - asked
    share = inspect.signature(get_default_propagator).parameters["cma_share"].default
    per_evaluation = (
        (ranks - 1) * parts["peer"]
        + parts["own"]
        + parts["record"]
        + (1.0 - share) * parts["ga_child"]
        + share * parts["cma_ask"]
        + ranks / cma.lambd * parts["cma_update"]
    )
    return {**parts, "lambda": cma.lambd, "per_evaluation": per_evaluation}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ranks", type=int, default=4)
    parser.add_argument("--known", type=int, default=5000, help="individuals known")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.ranks < 2:
        parser.error(f"--ranks {args.ranks}: give at least 2 (a worker and a peer)")
    found = measure(args.ranks, args.known, args.repeats, args.seed)
    for name in ("peer", "own", "record", "ga_child", "cma_ask", "cma_update"):
        print(f"{name:>10}: {found[name]:7.1f} us per call")
    print(
        f"per evaluation of the island, {args.ranks} ranks (lambda {found['lambda']:.0f}): "
        f"{found['per_evaluation']:.1f} us CPU, a lower bound of the loop's"
    )
    result_line({"ranks": args.ranks, "known": args.known, **found})


if __name__ == "__main__":
    main()
