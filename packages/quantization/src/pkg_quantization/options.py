"""The names the command line offers (datasets, models, recipes), in a module that imports no torch.

``pkg-quantization --help`` builds its parser from these; the modules that implement them import the
same tuples, so there is one list of each.
"""

DATASETS: tuple[str, ...] = ("digits", "fashion-mnist-subset", "mnist-t10k", "cifar10-subset")
"""``digits`` (scikit-learn, offline default) and the data root's image sets."""

DATA_FILES: dict[str, tuple[str, str]] = {
    "fashion-mnist-subset": (
        "fashion_mnist_subset.npz",
        "Fashion-MNIST, https://github.com/zalandoresearch/fashion-mnist (or Debian's dataset-fashion-mnist)",
    ),
    "mnist-t10k": ("mnist_t10k.npz", "the official MNIST t10k files, http://yann.lecun.com/exdb/mnist/"),
    "cifar10-subset": ("cifar10_subset.npz", "CIFAR-10, https://www.cs.toronto.edu/~kriz/cifar.html"),
}
"""Data-root datasets: ``<root>/<dataset>/<file>`` and the public source of the data."""

MODELS: tuple[str, ...] = ("lenet", "lenet-bn", "resnet20")
CALIBRATORS: tuple[str, ...] = ("minmax", "moving-average", "percentile", "mse", "kl")
GRANULARITIES: tuple[str, ...] = ("per-tensor", "per-channel", "per-group")
ROUNDINGS: tuple[str, ...] = ("nearest", "stochastic")
WEIGHT_SCHEMES: tuple[str, ...] = ("uniform", "binary", "ternary")
ENGINES: tuple[str, ...] = ("x86", "fbgemm", "onednn", "qnnpack")
"""torch's quantised CPU engines, in the order ``torch.ao`` comparisons prefer them."""
