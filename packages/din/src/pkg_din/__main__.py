"""``python -m pkg_din``: the same command line as ``pkg-din``."""

from .cli import main

raise SystemExit(main())
