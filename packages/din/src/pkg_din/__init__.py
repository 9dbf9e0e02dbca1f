"""Deep Interest Network for Click-Through Rate Prediction — Guorui Zhou, Chengru Song, Xiaoqiang Zhu,
Ying Fan, Han Zhu, Xiao Ma, Yanghui Yan, Junqi Jin, Han Li, Kun Gai; KDD 2018; arXiv:1706.06978.

Implemented: the Embedding&MLP BaseModel (sum/mean pooling, PReLU), DIN's local activation unit
(target attention without softmax, masked padding; eq. (3)), Dice (eq. (9)), mini-batch aware
regularisation (eq. (4)-(5)) with the regularisers it is compared with (L2, feature-id dropout, frequency
filter), GAUC (eq. (1)) and RelaImpr (eq. (10)); the Amazon protocol, the MovieLens rating protocol, a
synthetic multi-interest generator and the tiny Taobao ad sample, encoded with pkg_shared.features.
"""

from .config import MODELS, REGULARISERS, ModelConfig, TrainConfig
from .data import DATASETS, load_dataset, synthetic_interest
from .layers import MLP, Dice, LocalActivationUnit
from .metrics import evaluate, rela_impr
from .model import CTRModel, Schema
from .protocols import CTRData, amazon_protocol, encode, rating_protocol
from .regularisation import mba_penalty
from .training import train_model

__version__ = "0.1.0"
__all__ = [
    "DATASETS",
    "MLP",
    "MODELS",
    "REGULARISERS",
    "CTRData",
    "CTRModel",
    "Dice",
    "LocalActivationUnit",
    "ModelConfig",
    "Schema",
    "TrainConfig",
    "__version__",
    "amazon_protocol",
    "encode",
    "evaluate",
    "load_dataset",
    "mba_penalty",
    "rating_protocol",
    "rela_impr",
    "synthetic_interest",
    "train_model",
]
