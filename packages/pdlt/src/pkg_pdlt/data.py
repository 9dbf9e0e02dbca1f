"""Optional real inputs: MNIST digits from the data root, for multi-input kernels (spec "Data").

Nothing in the book's claims needs data (random networks on x = ones(n_0)); this loader feeds real,
correlated inputs to :func:`pkg_pdlt.theory.multi_input_recursion` and the Monte Carlo ensembles.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pkg_shared.data import DataError, check_finite, check_labels, load_npz, require_files
from pkg_shared.errors import UserError

from .config import MNIST, MNIST_FILES

MNIST_SOURCE = "http://yann.lecun.com/exdb/mnist/ (t10k images and labels; see the data root's SOURCE.md)"


def mnist_inputs(root: str | Path | None, count: int = 10) -> np.ndarray:
    """The first test image of each class 0..count-1, flattened, scaled to |x|^2 = n_0 = 784.

    Raises :class:`pkg_shared.data.DatasetMissing` (exit 2) naming the file when it is absent, and
    :class:`pkg_shared.data.DataError` naming it when it is truncated, lacks ``x_test``/``y_test``, holds
    images that are not 28x28 finite pixels, labels outside 0..9, a class without an image, or a blank image.
    """
    if not 1 <= count <= 10:
        raise UserError(f"count must be in 1..10 (one image per digit), got {count}")
    folder = require_files(MNIST, MNIST_FILES, root=root, source=MNIST_SOURCE)
    path = folder / MNIST_FILES[0]
    arrays = load_npz(path, keys=("x_test", "y_test"))
    x, y = arrays["x_test"], arrays["y_test"]
    if x.ndim != 3 or x.shape[1:] != (28, 28) or y.shape != (len(x),):
        raise DataError(f"{path}: x_test {x.shape} / y_test {y.shape}, expected (N, 28, 28) / (N,)")
    x = check_finite(x.reshape(len(x), -1), path, "x_test")
    y = check_labels(y, range(10), path, "y_test")
    absent = [c for c in range(count) if not np.any(y == c)]
    if absent:
        raise DataError(f"{path}: no test image of digit(s) {absent}")
    X = x[[int(np.flatnonzero(y == c)[0]) for c in range(count)]]
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise DataError(f"{path}: a chosen test image is blank (all pixels 0)")
    return X * np.sqrt(X.shape[1]) / norms
