"""FinalMLP: An Enhanced Two-Stream MLP Model for CTR Prediction.

Kelong Mao, Jieming Zhu, Liangcai Su, Guohao Cai, Yuru Li, Zhenhua Dong; AAAI 2023; arXiv:2304.00902.

Implemented: FinalMLP (stream-specific feature gating with its own context embeddings or a zero-initialised
learnable vector, two MLP streams, multi-head bilinear interaction aggregation), the DualMLP and DNN
baselines, the ablations (w/o feature gating, w/o bilinear fusion, one head), FuxiCTR's training protocol
(whole-table embedding L2, validation-AUC early stopping, lr x0.1 on plateau, best-checkpoint reload), and
the datasets: BARS CSV folders, ml100k-ctr, the tiny Taobao sample and a synthetic generator.
"""

from .config import MODELS, PRESETS, ModelConfig, TrainConfig
from .data import CTRData, encode, load_dataset, synthetic_ctr
from .model import CTRModel, FeatureGate, FieldEmbedding, InteractionAggregation
from .training import TrainResult, evaluate_split, predict, train_model

__version__ = "0.1.0"
__all__ = [
    "MODELS",
    "PRESETS",
    "CTRData",
    "CTRModel",
    "FeatureGate",
    "FieldEmbedding",
    "InteractionAggregation",
    "ModelConfig",
    "TrainConfig",
    "TrainResult",
    "__version__",
    "encode",
    "evaluate_split",
    "load_dataset",
    "predict",
    "synthetic_ctr",
    "train_model",
]
