"""Training (Sec. 6.1): mean log-loss plus the chosen regulariser, through ``pkg_shared.train.fit``.

Paper and official code: SGD, lr 1.0, batch 32, lr decayed to 0.1, global-norm gradient clipping at 5,
GAUC evaluated regularly and the best model kept. Here the validation GAUC is evaluated after every
epoch and the best epoch's weights are restored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from pkg_shared.ctr import Batches, check_splits
from pkg_shared.seed import seed_everything
from pkg_shared.train import fit

from .config import ModelConfig, TrainConfig
from .metrics import evaluate
from .model import CTRModel
from .protocols import CTRData
from .regularisation import feature_counts, frequent_items, l2_penalty, mba_penalty


def build_model(data: CTRData, model_cfg: ModelConfig, train_cfg: TrainConfig) -> CTRModel:
    """The model for ``data``; the "dropout" and "filter" regularisers are part of the model."""
    if train_cfg.reg == "dropout":
        model_cfg = replace(model_cfg, dropout=train_cfg.dropout)
    model = CTRModel(data.schema, model_cfg, data.cate_list)
    if train_cfg.reg == "filter":
        counts = feature_counts(model, data.splits["train"])["item"]
        model.item_keep = frequent_items(counts, train_cfg.filter_min_count)
    return model


def loss_step(model: CTRModel, cfg: TrainConfig, counts: Mapping[str, torch.Tensor] | None) -> Callable:
    """``step(model, batch) -> loss``: mean binary cross-entropy (the paper's NLL) + the regulariser."""

    def step(m: CTRModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        loss = F.binary_cross_entropy_with_logits(m(batch), batch["label"])
        if cfg.reg == "mba":
            loss = loss + mba_penalty(m, batch, counts, cfg.reg_lambda)
        elif cfg.reg == "l2":
            loss = loss + l2_penalty(m, cfg.reg_lambda)
        return loss

    return step


def train_model(
    data: CTRData,
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    *,
    seed: int = 0,
    device: torch.device | str = "cpu",
    quiet: bool = True,
    log: Callable[..., None] | None = None,
    desc: str = "train",
    checkpoint_dir: str | Path | None = None,
    settings: Mapping[str, Any] | None = None,
) -> tuple[CTRModel, dict[str, Any]]:
    """Train on ``data.splits["train"]``, keep the epoch of best validation ``train_cfg.monitor``, test.

    The validation split is required (a missing one is an error, never a silent use of the test split).
    With ``train_cfg.patience`` training stops after that many epochs without a better validation value.
    With ``checkpoint_dir`` the training state is saved every epoch and resumed, under ``settings`` only.
    Returns the model and ``{history, best_epoch, val_*, test_*}`` (auc, gauc, logloss each).
    """
    check_splits(data.splits, f"dataset {data.name}")
    seed_everything(seed)
    device = torch.device(device)
    model = build_model(data, model_cfg, train_cfg)
    for split in data.splits.values():
        model.check(split)  # ids inside the tables, history and candidate shapes agree
    model.to(device)
    counts = feature_counts(model, data.splits["train"]) if train_cfg.reg == "mba" else None
    params = model.parameters()
    optimiser = (
        torch.optim.SGD(params, lr=train_cfg.lr)
        if train_cfg.optim == "sgd"
        else torch.optim.Adam(params, lr=train_cfg.lr)
    )
    scheduler = None
    if train_cfg.lr_decay_epoch is not None:
        scheduler = torch.optim.lr_scheduler.MultiStepLR(optimiser, [train_cfg.lr_decay_epoch], gamma=0.1)
    val = data.splits["valid"]
    result = fit(
        model,
        optimiser,
        Batches(data.splits["train"], train_cfg.batch_size, seed=seed, drop=("group",)),
        epochs=train_cfg.epochs,
        step=loss_step(model, train_cfg, counts),
        evaluate=lambda m: evaluate(m, val, "val_"),
        scheduler=scheduler,
        device=device,
        grad_clip=train_cfg.grad_clip,
        monitor=train_cfg.monitor,
        mode="max",
        patience=train_cfg.patience,
        checkpoint_dir=checkpoint_dir,
        settings=settings,
        log=log,
        quiet=quiet,
        desc=desc,
    )
    out: dict[str, Any] = {"history": result.history, "best_epoch": result.best_epoch}
    out.update(evaluate(model, data.splits["test"], "test_"))
    out.update(next(r for r in result.history if r["epoch"] == result.best_epoch))
    return model, out
