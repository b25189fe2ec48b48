"""Sphinx configuration of Propulate's documentation (``bash scripts/build_docs.sh``)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document the source tree, installed or not

project = "Propulate"
author = "The Propulate developers"
copyright = "the Propulate developers; BSD-3-Clause"  # noqa: A001  # Sphinx's setting name

try:
    from propulate import __version__ as release
except ImportError:  # pragma: no cover - a broken tree: let autodoc report the details
    release = "unknown"
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

# numpy-style docstrings only; the types are in the docstrings, so signatures stay short.
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
# The docs build without MPI: nothing documented needs mpi4py at import time, and the one module
# that does (propulate.comm.mpi) gets a stand-in.
autodoc_mock_imports = ["mpi4py"]

# No network at build time: no intersphinx, and the theme that ships with Sphinx.
html_theme = "alabaster"
html_theme_options = {
    "description": "Massively parallel, asynchronous evolutionary hyperparameter optimization",
    "fixed_sidebar": True,
}
html_title = f"Propulate {release}"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []
html_static_path: list[str] = []

# ----- nitpicky: every cross-reference must resolve (the build runs with -n -W) ----------------
nitpicky = True
# The docstrings' types are parsed by Sphinx's Python domain (brackets, "or", commas); the words
# of numpydoc's type vocabulary that name no class are shown as plain text (see _resolve_alias).
_TYPE_WORDS = {"optional", "callable", "sequence", "iterable", "mapping", "collection",
               "array-like", "default"}  # fmt: skip
autodoc_default_options["no-value"] = True  # module constants: their docs, not their reprs
# No network at build time, hence no intersphinx: names of the standard library and of other
# packages (numpy, mpi4py, optuna, matplotlib, pandas, the trackers...) have no target here.
# Only those are ignored; a reference to a Propulate name that does not resolve fails the build.
_EXTERNAL = (
    "abc", "argparse", "collections", "contextlib", "dataclasses", "datetime", "enum", "json",
    "logging", "os", "pathlib", "random", "tempfile", "threading", "types", "typing",
    "numpy", "mpi4py", "optuna", "matplotlib", "pandas", "torch", "lightning", "mlflow", "wandb",
    "tensorboard", "scipy",
)  # fmt: skip
_BUILTINS = (
    "dict", "list", "tuple", "set", "str", "int", "float", "bool", "bytes", "object",
    "Exception", "ValueError", "TypeError", "RuntimeError", "KeyError", "BaseException",
)  # fmt: skip
nitpick_ignore_regex = [
    (r"py:.*", rf"({'|'.join(_EXTERNAL)})(\..+)?"),
    (r"py:.*", rf"({'|'.join(_BUILTINS)})(\..+)?"),
    (r"py:.*", r"Path|MPI\.Comm"),  # pathlib.Path and mpi4py's communicator, as docstrings say
]


def _resolve_alias(app, env, node, contnode):  # type: ignore[no-untyped-def]
    """Resolve ``propulate.Propulator`` and other re-exported or module-relative Python names.

    Each public name is documented once, in the module that defines it (``propulate.propulator.
    Propulator``); a reference through the package that re-exports it, or a short name relative
    to the current module, is looked up by importing it and retried under its defining module.
    """
    import importlib

    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"]
    if target in _TYPE_WORDS or target[:1] in "{\"'" or target[-1:] in "}\"'":
        return contnode  # a type word, or a piece of a set of values such as {"time", "x"}
    candidates = [target]
    module = node.get("py:module")
    if module and not target.startswith("propulate"):
        if node.get("py:class"):
            candidates.append(f"{module}.{node['py:class']}.{target}")
        candidates.append(f"{module}.{target}")
        candidates.append(f"propulate.{target}")
    domain = env.get_domain("py")
    for name in candidates:
        parts = name.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            try:
                for part in parts[cut:]:
                    owner, obj = obj, getattr(obj, part)
            except AttributeError:
                break
            defined = getattr(obj, "__module__", None) or getattr(owner, "__module__", None)
            qualname = getattr(obj, "__qualname__", parts[-1])
            if not isinstance(defined, str):
                break
            if parts[cut:] and not hasattr(obj, "__qualname__"):  # a constant of a module/class
                qualname = ".".join(parts[cut:])
            if isinstance(obj, type(importlib)):
                canonical = obj.__name__
            else:
                canonical = f"{defined}.{qualname}"
            if canonical == target:
                break
            new = node.deepcopy()
            new["reftarget"] = canonical
            found = domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"],
                                        canonical, new, contnode)  # fmt: skip
            if found is not None:
                return found
            break
    # Last, a short name relative to a module the role does not know (a module's docstring):
    # the one documented object whose full name ends with it, as ``:meth:`.name``` finds.
    matches = domain.find_obj(env, None, None, target, node["reftype"], 1)
    if not matches and "." in target:  # a constant re-exported by a package
        matches = domain.find_obj(env, None, None, target.rpartition(".")[2], node["reftype"], 1)
    if len(matches) == 1:
        new = node.deepcopy()
        new["reftarget"], new["refspecific"] = matches[0][0], False
        return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"],
                                   matches[0][0], new, contnode)  # fmt: skip
    return None


def _public_bases(app, name, obj, options, bases):  # type: ignore[no-untyped-def]
    """Show a class's public ancestors in "Bases:", not the private helpers it extends."""
    shown = []
    for base in bases:
        if base.__name__.startswith("_"):
            shown.extend(b for b in base.__mro__[1:] if not b.__name__.startswith("_")
                         and b is not object and b not in shown)  # fmt: skip
            shown = shown[:1] if shown else shown
        elif base not in shown:
            shown.append(base)
    bases[:] = shown or [object]


class _Named:
    """A default value shown by the name of the constant it is."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


def _clean_signature(app, what, name, obj, options, signature, return_annotation):  # type: ignore[no-untyped-def]
    """Drop a class's internal parameters and show defaults as users write them.

    Internal parameters are those a class lists in ``_internal_parameters``; paths show as
    strings (not ``PosixPath('.')``), classes and constants by name.
    """
    import inspect
    from pathlib import PurePath

    if signature is None or what not in ("class", "method", "function"):
        return None
    internal = set(getattr(obj, "_internal_parameters", ()))
    try:
        parameters = list(inspect.signature(obj).parameters.values())
    except (TypeError, ValueError):
        return None
    module = sys.modules.get(getattr(obj, "__module__", ""), None)
    constants = {id(v): k for k, v in vars(module).items() if k.isupper()} if module else {}
    if not internal and not any(
        isinstance(p.default, (PurePath, type))
        and p.default is not inspect.Parameter.empty
        or id(p.default) in constants
        for p in parameters
    ):
        return None
    if what == "method" and parameters and parameters[0].name in ("self", "cls"):
        parameters = parameters[1:]
    kept = []
    for parameter in parameters:
        if parameter.name in internal:
            continue
        default = parameter.default
        if isinstance(default, PurePath):
            default = str(default) if str(default) != "." else "./"
        elif isinstance(default, type) and default is not inspect.Parameter.empty:
            default = _Named(default.__name__)
        elif id(default) in constants and isinstance(default, (dict, list, tuple, set)):
            default = _Named(constants[id(default)])
        kept.append(parameter.replace(annotation=inspect.Parameter.empty, default=default))
    return str(inspect.Signature(kept)), return_annotation


def setup(app):  # type: ignore[no-untyped-def]
    """Connect the handlers above."""
    app.connect("missing-reference", _resolve_alias)
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("autodoc-process-signature", _clean_signature)
