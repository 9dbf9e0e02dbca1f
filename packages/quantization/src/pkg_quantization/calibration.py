"""Range calibration (survey Sec. III-B and III-C): choose the clipping range ``[alpha, beta]``.

Every calibrator maps calibration values to one ``(alpha, beta)`` per unit of the spec's granularity:

* ``minmax``: the observed min and max;
* ``moving-average``: min and max of each batch averaged with momentum 0.01 (torch's
  ``MovingAverageMinMaxObserver``): ``m <- m + 0.01 (m_batch - m)``, the first batch initialising;
* ``percentile``: the ``p``-th and ``(100 - p)``-th percentiles (both tails; default 99.99);
* ``mse``: ``argmin_c E||x - Q_c(x)||^2`` over the scaled ranges ``c [alpha, beta]``,
  ``c`` in ``linspace(0.3, 1.0, 100)``;
* ``kl``: TensorRT's entropy calibration: a 2048-bin histogram of ``|x|``; for every threshold bin
  ``i`` in ``[128, 2048)`` the reference ``P`` (the tail mass folded into bin ``i - 1``) is merged into
  ``2^(b-1)`` levels (``2^b`` for an unsigned grid) and expanded back to ``Q`` over the non-empty
  bins (see :func:`kl_threshold`); the ``i`` minimising ``KL(P || Q)`` gives ``beta = (i + 0.5) * bin width`` and ``alpha = -beta`` (or 0 when ``x >= 0``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace

import torch
from torch import Tensor

from pkg_shared.errors import UserError

from .options import CALIBRATORS
from .quantizer import QuantSpec, compute_qparams, fake_quantize, reduce_to_channels

MOMENTUM = 0.01
KL_BINS, KL_START = 2048, 128


def check_percentile(p: float) -> float:
    if not 0.0 < p <= 100.0:
        raise UserError(f"percentile must be in (0, 100], got {p}")
    return p


def percentile_range(x: Tensor, spec: QuantSpec, p: float = 99.99) -> tuple[Tensor, Tensor]:
    """The ``(100 - p)``-th and ``p``-th percentiles per unit (nearest rank, via ``kthvalue``)."""
    rows = reduce_to_channels(x.detach().float(), spec)
    n = rows.shape[1]
    hi = max(1, min(n, math.ceil(check_percentile(p) / 100.0 * n)))
    lo = max(1, min(n, n + 1 - hi))
    return rows.kthvalue(lo, dim=1).values, rows.kthvalue(hi, dim=1).values


def mse_range(x: Tensor, spec: QuantSpec, grid: int = 100, low: float = 0.3) -> tuple[Tensor, Tensor]:
    """The scaled range ``c [min, max]`` minimising the per-unit squared quantisation error."""
    rows = reduce_to_channels(x.detach().float(), spec)
    unit = replace(spec, granularity="per-channel" if rows.shape[0] > 1 else "per-tensor")
    lo0, hi0 = rows.amin(dim=1), rows.amax(dim=1)
    best_err = torch.full_like(lo0, float("inf"))
    best_lo, best_hi = lo0.clone(), hi0.clone()
    for c in torch.linspace(low, 1.0, grid).tolist():
        scale, zero = compute_qparams(lo0 * c, hi0 * c, unit)
        err = (fake_quantize(rows, scale, zero, unit) - rows).pow(2).mean(dim=1)
        better = err < best_err
        best_err = torch.where(better, err, best_err)
        best_lo, best_hi = torch.where(better, lo0 * c, best_lo), torch.where(better, hi0 * c, best_hi)
    return best_lo, best_hi


def kl_threshold(values: Tensor, levels: int, bins: int = KL_BINS, start: int = KL_START) -> Tensor:
    """TensorRT's entropy-calibration threshold on ``|values|``, every candidate threshold at once.

    For threshold bin ``i``: ``P`` = histogram bins ``[0, i)`` with the tail mass added to bin ``i - 1``;
    ``Q`` = the *unclipped* bins ``[0, i)`` merged into ``levels`` chunks (``floor(j levels / i)``) and
    spread uniformly over each chunk's non-empty bins. As in TensorRT, ``Q`` is built without the tail
    mass (building it from ``P`` would make ``Q == P`` at ``i = levels`` and always pick that threshold).
    """
    a = values.detach().abs().flatten().float()
    top = a.max()
    if top <= 0:
        return top
    hist = torch.histc(a, bins=bins, min=0.0, max=float(top)).double()
    start = max(start, levels)
    cand = torch.arange(start, bins, device=hist.device)  # threshold bin i: keep bins [0, i)
    j = torch.arange(bins, device=hist.device)
    inside = j[None, :] < cand[:, None]
    sliced = torch.where(inside, hist[None, :], 0.0)
    p = sliced.clone()
    p[torch.arange(len(cand)), cand - 1] += hist.flip(0).cumsum(0).flip(0)[cand]  # tail mass
    chunk = torch.clamp(j[None, :] * levels // cand[:, None], max=levels - 1)
    chunk = torch.where(inside, chunk, levels)  # bins beyond i go to a dummy chunk
    nonzero = (sliced > 0).double()
    mass = torch.zeros(len(cand), levels + 1, dtype=p.dtype, device=p.device).scatter_add_(1, chunk, sliced)
    count = torch.zeros_like(mass).scatter_add_(1, chunk, nonzero)
    q = torch.where(sliced > 0, mass.gather(1, chunk) / count.gather(1, chunk).clamp_min(1.0), 0.0)
    p = p / p.sum(dim=1, keepdim=True)
    q = q / q.sum(dim=1, keepdim=True).clamp_min(1e-300)
    # P > 0 where Q == 0 (only bin i-1 can be so) is smoothed as TensorRT does, with a tiny Q
    kl = torch.where(p > 0, p * torch.log(p / q.clamp_min(1e-12)), 0.0).sum(dim=1)
    best = int(cand[kl.argmin()])
    return (best + 0.5) * top / bins


def kl_range(x: Tensor, spec: QuantSpec) -> tuple[Tensor, Tensor]:
    """KL threshold per unit; ``alpha = 0`` for a non-negative unit (post-ReLU).

    ``Q`` has as many levels as the quantiser has over ``[0, beta]``: ``2^(b-1)`` for a signed or
    symmetric grid (TensorRT's 128 at 8 bits), ``2^b`` for an unsigned one.
    """
    rows = reduce_to_channels(x.detach().float(), spec)
    levels = 2 ** (spec.bits - 1) if spec.signed or spec.symmetric else 2**spec.bits
    beta = torch.stack([kl_threshold(r, levels) for r in rows])
    alpha = torch.where(rows.amin(dim=1) < 0, -beta, torch.zeros_like(beta))
    return alpha, beta


def calibrate_range(
    batches: Iterable[Tensor] | Tensor, spec: QuantSpec, method: str = "minmax", percentile: float = 99.99
) -> tuple[Tensor, Tensor]:
    """``(alpha, beta)`` per unit from calibration values (a tensor or a sequence of batches)."""
    if method not in CALIBRATORS:
        raise UserError(f"calibrator must be one of {CALIBRATORS}, got {method!r}")
    chunks = [batches] if isinstance(batches, Tensor) else list(batches)
    if method == "moving-average":
        lo = hi = None
        for b in chunks:
            rows = reduce_to_channels(b.detach().float(), spec)
            b_lo, b_hi = rows.amin(dim=1), rows.amax(dim=1)
            lo = b_lo if lo is None else lo + MOMENTUM * (b_lo - lo)
            hi = b_hi if hi is None else hi + MOMENTUM * (b_hi - hi)
        return lo, hi
    if spec.per_channel and len(chunks) > 1:
        raise UserError("per-channel calibration takes one tensor (channels on axis 0), not batches")
    x = chunks[0] if len(chunks) == 1 else torch.cat([c.flatten() for c in chunks])
    if method == "minmax":
        rows = reduce_to_channels(x.detach().float(), spec)
        return rows.amin(dim=1), rows.amax(dim=1)
    if method == "percentile":
        return percentile_range(x, spec, percentile)
    if method == "mse":
        return mse_range(x, spec)
    return kl_range(x, spec)


def calibrated_qparams(
    batches: Iterable[Tensor] | Tensor, spec: QuantSpec, method: str = "minmax", percentile: float = 99.99
) -> tuple[Tensor, Tensor]:
    """``(scale, zero_point)`` of ``spec`` for the range the calibrator chose."""
    return compute_qparams(*calibrate_range(batches, spec, method, percentile), spec)
