"""Layer Normalization — Ba, Kiros & Hinton, NIPS 2016 Deep Learning Symposium, arXiv:1607.06450.

Implemented: the layer normalisation of eqs. (3)-(4) (functional and module, with gain and bias), LN
applied to a layer's summed inputs (``LNLinear``), the layer-normalised RNN, LSTM (the supplementary's
three LNs) and GRU cells, the baselines (no normalisation, batch normalisation, weight normalisation,
``nn.LSTMCell``), Table 1's invariances measured, Section 5.2's gradient scaling, and the small-scale
experiments behind Fig. 6 (batch size) and the RNN figures (convergence).
"""

from pkg_shared.package import lazy_exports, version_of

__version__ = version_of("pkg-layernorm")
_EXPORTS = {
    "CELLS": ".config",
    "NORMS": ".config",
    "LNGRUCell": ".cells",
    "LNLSTMCell": ".cells",
    "LNRNNCell": ".cells",
    "RecurrentClassifier": ".cells",
    "unroll": ".cells",
    "PAPER_TABLE": ".invariance",
    "gradient_scaling": ".invariance",
    "invariance_table": ".invariance",
    "matches_paper": ".invariance",
    "MLP": ".layers",
    "BatchNormLinear": ".layers",
    "LayerNorm": ".layers",
    "LNLinear": ".layers",
    "WeightNormLinear": ".layers",
    "layer_norm": ".layers",
}
__all__ = sorted([*_EXPORTS, "__version__"])
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
