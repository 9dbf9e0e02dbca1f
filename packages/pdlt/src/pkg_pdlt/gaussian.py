"""Gaussian expectations <f(z)>_K by Gauss-Hermite quadrature (book eq. 4.48 notation).

1-D: z ~ N(0, K) with ``numpy.polynomial.hermite_e.hermegauss`` (probabilists' weight e^{-x^2/2}),
vectorised over an array of variances K. 2-D: (z_a, z_b) ~ N(0, [[K_aa, K_ab], [K_ab, K_bb]]) via the
Cholesky factor of the 2x2 kernel and a tensor-product rule, vectorised over batches of kernels.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

Array = np.ndarray
NODES_1D = 160
NODES_2D = 64


@lru_cache(maxsize=8)
def _rule(nodes: int) -> tuple[Array, Array]:
    x, w = hermegauss(nodes)
    return x, w / np.sqrt(2 * np.pi)


def expect(f: Callable[[Array], Array], K: float | Array, nodes: int = NODES_1D) -> Array:
    """<f(z)>_K = E[f(z)], z ~ N(0, K); ``K`` may be any array (result has its shape)."""
    x, w = _rule(nodes)
    K = np.asarray(K, dtype=float)
    return f(np.sqrt(K)[..., None] * x) @ w


def cholesky2(Kaa: Array, Kab: Array, Kbb: Array) -> tuple[Array, Array, Array]:
    """Lower Cholesky factor (L11, L21, L22) of batched 2x2 kernels; L22 clipped at 0 when singular."""
    L11 = np.sqrt(Kaa)
    L21 = np.divide(Kab, L11, out=np.zeros_like(np.asarray(Kab, dtype=float)), where=L11 > 0)
    L22 = np.sqrt(np.maximum(Kbb - L21**2, 0.0))
    return L11, L21, L22


def expect2(
    f: Callable[[Array], Array],
    g: Callable[[Array], Array],
    Kaa: float | Array,
    Kab: float | Array,
    Kbb: float | Array,
    nodes: int = NODES_2D,
) -> Array:
    """<f(z_a) g(z_b)> for (z_a, z_b) ~ N(0, K): z_a = L11 x, z_b = L21 x + L22 y, x, y ~ N(0, 1)."""
    x, w = _rule(nodes)
    Kaa, Kab, Kbb = np.broadcast_arrays(*(np.asarray(k, dtype=float) for k in (Kaa, Kab, Kbb)))
    L11, L21, L22 = (a[..., None, None] for a in cholesky2(Kaa, Kab, Kbb))
    za = L11 * x[:, None]
    zb = L21 * x[:, None] + L22 * x[None, :]
    return np.einsum("...ij,i,j->...", f(za) * g(zb), w, w)
