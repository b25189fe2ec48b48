"""What Propulate 1.2's scripts read and set on a Propulator beyond its methods.

1.2 scripts read ``propulator.island_comm`` (e.g. to print on the island's first rank),
``propulate_comm`` and ``worker_sub_comm``, and read or replace ``propulator.population``.
:class:`Attributes12` is the part of :class:`~propulate.Propulator` that keeps them; it is
not used alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .errors import UsageError
from .knowledge import Knowledge, adopt_population
from .population import Individual

if TYPE_CHECKING:
    from .backends import Backends
    from .run import Run

__all__ = ["Attributes12"]


class Attributes12:
    """The communicators and the population as attributes, as in Propulate 1.2.

    A base of :class:`~propulate.Propulator`, which provides the parts declared below.
    """

    _backends: Backends
    _run: Run | None
    _knowledge_store: Knowledge | None
    generation: int

    if TYPE_CHECKING:  # provided by Propulator

        @property
        def _knowledge(self) -> Knowledge: ...

        def _identity(self) -> int: ...

    @property
    def population(self) -> list[Individual]:
        """Every individual this rank knows, in the order it learned of them.

        Setting it (between runs, as Propulate 1.2 allowed) replaces what this rank knows and
        breeds from, after the checkpoint was read; the propagator is told of each individual.
        The individuals are not written to the checkpoint.
        """
        return self._knowledge.population.to_list()

    @population.setter
    def population(self, individuals: Sequence[Individual]) -> None:
        if self._run is not None and not self._run.closed:
            raise UsageError("population: set it between runs, not while one is open.")
        self._knowledge_store = adopt_population(
            self._knowledge, individuals, self._identity(), self.generation
        )

    @property
    def island_comm(self) -> Any:
        """The communicator of this rank's island (1.2's attribute; ``COMM_WORLD`` by default)."""
        return self._backends.communicator(0)

    @property
    def propulate_comm(self) -> Any:
        """The communicator of every rank of the optimization (1.2's attribute)."""
        return self._backends.communicator(1)

    @property
    def worker_sub_comm(self) -> Any:
        """The communicator of this rank's multi-rank worker (``COMM_SELF`` by default)."""
        return self._backends.communicator(2)
