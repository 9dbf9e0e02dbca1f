"""Where real datasets live (no heavy imports: the command line needs this before any work)."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "PKG_DATA_DIR"


def data_root(cli_value: str | Path | None = None) -> Path:
    """``--data-dir`` if given, else ``$PKG_DATA_DIR``, else the per-user cache folder."""
    if cli_value:
        return Path(cli_value).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "pkg-zoo" / "data"
