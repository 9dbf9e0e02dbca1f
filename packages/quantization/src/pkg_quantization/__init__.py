"""pkg-quantization: "A Survey of Quantization Methods for Efficient Neural Network Inference".

Amir Gholami, Sehoon Kim, Zhen Dong, Zhewei Yao, Michael W. Mahoney, Kurt Keutzer; chapter in
"Low-Power Computer Vision" (CRC, 2022); arXiv:2103.13630. A survey: this package builds the methods it
organises - the uniform affine quantizer (symmetric/asymmetric, full/restricted range, nearest/stochastic
rounding, per tensor/channel/group), min-max, moving-average, percentile, MSE and KL calibration, static
and dynamic activation ranges, fake-quant layers with BN folding, PTQ with bias correction, QAT with the
clipped STE or LSQ (BN statistics frozen after the first epoch), binary/ternary weights, Hessian-aware
mixed precision with an exact DP, and an integer-only Linear with dyadic requantisation - checked against
torch.ao.quantization (and, optionally, brevitas).

The API is exported lazily: ``import pkg_quantization`` imports no torch until a name is used.
"""

from pkg_shared.package import lazy_exports, version_of

__version__ = version_of("pkg-quantization")

_EXPORTS = {
    "CALIBRATORS": ".options",
    "calibrate_range": ".calibration",
    "calibrated_qparams": ".calibration",
    "ENERGY_PJ": ".integer",
    "IntegerLinear": ".integer",
    "ActQuant": ".layers",
    "QuantConfig": ".layers",
    "QuantConv2d": ".layers",
    "QuantConvBn2d": ".layers",
    "QuantLinear": ".layers",
    "fold_bn": ".layers",
    "fold_model_bn": ".layers",
    "fold_qat_bn": ".layers",
    "freeze_bn_stats": ".layers",
    "quantize_model": ".layers",
    "allocate_bits": ".mixed",
    "hutchinson_trace": ".mixed",
    "omega": ".mixed",
    "ResNet20": ".models",
    "build_model": ".models",
    "lenet": ".models",
    "QuantSpec": ".quantizer",
    "binarize": ".quantizer",
    "compute_qparams": ".quantizer",
    "fake_quantize": ".quantizer",
    "lsq_quantize": ".quantizer",
    "ternarize": ".quantizer",
    "TORCH_AO_MATCH": ".reference",
    "ao_static_ptq": ".reference",
    "ptq_like_torch_ao": ".reference",
    "top1_disagreement": ".reference",
    "evaluate": ".training",
    "ptq": ".training",
    "qat": ".training",
    "train": ".training",
    "reproduce": ".experiment",
}

__all__ = ["__version__", *sorted(_EXPORTS)]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
