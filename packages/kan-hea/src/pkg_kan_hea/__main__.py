"""``python -m pkg_kan_hea``: the same command line as ``pkg-kan-hea``."""

from .cli import main

raise SystemExit(main())
