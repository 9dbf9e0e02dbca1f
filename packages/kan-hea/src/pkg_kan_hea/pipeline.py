"""Scaling, model building, fitting and cross-validation shared by the three examples (spec "Method", 5).

Inputs are scaled to the grid range [-1, 1] with the TRAIN split's min/max; inputs outside it at
inference are clipped and counted, with a warning (the splines are 0 outside the grid: only the SiLU
branch would extrapolate). Regression targets are standardised on the train split.
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold
from sklearn.neural_network import MLPClassifier, MLPRegressor
from torch import nn

from pkg_shared import metrics
from pkg_shared.data import DataError
from pkg_shared.errors import UserError
from pkg_shared.progress import progress
from pkg_shared.seed import seed_everything

from .config import MODELS, REFERENCE, ModelConfig, TrainConfig
from .data import Table
from .kan import KAN, MLP, EfficientKAN
from .train import train_model


class ExtrapolationWarning(UserWarning):
    """Inputs fell outside the training range (the KAN grid) and were clipped."""


@dataclass
class Scaler:
    """Min-max to [-1, 1] from training rows; targets standardised (regression)."""

    lo: np.ndarray
    hi: np.ndarray
    y_mean: np.ndarray | None = None
    y_std: np.ndarray | None = None

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray | None = None) -> Scaler:
        lo, hi = x.min(0), x.max(0)
        if y is None:
            return cls(lo, hi)
        return cls(lo, hi, y.mean(0), y.std(0) + 1e-8)

    def x(self, x: np.ndarray, warn: bool = True) -> torch.Tensor:
        span = np.where(self.hi > self.lo, self.hi - self.lo, 1.0)
        z = 2 * (x - self.lo) / span - 1
        outside = int(((z < -1 - 1e-6) | (z > 1 + 1e-6)).sum())
        if outside and warn:
            warnings.warn(f"{outside} input value(s) outside the training range were clipped to the grid [-1, 1]",
                          ExtrapolationWarning, stacklevel=2)  # fmt: skip
        return torch.as_tensor(np.clip(z, -1, 1), dtype=torch.float32)

    def y(self, y: np.ndarray) -> torch.Tensor:
        return torch.as_tensor((y - self.y_mean) / self.y_std, dtype=torch.float32)

    def y_inverse(self, z: np.ndarray) -> np.ndarray:
        return z * self.y_std + self.y_mean

    def state(self) -> dict:
        return {k: None if v is None else np.asarray(v).tolist() for k, v in vars(self).items()}

    @classmethod
    def from_state(cls, state: dict) -> Scaler:
        return cls(*(None if state[k] is None else np.asarray(state[k], dtype=np.float32)
                     for k in ("lo", "hi", "y_mean", "y_std")))  # fmt: skip


def out_dim(table: Table) -> int:
    return int(table.y.max()) + 1 if table.task == "classification" else table.y.shape[1]


PYKAN_MISSING = "pykan is not installed: pip install 'pkg-kan-hea[pykan]' (pykan 0.2.8, the reference KAN)"


def pykan_available() -> bool:
    """Whether pykan (import name ``kan``) can be imported; it is an optional extra, never required."""
    return importlib.util.find_spec("kan") is not None


def pykan_network(width: list[int], cfg: ModelConfig, seed: int) -> nn.Module:
    """pykan 0.2.8's own ``KAN`` of the same widths and grid (no checkpoints written, symbolic branch off)."""
    if not pykan_available():
        raise UserError(PYKAN_MISSING)
    from kan import KAN as PyKAN

    return PyKAN(width=width, grid=cfg.grid_size, k=cfg.k, seed=seed, auto_save=False, save_act=False,
                 symbolic_enabled=False)  # fmt: skip


def build(kind: str, d_in: int, d_out: int, cfg: ModelConfig, seed: int = 0) -> nn.Module:
    """A ``kan``, ``efficient-kan``, ``mlp`` or ``pykan`` network of the example's widths."""
    if kind == "kan":
        return KAN([d_in, *cfg.kan_hidden, d_out], cfg.grid_size, cfg.k)
    if kind == "efficient-kan":
        return EfficientKAN([d_in, *cfg.kan_hidden, d_out], cfg.grid_size, cfg.k)
    if kind == "mlp":
        return MLP([d_in, *cfg.mlp_hidden, d_out])
    if kind == REFERENCE:
        return pykan_network([d_in, *cfg.kan_hidden, d_out], cfg, seed)
    raise UserError(
        f"model must be one of {(*MODELS, REFERENCE)} (sklearn-mlp only in cross-validation), got {kind!r}"
    )


def predict(model: nn.Module, scaler: Scaler, x: np.ndarray, task: str) -> np.ndarray:
    """Class probabilities ``(n, C)`` or targets in original units ``(n, t)``."""
    with torch.no_grad():
        out = model(scaler.x(x)).numpy()
    if task == "classification":
        return torch.softmax(torch.as_tensor(out), -1).numpy()
    return scaler.y_inverse(out)


def fit(kind: str, table: Table, rows: np.ndarray, cfg: ModelConfig, train: TrainConfig, seed: int):
    """Train one model on ``rows``; returns ``(model, scaler)`` (sklearn estimators return themselves)."""
    seed_everything(seed)
    x, y = table.x[rows], table.y[rows]
    scaler = Scaler.fit(x, None if table.task == "classification" else y)
    if kind == "sklearn-mlp":
        est_cls = MLPClassifier if table.task == "classification" else MLPRegressor
        est = est_cls(
            hidden_layer_sizes=cfg.mlp_hidden,
            learning_rate_init=train.lr,
            alpha=train.weight_decay,
            max_iter=train.steps,
            batch_size=len(x),
            random_state=seed,
        )  # full batch, as the torch MLP
        target = y if table.task == "classification" else scaler.y(y).numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(scaler.x(x).numpy(), target)
        return est, scaler
    model = build(kind, x.shape[1], out_dim(table), cfg, seed)
    target = torch.as_tensor(y) if table.task == "classification" else scaler.y(y)
    train_model(model, scaler.x(x), target, table.task, train)
    return model, scaler


def predict_any(model, scaler: Scaler, x: np.ndarray, task: str) -> np.ndarray:
    if isinstance(model, nn.Module):
        return predict(model, scaler, x, task)
    z = scaler.x(x, warn=False).numpy()
    if task == "classification":
        return model.predict_proba(z)
    return scaler.y_inverse(model.predict(z).reshape(len(x), -1))


def score(table: Table, rows: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """F1 (positive class), macro-F1, accuracy, balanced accuracy, ROC-AUC; or MSE and R2 per target."""
    y = table.y[rows]
    if table.task == "classification":
        from sklearn.metrics import balanced_accuracy_score

        labels = pred.argmax(1)
        return {"f1": metrics.f1(y, labels), "macro_f1": metrics.f1(y, labels, average="macro"),
                "accuracy": metrics.accuracy(y, labels), "balanced_accuracy": float(balanced_accuracy_score(y, labels)),
                "roc_auc": metrics.auc(y, pred[:, 1])}  # fmt: skip
    out = {}
    for t, name in enumerate(table.targets):
        out[f"mse_{name}"] = metrics.mse(y[:, t], pred[:, t])
        out[f"r2_{name}"] = metrics.r2(y[:, t], pred[:, t])
    return out


def folds(table: Table, n_folds: int, seed: int, grouped: bool = True) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified (classification) and grouped-by-formula (when groups exist and ``grouped``) K folds.

    A fold count the table cannot take (more folds than rows, groups or members of the smallest class)
    is a :class:`DataError` naming the table, never a scikit-learn ValueError or a fold with one class.
    """
    n = len(table)
    if table.task == "classification":
        smallest = int(np.bincount(table.y).min())
        if smallest < n_folds:
            raise DataError(
                f"{table.name} ({n} rows) cannot be split into {n_folds} folds: its smallest class has "
                f"{smallest} rows, and every test fold needs both classes"
            )
    try:
        if table.groups is not None and grouped:
            if table.task == "classification":
                split = StratifiedGroupKFold(n_folds, shuffle=True, random_state=seed)
                return list(split.split(table.x, table.y, table.groups))
            order = np.random.default_rng(seed).permutation(n)  # GroupKFold has no shuffle: permute the rows
            return [
                (order[a], order[b]) for a, b in GroupKFold(n_folds).split(order, groups=table.groups[order])
            ]
        if table.task == "classification":
            return list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(table.x, table.y))
        return list(KFold(n_folds, shuffle=True, random_state=seed).split(table.x))
    except ValueError as e:
        raise DataError(f"{table.name} ({n} rows) cannot be split into {n_folds} folds: {e}") from None


def cross_validate(table: Table, kinds: tuple[str, ...], cfg: ModelConfig, train: TrainConfig, n_folds: int,
                   seed: int, grouped: bool = True, quiet: bool = True, desc: str = "") -> dict[str, dict[str, float]]:  # fmt: skip
    """Mean of each metric over the folds, per model; every model sees exactly the same folds.

    Progress (one line every 20 s off a terminal, a bar on one) over the model x fold fits unless ``quiet``.
    """
    splits = folds(table, n_folds, seed, grouped)
    scores: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
    jobs = [(kind, tr, te) for kind in kinds for tr, te in splits]
    for kind, tr, te in progress(jobs, quiet=quiet, desc=desc or f"{table.name}: model x fold fits"):
        model, scaler = fit(kind, table, tr, cfg, train, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExtrapolationWarning)
            scores[kind].append(score(table, te, predict_any(model, scaler, table.x[te], table.task)))
    return {kind: {k: float(np.mean([r[k] for r in rows])) for k in rows[0]} for kind, rows in scores.items()}
