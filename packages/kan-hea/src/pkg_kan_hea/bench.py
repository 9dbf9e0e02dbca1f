"""Seconds per training step of our KAN, the efficient-kan formulation and (when installed) pykan.

Same network, same data, full batch; one step = forward, backward and an Adam update (LBFGS steps hide
the layer cost behind line searches). pykan is optional and never a dependency: when ``kan`` is
importable, its ``KANLayer``-based ``KAN`` is timed too and checked against ours with copied weights.
"""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .kan import KAN, EfficientKAN, load_pykan_weights


def seconds_per_step(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, pykan: bool = False
) -> float:
    """Median over ``steps`` of one Adam step (after two warm-up steps)."""
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    times = []
    for step in range(steps + 2):
        t0 = time.perf_counter()
        opt.zero_grad()
        out = model(x)
        F.mse_loss(out, y).backward()
        opt.step()
        if step >= 2:
            times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def bench(width: list[int], batch: int, grid: int, steps: int, seed: int = 0) -> dict[str, Any]:
    """Timings (s/step) and, with pykan, the max |difference| of outputs with identical weights."""
    torch.manual_seed(seed)
    x = torch.rand(batch, width[0]) * 2 - 1
    y = torch.randn(batch, width[-1])
    ours, eff = KAN(width, grid), EfficientKAN(width, grid)
    row: dict[str, Any] = {"width": width, "batch": batch, "grid": grid,
                           "ours_s": seconds_per_step(ours, x, y, steps),
                           "efficient_kan_s": seconds_per_step(eff, x, y, steps)}  # fmt: skip
    try:
        from kan import KAN as PyKAN
    except ImportError:
        row["pykan"] = "not installed (pip install pykan==0.2.8 in a separate environment)"
        return row
    ref = PyKAN(width=list(width), grid=grid, k=3, seed=seed, auto_save=False, save_act=False)
    load_pykan_weights(ours, ref)
    with torch.no_grad():
        row["pykan_max_abs_diff"] = float((ours(x) - ref(x)).abs().max())
    row["pykan_s"] = seconds_per_step(ref, x, y, steps)
    row["pykan_over_ours"] = row["pykan_s"] / row["ours_s"]
    return row
