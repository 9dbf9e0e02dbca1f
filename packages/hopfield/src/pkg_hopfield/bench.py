"""Speed of ``Hopfield`` against ``torch.nn.MultiheadAttention``, forward + backward, by sequence length.

The one-step layer without normalisation is MHA (same weights, same fused ``scaled_dot_product_attention``
kernel); the extra-iterations case (``update_steps_max = 3``, explicit softmax loop) is timed beside it.
Timed with ``torch.utils.benchmark`` (median of blocked runs); the layers are timed in turn, ``rounds``
times, and each keeps its fastest median, so a burst of load on a shared machine favours none of them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import torch
from torch import nn

from .layers import Hopfield

logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
from torch.utils import benchmark  # noqa: E402


def _time(layer: nn.Module, x: torch.Tensor, mha: bool, min_run_time: float) -> float:
    stmt = "layer(x, x, x, need_weights=False)[0].sum().backward()" if mha else "layer(x).sum().backward()"
    timer = benchmark.Timer(stmt=stmt, globals={"layer": layer, "x": x}, num_threads=torch.get_num_threads())
    return timer.blocked_autorange(min_run_time=min_run_time).median * 1e3


def bench(
    lengths: Sequence[int] = (128, 256, 512, 1024, 2048, 4096),
    embed: int = 64,
    heads: int = 4,
    batch: int = 2,
    device: torch.device | str = "cpu",
    min_run_time: float = 0.2,
    rounds: int = 3,
) -> list[dict[str, float]]:
    """One row per sequence length: ms per forward + backward of MHA, Hopfield (1 step), Hopfield (+3 steps)."""
    device = torch.device(device)
    mha = nn.MultiheadAttention(embed, heads, batch_first=True).to(device)
    one = Hopfield.from_multihead_attention(mha)
    three = Hopfield.from_multihead_attention(mha)
    three.update_steps_max = 3
    rows = []
    for length in lengths:
        x = torch.randn(batch, length, embed, device=device, requires_grad=True)
        best = {"mha_ms": float("inf"), "hopfield_ms": float("inf"), "hopfield_3_ms": float("inf")}
        for _ in range(rounds):
            for key, layer in (("mha_ms", mha), ("hopfield_ms", one), ("hopfield_3_ms", three)):
                best[key] = min(best[key], _time(layer, x, key == "mha_ms", min_run_time))
        rows.append({"length": length, **best})
    return rows
