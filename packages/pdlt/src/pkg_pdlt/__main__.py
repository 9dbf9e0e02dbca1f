"""``python -m pkg_pdlt``: the same command line as ``pkg-pdlt``."""

from .cli import main

raise SystemExit(main())
