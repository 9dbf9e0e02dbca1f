"""Speed of our layer normalisation against ``torch.nn.LayerNorm`` (forward + backward).

Two of ours: ``LayerNorm(impl="explicit")``, the paper's formula op by op (mean, biased variance,
rsqrt), and ``LayerNorm()`` (``impl="fused"``, the default), the same computation through torch's fused
kernel. Timed with ``torch.utils.benchmark`` (median over repeated blocks, threads fixed).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import torch
from torch import nn

from .layers import LayerNorm

logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)  # its "no CUDA runtime" notice
from torch.utils import benchmark  # noqa: E402

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
    """One row per shape: microseconds for ours (fused and explicit) and for ``nn.LayerNorm``."""
    device = torch.device(device)
    rows = []
    for shape in shapes:
        hidden = shape[-1]
        fused = time_layer(LayerNorm(hidden).to(device), shape, device, min_run_time)
        explicit = time_layer(LayerNorm(hidden, impl="explicit").to(device), shape, device, min_run_time)
        ref = time_layer(nn.LayerNorm(hidden).to(device), shape, device, min_run_time)
        rows.append(
            {
                "shape": list(shape),
                "fused_us": fused * 1e6,
                "explicit_us": explicit * 1e6,
                "torch_us": ref * 1e6,
                "fused_over_torch": fused / ref,
            }
        )
    return rows
