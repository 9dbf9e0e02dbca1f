"""What every package's ``__init__`` needs: its version from the installed metadata, and lazy exports.

``import pkg_x.cli`` runs ``pkg_x/__init__.py`` first, so an ``__init__`` that imported the model would
load torch before ``--help`` could answer. A package therefore declares its public API lazily::

    from pkg_shared.package import lazy_exports, version_of

    __version__ = version_of("pkg-x")
    __all__ = ["FinalMLP", "reproduce", "__version__"]
    __getattr__, __dir__ = lazy_exports(__name__, {"FinalMLP": ".model", "reproduce": ".experiment"})

``from pkg_x import FinalMLP`` then imports ``pkg_x.model`` on first use, as if it were imported eagerly.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any


def version_of(distribution: str) -> str:
    """The installed version of ``distribution`` (one source: the package metadata)."""
    try:
        return version(distribution)
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for a package whose ``name`` lives in the relative module ``exports[name]``."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(exports[name], package), name)

    def __dir__() -> list[str]:
        return sorted({*exports, "__version__"})

    return __getattr__, __dir__
