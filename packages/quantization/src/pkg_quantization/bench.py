"""CPU latency at batch 256: FP32 vs our fake-quant W8A8 vs torch.ao's converted int8 model.

Fake quantisation simulates int8 in float32 and is slower than FP32 by design; the int8 speed-up is
torch.ao's, with the kernels of the quantised engine named in the output (x86, fbgemm, onednn or qnnpack).
On a shared machine absolute times move with the load, so the figures that matter are *ratios measured
in one process*: after ``warmup`` passes of every model, the models run in turn (FP32, fake-quant, int8,
FP32, ...) ``repeats`` times, so that each round sees the same load, and the ratio is taken per round and
reported as its median (with the first and third quartiles). The load average before and after is
recorded beside the numbers. Run it on one thread (the command line pins it).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Mapping

import torch
from torch import Tensor, nn

from .reference import TORCH_AO_MATCH, ao_static_ptq, set_engine, torch_ao_available
from .training import ptq


def _load() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


@torch.no_grad()
def interleaved_ms(
    models: Mapping[str, nn.Module], x: Tensor, repeats: int, warmup: int = 3
) -> dict[str, list[float]]:
    """Wall times (ms) of one forward pass on ``x`` per model and round, the models taking turns."""
    for m in models.values():
        m.eval()
        for _ in range(warmup):
            m(x)
    times: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(repeats):
        for name, m in models.items():
            t0 = time.perf_counter()
            m(x)
            times[name].append(1000.0 * (time.perf_counter() - t0))
    return times


def bench(
    model: nn.Module,
    x: Tensor,
    x_calib: Tensor,
    repeats: int = 20,
    warmup: int = 3,
    engine: str | None = None,
) -> dict[str, object]:
    """Median latency (ms) of each variant on the batch ``x`` and the per-round ratios to FP32 (CPU)."""
    model = model.cpu().eval()
    x = x.cpu()
    models: dict[str, nn.Module] = {
        "fp32": model,
        "fakequant_w8a8": ptq(model, x_calib.cpu(), TORCH_AO_MATCH),
    }
    ok, why = torch_ao_available()
    if ok:
        models["torch_ao_int8"] = ao_static_ptq(model, x_calib, engine)
        engine = set_engine(engine)
    load_before = _load()
    times = interleaved_ms(models, x, repeats, warmup)
    rows: dict[str, object] = {
        "batch": len(x),
        "threads": torch.get_num_threads(),
        "repeats": repeats,
        "warmup": warmup,
        "engine": engine if ok else f"torch.ao skipped: {why}",
        "load_before": load_before,
        "load_after": _load(),
    }
    for name, t in times.items():
        rows[f"{name}_ms"] = statistics.median(t)
    for name in models:
        if name == "fp32":
            continue
        ratio = [f / q for f, q in zip(times["fp32"], times[name], strict=True)]
        q1, q2, q3 = _quartiles(ratio)
        rows[f"{name}_speedup"] = q2
        rows[f"{name}_speedup_iqr"] = [q1, q3]
    return rows
