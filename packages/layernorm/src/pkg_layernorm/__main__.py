"""``python -m pkg_layernorm``: the same command line as ``pkg-layernorm``."""

from .cli import main

raise SystemExit(main())
