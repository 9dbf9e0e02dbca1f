"""Layer Normalization — Ba, Kiros & Hinton, NIPS 2016 Deep Learning Symposium, arXiv:1607.06450.

Implemented: the layer normalisation of eqs. (3)-(4) (functional and module, with gain and bias), LN
applied to a layer's summed inputs (``LNLinear``), the layer-normalised RNN, LSTM (the supplementary's
three LNs) and GRU cells, the baselines (no normalisation, batch normalisation, weight normalisation,
``nn.LSTMCell``), Table 1's invariances measured, Section 5.2's gradient scaling, and the small-scale
experiments behind Fig. 6 (batch size) and the RNN figures (convergence).
"""

from .cells import CELLS, LNGRUCell, LNLSTMCell, LNRNNCell, RecurrentClassifier, unroll
from .invariance import PAPER_TABLE, gradient_scaling, invariance_table, matches_paper
from .layers import MLP, NORMS, BatchNormLinear, LayerNorm, LNLinear, WeightNormLinear, layer_norm

__version__ = "0.1.0"
__all__ = [
    "CELLS",
    "MLP",
    "NORMS",
    "PAPER_TABLE",
    "BatchNormLinear",
    "LNGRUCell",
    "LNLSTMCell",
    "LNLinear",
    "LNRNNCell",
    "LayerNorm",
    "RecurrentClassifier",
    "WeightNormLinear",
    "__version__",
    "gradient_scaling",
    "invariance_table",
    "layer_norm",
    "matches_paper",
    "unroll",
]
