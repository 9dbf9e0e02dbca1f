"""Kolmogorov-Arnold Neural Networks for High-Entropy Alloys Design.

Paper: Yagnik Bandyopadhyay, Harshil Avlani, Houlong L. Zhuang, arXiv:2410.08452 (2024; journal
version 2025). KANs (Liu et al. 2024) against MLPs on three alloy-design tables: single-phase formation
of high-entropy carbides, yield / ultimate tensile strength of HEAs, HEA classification then bulk-modulus
regression and screening.

Implemented: a vectorised KAN with pykan 0.2.x semantics (:class:`KAN`, :class:`KANLayer`: Cox-de Boor
B-splines, residual SiLU, pykan initialisation, grid update and extension, sparsity regulariser, pruning
with a rebuilt smaller network, feature importance), the efficient-kan layer (:class:`EfficientKANLinear`),
LBFGS/Adam training, edge plots and symbolic edge fits (sympy optional), the three examples with MLP
baselines on the same folds, and pykan itself as an optional reference model.
"""

from pkg_shared.package import lazy_exports, version_of

__version__ = version_of("pkg-kan-hea")
__all__ = [
    "KAN",
    "MLP",
    "EfficientKAN",
    "EfficientKANLinear",
    "KANLayer",
    "TrainConfig",
    "__version__",
    "b_splines",
    "coef2curve",
    "curve2coef",
    "extend_grid",
    "reproduce",
    "train_model",
    "uniform_grid",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        **dict.fromkeys(["KAN", "MLP", "EfficientKAN", "EfficientKANLinear", "KANLayer"], ".kan"),
        **dict.fromkeys(["b_splines", "coef2curve", "curve2coef", "extend_grid", "uniform_grid"], ".spline"),
        "TrainConfig": ".config",
        "train_model": ".train",
        "reproduce": ".experiment",
    },
)
