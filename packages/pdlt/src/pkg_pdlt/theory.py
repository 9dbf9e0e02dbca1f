"""The infinite-width recursions and their leading 1/n corrections (book Ch. 4-5, 8-9).

Conventions (book eq. 2.x): z^(1) = b^(1) + W^(1) x, z^(l+1) = b^(l+1) + W^(l+1) sigma(z^(l)),
W ~ N(0, C_W / n_{l-1}), b ~ N(0, C_b). Layers are numbered l = 1..L; arrays index layer l at l - 1.

- kernel: K^(1) = C_b + C_W |x|^2 / n_0, K^(l+1) = C_b + C_W <sigma^2>_{K^(l)}          (eq. 4.118)
- susceptibilities: chi_par(K) = C_W / (2K^2) <sigma^2 (z^2 - K)>_K,
  chi_perp(K) = C_W <sigma'^2>_K                                                            (eq. 5.50-5.51)
- four-point vertex: V^(1) = 0, V^(l+1) = (n_l / n_{l-1}) chi_par^2 V^(l)
  + C_W^2 (<sigma^4> - <sigma^2>^2); E[z^4] - 3E[z^2]^2 = 3 V^(l) / n_{l-1}                  (eq. 4.119)
- NTK mean: Theta^(1) = lambda_b + lambda_W |x|^2 / n_0,
  Theta^(l+1) = lambda_b + lambda_W <sigma^2>_{K^(l)} + chi_perp(K^(l)) Theta^(l)           (eq. 9.5)
- multi-input versions with bivariate expectations (eq. 4.118 with a, b indices; Sec. 5.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pkg_shared.errors import UserError

from .activations import Activation, get_activation
from .gaussian import NODES_1D, expect, expect2

Array = np.ndarray


def check_hyperparameters(C_b: float, C_W: float, K1: float | None = None, depth: int | None = None) -> None:
    """Raise :class:`UserError` for C_W <= 0, C_b < 0, K^(1) <= 0 or depth < 1."""
    if not np.isfinite(C_W) or C_W <= 0:
        raise UserError(f"C_W must be > 0, got {C_W}")
    if not np.isfinite(C_b) or C_b < 0:
        raise UserError(f"C_b must be >= 0, got {C_b}")
    if K1 is not None and (not np.isfinite(K1) or K1 <= 0):
        raise UserError(f"K^(1) must be > 0, got {K1}")
    if depth is not None and depth < 1:
        raise UserError(f"depth must be >= 1, got {depth}")


def input_norm(C_b: float, C_W: float, K1: float) -> float:
    """|x|^2 / n_0 of an input whose first-layer kernel is K1 = C_b + C_W |x|^2 / n_0."""
    g = (K1 - C_b) / C_W
    if g <= 0:
        raise UserError(f"K^(1) = {K1} must exceed C_b = {C_b} (K^(1) = C_b + C_W |x|^2/n_0)")
    return g


def sigma2(act: Activation, K: float | Array) -> Array:
    """<sigma(z)^2>_K."""
    return expect(lambda z: act.fn(z) ** 2, K)


def chi_parallel(act: Activation, K: float | Array, C_W: float) -> Array:
    """chi_par(K) = C_W/(2K^2) <sigma^2 (z^2 - K)>_K = d/dK [C_b + C_W <sigma^2>_K] (eq. 5.50).

    Written with z = sqrt(K) x as C_W/(2K) <sigma(sqrt(K) x)^2 (x^2 - 1)>, which is stable as K -> 0.
    """
    K = np.asarray(K, dtype=float)
    moment = expect(lambda z: act.fn(z) ** 2 * (z**2 / K[..., None] - 1.0), K)
    return C_W * moment / (2.0 * K)


def chi_perp(act: Activation, K: float | Array, C_W: float) -> Array:
    """chi_perp(K) = C_W <sigma'(z)^2>_K (eq. 5.51)."""
    return C_W * expect(lambda z: act.grad(z) ** 2, K)


def kernel_recursion(act: Activation | str, C_b: float, C_W: float, K1: float, depth: int) -> Array:
    """K^(l) for l = 1..depth, single input (eq. 4.118)."""
    act = get_activation(act)
    check_hyperparameters(C_b, C_W, K1, depth)
    K = np.empty(depth)
    K[0] = K1
    for layer in range(1, depth):
        K[layer] = C_b + C_W * sigma2(act, K[layer - 1])
    return K


def vertex_recursion(
    act: Activation | str, C_b: float, C_W: float, K1: float, depth: int, widths: Sequence[int] | None = None
) -> tuple[Array, Array]:
    """(K, V): the kernel and the four-point vertex V^(l), l = 1..depth (eq. 4.119).

    ``widths`` = (n_1, ..., n_{depth-1}) for unequal hidden widths (the first term then carries
    n_l / n_{l-1}); None means equal widths.
    """
    act = get_activation(act)
    K = kernel_recursion(act, C_b, C_W, K1, depth)
    ratio = np.ones(depth)
    if widths is not None:
        n = np.asarray(widths, dtype=float)
        if len(n) != depth - 1 or np.any(n < 1):
            raise UserError(f"widths must list {depth - 1} hidden widths >= 1")
        ratio[2:] = n[1:] / n[:-1]
    chi = chi_parallel(act, K, C_W)
    source = C_W**2 * (expect(lambda z: act.fn(z) ** 4, K) - sigma2(act, K) ** 2)
    V = np.zeros(depth)
    for layer in range(1, depth):
        V[layer] = ratio[layer] * chi[layer - 1] ** 2 * V[layer - 1] + source[layer - 1]
    return K, V


def kurtosis_1n(K: Array, V: Array, widths: int | Sequence[int]) -> Array:
    """Leading-order excess kurtosis kappa^(l) = E[z^4]/(3E[z^2]^2) - 1 = V^(l) / (n_{l-1} (K^(l))^2)."""
    n_prev = np.concatenate([[np.inf], np.broadcast_to(np.asarray(widths, float), (len(K) - 1,))])
    return V / (n_prev * K**2)


def scale_invariant_moments(act: Activation) -> tuple[float, float, float]:
    """(A_2, A_4, nu) with A_p = (a_+^p + a_-^p)/2 and nu = 3 A_4 / A_2^2 - 1 (Sec. 5.2)."""
    if act.slopes is None:
        raise UserError(f"{act.name} is not scale-invariant")
    a_plus, a_minus = act.slopes
    A2, A4 = (a_plus**2 + a_minus**2) / 2, (a_plus**4 + a_minus**4) / 2
    return A2, A4, 3 * A4 / A2**2 - 1


def exact_kurtosis(act: Activation | str, widths: int | Sequence[int], depth: int) -> Array:
    """Exact finite-width excess kurtosis of a scale-invariant net with C_b = 0, layers 1..depth.

    Each layer multiplies the squared norm by an independent factor with E[f^2] = 1 + nu/n, so
    E[z^4] / (3 E[z^2]^2) = prod_{k<l} (1 + nu/n_k); the 1/n formula is its linearisation.
    """
    _, _, nu = scale_invariant_moments(get_activation(act))
    n = np.broadcast_to(np.asarray(widths, float), (depth - 1,))
    return np.concatenate([[1.0], np.cumprod(1 + nu / n)]) - 1


def ntk_recursion(
    act: Activation | str, C_b: float, C_W: float, K1: float, depth: int, lam_b: float, lam_W: float
) -> Array:
    """Theta^(l), l = 1..depth, single input with |x|^2/n_0 = (K1 - C_b)/C_W (eq. 9.5)."""
    act = get_activation(act)
    K = kernel_recursion(act, C_b, C_W, K1, depth)
    chi = chi_perp(act, K, C_W)
    theta = np.empty(depth)
    theta[0] = lam_b + lam_W * input_norm(C_b, C_W, K1)
    for layer in range(1, depth):
        theta[layer] = lam_b + lam_W * sigma2(act, K[layer - 1]) + chi[layer - 1] * theta[layer - 1]
    return theta


def equivalent_learning_rates(lam_b: float, lam_W: float, depth: int) -> tuple[float, float]:
    """The learning-rate equivalence principle for scale-invariant nets (Sec. 9.4): lambda / L.

    At criticality chi_perp = 1 and Theta^(l) grows linearly in l; rescaling both learning rates by
    1/L keeps Theta^(L) = O(1) at any depth.
    """
    if depth < 1:
        raise UserError(f"depth must be >= 1, got {depth}")
    return lam_b / depth, lam_W / depth


def _piecewise_linear_pairs(slopes: tuple[float, float], K: Array) -> tuple[Array, Array]:
    """Exact <sigma_a sigma_b> and <sigma'_a sigma'_b> for sigma = a_+ z^+ - a_- (-z)^+ (arc-cosine forms).

    With cos(theta) = K_ab / sqrt(K_aa K_bb): <z_a^+ z_b^+> = sqrt(K_aa K_bb)/(2 pi) (sin + (pi - theta) cos),
    <z_a^+ (-z_b)^+> = sqrt(K_aa K_bb)/(2 pi) (sin - theta cos), P(z_a > 0, z_b > 0) = (pi - theta)/(2 pi).
    (A tensor-product Gauss-Hermite rule converges only like 1/nodes across the kink of these.)
    """
    a_plus, a_minus = slopes
    d = np.sqrt(np.diag(K))
    s = np.outer(d, d)
    theta = np.arccos(np.clip(K / s, -1.0, 1.0))
    np.fill_diagonal(theta, 0.0)  # exactly: arccos(1 - 1e-16) would be 1.5e-8
    same = s / (2 * np.pi) * (np.sin(theta) + (np.pi - theta) * np.cos(theta))
    cross = s / (2 * np.pi) * (np.sin(theta) - theta * np.cos(theta))
    ss = (a_plus**2 + a_minus**2) * same - 2 * a_plus * a_minus * cross
    dd = ((a_plus**2 + a_minus**2) * (np.pi - theta) + 2 * a_plus * a_minus * theta) / (2 * np.pi)
    return ss, dd


def pair_expectations(act: Activation, K: Array) -> tuple[Array, Array]:
    """(<sigma(z_a) sigma(z_b)>_K, <sigma'(z_a) sigma'(z_b)>_K) for every pair of an m x m kernel.

    Smooth activations: bivariate Gauss-Hermite (the diagonal by the 1-D rule); scale-invariant
    ones: the exact arc-cosine expressions.
    """
    if act.slopes is not None:
        return _piecewise_linear_pairs(act.slopes, K)
    d = np.diag(K)
    out = []
    for f in (act.fn, act.grad):
        pairs = expect2(f, f, d[:, None], K, d[None, :])
        np.fill_diagonal(pairs, expect(lambda z, f=f: f(z) ** 2, d, nodes=NODES_1D))
        out.append(pairs)
    return out[0], out[1]


@dataclass(frozen=True)
class MultiInput:
    """K^(l)_{ab} and Theta^(l)_{ab}, arrays of shape (depth, m, m)."""

    K: Array
    theta: Array


def multi_input_recursion(
    act: Activation | str,
    C_b: float,
    C_W: float,
    X: Array,
    depth: int,
    lam_b: float = 1.0,
    lam_W: float = 1.0,
) -> MultiInput:
    """Kernel and NTK-mean recursions for m inputs X (m, n_0) (eqs. 4.118, 9.5 with a, b indices).

    K^(l+1)_ab = C_b + C_W <sigma_a sigma_b>, Theta^(l+1)_ab = lambda_b + lambda_W <sigma_a sigma_b>
    + C_W <sigma'_a sigma'_b> Theta^(l)_ab.
    """
    act = get_activation(act)
    check_hyperparameters(C_b, C_W, depth=depth)
    X = np.atleast_2d(np.asarray(X, dtype=float))
    gram = X @ X.T / X.shape[1]
    m = len(X)
    K, theta = np.empty((depth, m, m)), np.empty((depth, m, m))
    K[0], theta[0] = C_b + C_W * gram, lam_b + lam_W * gram
    for layer in range(1, depth):
        ss, dd = pair_expectations(act, K[layer - 1])
        K[layer] = C_b + C_W * ss
        theta[layer] = lam_b + lam_W * ss + C_W * dd * theta[layer - 1]
    return MultiInput(K, theta)


def two_inputs(K1: float, rho1: float, n0: int = 2) -> Array:
    """Two inputs with |x|^2/n_0 = K1 each and cosine rho1 (rows of a (2, n0) array)."""
    if not -1 <= rho1 <= 1:
        raise UserError(f"rho must be in [-1, 1], got {rho1}")
    scale = np.sqrt(K1 * n0)
    e1, e2 = np.eye(n0)[0], np.eye(n0)[1]
    return scale * np.stack([e1, rho1 * e1 + np.sqrt(1 - rho1**2) * e2])


def correlation_recursion(
    act: Activation | str, C_b: float, C_W: float, K1: float, rho1: float, depth: int
) -> Array:
    """rho^(l) = K_ab / sqrt(K_aa K_bb) for two inputs of equal norm with K^(1)_ab = rho1 K^(1) (Sec. 5.1).

    (``K1`` is the first-layer kernel C_b + C_W |x|^2/n_0; the inputs get the matching norm.)
    """
    check_hyperparameters(C_b, C_W, K1, depth)
    g = input_norm(C_b, C_W, K1)
    X = two_inputs(g, (rho1 * K1 - C_b) / (C_W * g))
    K = multi_input_recursion(act, C_b, C_W, X, depth).K
    return K[:, 0, 1] / np.sqrt(K[:, 0, 0] * K[:, 1, 1])
