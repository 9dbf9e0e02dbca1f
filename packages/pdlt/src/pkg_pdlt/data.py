"""Optional real inputs: MNIST digits from the data root, for multi-input kernels (spec "Data").

Nothing in the book's claims needs data (random networks on x = ones(n_0)); this loader feeds real,
correlated inputs to :func:`pkg_pdlt.theory.multi_input_recursion` and the Monte Carlo ensembles.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pkg_shared.data import load_npz, require_files

MNIST = "mnist-t10k"
MNIST_FILES = ("mnist_t10k.npz",)
MNIST_SOURCE = "http://yann.lecun.com/exdb/mnist/ (t10k images and labels; see the data root's SOURCE.md)"


def mnist_inputs(root: str | Path | None, count: int = 10) -> np.ndarray:
    """The first test image of each class 0..count-1, flattened, scaled to |x|^2 = n_0 = 784.

    Raises :class:`pkg_shared.data.DatasetMissing` (exit 2) naming the file when it is absent.
    """
    folder = require_files(MNIST, MNIST_FILES, root=root, source=MNIST_SOURCE)
    arrays = load_npz(folder / MNIST_FILES[0], keys=("x_test", "y_test"))
    x = arrays["x_test"].reshape(len(arrays["x_test"]), -1).astype(np.float64)
    idx = [int(np.flatnonzero(arrays["y_test"] == c)[0]) for c in range(count)]
    X = x[idx]
    return X * np.sqrt(X.shape[1]) / np.linalg.norm(X, axis=1, keepdims=True)
