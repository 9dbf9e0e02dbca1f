"""``python -m pkg_quantization``: the same command line as ``pkg-quantization``."""

from .cli import main

raise SystemExit(main())
