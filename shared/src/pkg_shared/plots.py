"""Matplotlib (Agg, no display needed) helpers that save PNGs, e.g. into a run folder's ``plots/``."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib.figure import Figure  # noqa: E402

from .io import atomic_write_bytes  # noqa: E402


def save_figure(fig: Figure, path: str | Path, dpi: int = 120) -> Path:
    """Save ``fig`` as a PNG atomically and close it."""
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return atomic_write_bytes(Path(path).with_suffix(".png"), buf.getvalue())


def line_plot(
    path: str | Path,
    x: Sequence[float],
    series: Mapping[str, Sequence[float]],
    *,
    xlabel: str,
    ylabel: str,
    title: str = "",
    errors: Mapping[str, Sequence[float]] | None = None,
    logx: bool = False,
    logy: bool = False,
) -> Path:
    """One line per series against ``x`` (optional error bands), saved as ``path`` (.png)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, ys in series.items():
        (line,) = ax.plot(x, ys, marker="o", markersize=3, label=name)
        if errors and name in errors:
            lo = [y - e for y, e in zip(ys, errors[name])]
            hi = [y + e for y, e in zip(ys, errors[name])]
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def bar_plot(
    path: str | Path,
    groups: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    ylabel: str,
    title: str = "",
    from_zero: bool = False,
) -> Path:
    """Grouped bars: one group per entry of ``groups``, one bar per series, saved as ``path`` (.png).

    The value axis spans the data (with a margin) rather than starting at 0, so that differences of a
    fraction of a point (an AUC of 0.779 vs 0.783) are visible; each bar is labelled with its value.
    ``from_zero=True`` starts the axis at 0 where the magnitude itself is the message.
    """
    fig, ax = plt.subplots(figsize=(6, 4))
    width = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        bars = ax.bar([g + i * width for g in range(len(groups))], values, width, label=name)
        ax.bar_label(bars, fmt="%.4g", fontsize=7, padding=1)
    ax.set_xticks([g + width * (len(series) - 1) / 2 for g in range(len(groups))], groups)
    finite = [v for values in series.values() for v in values if v == v and abs(v) != float("inf")]
    if finite and not from_zero:
        low, high = min(finite), max(finite)
        pad = 0.25 * (high - low) or 0.05 * abs(high) or 1.0
        ax.set_ylim(low - pad, high + pad)
    ax.set(ylabel=ylabel, title=title)
    ax.grid(alpha=0.3, axis="y")
    ax.legend()
    return save_figure(fig, path)
