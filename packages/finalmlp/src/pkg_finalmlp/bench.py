"""Speed: training steps per second and inference rows per second at batch 4096 (issue 4 ``bench``).

One training step = forward, loss (BCE + whole-table embedding L2), backward, gradient clipping and an
Adam update on a batch drawn from the train split; inference = eval-mode forward + sigmoid. Wall-clock
medians over ``repeats`` timed blocks after ``warmup`` untimed steps; CUDA is synchronised around each block.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import replace

import torch

from .config import ModelConfig, TrainConfig
from .data import CTRData
from .model import CTRModel
from .training import loss_fn, make_optimizer

BATCH = 4096


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_model(
    data: CTRData,
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    device: torch.device,
    *,
    batch: int = BATCH,
    steps: int = 10,
    repeats: int = 3,
    warmup: int = 3,
) -> dict[str, float]:
    """``{"train_steps_per_s", "ms_per_step", "infer_rows_per_s"}`` for one model configuration."""
    torch.manual_seed(0)
    model = CTRModel(data.fields, model_cfg).to(device)
    optimizer = make_optimizer(model, train_cfg)
    n = len(data.y["train"])
    idx = torch.randint(0, n, (steps, batch))
    table = {k: v[idx].to(device) for k, v in data.table("train").items()}
    batches = [{k: v[i] for k, v in table.items()} for i in range(steps)]

    def train_block() -> None:
        for i in range(steps):
            loss = loss_fn(model, batches[i], train_cfg)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if train_cfg.max_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), train_cfg.max_grad_norm)
            optimizer.step()

    def infer_block() -> None:
        with torch.no_grad():
            for i in range(steps):
                torch.sigmoid(model(batches[i]))

    out = {}
    for name, block in (("train", train_block), ("infer", infer_block)):
        model.train(name == "train")
        for _ in range(max(1, warmup // steps + 1)):
            block()
        times = []
        for _ in range(repeats):
            _sync(device)
            t0 = time.perf_counter()
            block()
            _sync(device)
            times.append((time.perf_counter() - t0) / steps)
        out[name] = statistics.median(times)
    return {
        "train_steps_per_s": 1.0 / out["train"],
        "ms_per_step": 1000.0 * out["train"],
        "infer_rows_per_s": batch / out["infer"],
    }


def bench(
    data: CTRData,
    base: ModelConfig,
    train_cfg: TrainConfig,
    device: torch.device,
    models: Sequence[str] = ("dnn", "dualmlp", "finalmlp"),
    **kwargs: int,
) -> list[dict[str, object]]:
    """One row per model of ``models``, built from ``base``."""
    return [
        {"model": m, **bench_model(data, replace(base, model=m), train_cfg, device, **kwargs)} for m in models
    ]
