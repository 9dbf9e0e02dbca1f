"""Activation functions sigma(z) with their derivatives, as NumPy (theory) and torch (Monte Carlo).

Registry of the activations the book discusses (Ch. 5): the scale-invariant class (``relu``,
``linear``, ``leaky_relu:<slope>``), the K* = 0 class (``tanh``, ``sin``) and the others (``swish``,
``gelu``, ``sigmoid``, ``softplus``). Scale-invariant activations carry their slopes (a_+, a_-)
(eq. 5.59: sigma(z) = a_+ z for z >= 0, a_- z for z < 0); nothing else is hard-coded: Taylor
coefficients sigma_p = sigma^(p)(0) (the book's convention, factorials included) come from autograd.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy.special import expit, ndtr

from pkg_shared.errors import UserError

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    """sigma and sigma' in NumPy (``fn``, ``grad``) and sigma in torch (``torch_fn``).

    ``slopes`` = (a_+, a_-) for scale-invariant activations, else None.
    """

    name: str
    fn: Callable[[Array], Array]
    grad: Callable[[Array], Array]
    torch_fn: Callable[[torch.Tensor], torch.Tensor]
    slopes: tuple[float, float] | None = None

    @property
    def scale_invariant(self) -> bool:
        return self.slopes is not None

    def taylor(self, order: int = 3) -> list[float]:
        """[sigma_0, sigma_1, ..., sigma_order]: derivatives at z = 0 (float64 autograd)."""
        z = torch.zeros((), dtype=torch.float64, requires_grad=True)
        out, y = [], self.torch_fn(z)
        for _ in range(order + 1):
            out.append(float(y.detach()))
            if not y.requires_grad:
                out.extend([0.0] * (order + 1 - len(out)))
                break
            (y,) = torch.autograd.grad(y, z, create_graph=True)
        return out


def _piecewise_linear(name: str, a_plus: float, a_minus: float) -> Activation:
    def fn(z: Array) -> Array:
        return np.where(z >= 0, a_plus * z, a_minus * z)

    def grad(z: Array) -> Array:
        # sigma'(0) is set to a_- (for ReLU: 0) explicitly; irrelevant for continuous inputs.
        return np.where(z > 0, a_plus, a_minus) * np.ones_like(z)

    def torch_fn(z: torch.Tensor) -> torch.Tensor:
        return torch.where(z >= 0, a_plus * z, a_minus * z)

    return Activation(name, fn, grad, torch_fn, (a_plus, a_minus))


def _swish_grad(z: Array) -> Array:
    s = expit(z)
    return s * (1 + z * (1 - s))


def _gelu_grad(z: Array) -> Array:
    return ndtr(z) + z * np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi)


_SMOOTH: dict[str, Activation] = {
    "tanh": Activation("tanh", np.tanh, lambda z: 1 - np.tanh(z) ** 2, torch.tanh),
    "sin": Activation("sin", np.sin, np.cos, torch.sin),
    "swish": Activation("swish", lambda z: z * expit(z), _swish_grad, F.silu),
    "gelu": Activation("gelu", lambda z: z * ndtr(z), _gelu_grad, F.gelu),
    "sigmoid": Activation("sigmoid", expit, lambda z: expit(z) * (1 - expit(z)), torch.sigmoid),
    "softplus": Activation("softplus", lambda z: np.logaddexp(0.0, z), expit, F.softplus),
}
NAMES = ("relu", "linear", "leaky_relu:<slope>", *_SMOOTH)


def get_activation(spec: str | Activation) -> Activation:
    """``"relu"``, ``"linear"``, ``"leaky_relu:0.1"``, ``"tanh"``, ... -> :class:`Activation`.

    Raises :class:`UserError` naming the valid activations for an unknown name or a malformed slope.
    """
    if isinstance(spec, Activation):
        return spec
    name = spec.strip().lower()
    if name == "relu":
        return _piecewise_linear("relu", 1.0, 0.0)
    if name == "linear":
        return _piecewise_linear("linear", 1.0, 1.0)
    if name.startswith("leaky_relu"):
        _, sep, slope_text = name.partition(":")
        try:
            slope = float(slope_text) if sep else float("nan")
        except ValueError:
            slope = float("nan")
        if not np.isfinite(slope):
            raise UserError(f"malformed activation '{spec}': write leaky_relu:<slope>, e.g. leaky_relu:0.1")
        return _piecewise_linear(f"leaky_relu:{slope:g}", 1.0, slope)
    if name in _SMOOTH:
        return _SMOOTH[name]
    raise UserError(f"unknown activation '{spec}' (valid: {', '.join(NAMES)})")
