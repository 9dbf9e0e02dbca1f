"""Interpretability (spec "Method", step 6): edge plots, importance ranking and symbolic edge fits.

``symbolic_fit`` follows pykan's ``auto_symbolic``: every edge phi_{l,j,i} is sampled over the range its
input takes on the data and fitted by y ~ c f(a x + b) + d for each library function f; (a, b) by a grid
search and (c, d) by least squares, all edges and all (a, b) at once; the best f by R2 is kept.
With sympy installed (``pip install 'pkg-kan-hea[symbolic]'``) the fits are also composed into one
formula per output.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from pkg_shared.errors import UserError
from pkg_shared.plots import plt, save_figure

from .kan import KAN

LIBRARY: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "x": lambda z: z,
    "x^2": lambda z: z**2,
    "x^3": lambda z: z**3,
    "exp": lambda z: torch.exp(z.clamp(max=20)),
    "sin": torch.sin,
    "tanh": torch.tanh,
    "abs": torch.abs,
}


@torch.no_grad()
def symbolic_fit(model: KAN, x: torch.Tensor, n_samples: int = 101, a_range: float = 5.0, n_ab: int = 21,
                 functions: Sequence[str] = tuple(LIBRARY)) -> list[dict]:  # fmt: skip
    """Best library fit of every active edge: ``[{layer, i, j, function, a, b, c, d, r2}, ...]``."""
    unknown = [f for f in functions if f not in LIBRARY]
    if unknown:
        raise UserError(f"unknown symbolic function(s) {unknown}; choose from {list(LIBRARY)}")
    inputs, _ = model.activations(x)
    ab = torch.linspace(-a_range, a_range, n_ab)
    a, b = ab.view(-1, 1, 1, 1), ab.view(1, -1, 1, 1)
    fits = []
    for depth, (layer, xin) in enumerate(zip(model.layers, inputs)):
        t = torch.linspace(0, 1, n_samples).unsqueeze(1)
        xs = xin.min(0).values + t * (xin.max(0).values - xin.min(0).values)  # (n, in)
        ys = layer.edges(xs).permute(1, 2, 0).reshape(-1, n_samples)  # (in*out, n)
        xe = xs.T.repeat_interleave(layer.out_dim, 0)  # (in*out, n)
        best_r2 = torch.full((len(ys),), -math.inf)
        best = [None] * len(ys)
        for name in functions:
            f = LIBRARY[name](a * xe.unsqueeze(0).unsqueeze(0) + b)  # (A, B, E, n)
            fc = f - f.mean(-1, keepdim=True)
            yc = ys - ys.mean(-1, keepdim=True)
            c = (fc * yc).sum(-1) / (fc.pow(2).sum(-1) + 1e-12)
            resid = yc - c.unsqueeze(-1) * fc
            r2 = 1 - resid.pow(2).sum(-1) / (yc.pow(2).sum(-1) + 1e-12)  # (A, B, E)
            r2 = torch.nan_to_num(r2, nan=-math.inf).flatten(0, 1)
            top, where = r2.max(0)
            for e in torch.nonzero(top > best_r2).flatten().tolist():
                ia, ib = divmod(int(where[e]), n_ab)
                ce = float(c[ia, ib, e])
                d = float(ys[e].mean() - ce * f[ia, ib, e].mean())
                best_r2[e] = top[e]
                best[e] = {"function": name, "a": float(ab[ia]), "b": float(ab[ib]), "c": ce, "d": d}
        for e, fit in enumerate(best):
            i, j = divmod(e, layer.out_dim)
            if layer.mask[i, j] > 0:
                fits.append({"layer": depth, "i": i, "j": j, **fit, "r2": float(best_r2[e])})
    return fits


def formulas(model: KAN, fits: list[dict], names: Sequence[str]) -> list[str]:
    """Compose the edge fits into one sympy formula per output (needs the ``symbolic`` extra)."""
    try:
        import sympy
    except ImportError:
        raise UserError("symbolic formulas need sympy: pip install 'pkg-kan-hea[symbolic]'") from None
    library = {"x": lambda z: z, "x^2": lambda z: z**2, "x^3": lambda z: z**3, "exp": sympy.exp,
               "sin": sympy.sin, "tanh": sympy.tanh, "abs": sympy.Abs}  # fmt: skip
    nodes = [sympy.Symbol(n) for n in names]
    for depth, layer in enumerate(model.layers):
        out = [sympy.Integer(0)] * layer.out_dim
        for fit in (f for f in fits if f["layer"] == depth):
            arg = sympy.Float(fit["a"], 3) * nodes[fit["i"]] + sympy.Float(fit["b"], 3)
            out[fit["j"]] += sympy.Float(fit["c"], 3) * library[fit["function"]](arg) + sympy.Float(
                fit["d"], 3
            )
        nodes = out
    return [str(sympy.simplify(n)) if sympy.count_ops(n) < 200 else str(n) for n in nodes]


@torch.no_grad()
def plot_edges(model: KAN, x: torch.Tensor, names: Sequence[str], path: str | Path, top: int = 2) -> Path:
    """phi_{0,j,i} of the first layer for the ``top`` most important inputs, one panel per input (.png)."""
    order = model.feature_importance(x).argsort(descending=True)[:top].tolist()
    layer = model.layers[0]
    fig, axes = plt.subplots(1, len(order), figsize=(4 * len(order), 3.2), squeeze=False)
    grid = torch.linspace(-1, 1, 201).unsqueeze(1).expand(-1, layer.in_dim)
    phi = layer.edges(grid)  # (201, in, out)
    for ax, i in zip(axes[0], order):
        for j in range(layer.out_dim):
            ax.plot(grid[:, i], phi[:, i, j], label=f"to node {j}")
        ax.scatter(x[:, i], torch.zeros(len(x)), marker="|", color="k", alpha=0.3)
        ax.set(title=f"phi(0, j, {names[i]})", xlabel=f"{names[i]} (scaled to [-1, 1])", ylabel="phi")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    return save_figure(fig, path)


def importance_ranking(model: KAN, x: torch.Tensor, names: Sequence[str]) -> list[tuple[str, float]]:
    """Inputs sorted by :meth:`KAN.feature_importance`, most important first."""
    score = model.feature_importance(x)
    return sorted(zip(names, score.tolist()), key=lambda p: -p[1])


def plot_comparison(panels: dict[str, dict[str, list[float]]], path: str | Path) -> Path:
    """One panel per metric: every seed's value per model (dots) and their mean (a bar).

    The axis spans the values measured, not 0 to 1: the differences between models are what is read.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.4), squeeze=False)
    for ax, (title, values) in zip(axes[0], panels.items()):
        for pos, seeds in enumerate(values.values()):
            mean = sum(seeds) / len(seeds)
            ax.scatter([pos] * len(seeds), seeds, color="k", s=12, alpha=0.6, zorder=3)
            ax.hlines(mean, pos - 0.3, pos + 0.3, color="tab:blue", linewidth=2.5)
        ax.set_xticks(range(len(values)), list(values), rotation=35, ha="right", fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    return save_figure(fig, path)
