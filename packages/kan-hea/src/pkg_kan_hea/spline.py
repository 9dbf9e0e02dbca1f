"""B-splines on per-input knot grids (Liu et al. 2024, KAN, Sec. 2.2; pykan 0.2.x ``kan/spline.py``).

Shapes follow pykan: ``x`` is ``(batch, in_dim)``, a grid is ``(in_dim, G + 2k + 1)`` knots (G intervals
on the grid range, extended by k knots each side), a basis is ``(batch, in_dim, G + k)`` and spline
coefficients are ``(in_dim, out_dim, G + k)``. Everything is vectorised over samples, inputs and outputs;
the only loop is over the spline order k (the Cox-de Boor recursion has k steps).
"""

from __future__ import annotations

import torch

from pkg_shared.errors import UserError

MAX_GRID, MAX_ORDER = 1000, 10


def check_grid_order(grid_size: int, k: int) -> None:
    """Refuse a grid size or spline order out of range (G in [1, 1000], k in [0, 10])."""
    if not 1 <= int(grid_size) <= MAX_GRID:
        raise UserError(f"grid size G must be in [1, {MAX_GRID}], got {grid_size}")
    if not 0 <= int(k) <= MAX_ORDER:
        raise UserError(f"spline order k must be in [0, {MAX_ORDER}], got {k}")


def extend_grid(grid: torch.Tensor, k: int, h: torch.Tensor | None = None) -> torch.Tensor:
    """Add k knots on each side of ``grid (in_dim, G+1)`` at spacing ``h (in_dim, 1)``.

    pykan ``extend_grid``: ``h`` is the mean knot spacing of ``grid`` (the default); efficient-kan's
    ``update_grid`` passes the spacing of its uniform grid instead (see :func:`adaptive_grid`).
    """
    if h is None:
        h = (grid[:, -1:] - grid[:, :1]) / (grid.shape[1] - 1)
    steps = torch.arange(1, k + 1, dtype=grid.dtype, device=grid.device)
    left = grid[:, :1] - h * steps.flip(0)
    right = grid[:, -1:] + h * steps
    return torch.cat([left, grid, right], dim=1)


def uniform_grid(
    in_dim: int, grid_size: int, k: int, grid_range: tuple[float, float] = (-1.0, 1.0)
) -> torch.Tensor:
    """G uniform intervals on ``grid_range`` extended by k knots each side: ``(in_dim, G + 2k + 1)``."""
    check_grid_order(grid_size, k)
    lo, hi = grid_range
    if not lo < hi:
        raise UserError(f"grid range must have low < high, got {grid_range}")
    base = torch.linspace(lo, hi, grid_size + 1)[None, :].expand(in_dim, grid_size + 1)
    return extend_grid(base, k)


def b_splines(x: torch.Tensor, grid: torch.Tensor, k: int) -> torch.Tensor:
    """B-spline basis B_m(x) by the Cox-de Boor recursion: ``(batch, in_dim, G + k)``.

    B_{m,0}(x) = 1[t_m <= x < t_{m+1}] and
    B_{m,p}(x) = (x - t_m)/(t_{m+p} - t_m) B_{m,p-1}(x) + (t_{m+p+1} - x)/(t_{m+p+1} - t_{m+1}) B_{m+1,p-1}(x).
    Values are 0 outside the extended grid (only the SiLU branch acts there). Degenerate (repeated) knots
    give 0/0, set to 0 as pykan's ``nan_to_num`` does.
    """
    x = x.unsqueeze(-1)
    t = grid.unsqueeze(0)
    basis = ((x >= t[..., :-1]) & (x < t[..., 1:])).to(x.dtype)
    for p in range(1, k + 1):
        left = (x - t[..., : -(p + 1)]) / (t[..., p:-1] - t[..., : -(p + 1)])
        right = (t[..., p + 1 :] - x) / (t[..., p + 1 :] - t[..., 1:-p])
        basis = torch.nan_to_num(left * basis[..., :-1] + right * basis[..., 1:])
    return basis


def coef2curve(x: torch.Tensor, grid: torch.Tensor, coef: torch.Tensor, k: int) -> torch.Tensor:
    """spline_{i,j}(x_i) = sum_m c_{i,j,m} B_m(x_i): ``(batch, in_dim, out_dim)`` (pykan ``coef2curve``)."""
    return torch.einsum("bim,iom->bio", b_splines(x, grid, k), coef)


def curve2coef(x: torch.Tensor, y: torch.Tensor, grid: torch.Tensor, k: int) -> torch.Tensor:
    """Least-squares coefficients ``(in_dim, out_dim, G + k)`` with spline(x) ~ y ``(batch, in_dim, out_dim)``.

    One batched ``lstsq`` for every input (the basis matrix is shared by the out_dim right-hand sides);
    computed in float64 so that refits after a grid update or extension preserve the function closely.
    """
    basis = b_splines(x.double(), grid.double(), k).permute(1, 0, 2)  # (in, batch, m)
    rhs = y.double().permute(1, 0, 2)  # (in, batch, out)
    driver = "gelsd" if basis.device.type == "cpu" else None
    sol = torch.linalg.lstsq(basis, rhs, driver=driver).solution  # (in, m, out)
    return sol.permute(0, 2, 1).to(y.dtype).contiguous()


QUANTILES = ("pykan", "efficient-kan")


def quantile_indices(batch: int, grid_size: int, style: str = "pykan") -> list[int]:
    """Which of ``batch`` sorted samples become the G+1 knots of the adaptive grid.

    pykan 0.2.x (``update_grid_from_samples``): ``int(batch / G * i)`` for i < G, then the last sample.
    efficient-kan (``KANLinear.update_grid``): G+1 points evenly spaced from 0 to batch-1, truncated to
    whole numbers (``torch.linspace(0, batch - 1, G + 1, dtype=int64)``). Both start at the smallest
    and end at the largest sample; in between efficient-kan's indices are up to one sample lower.
    """
    if style == "pykan":
        return [int(batch / grid_size * i) for i in range(grid_size)] + [batch - 1]
    if style == "efficient-kan":
        return [(batch - 1) * i // grid_size for i in range(grid_size + 1)]
    raise UserError(f"quantile style must be one of {QUANTILES}, got {style!r}")


def adaptive_grid(
    x: torch.Tensor, grid_size: int, grid_eps: float, margin: float = 0.0, style: str = "pykan"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Knots from samples ``x (batch, in_dim)``: (1 - eps) * quantiles + eps * uniform over the data range.

    Returns the ``(in_dim, G + 1)`` interior knots (not yet extended) and the spacing ``h (in_dim, 1)`` of
    the uniform grid, ``(max - min + 2 margin) / G``. pykan ``update_grid_from_samples``: ``margin`` 0,
    ``style="pykan"``; efficient-kan ``update_grid``: ``margin`` 0.01, ``style="efficient-kan"`` (see
    :func:`quantile_indices`).
    """
    batch = x.shape[0]
    x_sorted = torch.sort(x, dim=0).values
    ids = torch.tensor(quantile_indices(batch, grid_size, style), device=x.device)
    adaptive = x_sorted[ids].T
    lo, hi = x_sorted[:1].T, x_sorted[-1:].T
    h = (hi - lo + 2 * margin) / grid_size
    steps = torch.arange(grid_size + 1, dtype=x.dtype, device=x.device)
    uniform = lo - margin + h * steps
    return grid_eps * uniform + (1 - grid_eps) * adaptive, h


def subdivide_grid(grid: torch.Tensor, k: int, grid_size: int) -> torch.Tensor:
    """Interior knots for grid extension: the parent's interior knots linearly interpolated at G'+1 points.

    pykan ``initialize_grid_from_parent`` (a k=1 spline through the parent knots evaluated on a uniform
    G'+1 lattice); when G' is a multiple of G the new knots contain the old ones, so the old spline lies
    in the new spline space and the refit preserves it exactly.
    """
    inner = grid[:, k : grid.shape[1] - k]  # (in_dim, G+1)
    g = inner.shape[1] - 1
    pos = torch.linspace(0, g, grid_size + 1, dtype=grid.dtype, device=grid.device)
    lo = pos.floor().clamp(max=g - 1).long()
    frac = pos - lo
    return inner[:, lo] * (1 - frac) + inner[:, lo + 1] * frac
