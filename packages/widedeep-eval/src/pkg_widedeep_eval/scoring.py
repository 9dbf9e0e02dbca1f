"""Agreement with the human labels (accuracy and Cohen's kappa over model1 / model2 / TIE) and cost.

Kappa is scikit-learn's ``cohen_kappa_score`` over the three labels, as in the paper (Sec. 4): per
source dataset and overall. Samples without a human label count for cost only.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import cohen_kappa_score

from .network import LABELS


def kappa(human: Sequence[str], predicted: Sequence[str]) -> float:
    """Cohen's kappa over the labels model1 / model2 / TIE (NaN when undefined: one label everywhere)."""
    if len(human) == 0:
        return math.nan
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        value = cohen_kappa_score(list(human), list(predicted), labels=list(LABELS))
    return float(value)


def agreement(results: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Accuracy, kappa, counts, cost and fallback rate of one method's results.

    Returns ``{"overall": {...}, "per_dataset": {source: {...}}}``; each entry holds ``n, accuracy,
    kappa`` (over labelled samples), ``calls, cache_hits, prompt_tokens, completion_tokens, tokens``,
    ``fallback_rate`` (share of reviews whose scores fell back to (0, 0)) and ``ties`` (predicted TIE).
    """
    rows = list(results)
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault(str(r.get("dataset")), []).append(r)

    def stats(rs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        labelled = [r for r in rs if r.get("human") in LABELS]
        human = [r["human"] for r in labelled]
        pred = [r["verdict"] for r in labelled]
        usage = {
            k: sum(r["usage"][k] for r in rs)
            for k in ("calls", "cache_hits", "prompt_tokens", "completion_tokens", "tokens")
        }
        reviews = sum(r["reviews_total"] for r in rs)
        return {
            "n": len(rs),
            "labelled": len(labelled),
            "accuracy": float(np.mean([h == p for h, p in zip(human, pred)])) if labelled else math.nan,
            "kappa": kappa(human, pred),
            **usage,
            "fallback_rate": sum(r["score_fallbacks"] for r in rs) / reviews if reviews else 0.0,
            "ties": sum(r["verdict"] == "TIE" for r in rs),
        }

    return {"overall": stats(rows), "per_dataset": {k: stats(v) for k, v in sorted(groups.items())}}


def format_report(reports: Mapping[str, Mapping[str, Any]], per_dataset: bool = True) -> str:
    """Methods side by side: accuracy, kappa, calls, tokens, fallback rate (and per source dataset)."""
    head = f"{'method':<10} {'source':<24} {'n':>5} {'acc':>6} {'kappa':>7} {'calls':>7} {'tokens':>9} {'fallback':>8}"
    lines = [head, "-" * len(head)]

    def row(method: str, source: str, s: Mapping[str, Any]) -> str:
        return (
            f"{method:<10} {source:<24} {s['n']:>5} {s['accuracy']:>6.3f} {s['kappa']:>7.3f} "
            f"{s['calls']:>7} {s['tokens']:>9} {s['fallback_rate']:>8.3f}"
        )

    for method, rep in reports.items():
        lines.append(row(method, "all", rep["overall"]))
        if per_dataset:
            lines += [row(method, src, s) for src, s in rep["per_dataset"].items()]
    return "\n".join(lines)
