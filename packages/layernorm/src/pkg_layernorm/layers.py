"""Layer normalisation and the feed-forward layers it is compared with (Ba, Kiros & Hinton 2016).

Notation of the paper (Section 3): a layer with H hidden units has summed inputs
``a = W h`` (no bias: the bias moves into the normaliser). Layer normalisation takes its
statistics over the H units of one training case,

    mu = (1/H) sum_i a_i,    sigma = sqrt((1/H) sum_i (a_i - mu)^2 + eps)        (eq. 3)

and outputs ``g / sigma * (a - mu) + b`` with a per-unit gain g and bias b (eq. 4, before the
non-linearity f). The same formula is used at training and test time; there are no running
statistics. ``eps`` (1e-5, torch's default; the paper states none) sits inside the square root.

Batch normalisation (eq. 2) and weight normalisation (Salimans & Kingma 2016) are implemented
here only as baselines: the MLP of the permutation-invariant MNIST experiment (Section 6.6,
Fig. 6) and the columns of the invariance table (Table 1, Section 5.1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import weight_norm

from pkg_shared.errors import UserError

from .config import NORMS

__all__ = [
    "BatchNormLinear",
    "LNLinear",
    "LayerNorm",
    "MLP",
    "NORMS",
    "WeightNormLinear",
    "layer_norm",
]


def layer_norm(
    x: Tensor, gain: Tensor | None = None, bias: Tensor | None = None, eps: float = 1e-5
) -> Tensor:
    """Layer-normalise ``x`` over its last dimension (the H hidden units), eqs. (3)-(4).

    ``(x - mu) / sqrt(var + eps) * gain + bias`` with ``mu`` and the biased variance ``var``
    (divide by H) taken per training case (and per time step) over the last dimension only,
    never over the batch or time. ``gain`` and ``bias`` are vectors of size H (omitted: 1 and 0).
    """
    mu = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, unbiased=False, keepdim=True)
    y = (x - mu) * torch.rsqrt(var + eps)
    if gain is not None:
        y = y * gain
    if bias is not None:
        y = y + bias
    return y


class LayerNorm(nn.Module):
    """Layer normalisation of H summed inputs with learned gain g (init 1) and bias b (init 0), eq. (4).

    ``elementwise_affine=False`` drops g and b (the bare normalisation of eq. 3). ``impl="fused"``
    (default) computes eqs. (3)-(4) with torch's single fused kernel ``F.layer_norm``, several times
    faster than the op-by-op formula; ``impl="explicit"`` runs :func:`layer_norm`, the formula as written.
    The tests check that both agree, forward and backward, in float64.
    """

    def __init__(
        self, hidden_size: int, eps: float = 1e-5, elementwise_affine: bool = True, impl: str = "fused"
    ) -> None:
        super().__init__()
        if impl not in ("fused", "explicit"):
            raise UserError(f"unknown impl {impl!r}; expected 'fused' or 'explicit'")
        self.hidden_size = hidden_size
        self.eps = eps
        self.impl = impl
        if elementwise_affine:
            self.gain = nn.Parameter(torch.ones(hidden_size))
            self.bias = nn.Parameter(torch.zeros(hidden_size))
        else:
            self.register_parameter("gain", None)
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        """Normalise the last dimension of ``x`` (shape ``(..., H)``)."""
        if self.impl == "fused":
            return F.layer_norm(x, (self.hidden_size,), self.gain, self.bias, self.eps)
        return layer_norm(x, self.gain, self.bias, self.eps)

    def extra_repr(self) -> str:
        affine = self.gain is not None
        return f"{self.hidden_size}, eps={self.eps}, elementwise_affine={affine}, impl={self.impl!r}"


class LNLinear(nn.Module):
    """Normalised summed inputs of one layer: ``LN(W h; g, b)``, eqs. (3)-(4).

    The linear map has no bias of its own; the LN bias b takes its place.
    """

    def __init__(self, in_features: int, out_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, bias=False)
        self.norm = LayerNorm(out_features, eps=eps)

    def forward(self, x: Tensor) -> Tensor:
        """``LN(x W^T)`` for ``x`` of shape ``(..., in_features)``."""
        return self.norm(self.linear(x))


class BatchNormLinear(nn.Module):
    """Batch-normalised summed inputs ``BN(W h)`` (baseline, eq. 2); the BN bias replaces the linear one.

    Statistics are taken over the mini-batch in ``train()`` mode and running averages in ``eval()``.
    Input shape ``(B, in_features)``.
    """

    def __init__(self, in_features: int, out_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, bias=False)
        self.norm = nn.BatchNorm1d(out_features, eps=eps)

    def forward(self, x: Tensor) -> Tensor:
        """``BN(x W^T)`` for ``x`` of shape ``(B, in_features)``."""
        return self.norm(self.linear(x))


class WeightNormLinear(nn.Module):
    """Weight-normalised linear layer ``y_i = g_i / ||v_i|| * v_i^T x + b_i`` (Section 5.1, Table 1).

    Built on ``torch.nn.utils.parametrizations.weight_norm`` with one norm per output row
    (``dim=0``). The direction matrix V (the "weight matrix" that Table 1's transformations act on)
    is ``self.direction``; the gains g are ``self.magnitude``.
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.linear = weight_norm(nn.Linear(in_features, out_features), dim=0)

    @property
    def magnitude(self) -> nn.Parameter:
        """The per-row gains g, shape ``(out_features, 1)``."""
        return self.linear.parametrizations.weight.original0

    @property
    def direction(self) -> nn.Parameter:
        """The unnormalised weight matrix V, shape ``(out_features, in_features)``."""
        return self.linear.parametrizations.weight.original1

    def forward(self, x: Tensor) -> Tensor:
        """``x (g / ||V||_row * V)^T + b``."""
        return self.linear(x)


# Hidden layer of the MLP for each normaliser: summed inputs of one layer, before the non-linearity.
_HIDDEN_LAYERS: dict[str, Callable[[int, int], nn.Module]] = {
    "none": nn.Linear,
    "bn": BatchNormLinear,
    "ln": LNLinear,
}


class MLP(nn.Sequential):
    """Permutation-invariant MNIST network of Section 6.6 (Fig. 6), e.g. ``sizes=(784, 1000, 1000, 10)``.

    Every hidden layer computes ``f(N(W h))`` where N normalises the summed inputs before the
    non-linearity f: ``"none"`` (plain ``Linear`` with bias), ``"bn"`` (batch norm, eq. 2) or
    ``"ln"`` (layer norm, eqs. 3-4). The output layer is a plain ``Linear`` with bias giving logits.
    """

    def __init__(self, sizes: Sequence[int], norm: str = "ln", activation: type[nn.Module] = nn.ReLU) -> None:
        if norm not in NORMS:
            raise UserError(f"unknown norm {norm!r}; expected one of {', '.join(NORMS)}")
        if len(sizes) < 2:
            raise UserError(f"sizes needs at least an input and an output size, got {list(sizes)}")
        layers: list[nn.Module] = []
        for n_in, n_out in zip(sizes[:-2], sizes[1:-1]):
            layers += [_HIDDEN_LAYERS[norm](n_in, n_out), activation()]
        layers.append(nn.Linear(sizes[-2], sizes[-1]))
        super().__init__(*layers)
