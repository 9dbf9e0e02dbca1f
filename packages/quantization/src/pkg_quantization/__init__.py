"""pkg-quantization: "A Survey of Quantization Methods for Efficient Neural Network Inference".

Amir Gholami, Sehoon Kim, Zhen Dong, Zhewei Yao, Michael W. Mahoney, Kurt Keutzer; chapter in
"Low-Power Computer Vision" (CRC, 2022); arXiv:2103.13630. A survey: this package builds the methods it
organises - the uniform affine quantizer (symmetric/asymmetric, full/restricted range, nearest/stochastic
rounding, per tensor/channel/group), min-max, moving-average, percentile, MSE and KL calibration, static
and dynamic activation ranges, fake-quant layers with BN folding, PTQ with bias correction, QAT with the
clipped STE or LSQ (BN statistics frozen after the first epoch), binary/ternary weights, Hessian-aware
mixed precision with an exact DP, and an integer-only Linear with dyadic requantisation - checked against
torch.ao.quantization (and, optionally, brevitas).
"""

from .calibration import CALIBRATORS, calibrate_range, calibrated_qparams
from .integer import ENERGY_PJ, IntegerLinear
from .layers import (
    ActQuant,
    QuantConfig,
    QuantConv2d,
    QuantConvBn2d,
    QuantLinear,
    fold_bn,
    fold_model_bn,
    fold_qat_bn,
    freeze_bn_stats,
    quantize_model,
)
from .mixed import allocate_bits, hutchinson_trace
from .models import ResNet20, build_model, lenet
from .quantizer import QuantSpec, binarize, compute_qparams, fake_quantize, lsq_quantize, ternarize
from .training import evaluate, ptq, qat, train

__version__ = "0.1.0"

__all__ = [
    "CALIBRATORS",
    "ENERGY_PJ",
    "ActQuant",
    "IntegerLinear",
    "QuantConfig",
    "QuantConv2d",
    "QuantConvBn2d",
    "QuantLinear",
    "QuantSpec",
    "ResNet20",
    "__version__",
    "allocate_bits",
    "binarize",
    "build_model",
    "calibrate_range",
    "calibrated_qparams",
    "compute_qparams",
    "evaluate",
    "fake_quantize",
    "fold_bn",
    "fold_model_bn",
    "fold_qat_bn",
    "freeze_bn_stats",
    "hutchinson_trace",
    "lenet",
    "lsq_quantize",
    "ptq",
    "qat",
    "quantize_model",
    "ternarize",
    "train",
]
