"""Evaluation (Sec. 6.3): AUC, GAUC (eq. (1)), log-loss and RelaImpr (eq. (10)) via pkg_shared.metrics."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from pkg_shared.metrics import auc, gauc, log_loss

from .model import CTRModel


def rela_impr(auc_model: float, auc_base: float) -> float:
    """RelaImpr in percent: ``((AUC(model) - 0.5) / (AUC(base) - 0.5) - 1) * 100`` (eq. (10))."""
    if auc_base == 0.5:
        raise ValueError("RelaImpr is undefined for a base model at AUC 0.5")
    return ((auc_model - 0.5) / (auc_base - 0.5) - 1.0) * 100.0


@torch.no_grad()
def predict(model: CTRModel, split: Mapping[str, torch.Tensor], batch_size: int = 4096) -> torch.Tensor:
    """Click probabilities for every row of an encoded split (eval mode: Dice uses running statistics)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(split["label"]), batch_size):
        batch = {k: v[start : start + batch_size].to(device) for k, v in split.items()}
        out.append(torch.sigmoid(model(batch)).cpu())
    model.train(was_training)
    return torch.cat(out)


def evaluate(model: CTRModel, split: Mapping[str, torch.Tensor], prefix: str = "") -> dict[str, float]:
    """``{auc, gauc, logloss}`` of ``model`` on ``split``; GAUC groups rows by user (impression-weighted).

    With the Amazon protocol each held-out user has one positive and k negatives, so a user's AUC is the
    fraction of negatives scored below the positive and GAUC averages it over users (official ``_eval``).
    """
    prob = predict(model, split)
    label = split["label"]
    values = {
        "auc": auc(label, prob),
        "gauc": gauc(label, prob, split["group"]),
        "logloss": log_loss(label, prob, labels=[0, 1]),
    }
    return {prefix + k: v for k, v in values.items()}
