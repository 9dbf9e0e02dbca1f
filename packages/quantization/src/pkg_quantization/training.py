"""Training, evaluation, post-training quantisation (Sec. IV-B) and quantisation-aware training (Sec. IV-A).

* :func:`train`: Adam on the training split (the FP32 model; FP32 fine-tuning as the QAT control).
* :func:`ptq`: fold BN, insert fake quantisers, run the calibration images through the FP32 activations,
  set each ``ActQuant``'s range with the chosen calibrator; optional bias correction (Nagel et al. 2019):
  ``b <- b - E[(W~ - W) x]`` per output channel, expectation over the calibration inputs.
* :func:`qat`: PTQ initialisation (BN not folded), then fine-tuning through the fake quantisers with the
  clipped STE (or LSQ's learned step sizes); weights are re-quantised from their current range at every
  step; BN statistics are frozen after 1 epoch (spec: 1-2) and BN is folded at the end.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset

from pkg_shared.errors import UserError
from pkg_shared.train import fit

from .layers import QUANT_LAYERS, ActQuant, QuantConfig, fold_qat_bn, freeze_bn_stats, quantize_model


@torch.no_grad()
def evaluate(model: nn.Module, x: Tensor, y: Tensor, batch_size: int = 1000) -> float:
    """Top-1 accuracy in percent (eval mode, batched)."""
    model.eval()
    device = next(model.parameters(), torch.empty(0)).device  # int8 torch.ao models have no parameters
    correct = 0
    for i in range(0, len(x), batch_size):
        logits = model(x[i : i + batch_size].to(device))
        correct += int((logits.argmax(-1) == y[i : i + batch_size].to(device)).sum())
    return 100.0 * correct / max(len(x), 1)


def train(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    *,
    epochs: int,
    lr: float = 1e-3,
    batch_size: int = 128,
    seed: int = 0,
    device: torch.device | str = "cpu",
    quiet: bool = True,
    log: Callable[..., None] | None = None,
    desc: str = "train",
    before_step: Callable[[nn.Module, int], None] | None = None,
    checkpoint_dir: str | Path | None = None,
    settings: Mapping[str, Any] | None = None,
) -> nn.Module:
    """Adam (``lr``), cross-entropy, shuffled mini-batches (seeded); returns the model (trained in place).

    ``before_step(model, epoch)`` runs before every optimisation step (``epoch`` counts from 0). With
    ``checkpoint_dir`` the training state is saved after every epoch and a later call resumes from it;
    ``settings`` (everything that changes the weights) is recorded there and resuming under other
    settings is refused naming the keys that differ (``pkg_shared.train.fit``).
    """
    model.to(device)
    loader = DataLoader(
        TensorDataset(x, y),
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
        drop_last=len(x) % batch_size == 1,
    )
    steps = itertools.count()

    def step(m: nn.Module, batch: tuple[Tensor, Tensor]) -> Tensor:
        if before_step is not None:
            before_step(m, next(steps) // len(loader))
        return F.cross_entropy(m(batch[0]), batch[1])

    params = [p for p in model.parameters() if p.requires_grad]
    fit(
        model,
        torch.optim.Adam(params, lr=lr),
        loader,
        epochs=epochs,
        step=step,
        device=device,
        quiet=quiet,
        log=log,
        desc=desc,
        checkpoint_dir=checkpoint_dir,
        settings=settings,
    )
    return model.eval()


@torch.no_grad()
def ptq(
    model: nn.Module,
    x_calib: Tensor,
    cfg: QuantConfig,
    *,
    bias_correction: bool = False,
    cache: dict | None = None,
    keep_bn: bool = False,
) -> nn.Module:
    """A fake-quantised, calibrated copy of ``model`` (BN folded, or kept for QAT with ``keep_bn``; eval mode).

    The calibration images pass once through the network with every ``ActQuant`` observing (the
    activations of the FP32 model, as torch.ao's observers see them); each then takes its range from
    ``cfg.calib``. Dynamic activation quantisers skip calibration. ``cache`` (a dict kept by the caller
    for one FP32 model and calibration set) reuses activation ranges across weight configurations.
    """
    if keep_bn and bias_correction:
        raise UserError("bias correction applies to BN-folded models (keep_bn=False)")
    q = quantize_model(model, cfg, keep_bn=keep_bn)
    device = next(q.parameters()).device
    static = {n: a for n, a in q.named_modules() if isinstance(a, ActQuant) and a.mode == "observe"}
    if static:
        layers = [m for m in q.modules() if isinstance(m, QUANT_LAYERS)]
        for m in layers:
            m.w_enabled = False
        q(x_calib.to(device))
        for m in layers:
            m.w_enabled = True
        for name, a in static.items():
            key = (name, a.spec.bits, cfg.calib, cfg.percentile, cfg.lsq)
            if cache is not None and key in cache:
                a.load_range(*cache[key])
            else:
                a.calibrate(cfg.calib, cfg.percentile)
                if cache is not None:
                    cache[key] = (a.scale.clone(), a.zero_point.clone(), a.step.detach().clone(), a.spec)
    if bias_correction:
        correct_bias(q, x_calib.to(device))
    return q.eval()


@torch.no_grad()
def correct_bias(model: nn.Module, x: Tensor) -> None:
    """Bias correction (Nagel et al. 2019): subtract ``E[W~ x] - E[W x]`` per output channel.

    The expectation is over the calibration batch and, for convolutions, every spatial position; the
    inputs are those each layer sees in the quantised model before any correction.
    """
    layers = [m for m in model.modules() if isinstance(m, QUANT_LAYERS)]
    inputs: dict[nn.Module, Tensor] = {}
    hooks = [
        m.register_forward_pre_hook(lambda m, a: inputs.__setitem__(m, m.quant_input(a[0]))) for m in layers
    ]
    model(x)
    for h in hooks:
        h.remove()
    for m in layers:
        delta_w = m.quant_weight() - m.weight
        if isinstance(m, nn.Linear):
            shift = F.linear(inputs[m], delta_w).mean(dim=0)
        else:
            shift = m._conv_forward(inputs[m], delta_w, None).mean(dim=(0, 2, 3))
        if m.bias is None:
            m.bias = nn.Parameter(torch.zeros_like(shift))
        m.bias.sub_(shift)


def qat(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    cfg: QuantConfig,
    *,
    epochs: int,
    lr: float = 2e-4,
    bn_freeze_epoch: int = 1,
    calib_size: int = 256,
    batch_size: int = 128,
    seed: int = 0,
    device: torch.device | str = "cpu",
    quiet: bool = True,
    log: Callable[..., None] | None = None,
) -> nn.Module:
    """Quantisation-aware training: PTQ-initialised fake quantisers, then Adam through the STE (Sec. IV-A).

    BN is not folded before QAT: each Conv2d+BN pair trains as a :class:`~.layers.QuantConvBn2d`
    (quantised folded weight, BN on batch statistics) and its statistics are frozen after
    ``bn_freeze_epoch`` epochs (spec: 1-2); the returned model has BN folded for inference.
    """
    if bn_freeze_epoch < 0:
        raise UserError(f"bn_freeze_epoch must be >= 0, got {bn_freeze_epoch}")
    q = ptq(model.to(device), x[:calib_size], cfg, keep_bn=True)

    def freeze_late(m: nn.Module, epoch: int) -> None:
        if epoch >= bn_freeze_epoch:
            freeze_bn_stats(m)

    train(
        q,
        x,
        y,
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        seed=seed,
        device=device,
        quiet=quiet,
        log=log,
        desc="qat",
        before_step=freeze_late,
    )
    return fold_qat_bn(q).eval()
