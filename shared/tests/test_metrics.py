"""Tests of pkg_shared.metrics: the wrappers agree with scikit-learn, GAUC with a per-group loop."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

from pkg_shared import metrics
from pkg_shared.errors import UserError
from pkg_shared.metrics import MetricError

RNG = np.random.default_rng(0)
N = 500
BINARY = RNG.integers(0, 2, N)
PROB = RNG.random(N)
MULTI = RNG.integers(0, 4, N)
MULTI_PRED = RNG.integers(0, 4, N)
TARGET = RNG.normal(3.0, 1.0, N)
ESTIMATE = TARGET + RNG.normal(0.0, 0.5, N)

CASES = [
    (metrics.accuracy, skm.accuracy_score, MULTI, MULTI_PRED, {}),
    (metrics.f1, skm.f1_score, BINARY, (PROB > 0.5).astype(int), {}),
    (metrics.f1, skm.f1_score, MULTI, MULTI_PRED, {"average": "macro"}),
    (metrics.f1, skm.f1_score, MULTI, MULTI_PRED, {"average": "micro"}),
    (metrics.f1, skm.f1_score, MULTI, MULTI_PRED, {"average": "weighted"}),
    (metrics.auc, skm.roc_auc_score, BINARY, PROB, {}),
    (metrics.log_loss, skm.log_loss, BINARY, PROB, {}),
    (metrics.mse, skm.mean_squared_error, TARGET, ESTIMATE, {}),
    (metrics.rmse, skm.root_mean_squared_error, TARGET, ESTIMATE, {}),
    (metrics.mae, skm.mean_absolute_error, TARGET, ESTIMATE, {}),
    (metrics.mape, skm.mean_absolute_percentage_error, TARGET, ESTIMATE, {}),
    (metrics.r2, skm.r2_score, TARGET, ESTIMATE, {}),
]
IDS = [f"{case[0].__name__}-{case[4].get('average', '')}" for case in CASES]


@pytest.mark.parametrize(("ours", "theirs", "y_true", "y_pred", "kwargs"), CASES, ids=IDS)
def test_wrappers_equal_sklearn_for_arrays_lists_and_tensors(ours, theirs, y_true, y_pred, kwargs) -> None:
    expected = theirs(y_true, y_pred, **kwargs)
    tensor_pred = torch.tensor(y_pred, requires_grad=y_pred.dtype.kind == "f")
    for true, pred in [
        (y_true, y_pred),
        (y_true.tolist(), y_pred.tolist()),
        (torch.tensor(y_true), tensor_pred),
    ]:
        value = ours(true, pred, **kwargs)
        assert isinstance(value, float)
        assert value == pytest.approx(expected, rel=1e-6)


def test_accuracy_and_f1_take_class_scores() -> None:
    scores = RNG.normal(size=(N, 4))
    assert metrics.accuracy(MULTI, scores) == skm.accuracy_score(MULTI, scores.argmax(axis=1))
    assert metrics.accuracy(torch.tensor(MULTI), torch.tensor(scores)) == metrics.accuracy(MULTI, scores)
    expected = skm.f1_score(MULTI, scores.argmax(axis=1), average="macro")
    assert metrics.f1(MULTI, scores, average="macro") == pytest.approx(expected)


def test_log_loss_clips_like_sklearn_and_takes_class_probabilities() -> None:
    prob = np.array([0.0, 1.0, 1.0, 0.3])
    labels = np.array([0, 1, 0, 1])
    assert np.isfinite(metrics.log_loss(labels, prob))
    assert metrics.log_loss(labels, prob) == pytest.approx(skm.log_loss(labels, prob))
    probs = RNG.dirichlet(np.ones(4), N)
    assert metrics.log_loss(MULTI, probs) == pytest.approx(skm.log_loss(MULTI, probs))
    one_class = np.zeros(5, dtype=int)
    expected = skm.log_loss(one_class, np.full(5, 0.2), labels=[0, 1])
    assert metrics.log_loss(one_class, np.full(5, 0.2), labels=[0, 1]) == pytest.approx(expected)


def test_half_precision_tensors() -> None:
    prob = torch.tensor(PROB, dtype=torch.bfloat16)
    assert metrics.auc(BINARY, prob) == pytest.approx(skm.roc_auc_score(BINARY, prob.float().numpy()))


@pytest.mark.cuda
def test_cuda_tensors() -> None:
    pred = torch.tensor(ESTIMATE, device="cuda", requires_grad=True)
    assert metrics.mse(torch.tensor(TARGET, device="cuda"), pred) == pytest.approx(
        skm.mean_squared_error(TARGET, ESTIMATE)
    )


def gauc_by_loop(labels, scores, groups, weights=None) -> float:
    """The reference: one roc_auc_score per group with both classes, weighted by impressions."""
    total = weight_sum = 0.0
    for group in np.unique(groups):
        member = groups == group
        if np.unique(labels[member]).size < 2:
            continue
        weight = member.sum() if weights is None else weights[group]
        total += weight * skm.roc_auc_score(labels[member], scores[member])
        weight_sum += weight
    return total / weight_sum


def random_groups(seed: int, n: int = 1500, n_groups: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n_groups, n)
    click_rate = rng.choice([0.0, 0.3, 1.0], n_groups, p=[0.1, 0.8, 0.1])  # some single-class groups
    labels = (rng.random(n) < click_rate[groups]).astype(int)
    scores = np.round(rng.random(n) + 0.3 * labels, 1)  # rounded: many ties
    return labels, scores, groups


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gauc_equals_a_per_group_loop(seed: int) -> None:
    labels, scores, groups = random_groups(seed)
    expected = gauc_by_loop(labels, scores, groups)
    assert metrics.gauc(labels, scores, groups) == pytest.approx(expected, rel=1e-12)
    named = np.array([f"user{g}" for g in groups])
    assert metrics.gauc(labels.tolist(), torch.tensor(scores), named) == pytest.approx(expected, rel=1e-12)
    weights = {group: float(group % 7 + 1) for group in np.unique(groups)}
    expected = gauc_by_loop(labels, scores, groups, weights)
    assert metrics.gauc(labels, scores, groups, weights) == pytest.approx(expected, rel=1e-12)
    assert metrics.gauc(labels, scores, groups, pd.Series(weights)) == pytest.approx(expected, rel=1e-12)


def test_gauc_of_one_group_is_auc() -> None:
    scores = np.round(PROB, 1)
    expected = skm.roc_auc_score(BINARY, scores)
    assert metrics.gauc(BINARY, scores, np.zeros(N)) == pytest.approx(expected, rel=1e-12)
    assert metrics.gauc(BINARY * 2 - 1, scores, np.zeros(N)) == pytest.approx(expected, rel=1e-12)


def test_gauc_without_a_two_class_group_is_nan() -> None:
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(metrics.gauc([1, 0, 1], [0.2, 0.4, 0.5], ["a", "b", "c"]))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: metrics.accuracy([], []), "empty"),
        (lambda: metrics.mae(1.0, 2.0), "got a scalar"),
        (lambda: metrics.mse(np.ones(3), np.ones(4)), "3 samples but y_pred has 4"),
        (lambda: metrics.auc([0, 1, 1], [0.1, np.nan, 0.3]), "y_score contains NaN"),
        (lambda: metrics.r2(torch.tensor([1.0, float("nan")]), [1.0, 2.0]), "y_true contains NaN"),
        (lambda: metrics.accuracy([0, 1], [0.2, 0.7]), "accuracy_score"),
        (lambda: metrics.f1([0, 1, 2], [0, 1, 2], average="sideways"), "f1_score"),
        (lambda: metrics.gauc([], [], []), "empty"),
        (lambda: metrics.gauc([0, 1], [0.1, 0.2], [1, 1, 1]), "groups has 3"),
        (lambda: metrics.gauc([0, 1], [0.1, np.nan], [1, 1]), "scores contains NaN"),
        (lambda: metrics.gauc([0, 1, 2], [0.1, 0.2, 0.3], [1, 1, 1]), "binary labels"),
        (lambda: metrics.gauc([0, 1], [0.1, 0.2], ["a", None]), "missing"),
        (lambda: metrics.gauc([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], [1, 1, 2, 2], {1: 1.0}), "group"),
        (lambda: metrics.gauc([0, 1], [0.1, 0.2], [1, 1], {1: -1.0}), "non-negative"),
        (lambda: metrics.gauc([0, 1], [0.1, 0.2], [1, 1], {1: 0.0}), "zero total weight"),
    ],
)
def test_errors(call, match: str) -> None:
    with pytest.raises(MetricError, match=match):
        call()
    assert issubclass(MetricError, UserError)
