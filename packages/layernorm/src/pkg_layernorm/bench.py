"""Speed of our layer normalisation against ``torch.nn.LayerNorm`` (forward + backward).

Ours is the paper's formula in plain tensor ops (mean, biased variance, rsqrt); torch's is one fused
kernel. Timed with ``torch.utils.benchmark`` (median over repeated blocks, threads fixed).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.utils import benchmark

from .layers import LayerNorm

SHAPES: tuple[tuple[int, ...], ...] = ((128, 1000), (4, 1000), (1024, 1024), (32, 50, 512))


def time_layer(layer: nn.Module, shape: Sequence[int], device: torch.device, min_run_time: float) -> float:
    """Median seconds of one forward + backward of ``layer`` on a random input of ``shape``."""
    x = torch.randn(*shape, device=device, requires_grad=True)
    grad = torch.randn(*shape, device=device)
    timer = benchmark.Timer(
        stmt="layer(x).backward(grad)",
        globals={"layer": layer, "x": x, "grad": grad},
        num_threads=torch.get_num_threads(),
    )
    return timer.blocked_autorange(min_run_time=min_run_time).median


def bench(
    shapes: Sequence[Sequence[int]] = SHAPES, device: torch.device | str = "cpu", min_run_time: float = 0.3
) -> list[dict[str, object]]:
    """One row per shape: microseconds for ours and for ``nn.LayerNorm``, and their ratio."""
    device = torch.device(device)
    rows = []
    for shape in shapes:
        hidden = shape[-1]
        ours = time_layer(LayerNorm(hidden).to(device), shape, device, min_run_time)
        ref = time_layer(nn.LayerNorm(hidden).to(device), shape, device, min_run_time)
        rows.append(
            {
                "shape": list(shape),
                "ours_us": ours * 1e6,
                "torch_us": ref * 1e6,
                "ours_over_torch": ours / ref,
            }
        )
    return rows
