"""Datasets: scikit-learn's digits (offline default) and the data root's Fashion-MNIST, MNIST, CIFAR-10.

Images are float32 ``(N, C, H, W)``: 28x28 grayscale pixels / 255 (digits: 8x8 / 16 resized bilinearly
to 28x28 so the same LeNet applies); CIFAR-10 is normalised per channel with the training mean/std.
Files from the data root are validated where they enter: the four arrays present, images of the
expected shape with pixel values in [0, 255], labels in 0..9, as many labels as images, no empty split.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from pkg_shared.data import DataError, check_finite, check_labels, load_npz, require_files
from pkg_shared.errors import UserError

from .options import DATA_FILES, DATASETS

IMAGE_DATASETS = DATA_FILES
CLASSES = 10
SHAPES = {"fashion-mnist-subset": (28, 28), "mnist-t10k": (28, 28), "cifar10-subset": (32, 32, 3)}
"""Image shape per example (without the batch axis) that each data-root file must hold."""

__all__ = ["DATASETS", "IMAGE_DATASETS", "Split", "digits_split", "image_split", "load_split"]


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
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x_tr, x_te, y_tr, y_te = train_test_split(
        d.images / 16.0, d.target, test_size=0.3, stratify=d.target, random_state=seed
    )

    def img(x: np.ndarray) -> Tensor:
        t = torch.as_tensor(x, dtype=torch.float32)[:, None]
        return F.interpolate(t, size=(28, 28), mode="bilinear", align_corners=False)

    return Split(img(x_tr), torch.as_tensor(y_tr), img(x_te), torch.as_tensor(y_te))


def _checked(arrays: dict[str, np.ndarray], path: Path, dataset: str) -> dict[str, np.ndarray]:
    """The arrays of ``path`` after the checks of the module docstring (DataError naming the file)."""
    shape = SHAPES[dataset]
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if x.ndim != len(shape) + 1 or tuple(x.shape[1:]) != shape:
            raise DataError(
                f"{path}: x_{part} has shape {x.shape}, expected (N, {', '.join(map(str, shape))})"
            )
        if len(x) == 0:
            raise DataError(f"{path}: the {part} split is empty")
        if y.ndim != 1 or len(y) != len(x):
            raise DataError(
                f"{path}: y_{part} has shape {y.shape}, expected ({len(x)},) (one label per image)"
            )
        if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
            raise DataError(f"{path}: x_{part} holds {x.dtype} values, not pixel numbers")
        if np.issubdtype(x.dtype, np.floating):
            check_finite(x.reshape(len(x), -1), path, f"x_{part}")
        low, high = x.min(), x.max()
        if low < 0 or high > 255:
            raise DataError(f"{path}: x_{part} pixels must lie in [0, 255], found [{low}, {high}]")
        check_labels(y, range(CLASSES), path, f"y_{part}")
    return arrays


def image_split(dataset: str, root: str | Path | None = None) -> Split:
    """One of the data root's datasets; raises ``DatasetMissing`` naming the file and its source."""
    filename, source = IMAGE_DATASETS[dataset]
    folder = require_files(dataset, [filename], root=root, source=source)
    path = folder / filename
    a = _checked(load_npz(path, ["x_train", "y_train", "x_test", "y_test"]), path, dataset)
    x_tr, x_te = (torch.from_numpy(a[k].astype(np.float32) / 255.0) for k in ("x_train", "x_test"))
    if x_tr.dim() == 4:  # CIFAR: NHWC -> NCHW, per-channel standardisation from the training split
        x_tr, x_te = x_tr.permute(0, 3, 1, 2).contiguous(), x_te.permute(0, 3, 1, 2).contiguous()
        mean, std = x_tr.mean(dim=(0, 2, 3), keepdim=True), x_tr.std(dim=(0, 2, 3), keepdim=True)
        x_tr, x_te = (x_tr - mean) / std.clamp_min(1e-6), (x_te - mean) / std.clamp_min(1e-6)
    else:
        x_tr, x_te = x_tr[:, None], x_te[:, None]
    y_tr, y_te = (torch.from_numpy(a[k].astype(np.int64)) for k in ("y_train", "y_test"))
    return Split(x_tr, y_tr, x_te, y_te)


def load_split(dataset: str, root: str | Path | None = None, seed: int = 0) -> Split:
    """``digits`` (offline) or a data-root dataset."""
    if dataset == "digits":
        return digits_split(seed)
    if dataset not in IMAGE_DATASETS:
        raise UserError(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
    return image_split(dataset, root)
