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
    shapes: Sequence[Sequence[int]] = SHAPES,
    device: torch.device | str = "cpu",
    min_run_time: float = 0.3,
    rounds: int = 3,
) -> list[dict[str, object]]:
    """One row per shape: microseconds for ours (fused and explicit) and for ``nn.LayerNorm``.

    The three layers are timed in turn, ``rounds`` times, and each keeps its fastest median, so that
    neither the order of measurement nor a burst of load on a shared machine favours one of them.
    """
    device = torch.device(device)
    rows = []
    for shape in shapes:
        hidden = shape[-1]
        layers = {
            "fused_us": LayerNorm(hidden).to(device),
            "explicit_us": LayerNorm(hidden, impl="explicit").to(device),
            "torch_us": nn.LayerNorm(hidden).to(device),
        }
        best = {name: float("inf") for name in layers}
        for _ in range(rounds):
            for name, layer in layers.items():
                best[name] = min(best[name], time_layer(layer, shape, device, min_run_time) * 1e6)
        rows.append({"shape": list(shape), **best, "fused_over_torch": best["fused_us"] / best["torch_us"]})
    return rows
