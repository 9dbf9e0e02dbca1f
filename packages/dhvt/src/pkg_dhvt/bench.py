"""Throughput and memory, training and inference: a DHVT next to timm's ViT of the same size.

Images/s are timed over ``steps`` batches after one warm-up batch (training = forward, backward and an
AdamW step). Inference is measured FIRST, on a freshly built model in eval mode under ``no_grad``, so that
no gradient or optimiser state is allocated while it runs; training is measured after it. Memory: on CUDA
the peak allocated during each phase (``torch.cuda.max_memory_allocated``, weights included); on the CPU,
where torch keeps no allocator statistics, the bytes of the activations saved for backward
(``torch.autograd.graph.saved_tensors_hooks``), the part of training memory that differs between models.
"""

from __future__ import annotations

import gc
import time
from typing import Any

import torch
import torch.nn.functional as F

from .model import build_model, count_params, model_config


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _saved_bytes(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """Bytes of every tensor autograd saves for backward in one training forward."""
    total = 0

    def pack(t: torch.Tensor) -> torch.Tensor:
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        F.cross_entropy(model(x), y)
    return total


def _timed(fn, steps: int, device: torch.device) -> tuple[float, float | None]:
    fn()
    _sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)  # the peak of the timed steps, from what is held now
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    _sync(device)
    seconds = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    return seconds, peak


def bench(name: str, device: torch.device, batch_size: int = 64, steps: int = 5) -> dict[str, Any]:
    """One model's row: parameters, inference then training images/s, and memory (MiB)."""
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    desc = model_config(name)
    torch.manual_seed(0)
    model = build_model(desc).to(device).eval()
    size = desc["arch"]["img_size"]
    x = torch.randn(batch_size, 3, size, size, device=device)
    y = torch.randint(0, desc["arch"]["num_classes"], (batch_size,), device=device)

    @torch.no_grad()
    def infer_step() -> None:
        model(x)

    # inference on the fresh model: no .grad tensors and no optimiser state exist yet
    infer_s, infer_peak = _timed(infer_step, steps, device)

    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def train_step() -> None:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    train_s, train_peak = _timed(train_step, steps, device)
    return {
        "model": name,
        "params": count_params(model),
        "batch_size": batch_size,
        "train_img_s": batch_size * steps / train_s,
        "infer_img_s": batch_size * steps / infer_s,
        "train_peak_mib": train_peak,
        "infer_peak_mib": infer_peak,
        "saved_activations_mib": _saved_bytes(model, x, y) / 2**20,
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
    }


def format_rows(rows: list[dict[str, Any]], device: torch.device) -> str:
    def mib(v: float | None) -> str:
        return "-" if v is None else f"{v:.0f}"

    lines = [
        f"device {device} ({rows[0]['device_name']}), {torch.get_num_threads()} threads, batch {rows[0]['batch_size']}",
        f"{'model':<16} | {'params':>11} | {'train img/s':>11} | {'infer img/s':>11} | "
        f"{'train peak MiB':>14} | {'infer peak MiB':>14} | saved activations MiB",
    ]
    for r in rows:
        lines.append(
            f"{r['model']:<16} | {r['params']:>11,} | {r['train_img_s']:>11.1f} | {r['infer_img_s']:>11.1f} | "
            f"{mib(r['train_peak_mib']):>14} | {mib(r['infer_peak_mib']):>14} | {r['saved_activations_mib']:.1f}"
        )
    return "\n".join(lines)
