"""Every public name has an entry in the API reference (docs/api/*.rst).

The API pages document modules with ``automodule`` (which documents the names of the module's
``__all__``, re-exports included) and single objects with ``autoclass``, ``autofunction``...;
these tests read the directives and check, by identity, that each public object is among what
they document, so a name added to ``__all__`` without an API entry fails here (the docs build,
``-n -W``, then checks that every reference resolves).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
import types
from pathlib import Path

import pytest

import propulate

API = Path(__file__).resolve().parents[2] / "docs" / "api"
AUTO = re.compile(
    r"^\.\. auto(module|class|function|data|exception|attribute)::\s*(\S+)\n((?:   :.*\n)*)", re.M
)
OPTION = re.compile(r"^   :([\w-]+):(.*)$", re.M)
# Names that are no object to document: the version string (shown in the docs' title).
NOT_OBJECTS = {"__version__"}


@functools.cache
def documented() -> tuple[set[str], set[int]]:
    """The modules with an ``automodule`` entry, and the ids of every object documented."""
    modules: set[str] = set()
    objects: set[int] = set()
    for page in API.glob("*.rst"):
        for kind, target, block in AUTO.findall(page.read_text()):
            options = {key: value.strip() for key, value in OPTION.findall(block)}
            if kind == "module":
                module = importlib.import_module(target)
                modules.add(target)
                objects.add(id(module))
                if "no-members" in options:
                    continue
                members = options.get("members") or ", ".join(getattr(module, "__all__", ()))
                objects.update(id(getattr(module, n.strip())) for n in members.split(",") if n)
            else:
                path, _, name = target.rpartition(".")
                objects.add(id(getattr(importlib.import_module(path), name)))
    return modules, objects


def public_modules() -> list[str]:
    names = [m.name for m in pkgutil.walk_packages(propulate.__path__, "propulate.")]
    return ["propulate", *(n for n in names if not any(p.startswith("_") for p in n.split(".")))]


def test_the_api_pages_are_read():
    modules, objects = documented()
    assert {"propulate", "propulate.propulator", "propulate.progress"} <= modules
    assert id(propulate.Propulator) in objects


@pytest.mark.parametrize("name", sorted(set(propulate.__all__) - NOT_OBJECTS))
def test_every_name_of_the_package_has_an_api_entry(name):
    _, objects = documented()
    obj = getattr(propulate, name)
    assert id(obj) in objects, (
        f"propulate.{name} has no API entry: add its module's automodule (with {name} in the "
        f"module's __all__) or an autoclass/autofunction to a page of docs/api/."
    )


@pytest.mark.parametrize("module", public_modules())
def test_every_public_module_and_its_names_have_api_entries(module):
    modules, objects = documented()
    imported = importlib.import_module(module)
    names = getattr(imported, "__all__", ())
    if module not in modules:
        # A module documented through the package that re-exports it: all its names must be.
        assert names, f"{module} has no __all__ and no automodule entry in docs/api/."
    missing = [
        n
        for n in names
        if id(getattr(imported, n)) not in objects
        and not isinstance(getattr(imported, n), (int, float, str, types.NoneType))
    ]
    assert not missing, f"{module}: {missing} have no API entry in docs/api/."
