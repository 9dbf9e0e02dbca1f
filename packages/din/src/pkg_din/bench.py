"""Time per training step (forward + backward + Adam) of BaseModel, DIN and DIN+Dice."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F

from pkg_shared.ctr import Batches

from .config import MODELS, PRESETS
from .model import CTRModel
from .protocols import CTRData


def step_times(
    data: CTRData,
    *,
    batch_size: int = 256,
    steps: int = 20,
    device: torch.device | str = "cpu",
    warmup: int = 3,
) -> dict[str, float]:
    """Median milliseconds per training step of each model (small-scale sizes), on the same batches."""
    device = torch.device(device)
    batches = [
        {k: v.to(device) for k, v in b.items()}
        for _, b in zip(
            range(steps + warmup), Batches(data.splits["train"], batch_size, seed=0, drop=("group",))
        )
    ]
    out = {}
    for name in MODELS:
        torch.manual_seed(0)
        model = CTRModel(data.schema, replace(PRESETS["small"].model, model=name), data.cate_list).to(device)
        optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
        times = []
        for i, batch in enumerate(batches):
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            t0 = time.perf_counter()
            loss = F.binary_cross_entropy_with_logits(model(batch), batch["label"])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            if i >= warmup:
                times.append(time.perf_counter() - t0)
        out[name] = 1000 * float(np.median(times))
    return out
