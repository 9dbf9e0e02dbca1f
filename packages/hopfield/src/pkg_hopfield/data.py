"""The experiments' data: synthetic sets generated here, and real sets read from the data root.

- :func:`bit_pattern_bags`: the hflayers bit-pattern MIL demo (synthetic, offline default).
- :func:`load_mil_classic`: Tiger / Fox / Elephant (Andrews et al. 2002) from ``mil-tiger-fox-elephant/``.
- :func:`mnist_bags`: MNIST-bags of Ilse et al. (2018) built from ``mnist-t10k/``.
- :func:`tabular`: the small scikit-learn sets standing in for the UCI benchmark.

Bags are padded to one tensor ``x`` (B, N_max, d) with ``pad`` (B, N_max), True where there is no instance.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from pkg_shared.data import load_npz, require_files, sklearn_dataset
from pkg_shared.errors import UserError

MIL_CLASSIC = ("tiger", "fox", "elephant")
MIL_SOURCE = "github.com/komartom/MIDatasets.jl data/*.jld (from miproblems.org), see SOURCE.md"
MNIST_SOURCE = "http://yann.lecun.com/exdb/mnist/ (t10k files), see mnist-t10k/SOURCE.md"
TABULAR = ("breast_cancer", "wine", "iris", "digits")


class Bags(NamedTuple):
    """A padded MIL set: instances ``x`` (B, N_max, d), padding ``pad`` (B, N_max), labels ``y`` (B,)."""

    x: torch.Tensor
    pad: torch.Tensor
    y: torch.Tensor


def bit_pattern_bags(
    num_bags: int = 2048,
    num_instances: int = 16,
    num_bits: int = 8,
    num_signals: int = 8,
    fraction_positive: float = 0.5,
    seed: int = 0,
) -> Bags:
    """hflayers' bit-pattern set: bags of random 0/1 instances; ``num_signals`` class-defining bit patterns;
    each positive bag gets one signal implanted at a random position; no negative bag holds a signal
    (instances equal to a signal are resampled until none is)."""
    if num_signals >= 2**num_bits or min(num_bags, num_instances, num_signals) < 1:
        raise UserError("need >= 1 bag, instance and signal, and fewer signals than bit patterns")
    g = torch.Generator().manual_seed(seed)
    signals = torch.randperm(2**num_bits, generator=g)[:num_signals]
    bits = 2 ** torch.arange(num_bits)

    def codes(x: torch.Tensor) -> torch.Tensor:
        return (x.long() * bits).sum(-1)

    x = torch.randint(0, 2, (num_bags, num_instances, num_bits), generator=g).float()
    while (hit := torch.isin(codes(x), signals)).any():
        x[hit] = torch.randint(0, 2, (int(hit.sum()), num_bits), generator=g).float()
    y = (torch.arange(num_bags) < round(fraction_positive * num_bags)).long()
    y = y[torch.randperm(num_bags, generator=g)]
    positive = y.nonzero().squeeze(1)
    where = torch.randint(0, num_instances, (len(positive),), generator=g)
    which = signals[torch.randint(0, num_signals, (len(positive),), generator=g)]
    x[positive, where] = ((which[:, None] // bits) % 2).float()
    return Bags(x, torch.zeros(num_bags, num_instances, dtype=torch.bool), y)


def pad_bags(instances: np.ndarray, bag_id: np.ndarray, labels: np.ndarray) -> Bags:
    """Stack instances (n, d) grouped by ``bag_id`` (0..B-1) into a padded :class:`Bags` (no loops)."""
    if instances.ndim != 2 or len(instances) != len(bag_id):
        raise UserError(f"instances {instances.shape} and bag_id {bag_id.shape} do not match")
    if bag_id.min() < 0 or bag_id.max() >= len(labels):
        raise UserError("bag_id refers to bags that have no label")
    order = np.argsort(bag_id, kind="stable")
    bag_id, instances = bag_id[order], instances[order]
    sizes = np.bincount(bag_id, minlength=len(labels))
    if (sizes == 0).any():
        raise UserError(f"{int((sizes == 0).sum())} bag(s) have no instance")
    position = np.arange(len(bag_id)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    x = torch.zeros(len(labels), int(sizes.max()), instances.shape[1])
    x[bag_id, position] = torch.from_numpy(instances.astype(np.float32))
    pad = torch.arange(int(sizes.max()))[None, :] >= torch.from_numpy(sizes)[:, None]
    return Bags(x, pad, torch.from_numpy(labels.astype(np.int64)))


def load_mil_classic(name: str, root: str | Path | None = None) -> tuple[Bags, torch.Tensor]:
    """Tiger, Fox or Elephant: the padded bags and the upstream fold masks ``train_mask`` (5, 10, 200)."""
    if name not in MIL_CLASSIC:
        raise UserError(f"unknown MIL dataset '{name}' (one of {', '.join(MIL_CLASSIC)})")
    folder = require_files("mil-tiger-fox-elephant", [f"{name}.npz"], root=root, source=MIL_SOURCE)
    z = load_npz(folder / f"{name}.npz", ["instances", "bag_id", "bag_label", "train_mask"])
    bags = pad_bags(z["instances"], z["bag_id"], z["bag_label"])
    return bags, torch.from_numpy(z["train_mask"].astype(bool))


def mnist_bags(
    root: str | Path | None = None,
    n_train: int = 200,
    n_test: int = 100,
    mean_size: float = 10.0,
    std_size: float = 2.0,
    target: int = 9,
    seed: int = 0,
) -> tuple[Bags, Bags]:
    """MNIST-bags (Ilse et al. 2018): bag sizes ~ round(N(mean, std)) (at least 1), digits drawn at random
    (training bags from the training images, test bags from the test images); a bag is positive iff it
    holds a ``target`` digit. Pixels / 255, flattened to 784."""
    folder = require_files("mnist-t10k", ["mnist_t10k.npz"], root=root, source=MNIST_SOURCE)
    z = load_npz(folder / "mnist_t10k.npz", ["x_train", "y_train", "x_test", "y_test"])
    rng = np.random.default_rng(seed)

    def build(images: np.ndarray, digits: np.ndarray, n: int) -> Bags:
        sizes = np.maximum(1, np.rint(rng.normal(mean_size, std_size, n))).astype(np.int64)
        pick = rng.integers(0, len(images), sizes.sum())
        bag_id = np.repeat(np.arange(n), sizes)
        labels = np.zeros(n, dtype=np.int64)
        np.maximum.at(labels, bag_id, (digits[pick] == target).astype(np.int64))
        return pad_bags(images[pick].reshape(len(pick), -1) / 255.0, bag_id, labels)

    return build(z["x_train"], z["y_train"], n_train), build(z["x_test"], z["y_test"], n_test)


def tabular(name: str) -> tuple[np.ndarray, np.ndarray]:
    """One of the small scikit-learn sets standing in for the paper's small UCI datasets."""
    if name not in TABULAR:
        raise UserError(f"unknown tabular dataset '{name}' (one of {', '.join(TABULAR)})")
    return sklearn_dataset(name)
