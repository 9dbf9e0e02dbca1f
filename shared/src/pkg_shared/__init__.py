"""pkg-shared: the thin core every pkg-zoo package stands on.

Modules: ``device`` (resolve_device, env_info, pinned_threads), ``seed`` (seed_everything), ``train`` (fit
with early stopping, AMP and resume under recorded settings), ``io`` (run folders, atomic writes, output
checks, safetensors + JSON checkpoints, resume settings), ``data`` (the data root, missing-dataset errors,
validation helpers, splits, readers), ``features`` (categorical/numeric/sequence encoder), ``ctr`` (CTR
data: readers, batches, prediction), ``metrics`` (scikit-learn wrappers and GAUC), ``claims`` (the
paper's claims as data: paper claims, checks, expected ranges), ``cli`` (the shared command line),
``progress`` (bars and periodic status lines), ``plots`` (matplotlib helpers), ``package`` (versions and
lazy exports) and ``testing`` (the pytest plugin, opt-in: ``pytest_plugins = ["pkg_shared.testing"]``).
"""

from .errors import UserError
from .package import version_of

__version__ = version_of("pkg-shared")
__all__ = ["UserError", "__version__"]
