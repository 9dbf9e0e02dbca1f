"""An epoch loop for supervised papers: clipping, AMP on CUDA, early stopping, history, resume.

``fit`` checkpoints the whole training state (model, optimizer, scheduler, AMP scaler, early-stopping
state, history and every random generator) at epoch boundaries. Restarting the same call after an
interruption resumes from the last checkpoint, and a seeded CPU run resumed this way ends with exactly the
weights of an uninterrupted one. Papers with their own procedures use the pieces (``to_device``,
``progress``, ``save_train_state``) or a loop of their own.
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import distributed
from .errors import UserError
from .io import (
    CheckpointError,
    check_settings,
    flatten_state,
    load_checkpoint,
    save_checkpoint,
    unflatten_state,
)
from .progress import progress
from .seed import rng_state, set_rng_state

STATE = "train_state"


def to_device(batch: Any, device: torch.device | str) -> Any:
    """Move every tensor in a (nested) batch to ``device``; other values pass through."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


@dataclass
class FitResult:
    """What :func:`fit` returns: per-epoch history and the early-stopping outcome."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    best: float | None = None
    stopped_early: bool = False
    resumed_from: int = 0


def _is_better(value: float, best: float | None, mode: str) -> bool:
    if best is None:
        return not math.isnan(value)
    return value < best if mode == "min" else value > best


def save_train_state(directory: str | Path, state: Mapping[str, Any]) -> None:
    """Write a nested training state as ``train_state.safetensors`` + ``train_state.json``."""
    tensors, skeleton = flatten_state(dict(state))
    save_checkpoint(directory, tensors, {"state": skeleton}, name=STATE)


def load_train_state(directory: str | Path) -> dict[str, Any] | None:
    """Read what :func:`save_train_state` wrote, or None when there is no checkpoint."""
    if not (Path(directory) / f"{STATE}.json").exists():
        return None
    tensors, config = load_checkpoint(directory, name=STATE)
    return unflatten_state(tensors, config["state"])


def fit(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train_loader: Iterable,
    *,
    epochs: int,
    step: Callable[[nn.Module, Any], torch.Tensor] | None = None,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    evaluate: Callable[[nn.Module], Mapping[str, float]] | None = None,
    scheduler: Any = None,
    device: torch.device | str = "cpu",
    grad_clip: float | None = None,
    amp: bool = False,
    monitor: str | None = None,
    mode: str = "min",
    patience: int | None = None,
    restore_best: bool = True,
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int = 1,
    resume: bool = True,
    settings: Mapping[str, Any] | None = None,
    log: Callable[..., None] | None = None,
    quiet: bool = False,
    desc: str = "train",
) -> FitResult:
    """Train ``model`` for ``epochs`` epochs; returns the :class:`FitResult`.

    - ``step(model, batch) -> loss`` computes one mini-batch loss; by default ``loss_fn(model(x), y)``
      for ``(x, y)`` batches. Batches are moved to ``device``.
    - ``evaluate(model) -> {name: value}`` runs after every epoch in eval mode without gradients;
      ``monitor`` names the value that drives early stopping (``mode`` "min" or "max", ``patience``
      epochs without improvement) and ``ReduceLROnPlateau``. Other schedulers step once per epoch.
    - ``amp`` uses autocast (bfloat16 where supported, else float16 with a gradient scaler) on CUDA
      only; on the CPU it warns and trains in float32.
    - With ``checkpoint_dir`` the training state is saved every ``checkpoint_every`` epochs and, with
      ``resume``, a run finding a checkpoint there continues from it. ``settings`` (everything that
      changes the weights: model description, recipe, data settings, seed) is recorded there, and
      resuming under other settings is a :class:`CheckpointError` naming the keys that differ.
    - With ``restore_best`` the model ends with the weights of the best monitored epoch.
    - Under ``torchrun`` the loop is data-parallel (see :mod:`pkg_shared.distributed`): the loader's batch
      is the global batch, split over the ranks by a distributed sampler reshuffled per epoch; DDP averages
      the gradients; the train loss is averaged over ranks; ``evaluate`` runs on every rank's copy of the
      (identical) weights; only rank 0 writes checkpoints, logs and progress. A checkpoint resumes with the
      same or a different number of processes.
    """
    if epochs < 0 or checkpoint_every < 1:
        raise UserError(f"epochs must be >= 0 and checkpoint_every >= 1 (got {epochs}, {checkpoint_every})")
    if mode not in ("min", "max"):
        raise UserError(f"mode must be 'min' or 'max', not {mode!r}")
    if monitor is not None and evaluate is None:
        raise UserError("monitor needs an evaluate function")
    if step is None:
        if loss_fn is None:
            raise UserError("fit needs either step or loss_fn")

        def step(m: nn.Module, batch: Any) -> torch.Tensor:
            x, y = batch
            return loss_fn(m(x), y)

    device = torch.device(device)
    launched = distributed.launched()
    if launched:
        device = distributed.setup(device)
        train_loader = distributed.shard(train_loader, seed=torch.initial_seed() % 2**31)
    main = distributed.is_main()
    quiet, log = quiet or not main, log if main else None
    use_amp = amp and device.type == "cuda"
    if amp and not use_amp:
        warnings.warn("AMP is only used on CUDA; training in float32 on the CPU", stacklevel=2)
    amp_dtype = torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)
    plateau = isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    if plateau and monitor is None:
        raise UserError("ReduceLROnPlateau needs a monitored value (monitor=...)")
    generator = getattr(train_loader, "generator", None)

    result = FitResult()
    bad_epochs, best_state, start = 0, None, 0
    if checkpoint_dir is not None and settings is not None:
        if not resume and main:
            (Path(checkpoint_dir) / "settings.json").unlink(missing_ok=True)
        distributed.barrier()
        recorded = {**settings, "epochs": epochs}
        check_settings(checkpoint_dir, recorded, what="training checkpoint", write=main)
        distributed.barrier()
    if checkpoint_dir is not None and resume:
        state = load_train_state(checkpoint_dir)
        if state is not None:
            try:
                model.load_state_dict(state["model"])
                optimizer.load_state_dict(state["optimizer"])
            except (RuntimeError, KeyError, ValueError) as e:
                raise CheckpointError(
                    f"checkpoint in {checkpoint_dir} does not fit this model: {e}"
                ) from None
            if scheduler is not None and state.get("scheduler") is not None:
                scheduler.load_state_dict(state["scheduler"])
            scaler.load_state_dict(state["scaler"])
            set_rng_state(state["rng"])
            if generator is not None and state.get("generator") is not None:
                generator.set_state(state["generator"])
            result = FitResult(**state["result"])
            bad_epochs, best_state = state["bad_epochs"], state["best_state"]
            start = result.resumed_from = len(result.history)

    model.to(device)
    trained = distributed.wrap(model, device) if launched else model
    sampler = getattr(train_loader, "sampler", None)
    epochs_bar = progress(range(start, epochs), quiet=quiet, desc=desc, initial=start, total=epochs)
    for epoch in epochs_bar:
        if result.stopped_early:
            break
        t0 = time.perf_counter()
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
        model.train()
        total, batches = torch.zeros((), device=device), 0
        for batch in train_loader:
            batch = to_device(batch, device)
            with torch.autocast(device.type, dtype=amp_dtype, enabled=use_amp):
                loss = step(trained, batch)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if grad_clip is not None:
                scaler.unscale_(optimizer)
                nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            scaler.step(optimizer)
            scaler.update()
            total += loss.detach().float()
            batches += 1
        mean_loss = distributed.mean(total / max(batches, 1))
        row: dict[str, float] = {"epoch": epoch + 1, "train_loss": mean_loss.item()}
        if evaluate is not None:
            model.eval()
            with torch.no_grad():
                row.update({k: float(v) for k, v in evaluate(model).items()})
            model.train()
        row["lr"] = optimizer.param_groups[0]["lr"]
        row["seconds"] = time.perf_counter() - t0
        if monitor is not None:
            if monitor not in row:
                raise UserError(f"monitor '{monitor}' is not among the evaluated values {sorted(row)}")
            if _is_better(row[monitor], result.best, mode):
                result.best, result.best_epoch, bad_epochs = row[monitor], epoch + 1, 0
                if restore_best:
                    best_state = copy.deepcopy(model.state_dict())
            else:
                bad_epochs += 1
            result.stopped_early = patience is not None and bad_epochs >= patience
        if plateau:
            scheduler.step(row[monitor])
        elif scheduler is not None:
            scheduler.step()
        result.history.append(row)
        if log is not None:
            log(**row)
        epochs_bar.set_postfix({k: f"{v:.4g}" for k, v in row.items() if k not in ("epoch", "seconds")})
        last = epoch + 1 == epochs or result.stopped_early
        if checkpoint_dir is not None and ((epoch + 1) % checkpoint_every == 0 or last) and main:
            save_train_state(
                checkpoint_dir,
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict() if scheduler is not None else None,
                    "scaler": scaler.state_dict(),
                    "rng": rng_state(),
                    "generator": generator.get_state() if generator is not None else None,
                    "result": {**result.__dict__, "resumed_from": 0},
                    "bad_epochs": bad_epochs,
                    "best_state": best_state,
                },
            )
        if checkpoint_dir is not None:
            distributed.barrier()  # the other ranks wait while rank 0 writes
    if restore_best and best_state is not None:
        model.load_state_dict(best_state)
    return result
