"""The uniform affine quantizer of the survey (Sec. III-A, Eqs. 2-4) in torch.ao's convention.

The survey writes ``Q(r) = Int(r/S) - Z`` and ``r~ = S(Q(r) + Z)``. torch (and this package) store the
zero point with the opposite sign::

    q  = clamp(round(r / S) + z, q_min, q_max)         (quantise)
    r~ = (q - z) * S                                   (dequantise)

with ``b`` bits giving ``[0, 2^b - 1]`` (unsigned) or ``[-2^(b-1), 2^(b-1) - 1]`` (signed). For bit-exact
agreement with ``torch.fake_quantize_per_*_affine``, ``r / S`` is computed as ``r * (1 / S)`` in float32,
as torch's kernels do, and rounding is round-half-to-even.

Ranges (Sec. III-B): asymmetric ``S = (beta - alpha) / (q_max - q_min)``, ``z = q_min - round(alpha / S)``;
symmetric ``z = 0`` with the *full* range ``S = 2 max(|alpha|, |beta|) / (2^b - 1)`` (torch's qint8) or the
*restricted* range ``S = max(|alpha|, |beta|) / (2^(b-1) - 1)`` (``q_min = -(2^(b-1) - 1)``). The range
always includes 0 and ``S >= eps`` (float32 machine epsilon), exactly as torch's observers.

Granularity (Sec. III-E): per tensor, per channel (axis 0 of Conv2d/Linear weights) or per group of ``g``
consecutive channels sharing one range. Rounding: nearest (torch) or stochastic ``floor(x + u)``,
``u ~ U[0, 1)`` (Sec. III-F). Backward: the clipped straight-through estimator (Sec. IV-A), gradient 1
where ``round(r/S) + z`` falls inside ``[q_min, q_max]`` and 0 outside (torch's mask); or LSQ (Esser et
al. 2020) with a learnable step size. Extreme quantization (Sec. VI-D): binary (BWN) and ternary (TWN).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from pkg_shared.errors import UserError

from .options import GRANULARITIES, ROUNDINGS

EPS = torch.finfo(torch.float32).eps
Granularity = Literal["per-tensor", "per-channel", "per-group"]


@dataclass(frozen=True)
class QuantSpec:
    """How one tensor is quantised: bits, sign, range, granularity, rounding.

    ``symmetric`` gives ``z = 0``; ``restricted`` (symmetric only) drops ``-2^(b-1)`` so the grid is
    symmetric about 0. ``group_size`` is the number of consecutive channels sharing a range
    (``per-group``). ``quant_min``/``quant_max`` override the integer range (torch's custom ranges).
    """

    bits: int = 8
    signed: bool = True
    symmetric: bool = True
    restricted: bool = False
    granularity: Granularity = "per-tensor"
    group_size: int = 1
    rounding: str = "nearest"

    def __post_init__(self) -> None:
        if not 1 <= self.bits <= 8:
            raise UserError(f"bit-width must be in 1..8, got {self.bits}")
        if self.granularity not in GRANULARITIES:
            raise UserError(f"granularity must be one of {GRANULARITIES}, got {self.granularity!r}")
        if self.rounding not in ROUNDINGS:
            raise UserError(f"rounding must be one of {ROUNDINGS}, got {self.rounding!r}")
        if self.granularity == "per-group" and self.group_size < 1:
            raise UserError(f"group size must be >= 1, got {self.group_size}")
        if self.restricted and not self.symmetric:
            raise UserError("the restricted range applies to symmetric quantisation only")
        if self.restricted and self.bits < 2:
            raise UserError(
                "a restricted-range quantiser needs >= 2 bits (at 1 bit its grid is the single level 0): "
                "use binary weights (scheme 'binary') for 1 bit"
            )

    @property
    def qrange(self) -> tuple[int, int]:
        """``(q_min, q_max)``: unsigned ``[0, 2^b-1]``, signed ``[-2^(b-1), 2^(b-1)-1]`` (restricted: ``+1``)."""
        if not self.signed:
            return 0, 2**self.bits - 1
        low, high = -(2 ** (self.bits - 1)), 2 ** (self.bits - 1) - 1
        return (low + 1 if self.restricted else low), high

    @property
    def per_channel(self) -> bool:
        return self.granularity != "per-tensor"


def reduce_to_channels(x: Tensor, spec: QuantSpec) -> Tensor:
    """``x`` viewed as ``(units, values)``: one row for per-tensor, one per channel (axis 0) or group."""
    if spec.granularity == "per-tensor":
        return x.reshape(1, -1)
    rows = x.reshape(x.shape[0], -1)
    if spec.granularity == "per-group":
        if x.shape[0] % spec.group_size:
            raise UserError(f"group size {spec.group_size} does not divide the {x.shape[0]} channels")
        rows = rows.reshape(x.shape[0] // spec.group_size, -1)
    return rows


def expand_params(p: Tensor, x: Tensor, spec: QuantSpec) -> Tensor:
    """Broadcast per-unit parameters (one per tensor/channel/group) to the shape of ``x``."""
    if spec.granularity == "per-tensor":
        return p.reshape(()).to(x.dtype) if p.is_floating_point() else p.reshape(())
    if spec.granularity == "per-group":
        p = p.repeat_interleave(spec.group_size)
    return p.reshape(-1, *([1] * (x.dim() - 1)))


def compute_qparams(min_val: Tensor, max_val: Tensor, spec: QuantSpec) -> tuple[Tensor, Tensor]:
    """``(scale, zero_point)`` from a range ``[alpha, beta]`` (one entry per unit), torch's rules.

    The range is first widened to include 0. Symmetric: ``S = max(|alpha|, |beta|) / ((q_max - q_min)/2)``
    (full range: ``2 max / (2^b - 1)``; restricted: ``max / (2^(b-1) - 1)``), ``z = 0`` (or the midpoint
    for an unsigned symmetric grid). Asymmetric: ``S = (beta - alpha) / (q_max - q_min)``,
    ``z = clamp(q_min - round(alpha / S), q_min, q_max)``. ``S >= eps`` handles constant tensors.
    """
    qmin, qmax = spec.qrange
    min_neg = torch.minimum(min_val.float(), torch.zeros_like(min_val, dtype=torch.float32))
    max_pos = torch.maximum(max_val.float(), torch.zeros_like(max_val, dtype=torch.float32))
    eps = torch.tensor(EPS, device=min_neg.device)
    if spec.symmetric:
        scale = torch.maximum(torch.maximum(-min_neg, max_pos) / (float(qmax - qmin) / 2), eps)
        zero = torch.full_like(scale, 0 if spec.signed else (qmin + qmax + 1) // 2, dtype=torch.int64)
    else:
        scale = torch.maximum((max_pos - min_neg) / float(qmax - qmin), eps)
        zero = torch.clamp(qmin - torch.round(min_neg / scale).to(torch.int64), qmin, qmax)
    return scale, zero


class _FakeQuantSTE(torch.autograd.Function):
    """Fake quantisation with the clipped straight-through estimator (gradient 1 inside, 0 outside)."""

    @staticmethod
    def forward(ctx, x: Tensor, scale: Tensor, zero: Tensor, qmin: int, qmax: int, stochastic: bool):  # type: ignore[override]
        v = x * (1.0 / scale)
        v = torch.floor(v + torch.rand_like(v)) if stochastic else torch.round(v)
        v = v + zero
        ctx.save_for_backward((v >= qmin) & (v <= qmax))
        return (torch.clamp(v, qmin, qmax) - zero) * scale

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        (mask,) = ctx.saved_tensors
        return grad * mask, None, None, None, None, None


def fake_quantize(x: Tensor, scale: Tensor, zero: Tensor, spec: QuantSpec) -> Tensor:
    """``(clamp(round(x/S) + z, q_min, q_max) - z) * S`` with the clipped STE as gradient.

    ``scale``/``zero`` hold one entry per unit of ``spec``'s granularity. Nearest rounding is bit-exact
    with ``torch.fake_quantize_per_tensor_affine`` / ``torch.fake_quantize_per_channel_affine``.
    """
    qmin, qmax = spec.qrange
    s = expand_params(scale, x, spec)
    z = expand_params(zero, x, spec).to(x.dtype)
    return _FakeQuantSTE.apply(x, s, z, qmin, qmax, spec.rounding == "stochastic")


def quantize(x: Tensor, scale: Tensor, zero: Tensor, spec: QuantSpec) -> Tensor:
    """The integers ``q = clamp(round(x/S) + z, q_min, q_max)`` (int64), nearest rounding."""
    qmin, qmax = spec.qrange
    s, z = expand_params(scale, x, spec), expand_params(zero, x, spec)
    return torch.clamp(torch.round(x * (1.0 / s)) + z, qmin, qmax).to(torch.int64)


def minmax_range(x: Tensor, spec: QuantSpec) -> tuple[Tensor, Tensor]:
    """Per-unit ``(min, max)`` of ``x`` (the min-max calibrator, Sec. III-B)."""
    rows = reduce_to_channels(x.detach(), spec)
    return rows.amin(dim=1), rows.amax(dim=1)


def fake_quantize_minmax(x: Tensor, spec: QuantSpec) -> Tensor:
    """Fake-quantise ``x`` with the range of its own min and max (weights; dynamic activations)."""
    scale, zero = compute_qparams(*minmax_range(x, spec), spec)
    return fake_quantize(x, scale, zero, spec)


# ------------------------------------------------------------------------------------------------- LSQ
def grad_scale(x: Tensor, g: float) -> Tensor:
    """Identity forward, gradient multiplied by ``g`` (LSQ's step-size gradient scale)."""
    return (x - x * g).detach() + x * g


def round_ste(x: Tensor) -> Tensor:
    """``round(x)`` forward, identity backward."""
    return (torch.round(x) - x).detach() + x


def lsq_quantize(x: Tensor, step: Tensor, spec: QuantSpec) -> Tensor:
    """Learned step size quantisation (Esser et al. 2020, Eqs. 1-3): ``x^ = round(clamp(x/s, q_min, q_max)) s``.

    ``step`` is trainable (one per unit); its gradient is scaled by ``g = 1/sqrt(N q_max)`` with ``N``
    the number of values per unit. Symmetric grid (``z = 0``); ``d x^/d s`` is ``-x/s + round(x/s)``
    inside the range and ``q_min`` / ``q_max`` outside.
    """
    qmin, qmax = spec.qrange
    rows = reduce_to_channels(x, spec)
    g = 1.0 / float(rows.shape[1] * max(qmax, 1)) ** 0.5
    s = expand_params(grad_scale(step, g), x, spec)
    return round_ste(torch.clamp(x / s, qmin, qmax)) * s


# -------------------------------------------------------------------------------- binary and ternary
class _SignSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w: Tensor, alpha: Tensor, delta: Tensor):  # type: ignore[override]
        return torch.where(w.abs() > delta, torch.sign(w), torch.zeros_like(w)) * alpha

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        return grad, None, None


def binarize(w: Tensor, spec: QuantSpec) -> Tensor:
    """Binary weights (BWN, Rastegari et al. 2016): ``sign(W) * mean|W|`` per unit, STE backward."""
    alpha = reduce_to_channels(w.detach(), spec).abs().mean(dim=1)
    return _SignSTE.apply(w, expand_params(alpha, w, spec), torch.zeros((), dtype=w.dtype, device=w.device))


def ternarize(w: Tensor, spec: QuantSpec, threshold: float = 0.7) -> Tensor:
    """Ternary weights (TWN, Li et al. 2016): ``Delta = 0.7 mean|W|``; ``alpha`` = mean of ``|W| > Delta``."""
    a = reduce_to_channels(w.detach(), spec).abs()
    delta = threshold * a.mean(dim=1, keepdim=True)
    kept = (a > delta).float()
    alpha = (a * kept).sum(dim=1) / kept.sum(dim=1).clamp_min(1.0)
    return _SignSTE.apply(w, expand_params(alpha, w, spec), expand_params(delta.squeeze(1), w, spec))
