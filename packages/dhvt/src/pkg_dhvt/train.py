"""The training loop of the paper's recipe, on timm's utilities, with resumable checkpoints.

AdamW (``timm.optim.create_optimizer_v2``, no weight decay on biases/norms/cls token/pos. embedding),
``timm.scheduler.CosineLRScheduler`` stepped per update (linear warm-up then cosine), label-smoothed
cross-entropy (``timm.loss``), Mixup/CutMix (``timm.data.Mixup`` + ``SoftTargetCrossEntropy``) and EMA
(``timm.utils.ModelEmaV3``) when the recipe asks for them. The whole state is saved at every epoch end
(``pkg_shared.train.save_train_state``: safetensors + JSON, atomic); rerunning the same call resumes.
The checkpoint folder records the ``settings`` that made it (``pkg_shared.io.check_settings``): resuming
under any other model, recipe, data or seed is refused (exit 2 naming the keys), so a finished run can
never be reported as a new one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD, Mixup
from timm.loss import LabelSmoothingCrossEntropy, SoftTargetCrossEntropy
from timm.optim import create_optimizer_v2
from timm.scheduler import CosineLRScheduler
from timm.utils import ModelEmaV3
from torch import nn

from pkg_shared.errors import UserError
from pkg_shared.io import SETTINGS, CheckpointError, check_settings
from pkg_shared.seed import rng_state, set_rng_state
from pkg_shared.train import load_train_state, progress, save_train_state

from .config import Recipe
from .data import DeiTAugment, ImageSplit, channel_stats, light_augment, normalise
from .model import drop_path_rates


def set_drop_path(model: nn.Module, rate: float) -> None:
    """Stochastic depth rising linearly 0 -> ``rate`` over the blocks (DeiT rule) of a DHVT/timm ViT."""
    blocks = getattr(model, "blocks", None)
    if blocks is None:
        return
    from timm.layers import DropPath

    rates = drop_path_rates(rate, len(blocks))
    for blk, r in zip(blocks, rates, strict=True):
        for name in ("drop_path", "drop_path1", "drop_path2"):
            if hasattr(blk, name):
                setattr(blk, name, DropPath(r) if r > 0 else nn.Identity())


def normaliser(split: ImageSplit, recipe: Recipe) -> tuple[torch.Tensor, torch.Tensor]:
    """``aug=light``: per-channel stats of the train split; ``aug=deit``: ImageNet mean/std (as DeiT)."""
    if recipe.aug == "light":
        return channel_stats(split.x_train)
    return torch.tensor(IMAGENET_DEFAULT_MEAN), torch.tensor(IMAGENET_DEFAULT_STD)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    stats: tuple[torch.Tensor, torch.Tensor],
    device: torch.device,
    batch_size: int = 500,
) -> dict[str, float]:
    """Top-1 accuracy (%) and cross-entropy of ``model`` (eval mode) on uint8 images ``x``."""
    was = model.training
    model.eval()
    correct, loss = 0, 0.0
    for i in range(0, len(x), batch_size):
        xb = normalise(x[i : i + batch_size], *stats).to(device)
        yb = y[i : i + batch_size].to(device)
        logits = model(xb)
        correct += (logits.argmax(-1) == yb).sum().item()
        loss += F.cross_entropy(logits, yb, reduction="sum").item()
    model.train(was)
    n = max(len(x), 1)
    return {"test_acc": 100.0 * correct / n, "test_loss": loss / n}


def _batches(split: ImageSplit, recipe: Recipe, stats, g: torch.Generator):
    """One epoch of (images, labels) batches; the last partial batch is dropped (BN needs > 1 image)."""
    n, bs = len(split.y_train), recipe.batch_size
    if recipe.aug == "light":
        perm = torch.randperm(n, generator=g)
        for i in range(0, n - bs + 1 if n >= bs else 0, bs):
            idx = perm[i : i + bs]
            yield normalise(light_augment(split.x_train[idx], g), *stats), split.y_train[idx]
        return
    ds = DeiTAugment(split.x_train, split.y_train, recipe.rand_augment, recipe.reprob)
    loader = torch.utils.data.DataLoader(ds, batch_size=bs, shuffle=True, drop_last=True, generator=g)
    yield from loader


def _check_resume(folder: Path, settings: dict[str, Any]) -> None:
    """Record ``settings`` in a new checkpoint folder; refuse one made under other settings (or unrecorded)."""
    if (folder / "train_state.json").exists() and not (folder / SETTINGS).exists():
        raise CheckpointError(
            f"{folder} holds a training state without a record of its settings (an older pkg-dhvt): "
            "use another folder or remove it to start afresh"
        )
    check_settings(folder, settings, what="training checkpoint")


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    return n_train // batch_size


def train_model(
    model: nn.Module,
    split: ImageSplit,
    recipe: Recipe,
    *,
    device: torch.device,
    seed: int = 0,
    checkpoint_dir: str | Path | None = None,
    log: Callable[..., None] | None = None,
    quiet: bool = True,
    desc: str = "train",
    eval_every: int = 1,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train ``model`` on ``split`` with ``recipe``; returns the history and the final test metrics.

    With ``checkpoint_dir`` the full state (model, AdamW, scheduler, EMA, RNGs, history) is written at each
    epoch end and an existing one is resumed from, so an interrupted run continues where it stopped.
    ``settings`` (everything that changes the weights) is recorded in the folder and must match on resume.
    """
    if checkpoint_dir is not None:
        _check_resume(Path(checkpoint_dir), settings or {"recipe": recipe, "seed": seed})
    if recipe.max_train is not None:
        split = split.subset(max_train=recipe.max_train)
    per_epoch = steps_per_epoch(len(split.y_train), recipe.batch_size)
    if per_epoch < 1:
        raise UserError(f"batch size {recipe.batch_size} exceeds the {len(split.y_train)} training images")
    total = per_epoch * recipe.epochs
    warmup = int(recipe.warmup * per_epoch) if recipe.warmup >= 1 else int(recipe.warmup * total)
    model.to(device)
    set_drop_path(model, recipe.drop_path)
    opt = create_optimizer_v2(model, "adamw", lr=recipe.lr, weight_decay=recipe.weight_decay)
    sched = CosineLRScheduler(
        opt,
        t_initial=total,
        lr_min=recipe.min_lr,
        warmup_t=warmup,
        warmup_lr_init=recipe.warmup_lr,
        t_in_epochs=False,
    )
    mixing = recipe.aug == "deit" and (recipe.mixup > 0 or recipe.cutmix > 0)
    mixup = (
        Mixup(
            mixup_alpha=recipe.mixup,
            cutmix_alpha=recipe.cutmix,
            switch_prob=recipe.mix_switch_prob,
            label_smoothing=recipe.label_smoothing,
            num_classes=split.num_classes,
        )
        if mixing
        else None
    )
    criterion: nn.Module = (
        SoftTargetCrossEntropy() if mixing else LabelSmoothingCrossEntropy(smoothing=recipe.label_smoothing)
    )
    ema = ModelEmaV3(model, decay=recipe.ema_decay) if recipe.ema_decay else None
    stats = normaliser(split, recipe)
    g = torch.Generator().manual_seed(seed)
    history: list[dict[str, float]] = []
    start = 0
    if checkpoint_dir is not None and (state := load_train_state(checkpoint_dir)) is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        if ema is not None and state.get("ema") is not None:
            ema.module.load_state_dict(state["ema"])
        set_rng_state(state["rng"])
        g.set_state(state["generator"])
        history, start = list(state["history"]), int(state["epoch"])
    model.train()
    for epoch in progress(
        range(start, recipe.epochs), quiet=quiet, desc=desc, initial=start, total=recipe.epochs
    ):
        t0, total_loss, seen = time.perf_counter(), torch.zeros(()), 0
        for step, (xb, yb) in enumerate(_batches(split, recipe, stats, g)):
            xb, yb = xb.to(device), yb.to(device)
            if mixup is not None:
                xb, yb = mixup(xb, yb)
            loss = criterion(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if recipe.grad_clip:
                nn.utils.clip_grad_norm_(model.parameters(), recipe.grad_clip)
            opt.step()
            sched.step_update(epoch * per_epoch + step + 1)
            if ema is not None:
                ema.update(model)
            total_loss += loss.detach().cpu()
            seen += 1
        row = {
            "epoch": epoch + 1,
            "train_loss": (total_loss / max(seen, 1)).item(),
            "lr": opt.param_groups[0]["lr"],
        }
        row["train_seconds"] = time.perf_counter() - t0
        if (epoch + 1) % eval_every == 0 or epoch + 1 == recipe.epochs:
            row.update(
                evaluate(ema.module if ema is not None else model, split.x_test, split.y_test, stats, device)
            )
        history.append(row)
        if checkpoint_dir is not None:
            save_train_state(
                checkpoint_dir,
                {
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(),
                    "ema": ema.module.state_dict() if ema is not None else None,
                    "rng": rng_state(),
                    "generator": g.get_state(),
                    "history": history,
                    "epoch": epoch + 1,
                },
            )
        if log is not None:
            log(model=desc, **row)
    final = history[-1] if history else {}
    return {
        "history": history,
        "test_acc": final.get("test_acc"),
        "test_loss": final.get("test_loss"),
        "train_loss": final.get("train_loss"),
        "stats": [s.tolist() for s in stats],
        "ema": ema.module if ema is not None else None,
    }
