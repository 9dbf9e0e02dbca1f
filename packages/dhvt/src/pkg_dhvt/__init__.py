"""DHVT: Bridging the Gap Between Vision Transformers and Convolutional Neural Networks on Small Datasets.

Zhiying Lu, Hongtao Xie, Chuanbin Liu, Yongdong Zhang; NeurIPS 2022; arXiv:2210.05958.

Implemented on timm's building blocks: the Sequential Overlapping Patch Embedding (SOPE, with its two
affine transforms), the Dynamic Aggregation Feed-Forward (DAFF: depth-wise conv over patch tokens and the
class token's channel re-calibration), Head-Interacted MHSA (head tokens), no absolute position embedding,
each component switchable for the ablations; the paper's CIFAR (32 px) and ImageNet/DomainNet (224 px)
configurations registered with timm (``timm.create_model("dhvt_tiny_cifar_patch4")`` after
``pkg_dhvt.register()``); the training recipe through timm's optimiser, scheduler, augmentation and EMA.
"""

from pkg_shared.package import lazy_exports, version_of

__version__ = version_of("pkg-dhvt")
__all__ = [
    "DAFF",
    "DHVT",
    "SOPE",
    "VARIANTS",
    "DHVTConfig",
    "HIAttention",
    "Recipe",
    "__version__",
    "build_model",
    "count_params",
    "model_config",
    "register",
    "reproduce",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "DAFF": ".layers",
        "DHVT": ".model",
        "SOPE": ".layers",
        "VARIANTS": ".config",
        "DHVTConfig": ".config",
        "HIAttention": ".layers",
        "Recipe": ".config",
        "build_model": ".model",
        "count_params": ".model",
        "model_config": ".model",
        "reproduce": ".experiment",
    },
)


def register() -> None:
    """Register ``dhvt_{tiny,small}_{cifar_patch4,...}`` with timm (importing ``pkg_dhvt.model`` does it)."""
    from . import model  # noqa: F401
