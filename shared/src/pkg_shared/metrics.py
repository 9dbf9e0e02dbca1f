"""Evaluation metrics: thin wrappers over scikit-learn, plus the group AUC of the DIN paper.

Every function takes numpy arrays, lists or torch tensors (on any device; they are detached and moved
to the CPU), checks them (not empty, same length, no NaN) and returns a Python float. Bad input, and
what scikit-learn rejects as such, raises :class:`MetricError`.
"""

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

from pkg_shared.errors import UserError

ArrayLike = np.ndarray | torch.Tensor | Sequence[Any]


class MetricError(UserError):
    """Inputs a metric cannot be computed on: empty, of different lengths, or holding NaN."""


def _array(values: ArrayLike, name: str) -> np.ndarray:
    """``values`` as a numpy array; tensors are detached and copied to the CPU."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu()
        values = (values.float() if values.dtype == torch.bfloat16 else values).numpy()
    array = np.asarray(values)
    if array.ndim == 0:
        raise MetricError(f"{name} must hold one value per sample, got a scalar")
    if array.size == 0:
        raise MetricError(f"{name} is empty: a metric needs at least one sample")
    if array.dtype.kind in "fc" and np.isnan(array).any():
        raise MetricError(f"{name} contains NaN")
    return array


def _pair(
    y_true: ArrayLike, y_pred: ArrayLike, names: tuple[str, str] = ("y_true", "y_pred")
) -> tuple[np.ndarray, np.ndarray]:
    """Targets and predictions as numpy arrays with as many rows; ``names`` name them in errors."""
    true, pred = _array(y_true, names[0]), _array(y_pred, names[1])
    if len(true) != len(pred):
        raise MetricError(f"{names[0]} has {len(true)} samples but {names[1]} has {len(pred)}")
    return true, pred


def _sklearn(metric: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    """Call a scikit-learn metric, reporting the inputs it rejects as MetricError."""
    try:
        return float(metric(*args, **kwargs))
    except ValueError as err:
        raise MetricError(f"{metric.__name__}: {err}") from err


def _labels(pred: np.ndarray) -> np.ndarray:
    """Class labels from labels ``(N,)`` or from scores ``(N, C)`` (their argmax)."""
    return pred.argmax(axis=1) if pred.ndim == 2 else pred


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Fraction of correct predictions; ``y_pred`` holds labels ``(N,)`` or class scores ``(N, C)``."""
    true, pred = _pair(y_true, y_pred)
    return _sklearn(skm.accuracy_score, true, _labels(pred))


def f1(y_true: ArrayLike, y_pred: ArrayLike, average: str = "binary") -> float:
    """F1 score; ``y_pred`` holds labels ``(N,)`` or class scores ``(N, C)``.

    ``average`` is ``sklearn.metrics.f1_score``'s: ``"binary"``, ``"micro"``, ``"macro"`` or ``"weighted"``.
    """
    true, pred = _pair(y_true, y_pred)
    return _sklearn(skm.f1_score, true, _labels(pred), average=average)


def auc(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Area under the ROC curve of binary labels (``roc_auc_score``); NaN, with a warning, for one class."""
    true, score = _pair(y_true, y_score, ("y_true", "y_score"))
    return _sklearn(skm.roc_auc_score, true, score)


def log_loss(y_true: ArrayLike, y_prob: ArrayLike, labels: ArrayLike | None = None) -> float:
    """Cross-entropy of predicted probabilities (``sklearn.metrics.log_loss``, which clips them).

    ``y_prob`` is the positive-class probability ``(N,)`` or the class probabilities ``(N, C)``;
    ``labels`` lists the classes when ``y_true`` does not show them all.
    """
    true, prob = _pair(y_true, y_prob, ("y_true", "y_prob"))
    return _sklearn(skm.log_loss, true, prob, labels=None if labels is None else _array(labels, "labels"))


def mse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean squared error."""
    return _sklearn(skm.mean_squared_error, *_pair(y_true, y_pred))


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error."""
    return _sklearn(skm.root_mean_squared_error, *_pair(y_true, y_pred))


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute error."""
    return _sklearn(skm.mean_absolute_error, *_pair(y_true, y_pred))


def mape(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute percentage error, as a fraction (0.1 is 10 %), scikit-learn's guard for zero targets."""
    return _sklearn(skm.mean_absolute_percentage_error, *_pair(y_true, y_pred))


def r2(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Coefficient of determination R^2."""
    return _sklearn(skm.r2_score, *_pair(y_true, y_pred))


def gauc(
    labels: ArrayLike,
    scores: ArrayLike,
    groups: ArrayLike,
    weights: Mapping[Any, float] | pd.Series | None = None,
) -> float:
    """Group AUC of DIN (Zhou et al., KDD 2018, eq. (1)): per-group AUCs averaged with group weights.

    .. math:: \\mathrm{GAUC} = \\frac{\\sum_i w_i \\, \\mathrm{AUC}_i}{\\sum_i w_i}

    where group ``i`` is a user and ``w_i`` its impression count (its number of rows), or
    ``weights[group]`` when ``weights`` maps every group to a weight. Groups whose labels are all one
    class have no AUC and are skipped; when no group has both classes the result is NaN, with a warning
    (as ``roc_auc_score`` does for one class).

    Each ``AUC_i`` is the Mann-Whitney statistic on the group's average ranks,
    ``(R_i - P_i (P_i + 1) / 2) / (P_i N_i)`` with ``R_i`` the rank sum of the ``P_i`` positives and
    ``N_i`` negatives; average ranks count a tied positive-negative pair as 1/2, as ``roc_auc_score``.
    The positive class is the larger of the (at most two) label values.
    """
    true, score = _pair(labels, scores, ("labels", "scores"))
    group = _array(groups, "groups")
    if len(group) != len(true):
        raise MetricError(f"labels have {len(true)} samples but groups has {len(group)}")
    if true.ndim != 1 or score.ndim != 1 or group.ndim != 1:
        raise MetricError("gauc takes one-dimensional labels, scores and groups")
    classes = np.unique(true)
    if classes.size > 2:
        raise MetricError(f"gauc needs binary labels, got {classes.size} classes")
    codes, uniques = pd.factorize(group)
    if (codes < 0).any():
        raise MetricError("groups contains missing values")
    positive = (true == classes[-1]).astype(np.float64)
    ranks = pd.Series(score).groupby(codes).rank(method="average").to_numpy()
    n_rows = np.bincount(codes).astype(np.float64)
    n_pos = np.bincount(codes, weights=positive)
    rank_sum = np.bincount(codes, weights=ranks * positive)
    n_neg = n_rows - n_pos
    scored = (n_pos > 0) & (n_neg > 0)
    if not scored.any():
        warnings.warn(
            "gauc: no group has both classes; GAUC is not defined", UndefinedMetricWarning, stacklevel=2
        )
        return float("nan")
    group_auc = (rank_sum - n_pos * (n_pos + 1) / 2)[scored] / (n_pos * n_neg)[scored]
    group_weight = n_rows if weights is None else _group_weights(weights, uniques)
    if group_weight[scored].sum() <= 0:
        raise MetricError("gauc: the groups with both classes have zero total weight")
    return float(np.average(group_auc, weights=group_weight[scored]))


def _group_weights(weights: Mapping[Any, float] | pd.Series, uniques: Any) -> np.ndarray:
    """One weight per group of ``uniques``, from a mapping or Series keyed by group."""
    values = pd.Series(weights).reindex(uniques).to_numpy(dtype=np.float64)
    if np.isnan(values).any():
        raise MetricError(
            f"weights has no (or a NaN) weight for group(s) {list(uniques[np.isnan(values)][:5])}"
        )
    if (values < 0).any() or not np.isfinite(values).all():
        raise MetricError("weights must be finite and non-negative")
    return values
