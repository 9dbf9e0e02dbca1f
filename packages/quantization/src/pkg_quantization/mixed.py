"""Hessian-aware mixed precision (survey Sec. IV-B "Mixed-precision quantization"; HAWQ-v2 style).

Per-layer sensitivity ``Omega_i(b) = Tr(H_i) / n_i * ||Q_b(W_i) - W_i||^2`` with ``Tr(H_i)`` the Hessian
trace of the loss w.r.t. layer ``i``'s weights, estimated by Hutchinson's method ``E_v[v^T H v]``
(``v`` Rademacher, ``H v`` by double backpropagation). Bits are chosen per layer from a set (e.g.
``{2, 3, 4, 8}``) minimising ``sum_i Omega_i(b_i)`` subject to ``sum_i n_i b_i <= budget`` by an exact
dynamic programme (a multiple-choice knapsack over integer bit costs). Baselines: uniform bits, a
random feasible assignment and the reverse-sensitivity assignment (the DP run with the sensitivity
ranking reversed, so the most sensitive layers get the fewest bits).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import reduce

import numpy as np
import torch
from torch import Tensor, nn

from pkg_shared.errors import UserError

from .quantizer import QuantSpec, fake_quantize_minmax


def hutchinson_trace(
    loss_fn: Callable[[], Tensor], params: Sequence[Tensor], probes: int = 100, seed: int = 0
) -> list[float]:
    """``Tr(H_i)`` for each tensor in ``params``: the mean of ``v^T H_ii v`` over Rademacher probes ``v``.

    Each block is probed on its own (``v`` zero elsewhere), so the estimate of ``Tr(H_ii)`` carries no
    cross-block terms; ``H_ii v`` is one double-backward pass through the gradient w.r.t. block ``i``.
    """
    gen = torch.Generator().manual_seed(seed)
    grads = torch.autograd.grad(loss_fn(), params, create_graph=True)
    traces = []
    for i, (g, p) in enumerate(zip(grads, params, strict=True)):
        total = 0.0
        for k in range(probes):
            v = (torch.randint(0, 2, p.shape, generator=gen) * 2 - 1).to(p)
            last = i == len(params) - 1 and k == probes - 1
            (hv,) = torch.autograd.grad(g, p, grad_outputs=v, retain_graph=not last)
            total += float((v * hv).sum())
        traces.append(total / probes)
    return traces


def layer_traces(
    model: nn.Module, layers: Sequence[str], x: Tensor, y: Tensor, probes: int = 100, seed: int = 0
) -> list[float]:
    """Hessian traces of the cross-entropy on ``(x, y)`` w.r.t. each named layer's weight."""
    model.eval()
    params = [model.get_submodule(n).weight for n in layers]
    return hutchinson_trace(lambda: nn.functional.cross_entropy(model(x), y), params, probes, seed)


def perturbations(
    model: nn.Module, layers: Sequence[str], bits: Sequence[int], spec: QuantSpec
) -> np.ndarray:
    """``||Q_b(W_i) - W_i||^2`` for every layer ``i`` (rows) and bit-width ``b`` (columns)."""
    out = np.zeros((len(layers), len(bits)))
    with torch.no_grad():
        for i, name in enumerate(layers):
            w = model.get_submodule(name).weight
            for j, b in enumerate(bits):
                s = QuantSpec(b, True, True, spec.restricted, spec.granularity, spec.group_size)
                out[i, j] = float((fake_quantize_minmax(w, s) - w).pow(2).sum())
    return out


def allocate_bits(omega: np.ndarray, sizes: Sequence[int], bits: Sequence[int], avg_bits: float) -> list[int]:
    """Exact DP: bits per layer minimising ``sum_i omega[i, b_i]`` with ``sum n_i b_i <= avg_bits sum n_i``.

    ``omega``: (layers, len(bits)). Costs ``n_i b`` are divided by their greatest common divisor, so the
    table has ``budget / gcd`` entries; the DP keeps, for every spent budget, the best cost and the choice.
    """
    if avg_bits < 2:
        raise UserError(f"the average bit budget must be >= 2, got {avg_bits}")
    if avg_bits < min(bits):
        raise UserError(f"a budget of {avg_bits} bits is below the smallest bit-width {min(bits)}")
    avg_bits = min(avg_bits, max(bits))  # a larger budget buys nothing more (and would size the table)
    costs = [[n * b for b in bits] for n in sizes]
    unit = reduce(math.gcd, [c for row in costs for c in row])
    budget = int(math.floor(avg_bits * sum(sizes) + 1e-9)) // unit
    costs_u = np.array(costs) // unit
    inf = np.inf
    best = np.full(budget + 1, inf)
    best[0] = 0.0
    choice = np.zeros((len(sizes), budget + 1), dtype=np.int64)
    for i in range(len(sizes)):
        new = np.full(budget + 1, inf)
        for j, c in enumerate(costs_u[i]):
            if c > budget:
                continue
            shifted = np.full(budget + 1, inf)
            shifted[c:] = best[: budget + 1 - c] + omega[i, j]
            better = shifted < new
            new[better], choice[i, better] = shifted[better], j
        best = new
    if not np.isfinite(best).any():
        raise UserError(f"no assignment of bits {list(bits)} fits {avg_bits} average bits")
    spent = int(np.argmin(best))
    picks = []
    for i in range(len(sizes) - 1, -1, -1):
        j = int(choice[i, spent])
        picks.append(bits[j])
        spent -= int(costs_u[i][j])
    return picks[::-1]


def average_bits(assignment: Sequence[int], sizes: Sequence[int]) -> float:
    """Parameter-weighted average bits ``sum n_i b_i / sum n_i``."""
    return float(np.dot(assignment, sizes) / np.sum(sizes))


def random_assignment(
    sizes: Sequence[int], bits: Sequence[int], avg_bits: float, seed: int = 0, draws: int = 1000
) -> list[int]:
    """A random feasible assignment: one drawn uniformly among the feasible ones of ``draws`` uniform
    draws of per-layer bits; all-minimum bits if none fits."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(np.asarray(bits), size=(draws, len(sizes)))
    avg = picks @ np.asarray(sizes) / np.sum(sizes)
    feasible = np.flatnonzero(avg <= avg_bits + 1e-9)
    if len(feasible) == 0:
        return [min(bits)] * len(sizes)
    return [int(b) for b in picks[rng.choice(feasible)]]


def omega(
    traces: Sequence[float], sizes: Sequence[int], pert: np.ndarray, *, reverse: bool = False
) -> np.ndarray:
    """``Omega_i(b) = Tr(H_i) / n_i * ||Q_b(W_i) - W_i||^2`` (layers x bit-widths; the one place it is computed).

    With ``reverse`` the per-parameter sensitivities ``Tr(H_i)/n_i`` are permuted into reverse rank order
    first (the reverse-sensitivity baseline: the most sensitive layer takes the least sensitive's value).
    """
    sens = np.asarray(traces, dtype=np.float64) / np.asarray(sizes, dtype=np.float64)
    if reverse:
        order = np.argsort(sens)
        flipped = np.empty_like(sens)
        flipped[order] = sens[order[::-1]]
        sens = flipped
    return sens[:, None] * pert


def sensitivity(
    model: nn.Module,
    layers: Sequence[str],
    x: Tensor,
    y: Tensor,
    bits: Sequence[int],
    probes: int,
    seed: int = 0,
) -> tuple[list[float], list[int], np.ndarray]:
    """``(traces, sizes, pert)`` of the named layers: Hutchinson traces on ``(x, y)``, weight counts ``n_i``
    and ``||Q_b(W_i) - W_i||^2`` for each ``b`` in ``bits`` (per-channel, restricted range); feed them to
    :func:`omega`."""
    traces = layer_traces(model, layers, x, y, probes, seed)
    sizes = [model.get_submodule(n).weight.numel() for n in layers]
    pert = perturbations(model, layers, bits, QuantSpec(granularity="per-channel", restricted=True))
    return traces, sizes, pert
