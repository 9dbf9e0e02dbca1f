"""``python -m pkg_lighthgnn``: the same command line as ``pkg-lighthgnn``."""

from .cli import main

raise SystemExit(main())
