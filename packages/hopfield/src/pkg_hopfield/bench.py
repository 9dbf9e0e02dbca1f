"""Speed of ``Hopfield`` against ``torch.nn.MultiheadAttention``, forward + backward, by sequence length.

The one-step layer without normalisation is MHA (same weights, same fused ``scaled_dot_product_attention``
kernel); the extra-iterations case (``update_steps_max = 3``, explicit softmax loop) is timed beside it.
Given the hflayers module (:mod:`pkg_hopfield.reference`), its layers with the same configuration and
our weights are timed too, and the largest output difference to ours is recorded.
Timed with ``torch.utils.benchmark`` (median of blocked runs); the layers are timed in turn, ``rounds``
times, and each keeps its fastest median, so a burst of load on a shared machine favours none of them.
"""

from __future__ import annotations

import logging
import timeit
from collections.abc import Callable, Sequence
from types import ModuleType

import torch
from torch import nn

from .layers import Hopfield
from .reference import hflayers_twin

logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
from torch.utils import benchmark  # noqa: E402

_CALLS = {
    "mha": "layer(x, x, x, need_weights=False)[0].sum().backward()",
    "ours": "layer(x).sum().backward()",
    "hflayers": "layer((x, x, x)).sum().backward()",
}


def _time(
    layer: nn.Module, x: torch.Tensor, call: str, min_run_time: float, clock: Callable[[], float]
) -> float:
    stmt = _CALLS[call]
    timer = benchmark.Timer(
        stmt=stmt, globals={"layer": layer, "x": x}, num_threads=torch.get_num_threads(), timer=clock
    )
    return timer.blocked_autorange(min_run_time=min_run_time).median * 1e3


def bench(
    lengths: Sequence[int] = (128, 256, 512, 1024, 2048, 4096),
    embed: int = 64,
    heads: int = 4,
    batch: int = 2,
    device: torch.device | str = "cpu",
    min_run_time: float = 0.2,
    rounds: int = 3,
    hflayers: ModuleType | None = None,
    clock: Callable[[], float] = timeit.default_timer,
) -> list[dict[str, float]]:
    """One row per sequence length: ms per forward + backward of MHA, Hopfield (1 step), Hopfield (+3 steps)
    and, given ``hflayers``, its twins of the two Hopfield layers and their max |output difference|.
    ``clock`` = ``time.process_time`` (with one thread) measures CPU time, which a loaded machine does not
    inflate the way it inflates wall time."""
    device = torch.device(device)
    mha = nn.MultiheadAttention(embed, heads, batch_first=True).to(device)
    one = Hopfield.from_multihead_attention(mha)
    three = Hopfield.from_multihead_attention(mha)
    three.update_steps_max = 3
    layers = {"mha_ms": (mha, "mha"), "hopfield_ms": (one, "ours"), "hopfield_3_ms": (three, "ours")}
    if hflayers is not None:
        twins = {"hflayers_ms": hflayers_twin(one, hflayers), "hflayers_3_ms": hflayers_twin(three, hflayers)}
        layers.update({key: (twin.to(device), "hflayers") for key, twin in twins.items()})
    rows = []
    for length in lengths:
        x = torch.randn(batch, length, embed, device=device, requires_grad=True)
        best = dict.fromkeys(layers, float("inf"))
        for _ in range(rounds):
            for key, (layer, call) in layers.items():
                best[key] = min(best[key], _time(layer, x, call, min_run_time, clock))
        if hflayers is not None:
            with torch.no_grad():
                best["hflayers_max_diff"] = max(
                    (one(x) - twins["hflayers_ms"]((x, x, x))).abs().max().item(),
                    (three(x) - twins["hflayers_3_ms"]((x, x, x))).abs().max().item(),
                )
        rows.append({"length": length, **best})
    return rows
