"""``python -m pkg_hopfield``: the same command line as ``pkg-hopfield``."""

from .cli import main

raise SystemExit(main())
