"""CPU latency at batch 256: FP32 vs our fake-quant W8A8 vs torch.ao's converted int8 model (spec claim 6).

Fake quantisation simulates int8 in float32 and is slower than FP32 by design; the int8 speed-up is
torch.ao's (fbgemm/x86 kernels). Timings on shared CPUs are noisy: medians of ``repeats`` runs.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .layers import QuantConfig
from .reference import ao_static_ptq, latency_ms, torch_ao_available
from .training import ptq


def bench(model: nn.Module, x: Tensor, x_calib: Tensor, repeats: int = 10) -> dict[str, float | str]:
    """Median latency (ms) of each variant on the batch ``x`` (CPU)."""
    model = model.cpu().eval()
    qc = QuantConfig(wbits=8, abits=8, granularity="per-channel", restricted=False, keep_first_last=False)
    rows: dict[str, float | str] = {
        "batch": len(x),
        "threads": torch.get_num_threads(),
        "fp32_ms": latency_ms(model, x, repeats),
        "fakequant_w8a8_ms": latency_ms(ptq(model, x_calib, qc), x, repeats),
    }
    ok, engine = torch_ao_available()
    if ok:
        rows["engine"] = engine
        rows["torch_ao_int8_ms"] = latency_ms(ao_static_ptq(model, x_calib), x, repeats)
        rows["int8_speedup"] = rows["fp32_ms"] / rows["torch_ao_int8_ms"]
    else:
        rows["torch_ao"] = f"skipped: {engine}"
    return rows
