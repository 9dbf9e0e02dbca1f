"""The figures ``reproduce`` writes into the run folder's ``plots/``.

- ``agreement_per_method.png``: accuracy and Cohen's kappa against the human labels, per method and
  backend measured in the run (stub baselines and WideDeep; SmolLM2 and the ``full`` model server where
  they ran). The value axes are zoomed to the measured range (they do not start at 0, which would hide
  the differences); every bar carries its value.
- ``cost_per_method.png``: LLM calls and tokens per sample of the same methods (from 0: a cost ratio).
- ``accuracy_per_source.png``: the length stub's accuracy per LLMEval² source dataset, where the
  "longer answer wins" bias agrees with the human labels and where it does not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pkg_shared.plots import plt, save_figure


def methods(per_seed: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """``{method label: {accuracy, kappa, calls_per_sample, tokens_per_sample}}``, means over seeds."""
    rows: dict[str, list[Mapping[str, float]]] = {}
    for seed_row in per_seed:
        for key, prefix in (("stub_methods", "stub "), ("small_methods", ""), ("full_methods", "server ")):
            for name, values in (seed_row.get(key) or {}).items():
                rows.setdefault(prefix + name, []).append(values)
    return {name: {k: sum(v[k] for v in vs) / len(vs) for k in vs[0]} for name, vs in rows.items()}


def _zoomed(values: Sequence[float]) -> tuple[float, float]:
    finite = [v for v in values if math.isfinite(v)] or [0.0]
    low, high = min(finite), max(finite)
    pad = max(0.05, 0.25 * (high - low))
    return low - pad, high + pad


def _bars(ax: Any, labels: Sequence[str], values: Sequence[float], title: str, zoom: bool, fmt: str) -> None:
    shown = [v if math.isfinite(v) else 0.0 for v in values]
    bars = ax.bar(range(len(labels)), shown, color=[f"C{i}" for i in range(len(labels))])
    for bar, v in zip(bars, values):
        ax.annotate(fmt.format(v) if math.isfinite(v) else "n/a", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8)  # fmt: skip
    if zoom:
        ax.set_ylim(*_zoomed(values))
        ax.set_title(f"{title} (axis zoomed, not from 0)", fontsize=9)
    else:
        ax.set_title(title, fontsize=9)
    ax.set_xticks(range(len(labels)), labels, rotation=25, ha="right", fontsize=8)
    ax.grid(alpha=0.3, axis="y")


def write_figures(per_seed: Sequence[Mapping[str, Any]], folder: str | Path) -> list[Path]:
    """Write the three figures (see the module docstring) into ``folder``; their paths."""
    folder = Path(folder)
    table = methods(per_seed)
    names = list(table)
    written = []
    if names:
        fig, axes = plt.subplots(1, 2, figsize=(9, 4))
        for ax, key in zip(axes, ("accuracy", "kappa")):
            _bars(ax, names, [table[n][key] for n in names], key, zoom=True, fmt="{:.3f}")
        fig.suptitle("agreement with the human labels, per method", fontsize=10)
        written.append(save_figure(fig, folder / "agreement_per_method.png"))

        fig, axes = plt.subplots(1, 2, figsize=(9, 4))
        for ax, key in zip(axes, ("calls_per_sample", "tokens_per_sample")):
            fmt = "{:.2f}" if key == "calls_per_sample" else "{:,.0f}"
            _bars(ax, names, [table[n][key] for n in names], key.replace("_", " "), zoom=False, fmt=fmt)
        fig.suptitle("cost per sample, per method", fontsize=10)
        written.append(save_figure(fig, folder / "cost_per_method.png"))

    first = per_seed[0] if per_seed else {}
    per_source = first.get("stub_per_source_accuracy") or {}
    if first.get("stub_data") == "llmeval2" and per_source:
        sources = sorted(per_source, key=lambda k: per_source[k])
        values = [per_source[k] for k in sources]
        fig, ax = plt.subplots(figsize=(7, 0.3 * len(sources) + 1.5))
        ax.barh(range(len(sources)), values, color="C0")
        ax.set_yticks(range(len(sources)), sources, fontsize=8)
        overall = first.get("stub_accuracy")
        if isinstance(overall, float):
            ax.axvline(overall, color="C3", linestyle="--", label=f"all samples {overall:.3f}")
            ax.legend(fontsize=8)
        ax.set_xlim(max(0.0, min(values) - 0.05), min(1.0, max(values) + 0.05))
        ax.set(xlabel="accuracy against the human labels (axis zoomed)",
               title="length stub ('longer answer wins') per LLMEval² source")  # fmt: skip
        ax.grid(alpha=0.3, axis="x")
        written.append(save_figure(fig, folder / "accuracy_per_source.png"))
    return written
