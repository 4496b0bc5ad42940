"""Lazy re-exports for the package ``__init__`` modules (PEP 562).

A package lists which names it re-exports from which submodule; a submodule is imported when one
of its names is first used, so ``import lightlane`` and ``lightlane --help`` load no numeric,
FITS, plotting or cluster library until a command or function needs it (SPEC §20). Each package
repeats the same names as imports under ``if TYPE_CHECKING:`` for type checkers and readers, and
keeps its ``__all__``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Callable, Mapping, Sequence

__all__ = ["keep_public_names", "lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of a package that re-exports names lazily.

    Parameters
    ----------
    package
        The package's ``__name__``; the package must be in ``sys.modules`` (call this from its
        ``__init__``).
    exports
        Each module, named relative to ``package`` as in ``from .workspace import Workspace``
        (``".workspace"``), and the names the package re-exports from it.

    Returns
    -------
    tuple
        ``(__getattr__, __dir__)``, to be bound under those names in the package. ``__getattr__``
        imports a name's module on first use and caches the value in the package; a submodule's
        name gives the submodule (``import lightlane`` then ``lightlane.metadata.Band``); other
        names raise :class:`AttributeError`. ``__dir__`` lists the loaded and the lazy names.

    Notes
    -----
    A name exported from the submodule of the same name (``datasets.download.download``) keeps
    meaning the exported object even when something imports the submodule first
    (:func:`keep_public_names`).

    Examples
    --------
    A package ``__init__`` binds them as::

        __getattr__, __dir__ = lazy_exports(__name__, {".workspace": ["Workspace"], ".catalog": ["Catalog"]})

    >>> import lightlane.store
    >>> "Workspace" in dir(lightlane.store)
    True
    >>> lightlane.store.Workspace.__module__
    'lightlane.store.workspace'
    """
    module = sys.modules[package]
    origin = {name: relative for relative, names in exports.items() for name in names}

    def __getattr__(name: str) -> object:
        relative = origin.get(name)
        if relative is not None:
            value = getattr(importlib.import_module(relative, package), name)
            setattr(module, name, value)  # cached: later look-ups no longer reach __getattr__
            return value
        if not name.startswith("__") and importlib.util.find_spec(f"{package}.{name}") is not None:
            return importlib.import_module(f"{package}.{name}")  # `lightlane.stats.p1`, as eager imports left it
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(vars(module)) | set(origin))

    if any(relative == f".{name}" for name, relative in origin.items()):
        keep_public_names(package)
    return __getattr__, __dir__


class _PublicNamesFirst(types.ModuleType):
    """A package whose public names outrank its submodules of the same name (see :func:`keep_public_names`)."""

    def __setattr__(self, name: str, value: object) -> None:
        if (isinstance(value, types.ModuleType) and value.__name__ == f"{self.__name__}.{name}"
                and name in self.__dict__.get("__all__", ())):
            if name in self.__dict__:
                return  # the public object stays
            value = getattr(self, name)  # a lazy name: its object, through the package's __getattr__
        super().__setattr__(name, value)


def keep_public_names(package: str) -> None:
    """Keep each public name of ``package`` bound to its object when a submodule of that name loads.

    The import system binds a loaded submodule as an attribute of its package, replacing whatever the
    package had under that name. Where a name in the package's ``__all__`` is also a submodule's
    (``datasets.download``, ``stats.p2``, ``cli.run``), the attribute keeps, or lazily becomes, the
    public object, as an eager ``from .download import download`` at the end of the ``__init__`` would
    leave it; the submodule stays importable (``sys.modules``, ``from .download import ...``).

    Parameters
    ----------
    package
        The package's ``__name__``; the package must be in ``sys.modules``.

    Examples
    --------
    >>> import lightlane.cli.run  # the module of the `run` command
    >>> import lightlane.cli
    >>> lightlane.cli.run.__module__, lightlane.cli.run.__name__  # still the console-script entry point
    ('lightlane.cli', 'run')
    """
    sys.modules[package].__class__ = _PublicNamesFirst
