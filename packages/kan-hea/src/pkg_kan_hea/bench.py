"""Seconds per training step of our KAN, the efficient-kan formulation and (when installed) pykan.

Same network, same data, full batch; one step = forward, backward and an Adam update (LBFGS steps hide
the layer cost behind line searches). The networks are timed in turn within every step (the order
rotating), after warm-up steps, so that a change of load on a shared machine hits all of them alike;
the ratios, not the absolute times, are what carries over to another machine. pykan is optional and
never a dependency: when ``kan`` is importable, pykan's ``KAN`` is timed too, built as this package's
training builds it (``symbolic_enabled=False``, ``save_act=False``: the symbolic branch, a Python loop
over edges, is off, so both compute the same function), and checked against ours with copied weights.
"""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .kan import KAN, EfficientKAN, load_pykan_weights

WIDTHS = ([2, 5, 1], [17, 4, 2], [22, 5, 2], [100, 100, 10])
WARMUP = 3


def timed_steps(
    models: dict[str, nn.Module], x: torch.Tensor, y: torch.Tensor, steps: int
) -> dict[str, float]:
    """Median seconds of one Adam step per model, the models interleaved step by step after ``WARMUP``."""
    opts = {
        name: torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=1e-3)
        for name, m in models.items()
    }
    times: dict[str, list[float]] = {name: [] for name in models}
    names = list(models)
    for step in range(WARMUP + steps):
        order = names[step % len(names) :] + names[: step % len(names)]
        for name in order:
            t0 = time.perf_counter()
            opts[name].zero_grad()
            F.mse_loss(models[name](x), y).backward()
            opts[name].step()
            if step >= WARMUP:
                times[name].append(time.perf_counter() - t0)
    return {name: sorted(t)[len(t) // 2] for name, t in times.items()}


def bench(width: list[int], batch: int, grid: int, steps: int, seed: int = 0) -> dict[str, Any]:
    """Timings (s/step), their ratios to ours and, with pykan, the max |output difference| at equal weights."""
    torch.manual_seed(seed)
    x = torch.rand(batch, width[0]) * 2 - 1
    y = torch.randn(batch, width[-1])
    models: dict[str, nn.Module] = {"ours": KAN(width, grid), "efficient_kan": EfficientKAN(width, grid)}
    row: dict[str, Any] = {"width": width, "batch": batch, "grid": grid, "steps": steps, "warmup": WARMUP}
    try:
        from kan import KAN as PyKAN
    except ImportError:
        row["pykan"] = "pykan not installed (pip install 'pkg-kan-hea[pykan]')"
    else:
        ref = PyKAN(width=list(width), grid=grid, k=3, seed=seed, auto_save=False, save_act=False,
                    symbolic_enabled=False)  # fmt: skip
        load_pykan_weights(models["ours"], ref)
        with torch.no_grad():
            row["pykan_max_abs_diff"] = float((models["ours"](x) - ref(x)).abs().max())
        models["pykan"] = ref
    seconds = timed_steps(models, x, y, steps)
    for name, value in seconds.items():
        row[f"{name}_s"] = value
        if name != "ours":
            row[f"{name}_over_ours"] = value / seconds["ours"]
    return row
