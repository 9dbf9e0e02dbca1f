"""The five figures of ``reproduce`` (matplotlib, saved with pkg_shared.plots.save_figure)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from pkg_shared.plots import save_figure


def kernel_figure(curves: dict[str, list[float]], path: Path) -> Path:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for name, K in curves.items():
        layers = np.arange(1, len(K) + 1)
        if name.startswith("tanh"):
            left.plot(layers, layers * np.asarray(K), label=name)
        else:
            right.plot(layers, K, label=name)
    left.axhline(0.5, color="k", ls=":", label="1/2 (= 1/(-a_1))")
    left.set(xscale="log", xlabel="layer l", ylabel="l K^(l)", title="tanh, C_b = 0, K^(1) = 1")
    right.set(xscale="log", yscale="log", xlabel="layer l", ylabel="K^(l)", title="ReLU, C_b = 0, K^(1) = 1")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return save_figure(fig, path)


def phase_figure(phase: dict[str, Any], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 4.5))
    mesh = ax.pcolormesh(phase["C_b"], phase["C_W"], np.asarray(phase["log_chi_perp"]).T, cmap="RdBu_r",
                         vmin=-1, vmax=1, shading="auto")  # fmt: skip
    fig.colorbar(mesh, label="log chi_perp(K*)")
    ax.contour(phase["C_b"], phase["C_W"], np.asarray(phase["log_chi_perp"]).T, levels=[0.0], colors="k")
    ax.plot([0.0], [1.0], "k*", ms=14, label="critical (0, 1)")
    ax.set(xlabel="C_b", ylabel="C_W", title="tanh: ordered (blue) / chaotic (red), chi_perp = 1 (line)")
    ax.legend()
    return save_figure(fig, path)


def vertex_figure(curves: dict[str, Any], path: Path) -> Path:
    acts = sorted({k.split()[0] for k in curves}, key=["linear", "relu", "tanh"].index)
    fig, axes = plt.subplots(1, len(acts), figsize=(5 * len(acts), 4))
    for ax, act in zip(np.atleast_1d(axes), acts):
        for name, c in curves.items():
            if not name.startswith(act + " "):
                continue
            x = np.asarray(c["l_over_n"])[1:]  # layer 1 is exactly Gaussian (kappa = 0): off a log axis
            bar = ax.errorbar(x, c["mc"][1:], yerr=c["se"][1:], fmt="o", ms=3, label=f"MC {name.split()[1]}")
            color = bar[0].get_color()
            ax.plot(x, c["one_n"][1:], "--", color=color, lw=1)
            if "exact" in c:
                ax.plot(x, c["exact"][1:], "-", color=color, lw=1)
        ax.set(yscale="log", xlabel="l / n", ylabel="excess kurtosis kappa^(l)",
               title=f"{act}: MC (points), 1/n (dashed)" + (", exact (solid)" if act != "tanh" else ""))  # fmt: skip
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return save_figure(fig, path)


def ntk_figure(curves: dict[str, Any], path: Path) -> Path:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for act, c in curves.items():
        n, mean, std = np.asarray(c["widths"]), np.asarray(c["mean"]), np.asarray(c["std"])
        (line,) = left.plot(n, mean / c["theory"], "o-", label=f"{act}: empirical / recursion")
        right.plot(n, std / mean, "o-", color=line.get_color(), label=act)
    left.axhline(1.0, color="k", ls=":")
    left.set(xscale="log", xlabel="width n", ylabel="mean Theta^(L) / recursion", title="NTK mean")
    right.plot(n, (std / mean)[0] * np.sqrt(n[0] / n), "k:", label="slope -1/2")
    right.set(
        xscale="log", yscale="log", xlabel="width n", ylabel="std / mean over networks", title="NTK spread"
    )
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return save_figure(fig, path)


def correlation_figure(curves: dict[str, Any], path: Path) -> Path:
    acts = ["tanh", "relu"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, act in zip(axes, acts):
        for name, c in curves.items():
            if name.startswith(act):
                layers = np.arange(1, len(c["theory"]) + 1)
                (line,) = ax.plot(layers, c["theory"], "-", label=f"recursion {name.split()[1]}")
                ax.errorbar(layers, c["mc"], yerr=c["se"], fmt="o", ms=3, color=line.get_color())
        ax.set(
            xlabel="layer l", ylabel="rho^(l)", title=f"{act} at criticality: recursion (lines), MC (points)"
        )
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return save_figure(fig, path)


def draw_all(measured: dict[str, Any], plots: Path) -> None:
    """kernel.png, phase.png, vertex.png, ntk.png and correlation.png into ``plots``."""
    kernel_figure(measured["kernel_curves"], plots / "kernel.png")
    phase_figure(measured["phase"], plots / "phase.png")
    vertex_figure(measured["vertex_curves"], plots / "vertex.png")
    ntk_figure(measured["ntk_curves"], plots / "ntk.png")
    correlation_figure(measured["correlation_curves"], plots / "correlation.png")
