"""``python -m pkg_dhvt``: the same command line as ``pkg-dhvt``."""

from .cli import main

raise SystemExit(main())
