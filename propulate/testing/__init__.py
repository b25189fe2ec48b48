"""What a user needs to test a propagator of their own: the contract battery and the real loop.

``run_battery(factory, limits)`` runs every check of :mod:`propulate.testing.battery` on the
propagators ``factory(limits, rng)`` builds: children inside the limits with the right types,
declared arity, reproducibility for a seed, extreme losses, parents left unchanged, every kind
of result taken through ``tell``, and a state that survives a JSON round trip and a resume.

:class:`LocalIsland` (:mod:`propulate.testing.local`) runs the real Propulators of an island in
memory, in threads or stepped deterministically with controlled message delivery.
"""

from .battery import (
    ALL_CHECKS,
    CONDITIONAL_LIMITS,
    FLOAT_LIMITS,
    KINDS_LIMITS,
    MIXED_LIMITS,
    PopulationFactory,
    PropagatorFactory,
    as_active_view,
    assert_valid_child,
    breed,
    check_arity,
    check_children_valid,
    check_extreme_losses,
    check_parents_unchanged,
    check_reproducible,
    check_state_round_trip,
    check_tell,
    make_population,
    run_battery,
)
from .local import ControlledNetwork, Delivery, Immediately, InBursts, InRounds, LocalIsland

__all__ = [
    "ALL_CHECKS",
    "ControlledNetwork",
    "Delivery",
    "Immediately",
    "InBursts",
    "InRounds",
    "LocalIsland",
    "FLOAT_LIMITS",
    "KINDS_LIMITS",
    "CONDITIONAL_LIMITS",
    "MIXED_LIMITS",
    "PopulationFactory",
    "PropagatorFactory",
    "as_active_view",
    "assert_valid_child",
    "breed",
    "check_arity",
    "check_children_valid",
    "check_extreme_losses",
    "check_parents_unchanged",
    "check_reproducible",
    "check_state_round_trip",
    "check_tell",
    "make_population",
    "run_battery",
]
