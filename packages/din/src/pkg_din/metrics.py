"""Evaluation (Sec. 6.3): AUC, GAUC (eq. (1)), log-loss and RelaImpr (eq. (10)) via pkg_shared.metrics."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from pkg_shared.ctr import ctr_scores, predict
from pkg_shared.errors import UserError

from .model import CTRModel


def rela_impr(auc_model: float, auc_base: float) -> float:
    """RelaImpr in percent: ``((AUC(model) - 0.5) / (AUC(base) - 0.5) - 1) * 100`` (eq. (10))."""
    if auc_base == 0.5:
        raise UserError("RelaImpr is undefined for a base model at AUC 0.5")
    return ((auc_model - 0.5) / (auc_base - 0.5) - 1.0) * 100.0


def evaluate(model: CTRModel, split: Mapping[str, torch.Tensor], prefix: str = "") -> dict[str, float]:
    """``{auc, gauc, logloss}`` of ``model`` on ``split``; GAUC groups rows by user (impression-weighted).

    With the Amazon protocol each held-out user has one positive and k negatives, so a user's AUC is the
    fraction of negatives scored below the positive and GAUC averages it over users (official ``_eval``).
    Probabilities come from :func:`pkg_shared.ctr.predict` (eval mode: Dice uses running statistics).
    """
    prob = predict(model, split)
    values = ctr_scores(split["label"].numpy(), prob, split["group"].numpy())
    return {prefix + k: v for k, v in values.items()}
