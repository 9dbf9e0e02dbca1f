"""The experiments' hyperparameters (spec "Small-scale reproduction"), with presets per scale.

``small`` is the spec's protocol on 2 CPU cores: MLP 64-100-100-10 on digits, Adam lr 1e-3, 15 epochs,
batch 128 vs 4 (Fig. 6 at reduced size); LSTM vs LN-LSTM, hidden 64, sequential digits, Adam 1e-3, batch
32, 10 epochs. ``full`` is the paper's network, 784-1000-1000-10, on the 28x28 datasets of the data root.
``smoke`` runs the same code on a few hundred examples for tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Names the command line offers (kept here, free of torch, so that `--help` imports nothing heavy).
NORMS = ("none", "bn", "ln")
CELLS = ("lstm", "ln-lstm", "gru", "ln-gru", "rnn", "ln-rnn")
# Real 28x28 datasets of the data root: name -> (file, public source).
IMAGE_DATASETS = {
    "mnist-t10k": ("mnist_t10k.npz", "the official MNIST t10k files, http://yann.lecun.com/exdb/mnist/"),
    "fashion-mnist-subset": (
        "fashion_mnist_subset.npz",
        "Fashion-MNIST, https://github.com/zalandoresearch/fashion-mnist (or Debian's dataset-fashion-mnist)",
    ),
}
DATASETS = ("digits", *IMAGE_DATASETS)


@dataclass(frozen=True)
class BatchSizeConfig:
    """Permutation-invariant classification with no / batch / layer normalisation (Section 6.6, Fig. 6)."""

    hidden: tuple[int, ...] = (100, 100)
    batch_sizes: tuple[int, ...] = (128, 4)
    norms: tuple[str, ...] = ("none", "bn", "ln")
    epochs: int = 15
    lr: float = 1e-3
    max_train: int | None = None  # a subset of the training split (smoke only)


@dataclass(frozen=True)
class RNNConfig:
    """LSTM vs LN-LSTM on digits read row by row (the spec's stand-in for Section 6's RNN tasks)."""

    cells: tuple[str, ...] = ("lstm", "ln-lstm")
    hidden: int = 64
    batch_size: int = 32
    epochs: int = 10
    lr: float = 1e-3
    target_accuracy: float = 0.90
    max_train: int | None = None


@dataclass(frozen=True)
class Preset:
    batchsize: BatchSizeConfig = field(default_factory=BatchSizeConfig)
    rnn: RNNConfig = field(default_factory=RNNConfig)


PRESETS: dict[str, Preset] = {
    "smoke": Preset(BatchSizeConfig(epochs=2, max_train=256), RNNConfig(epochs=2, max_train=256)),
    "small": Preset(),
    "full": Preset(BatchSizeConfig(hidden=(1000, 1000)), RNNConfig()),
}
