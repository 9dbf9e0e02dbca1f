import math

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from pkg_widedeep_eval.scoring import agreement, kappa


def test_kappa_hand_table():
    # 3x3 confusion table (rows human, columns predicted), model1 / model2 / TIE:
    table = np.array([[20, 5, 5], [4, 18, 3], [6, 2, 7]])
    human, pred = [], []
    labels = ["model1", "model2", "TIE"]
    for i, h in enumerate(labels):
        for j, p in enumerate(labels):
            human += [h] * table[i, j]
            pred += [p] * table[i, j]
    n = table.sum()
    po = np.trace(table) / n
    pe = (table.sum(1) * table.sum(0)).sum() / n**2
    assert kappa(human, pred) == pytest.approx((po - pe) / (1 - pe), abs=1e-12)
    assert kappa(human, pred) == pytest.approx(cohen_kappa_score(human, pred), abs=1e-12)


def test_kappa_undefined_is_nan():
    assert math.isnan(kappa(["TIE", "TIE"], ["TIE", "TIE"]))


def _row(dataset, human, verdict, calls=3):
    usage = {"calls": calls, "cache_hits": 1, "prompt_tokens": 10, "completion_tokens": 5, "tokens": 15}
    return {
        "dataset": dataset,
        "human": human,
        "verdict": verdict,
        "usage": usage,
        "reviews_total": 2,
        "score_fallbacks": 1,
    }


def test_agreement_per_dataset_and_cost():
    rows = [
        _row("a", "model1", "model1"),
        _row("a", "model2", "TIE"),
        _row("b", "TIE", "TIE"),
        _row("b", None, "model1"),
    ]
    rep = agreement(rows)
    assert rep["overall"]["n"] == 4 and rep["overall"]["labelled"] == 3
    assert rep["overall"]["accuracy"] == pytest.approx(2 / 3)
    assert rep["per_dataset"]["a"]["accuracy"] == 0.5
    assert rep["overall"]["calls"] == 12 and rep["overall"]["tokens"] == 60
    assert rep["overall"]["fallback_rate"] == 0.5 and rep["overall"]["ties"] == 2


def test_paired_gain_and_its_standard_error():
    from pkg_widedeep_eval.scoring import paired_gain

    labels = ["model1", "model2", "TIE"] * 40
    base = [{"id": i, "human": h, "verdict": "model1"} for i, h in enumerate(labels)]
    same = paired_gain(base, base, n_boot=50)
    assert same["kappa_gain"] == 0 and same["kappa_se"] == 0 and same["accuracy_se"] == 0
    perfect = [{"id": i, "human": h, "verdict": h} for i, h in enumerate(labels)]
    g = paired_gain(base, list(reversed(perfect)), n_boot=200)  # matched by id, not by position
    assert g["accuracy_new"] == 1.0 and g["accuracy_base"] == pytest.approx(1 / 3)
    assert g["kappa_gain"] == pytest.approx(1.0) and 0 < g["accuracy_se"] < 0.1


def test_fast_bootstrap_kappa_equals_sklearn():
    from pkg_widedeep_eval.scoring import LABELS, _fast_kappa

    rng = np.random.default_rng(0)
    h, p = rng.integers(0, 3, 300), rng.integers(0, 3, 300)
    p[:150] = h[:150]
    expected = cohen_kappa_score([LABELS[i] for i in h], [LABELS[i] for i in p])
    assert _fast_kappa(h, p) == pytest.approx(expected, abs=1e-12)
