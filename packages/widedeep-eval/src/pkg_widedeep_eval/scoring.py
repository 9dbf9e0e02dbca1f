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

LABELS = ("model1", "model2", "TIE")


def kappa(human: Sequence[str], predicted: Sequence[str]) -> float:
    """Cohen's kappa over the labels model1 / model2 / TIE (NaN when undefined: one label everywhere)."""
    if len(human) == 0:
        return math.nan
    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import cohen_kappa_score

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


def paired_gain(
    base: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]], n_boot: int = 1000, seed: int = 0
) -> dict[str, float]:
    """Kappa and accuracy of ``base`` and ``new`` on the same labelled samples, their gains (new - base) and
    the standard errors of the gains from a paired bootstrap over samples (``n_boot`` resamples).

    The two result lists must hold the same sample ids (any order).
    """
    by_id = {r["id"]: r for r in new}
    pairs = [(r["human"], r["verdict"], by_id[r["id"]]["verdict"]) for r in base if r.get("human") in LABELS]
    if not pairs or len(by_id) != len(base):
        raise ValueError("paired_gain needs two results over the same labelled samples")
    human, b, n = (np.array(x) for x in zip(*pairs))
    code = {label: i for i, label in enumerate(LABELS)}
    hc, bc, nc = (np.array([code[v] for v in x]) for x in (human, b, n))
    rng = np.random.default_rng(seed)
    kappa_gain, acc_gain = [], []
    for _ in range(n_boot):
        i = rng.integers(0, len(hc), len(hc))
        kappa_gain.append(_fast_kappa(hc[i], nc[i]) - _fast_kappa(hc[i], bc[i]))
        acc_gain.append(float(np.mean(hc[i] == nc[i]) - np.mean(hc[i] == bc[i])))
    out = {
        "kappa_base": kappa(human, b),
        "kappa_new": kappa(human, n),
        "accuracy_base": float(np.mean(human == b)),
        "accuracy_new": float(np.mean(human == n)),
        "kappa_se": float(np.std(kappa_gain, ddof=1)),
        "accuracy_se": float(np.std(acc_gain, ddof=1)),
    }
    out["kappa_gain"] = out["kappa_new"] - out["kappa_base"]
    out["accuracy_gain"] = out["accuracy_new"] - out["accuracy_base"]
    return out


def _fast_kappa(human: np.ndarray, predicted: np.ndarray) -> float:
    """Cohen's kappa of label codes 0..2 from the 3x3 confusion table (as scikit-learn; 0 where undefined)."""
    table = np.bincount(3 * human + predicted, minlength=9).reshape(3, 3).astype(float)
    total = table.sum()
    observed = np.trace(table) / total
    chance = float((table.sum(0) * table.sum(1)).sum()) / total**2
    return 0.0 if chance == 1.0 else float((observed - chance) / (1.0 - chance))
