"""``Pollinator`` under its Propulate 1.2 module path (it lives in :mod:`propulate.migrator`)."""

from .migrator import Pollinator

__all__ = ["Pollinator"]
