"""Offline datasets for the small-scale reproduction of Ba, Kiros & Hinton (2016).

* :func:`digits_split`: scikit-learn's 8x8 digits (1,797 x 64, 10 classes, shipped with the
  library) as the stand-in for permutation-invariant MNIST (Section 6.6, Fig. 6).
* :func:`sequential_digits`: the same digits read row by row, 8 time steps of 8 features, as a
  stand-in for the paper's recurrent tasks (Section 6).
* :func:`adding_problem`: the synthetic adding task (Hochreiter & Schmidhuber 1997), generated on the fly.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import Tensor

from pkg_shared.data import (
    DataError,
    check_finite,
    check_labels,
    check_split,
    load_npz,
    require_files,
)
from pkg_shared.errors import UserError

from .config import DATASETS, IMAGE_DATASETS

__all__ = [
    "DATASETS",
    "Split",
    "adding_problem",
    "as_sequences",
    "digits_split",
    "image_split",
    "load_split",
    "sequential_digits",
]


class Split(NamedTuple):
    """A train/test split: float32 features and int64 labels."""

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor


def digits_split(seed: int = 0) -> Split:
    """scikit-learn digits, 70/30 stratified split (``random_state=seed``; the spec uses 0).

    Features are pixel intensities / 16, in [0, 1], shape ``(N, 64)`` float32; labels int64 in 0..9.
    """
    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data / 16.0, digits.target, test_size=0.3, stratify=digits.target, random_state=seed
    )
    return Split(
        torch.as_tensor(x_train, dtype=torch.float32),
        torch.as_tensor(y_train, dtype=torch.int64),
        torch.as_tensor(x_test, dtype=torch.float32),
        torch.as_tensor(y_test, dtype=torch.int64),
    )


def sequential_digits(seed: int = 0) -> Split:
    """The split of :func:`digits_split` with each image read as a sequence: shape ``(N, 8, 8)``,
    time step t holding pixel row t (8 features)."""
    split = digits_split(seed)
    return split._replace(x_train=split.x_train.reshape(-1, 8, 8), x_test=split.x_test.reshape(-1, 8, 8))


def adding_problem(n: int, T: int = 50, seed: int = 0) -> tuple[Tensor, Tensor]:
    """The adding problem: ``n`` sequences of ``T`` steps with inputs (value, marker).

    Values are U(0, 1); the marker is 1 at exactly two distinct steps chosen uniformly at random
    and 0 elsewhere. The target is the sum of the two marked values, so predicting 1 gives an MSE
    of 1/6 (about 0.167). Returns ``x`` of shape ``(n, T, 2)`` and ``y`` of shape ``(n,)``, float32.
    """
    if n < 1 or T < 2:
        raise UserError(f"need n >= 1 sequences of T >= 2 steps, got n={n}, T={T}")
    gen = torch.Generator().manual_seed(seed)
    values = torch.rand((n, T), generator=gen)
    marked = torch.rand((n, T), generator=gen).argsort(dim=1)[:, :2]
    markers = torch.zeros((n, T)).scatter_(1, marked, 1.0)
    return torch.stack([values, markers], dim=-1), (values * markers).sum(dim=1)


def image_split(dataset: str, root: str | Path | None = None) -> Split:
    """A 28x28 dataset of the data root as flat float32 features in [0, 1] (pixel / 255), shape ``(N, 784)``.

    Raises ``DatasetMissing`` naming the file and its public source when it is not there, and
    ``DataError`` (exit 2, naming the file) when it is truncated, lacks an array, holds images that are
    not 28x28 pixels in 0..255, labels outside 0..9, or an empty split.
    """
    if dataset not in IMAGE_DATASETS:
        raise UserError(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
    filename, source = IMAGE_DATASETS[dataset]
    folder = require_files(dataset, [filename], root=root, source=source)
    path = folder / filename
    arrays = load_npz(path, ["x_train", "y_train", "x_test", "y_test"])
    out = []
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28):
            raise DataError(f"{path}: x_{part} has shape {x.shape}, expected (N, 28, 28)")
        if y.ndim != 1 or len(y) != len(x):
            raise DataError(f"{path}: y_{part} has shape {y.shape}, expected ({len(x)},)")
        check_split(part, len(x), source=path)
        pixels = check_finite(x.reshape(len(x), -1), path, f"x_{part}")
        if pixels.min() < 0 or pixels.max() > 255:
            raise DataError(f"{path}: x_{part} holds pixels outside 0..255")
        check_labels(y, range(10), path, f"y_{part}")
        out += [torch.from_numpy(pixels.astype(np.float32) / 255.0), torch.from_numpy(y.astype(np.int64))]
    return Split(*out)


def load_split(dataset: str, root: str | Path | None = None, seed: int = 0) -> Split:
    """``digits`` (offline, :func:`digits_split`) or one of the data root's 28x28 datasets."""
    return digits_split(seed) if dataset == "digits" else image_split(dataset, root)


def as_sequences(split: Split) -> Split:
    """Read each square image row by row: ``(N, S*S)`` becomes ``(N, S, S)``, S time steps of S features."""
    side = int(round(split.x_train.shape[1] ** 0.5))
    return split._replace(
        x_train=split.x_train.reshape(-1, side, side), x_test=split.x_test.reshape(-1, side, side)
    )
