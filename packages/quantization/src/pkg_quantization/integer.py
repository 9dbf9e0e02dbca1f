"""Integer-only inference with dyadic requantisation (survey Sec. III-F, Fig. 6; Jacob et al. 2018; HAWQ-V3).

For a Linear layer with input ``x_q`` (scale ``S_x``, zero point ``z_x``), weights ``W_q`` (``S_w`` per
output channel, ``z_w``) and output grid ``(S_y, z_y)``::

    acc = (W_q - z_w)(x_q - z_x) + b_q               int32 accumulation, b_q = round(b / (S_w S_x))
    y_q = clamp(round(acc * M) + z_y, q_min, q_max)  M = S_w S_x / S_y ~ m / 2^k (a dyadic number)

so inference needs only integer multiply-adds and a bit shift. The survey's energy figure (Horowitz
2014, 45 nm) is kept as cited constants in :data:`ENERGY_PJ`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import Tensor

from pkg_shared.errors import UserError

from .quantizer import QuantSpec, compute_qparams, fake_quantize, fake_quantize_minmax, minmax_range, quantize

#: Energy per operation in pJ, 45 nm (Horowitz, ISSCC 2014), as cited in the survey's Fig. 1/Sec. VII.
ENERGY_PJ = {
    "int8 add": 0.03,
    "int16 add": 0.05,
    "int32 add": 0.1,
    "fp16 add": 0.4,
    "fp32 add": 0.9,
    "int8 mult": 0.2,
    "int32 mult": 3.1,
    "fp16 mult": 1.1,
    "fp32 mult": 3.7,
    "32-bit SRAM read (8 KB)": 5.0,
    "32-bit DRAM read": 640.0,
}


def energy_ratios() -> dict[str, float]:
    """FP32 over INT8 energy for add and multiply (~30x and ~18.5x)."""
    return {
        "add fp32/int8": ENERGY_PJ["fp32 add"] / ENERGY_PJ["int8 add"],
        "mult fp32/int8": ENERGY_PJ["fp32 mult"] / ENERGY_PJ["int8 mult"],
    }


def dyadic(m_real: Tensor, bits: int = 31) -> tuple[Tensor, Tensor]:
    """``(m, k)`` int64 with ``m / 2^k ~ M`` and ``2^(bits-1) <= m < 2^bits`` (so ``m`` fits an int32)."""
    m_real = m_real.double()
    k = (bits - 1) - torch.floor(torch.log2(m_real)).to(torch.int64)
    m = torch.round(m_real * torch.pow(2.0, k.double())).to(torch.int64)
    overflow = m >= 2**bits
    return torch.where(overflow, m // 2, m), torch.where(overflow, k - 1, k)


@dataclass
class IntegerLinear:
    """A Linear layer executed with integers only (see the module docstring)."""

    w_q: Tensor  # (out, in) int64
    z_w: Tensor  # (out,)
    b_q: Tensor  # (out,) int64, scale S_w S_x
    s_x: Tensor
    z_x: Tensor
    x_spec: QuantSpec
    m: Tensor  # (out,) dyadic multiplier numerators
    k: Tensor  # (out,) shifts
    z_y: Tensor
    y_spec: QuantSpec

    @classmethod
    def build(
        cls,
        weight: Tensor,
        bias: Tensor,
        w_spec: QuantSpec,
        s_x: Tensor,
        z_x: Tensor,
        x_spec: QuantSpec,
        s_y: Tensor,
        z_y: Tensor,
        y_spec: QuantSpec,
    ) -> IntegerLinear:
        """Quantise ``weight`` (min-max, per ``w_spec``) and ``bias``; precompute the dyadic multipliers."""
        if w_spec.granularity == "per-group":
            raise UserError("the integer-only Linear takes per-tensor or per-channel weights")
        s_w, z_w = compute_qparams(*minmax_range(weight, w_spec), w_spec)
        s_w = s_w.expand(weight.shape[0]) if not w_spec.per_channel else s_w
        z_w = z_w.expand(weight.shape[0]) if not w_spec.per_channel else z_w
        w_q = quantize(weight, s_w, z_w, replace(w_spec, granularity="per-channel"))
        s_acc = s_w.double() * s_x.double()
        b_q = torch.round(bias.double() / s_acc).to(torch.int64)
        m, k = dyadic(s_acc / s_y.double())
        return cls(w_q, z_w, b_q, s_x, z_x, x_spec, m, k, z_y, y_spec)

    def __call__(self, x: Tensor) -> Tensor:
        """Output integers ``y_q`` for float input ``x`` (quantised on entry with ``(S_x, z_x)``)."""
        x_q = quantize(x, self.s_x, self.z_x, self.x_spec)
        acc = (x_q - self.z_x) @ (self.w_q - self.z_w[:, None]).T + self.b_q
        if acc.abs().max() >= 2**31:
            raise OverflowError("int32 accumulator overflow")
        acc = acc.to(torch.int32).to(torch.int64)
        y = (acc * self.m + (1 << (self.k - 1))) >> self.k
        qmin, qmax = self.y_spec.qrange
        return torch.clamp(y + self.z_y, qmin, qmax)


def fake_linear_output(
    x: Tensor,
    weight: Tensor,
    bias: Tensor,
    w_spec: QuantSpec,
    s_x: Tensor,
    z_x: Tensor,
    x_spec: QuantSpec,
    s_y: Tensor,
    z_y: Tensor,
    y_spec: QuantSpec,
) -> Tensor:
    """The simulated counterpart: ``quantize(F.linear(x~, W~, b), S_y, z_y)`` (integers)."""
    x_fq = fake_quantize(x, s_x, z_x, x_spec)
    y = F.linear(x_fq, fake_quantize_minmax(weight, w_spec), bias)
    return quantize(y, s_y, z_y, y_spec)
