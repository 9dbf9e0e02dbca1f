"""Optional second reference: low-bit QAT of the same LeNet with `brevitas` (spec "reference
implementations"; not a dependency of this package: ``pip install brevitas`` into a throwaway environment).

The brevitas LeNet mirrors our recipe: first and last layers in FP32, the middle conv and FC layers with
``Int8WeightPerChannelFloat`` weights at ``wbits`` bits (per-channel symmetric, narrow range: our
restricted range), and ``QuantReLU`` (``Uint8ActPerTensorFloat`` at ``abits`` bits) in place of the ReLUs
whose outputs feed them (max-pooling commutes with a monotone quantiser). Activation scales are
initialised by brevitas' ``calibration_mode`` on the same calibration images, then both models are
fine-tuned with the same optimiser, data order and epochs.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Any

import numpy as np
import torch
from torch import nn

from pkg_shared.errors import UserError

from .data import Split
from .layers import QuantConfig
from .models import lenet
from .training import evaluate, ptq, qat, train


def brevitas_available() -> tuple[bool, str]:
    """``(True, version)`` when brevitas imports here, else ``(False, reason)``."""
    try:
        import brevitas
    except ImportError as e:
        return False, f"brevitas is not installed ({e}); pip install brevitas in a separate environment"
    return True, brevitas.__version__


def brevitas_lenet(model: nn.Sequential, wbits: int, abits: int) -> nn.Sequential:
    """A brevitas copy of a trained LeNet (no BN): conv2/fc1 quantised, conv1/fc2 in FP32."""
    ok, why = brevitas_available()
    if not ok:
        raise UserError(why)
    import brevitas.nn as qnn
    from brevitas.quant import Int8WeightPerChannelFloat

    src = dict(model.named_children())
    if "bn1" in src:
        raise UserError("the brevitas comparison covers the LeNet without BN")
    w = {"weight_quant": Int8WeightPerChannelFloat, "weight_bit_width": wbits}
    out = nn.Sequential(
        OrderedDict(
            [
                ("conv1", copy.deepcopy(src["conv1"])),
                ("relu1", qnn.QuantReLU(bit_width=abits)),
                ("pool1", nn.MaxPool2d(2)),
                ("conv2", qnn.QuantConv2d(16, 32, 5, **w)),
                ("relu2", qnn.QuantReLU(bit_width=abits)),
                ("pool2", nn.MaxPool2d(2)),
                ("flatten", nn.Flatten()),
                ("fc1", qnn.QuantLinear(512, 128, bias=True, **w)),
                ("relu3", nn.ReLU()),
                ("fc2", copy.deepcopy(src["fc2"])),
            ]
        )
    )
    with torch.no_grad():
        for name in ("conv2", "fc1"):
            out.get_submodule(name).weight.copy_(src[name].weight)
            out.get_submodule(name).bias.copy_(src[name].bias)
    return out


def brevitas_ptq_qat(
    model: nn.Sequential,
    split: Split,
    *,
    wbits: int,
    abits: int,
    epochs: int,
    lr: float,
    calib_size: int,
    seed: int,
) -> tuple[float, float]:
    """Test accuracy of the brevitas model after calibration (PTQ) and after QAT."""
    from brevitas.graph.calibrate import calibration_mode

    b = brevitas_lenet(model, wbits, abits).eval()
    with torch.no_grad(), calibration_mode(b):
        b(split.x_train[:calib_size])
    ptq_acc = evaluate(b, split.x_test, split.y_test)
    train(b, split.x_train, split.y_train, epochs=epochs, lr=lr, seed=seed, desc="brevitas-qat")
    return ptq_acc, evaluate(b, split.x_test, split.y_test)


def compare_brevitas(
    split: Split,
    seeds: list[int],
    *,
    wbits: int = 4,
    abits: int = 4,
    fp32_epochs: int = 5,
    qat_epochs: int = 2,
    lr: float = 2e-4,
    calib_size: int = 256,
) -> dict[str, Any]:
    """Per seed: train the FP32 LeNet, then our W{w}A{a} per-channel PTQ/QAT and brevitas' on the same model."""
    rows = []
    for seed in seeds:
        torch.manual_seed(seed)
        model = train(lenet(), split.x_train, split.y_train, epochs=fp32_epochs, lr=1e-3, seed=seed)
        qc = QuantConfig(wbits=wbits, abits=abits, granularity="per-channel")
        row = {"seed": seed, "fp32": evaluate(model, split.x_test, split.y_test)}
        row["ours_ptq"] = evaluate(ptq(model, split.x_train[:calib_size], qc), split.x_test, split.y_test)
        ours = qat(
            model,
            split.x_train,
            split.y_train,
            qc,
            epochs=qat_epochs,
            lr=lr,
            calib_size=calib_size,
            seed=seed,
        )
        row["ours_qat"] = evaluate(ours, split.x_test, split.y_test)
        row["brevitas_ptq"], row["brevitas_qat"] = brevitas_ptq_qat(
            model,
            split,
            wbits=wbits,
            abits=abits,
            epochs=qat_epochs,
            lr=lr,
            calib_size=calib_size,
            seed=seed,
        )
        rows.append(row)
    keys = [k for k in rows[0] if k != "seed"]
    summary = {
        k: (
            float(np.mean([r[k] for r in rows])),
            float(np.std([r[k] for r in rows], ddof=1 if len(rows) > 1 else 0)),
        )
        for k in keys
    }
    return {
        "bits": f"W{wbits}A{abits}",
        "brevitas": brevitas_available()[1],
        "per_seed": rows,
        "mean_std": summary,
    }
