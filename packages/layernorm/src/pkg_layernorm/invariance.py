"""Invariance properties of the normalisation methods, measured (Ba, Kiros & Hinton 2016, Section 5.1, Table 1).

Each normaliser is a layer computing normalised summed inputs ``N(W x)`` of H units from D inputs:
batch normalisation (``BatchNormLinear`` in ``train()`` mode, statistics over a batch of 64),
weight normalisation (``WeightNormLinear``, W being its direction matrix V) and layer
normalisation (``LNLinear``). Their gains and biases are set at random. A transformation of the
weight matrix W or of the data X is "invariant" for a normaliser when the layer's output does not
change; the claims are about the normalised summed inputs, so the output is taken right there,
before any non-linearity (spec Pitfalls).

The deviation reported is relative to the output's scale, ``max |y(T) - y| / max |y|`` over the
rows compared (every row, or the re-scaled case for single training-case re-scaling), and a cell
reads "invariant" when it is below ``tol``. The layers keep their ``eps = 1e-5`` inside the square
root, which breaks exact invariance by O(eps / var(a)); with unit-variance W and X the summed inputs
have a variance of order D = 32, so that error stays near 1e-7, far below tol, while a broken invariance
moves the output by O(1).

Section 5.2 (geometry): under LN, scaling W by d leaves the output unchanged and so divides
dL/dW by d, an implicit learning-rate decay as the weights grow; :func:`gradient_scaling` measures it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.func import functional_call

from pkg_layernorm.layers import BatchNormLinear, LNLinear, WeightNormLinear
from pkg_shared.errors import UserError

__all__ = [
    "NORMALISERS",
    "PAPER_TABLE",
    "TRANSFORMATIONS",
    "gradient_scaling",
    "invariance_table",
    "matches_paper",
]

# Table 1 of the paper: transformation -> normaliser -> invariant?
PAPER_TABLE: dict[str, dict[str, bool]] = {
    "weight matrix re-scaling": {"batch": True, "weight": True, "layer": True},
    "weight matrix re-centering": {"batch": False, "weight": False, "layer": True},
    "weight vector re-scaling": {"batch": True, "weight": True, "layer": False},
    "dataset re-scaling": {"batch": True, "weight": False, "layer": True},
    "dataset re-centering": {"batch": True, "weight": False, "layer": False},
    "single training case re-scaling": {"batch": False, "weight": False, "layer": True},
}
TRANSFORMATIONS = tuple(PAPER_TABLE)
NORMALISERS = ("batch", "weight", "layer")

BATCH, IN_FEATURES, HIDDEN = 64, 32, 16
SCALE = 2.5  # the scalar d > 0 of the re-scalings

# normaliser -> (layer factory, name of the weight matrix W that the transformations act on)
_LAYERS: dict[str, tuple[Callable[[int, int], nn.Module], str]] = {
    "batch": (BatchNormLinear, "linear.weight"),
    "weight": (WeightNormLinear, "linear.parametrizations.weight.original1"),
    "layer": (LNLinear, "linear.weight"),
}

# A transformation maps (W, X, generator) to (W', X', rows of the output to compare).
Transformation = Callable[[Tensor, Tensor, torch.Generator], tuple[Tensor, Tensor, slice]]
_ALL_ROWS = slice(None)


def _randn(shape: tuple[int, ...], like: Tensor, gen: torch.Generator) -> Tensor:
    return torch.randn(shape, generator=gen, dtype=like.dtype)


def _weight_matrix_rescaling(w: Tensor, x: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor, slice]:
    """W -> d W."""
    return SCALE * w, x, _ALL_ROWS


def _weight_matrix_recentering(w: Tensor, x: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor, slice]:
    """W -> W + 1 gamma^T: every unit's summed input shifts by the same gamma^T x_n."""
    return w + _randn((1, w.shape[1]), w, gen), x, _ALL_ROWS


def _weight_vector_rescaling(w: Tensor, x: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor, slice]:
    """w_i -> d_i w_i with a different d_i in [0.5, 3] for every row i."""
    d = 0.5 + 2.5 * torch.rand((w.shape[0], 1), generator=gen, dtype=w.dtype)
    return d * w, x, _ALL_ROWS


def _dataset_rescaling(w: Tensor, x: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor, slice]:
    """x_n -> d x_n for every training case n."""
    return w, SCALE * x, _ALL_ROWS


def _dataset_recentering(w: Tensor, x: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor, slice]:
    """x_n -> x_n + gamma for every training case n."""
    return w, x + _randn((1, x.shape[1]), x, gen), _ALL_ROWS


def _single_case_rescaling(w: Tensor, x: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor, slice]:
    """x_n -> d x_n for one training case n only; only row n of the output is compared."""
    n = int(torch.randint(x.shape[0], (1,), generator=gen))
    scale = torch.ones((x.shape[0], 1), dtype=x.dtype)
    scale[n] = SCALE
    return w, scale * x, slice(n, n + 1)


_TRANSFORMS: dict[str, Transformation] = {
    "weight matrix re-scaling": _weight_matrix_rescaling,
    "weight matrix re-centering": _weight_matrix_recentering,
    "weight vector re-scaling": _weight_vector_rescaling,
    "dataset re-scaling": _dataset_rescaling,
    "dataset re-centering": _dataset_recentering,
    "single training case re-scaling": _single_case_rescaling,
}


def _random_layer(normaliser: str, gen: torch.Generator, dtype: torch.dtype) -> tuple[nn.Module, str]:
    """The normaliser's layer in train mode with every parameter (gains and biases too) drawn N(0, 1)."""
    factory, weight_name = _LAYERS[normaliser]
    layer = factory(IN_FEATURES, HIDDEN).to(dtype).train()
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=dtype))
    return layer, weight_name


def invariance_table(
    seed: int = 0, dtype: torch.dtype = torch.float64, tol: float = 1e-5
) -> dict[str, dict[str, dict]]:
    """Measure Table 1 (Section 5.1): for every transformation and normaliser, does the output change?

    Returns ``{transformation: {normaliser: {"deviation": float, "invariant": bool}}}`` with the
    keys of :data:`PAPER_TABLE`; ``deviation`` is ``max |y(T) - y| / max |y|`` and ``invariant``
    is ``deviation < tol``. W and X (a batch of 64 cases) are drawn N(0, 1) from ``seed``.
    """
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn((HIDDEN, IN_FEATURES), generator=gen, dtype=dtype)
    x = torch.randn((BATCH, IN_FEATURES), generator=gen, dtype=dtype)
    layers = {name: _random_layer(name, gen, dtype) for name in NORMALISERS}
    table: dict[str, dict[str, dict]] = {}
    with torch.no_grad():
        for transformation, transform in _TRANSFORMS.items():
            w_t, x_t, rows = transform(w, x, gen)
            table[transformation] = {}
            for name, (layer, weight_name) in layers.items():
                y = functional_call(layer, {weight_name: w}, (x,))[rows]
                y_t = functional_call(layer, {weight_name: w_t}, (x_t,))[rows]
                deviation = float((y_t - y).abs().max() / y.abs().max())
                table[transformation][name] = {"deviation": deviation, "invariant": deviation < tol}
    return table


def matches_paper(table: dict[str, dict[str, dict]]) -> bool:
    """True when all 18 yes/no cells of a measured ``table`` equal the paper's Table 1."""
    return all(
        table[transformation][name]["invariant"] == PAPER_TABLE[transformation][name]
        for transformation in TRANSFORMATIONS
        for name in NORMALISERS
    )


def gradient_scaling(d: float, seed: int = 0, eps: float = 1e-5) -> dict[str, float]:
    """Section 5.2: scaling W by ``d`` leaves LN's output unchanged and divides dL/dW by ``d``.

    For an ``LNLinear`` layer (float64, random gain and bias) and a squared-error loss against a
    random target, returns ``output_deviation = max |y(dW) - y(W)| / max |y(W)|``, ``gradient_ratio =
    ||dL/dW (dW)|| / ||dL/dW (W)||`` (expected ``1/d``) and ``gradient_deviation =
    max |d * dL/dW (dW) - dL/dW (W)| / max |dL/dW (W)|`` (expected 0). The layer's ``eps`` inside
    the square root bends the ratio by about ``eps / (2 var(a)) * |1 - 1/d^2|`` (var(a) is near 14
    here: 1.1e-6 at d = 0.5, 2.8e-7 at d = 2, 3.6e-7 at d = 10 with the default eps = 1e-5);
    ``eps=0`` is the paper's exact eq. (3) and leaves only float64 round-off.
    """
    if d <= 0:
        raise UserError(f"d must be positive, got {d}")
    gen = torch.Generator().manual_seed(seed)
    layer, weight_name = _random_layer("layer", gen, torch.float64)
    layer.norm.eps = eps
    x = torch.randn((BATCH, IN_FEATURES), generator=gen, dtype=torch.float64)
    target = torch.randn((BATCH, HIDDEN), generator=gen, dtype=torch.float64)
    w = torch.randn((HIDDEN, IN_FEATURES), generator=gen, dtype=torch.float64)

    def output_and_grad(weight: Tensor) -> tuple[Tensor, Tensor]:
        weight = weight.detach().requires_grad_(True)
        y = functional_call(layer, {weight_name: weight}, (x,))
        (grad,) = torch.autograd.grad(0.5 * (y - target).pow(2).sum(), weight)
        return y.detach(), grad

    y, grad = output_and_grad(w)
    y_d, grad_d = output_and_grad(d * w)
    return {
        "output_deviation": float((y_d - y).abs().max() / y.abs().max()),
        "gradient_ratio": float(grad_d.norm() / grad.norm()),
        "gradient_deviation": float((d * grad_d - grad).abs().max() / grad.abs().max()),
    }
