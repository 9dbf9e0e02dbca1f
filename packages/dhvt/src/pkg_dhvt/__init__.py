"""DHVT: Bridging the Gap Between Vision Transformers and Convolutional Neural Networks on Small Datasets.

Zhiying Lu, Hongtao Xie, Chuanbin Liu, Yongdong Zhang; NeurIPS 2022; arXiv:2210.05958.

Implemented on timm's building blocks: the Sequential Overlapping Patch Embedding (SOPE, with its two
affine transforms), the Dynamic Aggregation Feed-Forward (DAFF: depth-wise conv over patch tokens and the
class token's channel re-calibration), Head-Interacted MHSA (head tokens), no absolute position embedding,
each component switchable for the ablations; the paper's CIFAR (32 px) and ImageNet/DomainNet (224 px)
configurations registered with timm (``timm.create_model("dhvt_tiny_cifar_patch4")`` after
``import pkg_dhvt``); the training recipe through timm's optimiser, scheduler, augmentation and EMA.
"""

from .config import VARIANTS, DHVTConfig, Recipe
from .layers import DAFF, SOPE, HIAttention
from .model import DHVT, build_model, count_params, model_config

__version__ = "0.1.0"
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
]
