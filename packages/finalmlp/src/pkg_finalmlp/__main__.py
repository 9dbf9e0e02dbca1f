"""``python -m pkg_finalmlp``: the same command line as ``pkg-finalmlp``."""

from .cli import main

raise SystemExit(main())
