"""pkg-shared: the thin core every pkg-zoo package stands on.

Modules: ``device`` (resolve_device, env_info), ``seed`` (seed_everything), ``train`` (fit with early
stopping, AMP and resume), ``io`` (run folders, atomic safetensors + JSON checkpoints), ``data`` (the data
root, missing-dataset errors, splits, readers), ``features`` (categorical/numeric/sequence encoder),
``metrics`` (scikit-learn wrappers and GAUC), ``claims`` (the paper's claims as data), ``cli`` (the shared
command line), ``plots`` (matplotlib helpers) and ``testing`` (the pytest plugin).
"""

from .errors import UserError

__version__ = "0.1.0"
__all__ = ["UserError", "__version__"]
