"""Criticality: (C_b, C_W) with a fixed point K* where chi_par(K*) = chi_perp(K*) = 1 (book Ch. 5).

:func:`find_criticality` solves the three equations
    K* = C_b + C_W <sigma^2>_{K*},   chi_par(K*) = 1,   chi_perp(K*) = 1
for (C_b, C_W, K*) with ``scipy.optimize.root`` (Levenberg-Marquardt, which tolerates the singular
Jacobian of scale-invariant activations) from several starts, then the K* -> 0 boundary (Sec. 5.3.3).
Where sigma(0) = 0 and sigma_1 != 0 (Taylor coefficients by autograd), the boundary root is found
numerically by :func:`boundary_root`: the fixed-point and chi_perp = 1 equations fix (C_b(K), C_W(K))
for each small K, and their limit K -> 0 is extrapolated; it is stable when
a_1 = sigma_3/sigma_1 + (3/4)(sigma_2/sigma_1)^2 < 0. It reports "none" when nothing solves them.
The closed forms of the universality classes ((0, 1/sigma_1^2) for the K* = 0 class) are in
:func:`closed_form`, never used by the solver, and tested against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import root

from .activations import Activation, get_activation
from .gaussian import expect
from .theory import chi_parallel, chi_perp, scale_invariant_moments, sigma2

STARTS = np.logspace(-2, 2, 9)
RESIDUAL_TOL = 1e-9
BOUNDARY_K = 1e-5
BOUNDARY_FAMILY = (1e-5, 1e-6)  # the small K* at which the boundary family is solved, then extrapolated
K_MAX = 1e3  # roots beyond drift along the ReLU-like large-K asymptote (softplus): not fixed points


@dataclass(frozen=True)
class Criticality:
    """The solver's answer: ``klass`` is "scale-invariant", "K*=0", "nonzero K*" or "none".

    ``K_star`` is NaN for scale-invariant activations (every K is a fixed point: a line of them).
    ``a1`` is the K* = 0 class coefficient when sigma(0) = 0 (else None); ``solutions`` lists every
    distinct interior solution (C_b, C_W, K*); ``note`` explains what was found.
    """

    activation: str
    klass: str
    C_b: float | None
    C_W: float | None
    K_star: float | None
    a1: float | None = None
    solutions: list[tuple[float, float, float]] = field(default_factory=list)
    note: str = ""

    def describe(self) -> str:
        if self.klass == "none":
            return f"{self.activation}: none ({self.note})"
        k = "any (line of fixed points)" if self.K_star is not None and np.isnan(self.K_star) else self.K_star
        return (
            f"{self.activation}: C_b = {self.C_b:.6g}, C_W = {self.C_W:.6g}, K* = {k}; "
            f"class {self.klass}" + (f"; {self.note}" if self.note else "")
        )


def residuals(act: Activation, C_b: float, C_W: float, K: float) -> np.ndarray:
    """(fixed-point, chi_par, chi_perp) residuals, the first relative to K."""
    return np.array(
        [
            (C_b + C_W * sigma2(act, K)) / K - 1.0,
            chi_parallel(act, K, C_W) - 1.0,
            chi_perp(act, K, C_W) - 1.0,
        ]
    )


def _interior_solutions(act: Activation) -> list[tuple[float, float, float]]:
    """Converged, admissible (C_b >= 0, C_W > 0) roots from every start K0 in STARTS.

    Each start puts chi_perp = 1 (C_W = 1/<sigma'^2>_{K0}) and K0 at a fixed point (C_b from it).
    """
    found = []
    for K0 in STARTS:
        C_W0 = 1.0 / float(chi_perp(act, K0, 1.0))
        start = np.array([K0 - C_W0 * float(sigma2(act, K0)), C_W0, np.log(K0)])
        with np.errstate(all="ignore"):
            sol = root(lambda p: residuals(act, p[0], p[1], np.exp(p[2])), start, method="lm")
        C_b, C_W, K = float(sol.x[0]), float(sol.x[1]), float(np.exp(sol.x[2]))
        with np.errstate(all="ignore"):
            r = residuals(act, C_b, C_W, K)
        if np.all(np.isfinite(r)) and np.max(np.abs(r)) < RESIDUAL_TOL and C_b > -1e-8 and C_W > 0:
            found.append((max(C_b, 0.0), C_W, K))
    return found


def _distinct(
    solutions: list[tuple[float, float, float]], tol: float = 1e-6
) -> list[tuple[float, float, float]]:
    out: list[tuple[float, float, float]] = []
    for s in solutions:
        if all(max(abs(s[0] - t[0]), abs(s[1] - t[1]), abs(np.log(s[2] / t[2]))) > tol for t in out):
            out.append(s)
    return out


def a1_coefficient(act: Activation) -> float | None:
    """a_1 = sigma_3/sigma_1 + (3/4)(sigma_2/sigma_1)^2 when sigma(0) = 0 and sigma_1 != 0, else None."""
    s0, s1, s2, s3 = act.taylor(3)
    if abs(s0) > 1e-12 or abs(s1) < 1e-12:
        return None
    return s3 / s1 + 0.75 * (s2 / s1) ** 2


def boundary_root(act: Activation) -> tuple[float, float, float]:
    """The K* -> 0 boundary root (C_b, C_W) found numerically, and the chi_par residual left there.

    For a small K, chi_perp(K) = C_W <sigma'^2>_K = 1 and the fixed point K = C_b + C_W <sigma^2>_K are
    two linear equations for (C_b, C_W) (Gauss-Hermite expectations; no Taylor coefficient enters).
    Solving them at K = 1e-5 and 1e-6 and extrapolating linearly to K = 0 (the family is smooth in K)
    gives the root; |chi_par(K) - 1| at the smallest K shows that the third equation holds in the limit.
    """
    K = np.asarray(BOUNDARY_FAMILY, dtype=float)
    C_W = 1.0 / expect(lambda z: act.grad(z) ** 2, K)
    C_b = K - C_W * sigma2(act, K)
    at_zero = (K[0] * np.array([C_b[1], C_W[1]]) - K[1] * np.array([C_b[0], C_W[0]])) / (K[0] - K[1])
    residual = abs(float(chi_parallel(act, K[1], C_W[1])) - 1.0)
    return float(at_zero[0]), float(at_zero[1]), residual


def find_criticality(act: Activation | str) -> Criticality:
    """Solve for criticality (see the module docstring); never hard-codes an activation's answer."""
    act = get_activation(act)
    sols = _distinct(_interior_solutions(act))
    interior = [s for s in sols if BOUNDARY_K < s[2] < K_MAX]
    asymptote = any(s[2] >= K_MAX for s in sols)
    a1 = a1_coefficient(act)
    boundary = a1 is not None and not act.scale_invariant
    if len(interior) > 1:
        C_b, C_W = (np.array([s[0] for s in interior]), np.array([s[1] for s in interior]))
        if np.ptp(C_b) < 1e-6 and np.ptp(C_W) < 1e-6:  # every K* solves: a line of fixed points
            return Criticality(
                act.name, "scale-invariant", float(C_b.mean()), float(C_W.mean()), float("nan"), a1,
                interior, "K^(l) = K^(1) at every layer",
            )  # fmt: skip
    if boundary and a1 < 0:
        C_b, C_W, residual = boundary_root(act)
        note = (
            f"K* -> 0 boundary, a_1 = {a1:.4g} < 0: K^(l) ~ 1/((-a_1) l); root found numerically "
            f"(chi_par - 1 = {residual:.1e} at K* = {BOUNDARY_FAMILY[-1]:g})"
        )
        if interior:
            note += f"; also interior solutions {interior}"
        return Criticality(act.name, "K*=0", C_b, C_W, 0.0, a1, interior, note)
    if interior:
        C_b_, C_W_, K_ = interior[0]
        note = (
            f"K* -> 0 boundary at C_W = {boundary_root(act)[1]:.4g} is half-stable (a_1 = {a1:.4g} > 0)"
            if boundary
            else ""
        )
        return Criticality(act.name, "nonzero K*", C_b_, C_W_, K_, a1, interior, note)
    why = "no (C_b >= 0, C_W > 0, K* > 0) solves the three equations from any start"
    if asymptote:
        why += f" (only K* -> infinity, past {K_MAX:g}, where sigma looks scale-invariant)"
    if boundary:
        why += f"; the K* -> 0 boundary (C_W = {boundary_root(act)[1]:.4g}) is unstable, a_1 = {a1:.4g} > 0"
    return Criticality(act.name, "none", None, None, None, a1, [], why)


def closed_form(act: Activation | str) -> tuple[float, float] | None:
    """The universality-class closed forms (C_b, C_W) (Sec. 5.2-5.3), or None outside both classes.

    Scale-invariant: (0, 2/(a_+^2 + a_-^2)) = (0, 1/A_2). K* = 0 class (sigma(0) = 0, sigma_1 != 0,
    a_1 < 0): (0, 1/sigma_1^2).
    """
    act = get_activation(act)
    if act.scale_invariant:
        A2, _, _ = scale_invariant_moments(act)
        return 0.0, 1.0 / A2
    a1 = a1_coefficient(act)
    if a1 is not None and a1 < 0:
        return 0.0, 1.0 / act.taylor(1)[1] ** 2
    return None
