"""FuxiCTR's training protocol (Sec. 4.1, spec "Method" 5-6) on top of ``pkg_shared.train.fit``.

Loss per batch: mean binary cross-entropy + ``emb_reg / 2 * ||all embedding tables||^2`` (whole tables,
every step) + ``net_reg / 2 * ||other weights||^2``. After every epoch the whole validation split is
scored; AUC is monitored: no improvement (by ``min_delta``) multiplies the learning rate by 0.1
(``ReduceLROnPlateau(patience=0)``, FuxiCTR's ``reduce_lr_on_plateau``), ``patience`` such epochs stop
training, and the best epoch's weights are reloaded before the test split is scored. Gradients are
clipped to norm 10 as FuxiCTR's ``fit`` does by default.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from pkg_shared.ctr import Batches, check_splits, ctr_scores
from pkg_shared.ctr import predict as ctr_predict
from pkg_shared.seed import seed_everything
from pkg_shared.train import fit

from .config import ModelConfig, TrainConfig
from .data import CTRData
from .model import CTRModel

EVAL_BATCH = 16384


def ctr_metrics(y_true: np.ndarray, prob: np.ndarray) -> dict[str, float]:
    """AUC (``roc_auc_score``) and log-loss with probabilities clipped to ``[1e-7, 1 - 1e-7]`` (FuxiCTR)."""
    return ctr_scores(y_true, prob)


def predict(model: CTRModel, data: CTRData, split: str, device: torch.device | str = "cpu") -> np.ndarray:
    """Click probabilities for every row of ``split`` (eval mode, batches of 16384; pkg_shared.ctr.predict)."""
    return ctr_predict(model, data.table(split), batch_size=EVAL_BATCH, device=device)


def evaluate_split(
    model: CTRModel, data: CTRData, split: str, device: torch.device | str = "cpu"
) -> dict[str, float]:
    """AUC and log-loss on the whole ``split`` (never averaged over batches)."""
    return ctr_metrics(data.y[split].numpy(), predict(model, data, split, device))


def loss_fn(model: CTRModel, batch: dict[str, torch.Tensor], cfg: TrainConfig) -> torch.Tensor:
    """BCE (mean over the batch) + embedding L2 over whole tables + optional net L2 (spec "Method" 5)."""
    loss = F.binary_cross_entropy_with_logits(model(batch), batch["label"])
    if cfg.emb_reg:
        loss = loss + cfg.emb_reg * model.embedding_l2()
    if cfg.net_reg:
        loss = loss + cfg.net_reg * model.net_l2()
    return loss


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Adam:
    """Adam with ``cfg.lr`` (FuxiCTR's optimizer), the fused kernel: one update for all parameters."""
    return torch.optim.Adam(model.parameters(), lr=cfg.lr, fused=True)


@dataclass
class TrainResult:
    """A trained model's scores: best validation AUC, test AUC / log-loss, history, timing."""

    val_auc: float
    val_logloss: float
    test_auc: float
    test_logloss: float
    best_epoch: int | None
    epochs: int
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "history"}


def train_model(
    data: CTRData,
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    *,
    seed: int,
    device: torch.device | str = "cpu",
    quiet: bool = True,
    log: Callable[..., None] | None = None,
    checkpoint_dir: str | Path | None = None,
    settings: dict[str, Any] | None = None,
    desc: str = "train",
) -> tuple[CTRModel, TrainResult]:
    """Train one model with the protocol above; returns it (best weights) and its :class:`TrainResult`."""
    train_cfg.validate()
    check_splits(data.y, data.name)  # a missing validation split is an error, never the test split
    seed_everything(seed)
    model = CTRModel(data.fields, model_cfg).to(device)
    optimizer = make_optimizer(model, train_cfg)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="max", factor=train_cfg.lr_factor, patience=0,
        threshold=train_cfg.min_delta, threshold_mode="abs", min_lr=train_cfg.min_lr,
    )  # fmt: skip
    batches = Batches(data.table("train"), train_cfg.batch_size, shuffle=True, seed=seed)

    def evaluate(m: torch.nn.Module) -> dict[str, float]:
        scores = evaluate_split(m, data, "valid", device)
        return {"val_auc": scores["auc"], "val_logloss": scores["logloss"]}

    t0 = time.perf_counter()
    result = fit(
        model, optimizer, batches, epochs=train_cfg.epochs,
        step=lambda m, b: loss_fn(m, b, train_cfg), evaluate=evaluate, scheduler=scheduler,
        device=device, grad_clip=train_cfg.max_grad_norm, monitor="val_auc", mode="max", patience=train_cfg.patience, restore_best=True,
        checkpoint_dir=checkpoint_dir, settings=settings, log=log, quiet=quiet, desc=desc,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    best = max(result.history, key=lambda row: row["val_auc"])
    test = evaluate_split(model, data, "test", device)
    return model, TrainResult(
        val_auc=best["val_auc"], val_logloss=best["val_logloss"], test_auc=test["auc"],
        test_logloss=test["logloss"], best_epoch=result.best_epoch, epochs=len(result.history),
        seconds=seconds, history=result.history,
    )  # fmt: skip
