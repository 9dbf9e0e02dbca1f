"""FinalMLP: An Enhanced Two-Stream MLP Model for CTR Prediction.

Kelong Mao, Jieming Zhu, Liangcai Su, Guohao Cai, Yuru Li, Zhenhua Dong; AAAI 2023; arXiv:2304.00902.

Implemented: FinalMLP (stream-specific feature gating with its own context embeddings or a zero-initialised
learnable vector, two MLP streams, multi-head bilinear interaction aggregation), the DualMLP and DNN
baselines, the ablations (w/o feature gating, w/o bilinear fusion, one head), FuxiCTR's training protocol
(whole-table embedding L2, validation-AUC early stopping, lr x0.1 on plateau, best-checkpoint reload),
numeric fields as FuxiCTR embeds them (value x vector), and the datasets: BARS CSV folders, ml100k-ctr,
the tiny Taobao sample (read through pkg_shared.ctr) and a synthetic generator. The public API is
imported lazily (``import pkg_finalmlp`` loads no torch).
"""

from pkg_shared.package import lazy_exports, version_of

__version__ = version_of("pkg-finalmlp")
_EXPORTS = {
    "MODELS": ".config",
    "PRESETS": ".config",
    "ModelConfig": ".config",
    "TrainConfig": ".config",
    "CTRData": ".data",
    "encode": ".data",
    "load_dataset": ".data",
    "synthetic_ctr": ".data",
    "CTRModel": ".model",
    "FeatureGate": ".model",
    "FieldEmbedding": ".model",
    "InteractionAggregation": ".model",
    "TrainResult": ".training",
    "evaluate_split": ".training",
    "predict": ".training",
    "train_model": ".training",
}
__all__ = [*_EXPORTS, "__version__"]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
