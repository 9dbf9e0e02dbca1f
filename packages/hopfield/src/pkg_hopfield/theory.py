"""The modern (continuous) Hopfield network of Section 2 and the classical binary baseline.

Notation (paper): stored patterns ``X = (x_1 .. x_N)`` in R^{d x N}, state ``xi`` in R^d,
``M = max_i ||x_i||``, ``lse(beta, z) = beta^{-1} log sum_i exp(beta z_i)``. In code the stored patterns
are the *rows* of a tensor ``X`` of shape ``(N, d)`` (so the paper's ``X^T xi`` is ``X @ xi``) and every
function takes a batch of states ``xi`` of shape ``(..., d)``.

- :func:`energy`: eq. (2) with the constants of Lemma A1, ``0 <= E <= 2 M^2``.
- :func:`update`: eq. (3), ``xi_new = X softmax(beta X^T xi)`` (the CCCP step of Theorem 1).
- :func:`iterate_until_converged`: repeated updates; E decreases monotonically (Theorem 1).
- :func:`separation`, :func:`separation_threshold`, :func:`retrieval_error_bound`: Definition 1 and
  Theorems 4-5 (a well-separated pattern is retrieved in one update with exponentially small error).
- :func:`storage_capacity`: Theorem 3 (exponential capacity of random patterns on a sphere).
- :class:`BinaryHopfield`: the classical Hebbian network (Hopfield 1982), the capacity baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from scipy.special import lambertw

from pkg_shared.errors import UserError


def check_patterns(xi: torch.Tensor, X: torch.Tensor, beta: float | None = None) -> None:
    """Raise :class:`UserError` for an empty pattern set, mismatched dimensions or ``beta <= 0``."""
    if X.ndim != 2 or X.shape[0] == 0:
        raise UserError(f"stored patterns must be a non-empty (N, d) matrix, got shape {tuple(X.shape)}")
    if xi.ndim == 0 or xi.shape[-1] != X.shape[1]:
        raise UserError(
            f"state dimension {tuple(xi.shape)[-1:]} does not match the stored patterns' d = {X.shape[1]}"
        )
    if beta is not None and not beta > 0:
        raise UserError(f"beta must be > 0, got {beta}")


def lse(beta: float, z: torch.Tensor) -> torch.Tensor:
    """``lse(beta, z) = beta^{-1} log sum_i exp(beta z_i)`` over the last dimension (eq. (1))."""
    return torch.logsumexp(beta * z, dim=-1) / beta


def energy(xi: torch.Tensor, X: torch.Tensor, beta: float) -> torch.Tensor:
    """Eq. (2) with Lemma A1's constants: ``E = -lse(beta, X^T xi) + xi^T xi / 2 + log(N)/beta + M^2/2``.

    Bounded by ``0 <= E <= 2 M^2`` for states in the convex hull of the patterns (Lemma A1).
    """
    check_patterns(xi, X, beta)
    N = X.shape[0]
    M = X.norm(dim=1).max()
    return -lse(beta, xi @ X.T) + 0.5 * (xi * xi).sum(-1) + math.log(N) / beta + 0.5 * M**2


def update(xi: torch.Tensor, X: torch.Tensor, beta: float) -> torch.Tensor:
    """The update rule, eq. (3): ``xi_new = X p`` with ``p = softmax(beta X^T xi)``."""
    check_patterns(xi, X, beta)
    return torch.softmax(beta * (xi @ X.T), dim=-1) @ X


@dataclass
class Iteration:
    """What :func:`iterate_until_converged` returns: fixed points, steps taken and the energy trace."""

    xi: torch.Tensor  # (..., d) the last iterate of every state
    steps: torch.Tensor  # (...,) updates applied to each state until it converged
    energies: torch.Tensor  # (steps + 1, ...) E after 0, 1, ... updates (all states)
    converged: torch.Tensor  # (...,) bool


def iterate_until_converged(
    xi: torch.Tensor, X: torch.Tensor, beta: float, max_steps: int = 100, eps: float = 1e-6
) -> Iteration:
    """Apply :func:`update` until ``||xi_new - xi|| < eps`` for every state or ``max_steps`` updates.

    Theorem 1: E decreases monotonically and the iterates converge to a stationary point. States that
    have converged are frozen while the others go on (the loop is over steps, vectorised over states).
    """
    check_patterns(xi, X, beta)
    if max_steps < 0 or eps <= 0:
        raise UserError(f"max_steps must be >= 0 and eps > 0 (got {max_steps}, {eps})")
    steps = torch.zeros(xi.shape[:-1], dtype=torch.long, device=xi.device)
    active = torch.ones(xi.shape[:-1], dtype=torch.bool, device=xi.device)
    energies = [energy(xi, X, beta)]
    for _ in range(max_steps):
        new = update(xi, X, beta)
        active = active & ((new - xi).norm(dim=-1) >= eps)
        xi = torch.where(active[..., None], new, xi)
        steps = steps + active
        energies.append(energy(xi, X, beta))
        if not active.any():
            break
    return Iteration(xi, steps, torch.stack(energies), ~active)


def separation(X: torch.Tensor) -> torch.Tensor:
    """Definition 1: ``Delta_i = x_i^T x_i - max_{j != i} x_i^T x_j`` for every stored pattern, shape (N,)."""
    if X.ndim != 2 or X.shape[0] < 2:
        raise UserError(f"separation needs at least two (N, d) patterns, got shape {tuple(X.shape)}")
    G = X @ X.T
    off = G.masked_fill(torch.eye(len(X), dtype=torch.bool, device=X.device), float("-inf"))
    return G.diagonal() - off.max(dim=1).values


def separation_threshold(N: int, beta: float, M: float) -> float:
    """Theorem 4's condition on ``Delta_i``: ``2/(beta N) + (1/beta) log(2 (N-1) N beta M^2)``."""
    if N < 2 or not beta > 0 or not M > 0:
        raise UserError(f"need N >= 2, beta > 0 and M > 0 (got {N}, {beta}, {M})")
    return 2 / (beta * N) + math.log(2 * (N - 1) * N * beta * M**2) / beta


def retrieval_error_bound(
    X: torch.Tensor, i: int, xi: torch.Tensor, beta: float, x_star: torch.Tensor | None = None
) -> torch.Tensor:
    """Theorem 5: ``||f(xi) - x_i*|| <= 2 eps M`` with ``eps = (N-1) exp(-beta (Delta_i - 2 m M))``,
    ``m = max(||xi - x_i||, ||x_i* - x_i||)``; valid when ``Delta_i`` meets :func:`separation_threshold`
    and ``xi`` lies in the sphere of radius ``1/(beta N M)`` around ``x_i``. ``x_star`` defaults to
    ``x_i`` (its distance to ``x_i`` is itself below that radius). Returns ``2 eps M`` for each state.
    """
    check_patterns(xi, X, beta)
    N, M = X.shape[0], X.norm(dim=1).max()
    x_i = X[i]
    dist = (xi - x_i).norm(dim=-1)
    if x_star is not None:
        dist = torch.maximum(dist, (x_star - x_i).norm(dim=-1))
    eps = (N - 1) * torch.exp(-beta * (separation(X)[i] - 2 * dist * M))
    return 2 * eps * M


@dataclass(frozen=True)
class Capacity:
    """Theorem 3's quantities: ``a``, ``b``, ``c``, the side condition on ``c`` and the capacity ``N``."""

    a: float
    b: float
    c: float
    c_required: float  # c must be >= (2 / sqrt(p))^{4/(d-1)}
    N: float  # sqrt(p) c^{(d-1)/4}: this many random patterns are retrievable with probability 1 - p

    @property
    def valid(self) -> bool:
        return self.c >= self.c_required


def storage_capacity(d: int, K: float = 3.0, beta: float = 1.0, p: float = 0.001) -> Capacity:
    """Theorem 3: patterns uniform on the sphere of radius ``M = K sqrt(d-1)``.

    ``a = 2/(d-1) (1 + ln(2 beta K^2 p (d-1)))``, ``b = 2 K^2 beta / 5``, ``c = b / W_0(exp(a + ln b))``
    (``W_0`` the upper branch of Lambert's W); then ``N >= sqrt(p) c^{(d-1)/4}`` patterns are stored and
    retrievable with probability ``1 - p``. Paper: ``c >= 3.1546`` for (beta 1, K 3, d 20, p 0.001) and
    ``c >= 1.3718`` for (beta 1, K 1, d 75, p 0.001).
    """
    if d < 2 or not (0 < p <= 1) or not beta > 0 or not K > 0:
        raise UserError(f"need d >= 2, 0 < p <= 1, beta > 0, K > 0 (got {d}, {p}, {beta}, {K})")
    a = 2 / (d - 1) * (1 + math.log(2 * beta * K**2 * p * (d - 1)))
    b = 2 * K**2 * beta / 5
    c = b / float(lambertw(math.exp(a + math.log(b))).real)
    return Capacity(a, b, c, (2 / math.sqrt(p)) ** (4 / (d - 1)), math.sqrt(p) * c ** ((d - 1) / 4))


def fixed_point_regime(xi_star: torch.Tensor, X: torch.Tensor, beta: float) -> dict[str, torch.Tensor]:
    """Section 2's three kinds of fixed points, told apart by the softmax ``p`` at the fixed point.

    ``n_eff = 1 / sum_i p_i^2`` is the number of patterns the fixed point averages: about 1 for a single
    pattern, about N for the global average, in between for a metastable state. Returned with the
    distances to the nearest pattern and to the mean of all patterns, per state.
    """
    check_patterns(xi_star, X, beta)
    p = torch.softmax(beta * (xi_star @ X.T), dim=-1)
    return {
        "n_eff": 1.0 / (p * p).sum(-1),
        "dist_nearest": torch.cdist(xi_star.reshape(-1, X.shape[1]), X)
        .min(dim=1)
        .values.reshape(p.shape[:-1]),
        "dist_mean": (xi_star - X.mean(0)).norm(dim=-1),
    }


class BinaryHopfield:
    """The classical binary Hopfield network (Hopfield 1982) with Hebbian weights.

    ``W = (1/d) sum_i x_i x_i^T`` with zero diagonal, patterns in {-1, +1}^d; synchronous updates
    ``xi <- sign(W xi)`` (a zero field keeps the previous bit). Capacity about ``0.14 d`` patterns.
    """

    def __init__(self, X: torch.Tensor) -> None:
        if X.ndim != 2 or X.shape[0] == 0:
            raise UserError(f"stored patterns must be a non-empty (N, d) matrix, got shape {tuple(X.shape)}")
        if not bool(((X == 1) | (X == -1)).all()):
            raise UserError("BinaryHopfield stores patterns with entries in {-1, +1} only")
        d = X.shape[1]
        self.W = (X.T @ X) / d
        self.W.fill_diagonal_(0.0)

    def retrieve(self, xi: torch.Tensor, sweeps: int = 20) -> torch.Tensor:
        """``sweeps`` synchronous sign updates of every state ``(..., d)`` (stops early at a fixed point)."""
        if xi.shape[-1] != self.W.shape[0]:
            raise UserError(f"state dimension {xi.shape[-1]} does not match d = {self.W.shape[0]}")
        for _ in range(sweeps):
            h = xi @ self.W
            new = torch.where(h == 0, xi, torch.sign(h))
            if torch.equal(new, xi):
                break
            xi = new
        return xi
