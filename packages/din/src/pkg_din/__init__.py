"""Deep Interest Network for Click-Through Rate Prediction — Guorui Zhou, Chengru Song, Xiaoqiang Zhu,
Ying Fan, Han Zhu, Xiao Ma, Yanghui Yan, Junqi Jin, Han Li, Kun Gai; KDD 2018; arXiv:1706.06978.

Implemented: the Embedding&MLP BaseModel (sum/mean pooling, PReLU), DIN's local activation unit
(target attention without softmax, masked padding; eq. (3)), Dice (eq. (9)), mini-batch aware
regularisation (eq. (4)-(5)) with the regularisers it is compared with (L2, feature-id dropout, frequency
filter), GAUC (eq. (1)) and RelaImpr (eq. (10)); the Amazon protocol, the MovieLens rating protocol, a
synthetic multi-interest generator and the tiny Taobao ad sample, read through pkg_shared.ctr and encoded
with pkg_shared.features. The public API is imported lazily (``import pkg_din`` loads no torch).
"""

from pkg_shared.package import lazy_exports, version_of

__version__ = version_of("pkg-din")
_EXPORTS = {
    "MODELS": ".config",
    "REGULARISERS": ".config",
    "ModelConfig": ".config",
    "TrainConfig": ".config",
    "DATASETS": ".data",
    "load_dataset": ".data",
    "synthetic_interest": ".data",
    "MLP": ".layers",
    "Dice": ".layers",
    "LocalActivationUnit": ".layers",
    "evaluate": ".metrics",
    "rela_impr": ".metrics",
    "CTRModel": ".model",
    "Schema": ".model",
    "CTRData": ".protocols",
    "amazon_protocol": ".protocols",
    "encode": ".protocols",
    "rating_protocol": ".protocols",
    "mba_penalty": ".regularisation",
    "train_model": ".training",
}
__all__ = [*_EXPORTS, "__version__"]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
