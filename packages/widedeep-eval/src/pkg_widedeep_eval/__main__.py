"""``python -m pkg_widedeep_eval``: the same command line as ``pkg-widedeep-eval``."""

from .cli import main

raise SystemExit(main())
