"""Datasets: scikit-learn's digits (offline default) and the data root's Fashion-MNIST, MNIST, CIFAR-10.

Images are float32 ``(N, C, H, W)``: 28x28 grayscale pixels / 255 (digits: 8x8 / 16 resized bilinearly
to 28x28 so the same LeNet applies); CIFAR-10 is normalised per channel with the training mean/std.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import Tensor

from pkg_shared.data import load_npz, require_files

IMAGE_DATASETS = {
    "fashion-mnist-subset": (
        "fashion_mnist_subset.npz",
        "Fashion-MNIST, https://github.com/zalandoresearch/fashion-mnist (or Debian's dataset-fashion-mnist)",
    ),
    "mnist-t10k": ("mnist_t10k.npz", "the official MNIST t10k files, http://yann.lecun.com/exdb/mnist/"),
    "cifar10-subset": ("cifar10_subset.npz", "CIFAR-10, https://www.cs.toronto.edu/~kriz/cifar.html"),
}
DATASETS = ("digits", *IMAGE_DATASETS)


class Split(NamedTuple):
    """Train/test images (float32, NCHW) and int64 labels."""

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor

    def head(self, n_train: int | None, n_test: int | None) -> Split:
        """The first ``n_train`` training and ``n_test`` test examples (all when None)."""
        return Split(
            self.x_train[:n_train], self.y_train[:n_train], self.x_test[:n_test], self.y_test[:n_test]
        )


def digits_split(seed: int = 0) -> Split:
    """scikit-learn digits, 70/30 stratified split, 8x8 / 16 resized to 28x28 (bilinear)."""
    d = load_digits()
    x_tr, x_te, y_tr, y_te = train_test_split(
        d.images / 16.0, d.target, test_size=0.3, stratify=d.target, random_state=seed
    )

    def img(x: np.ndarray) -> Tensor:
        t = torch.as_tensor(x, dtype=torch.float32)[:, None]
        return F.interpolate(t, size=(28, 28), mode="bilinear", align_corners=False)

    return Split(img(x_tr), torch.as_tensor(y_tr), img(x_te), torch.as_tensor(y_te))


def image_split(dataset: str, root: str | Path | None = None) -> Split:
    """One of the data root's datasets; raises ``DatasetMissing`` naming the file and its source."""
    filename, source = IMAGE_DATASETS[dataset]
    folder = require_files(dataset, [filename], root=root, source=source)
    a = load_npz(folder / filename, ["x_train", "y_train", "x_test", "y_test"])
    x_tr, x_te = (torch.from_numpy(a[k].astype(np.float32) / 255.0) for k in ("x_train", "x_test"))
    if x_tr.dim() == 4:  # CIFAR: NHWC -> NCHW, per-channel standardisation from the training split
        x_tr, x_te = x_tr.permute(0, 3, 1, 2).contiguous(), x_te.permute(0, 3, 1, 2).contiguous()
        mean, std = x_tr.mean(dim=(0, 2, 3), keepdim=True), x_tr.std(dim=(0, 2, 3), keepdim=True)
        x_tr, x_te = (x_tr - mean) / std, (x_te - mean) / std
    else:
        x_tr, x_te = x_tr[:, None], x_te[:, None]
    y_tr, y_te = (torch.from_numpy(a[k].astype(np.int64)) for k in ("y_train", "y_test"))
    return Split(x_tr, y_tr, x_te, y_te)


def load_split(dataset: str, root: str | Path | None = None, seed: int = 0) -> Split:
    """``digits`` (offline) or a data-root dataset."""
    if dataset == "digits":
        return digits_split(seed)
    if dataset not in IMAGE_DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
    return image_split(dataset, root)
