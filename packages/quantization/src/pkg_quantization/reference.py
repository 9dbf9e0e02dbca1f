"""Side by side with ``torch.ao.quantization`` (eager mode): static PTQ, QAT, observers, agreement.

torch.ao is in maintenance mode (its successor is torchao); :func:`torch_ao_available` says whether this
torch still has the pieces used here, and everything else raises :class:`TorchAOMissing` when it does not.
The engine is set explicitly (the first of x86, fbgemm, onednn, qnnpack that this torch supports) and
``reduce_range`` is off, so the observers match ours. This module is the one place where the matching
configuration is written: :func:`qconfig` on torch.ao's side, :data:`TORCH_AO_MATCH` on ours (all layers
quantised, per-channel symmetric full-range qint8 weights, min-max per-tensor affine quint8 activations).
Eager mode needs QuantStub/DeQuantStub and fusing conv+ReLU and linear+ReLU first.

torch.ao's converted model also quantises its output (the logits) with a min-max quint8 observer;
:func:`ptq_like_torch_ao` adds the same output quantiser to ours, so that :func:`top1_disagreement` compares
like with like.
"""

from __future__ import annotations

import copy
import warnings

import torch
from torch import Tensor, nn

from pkg_shared.errors import UserError

from .layers import ActQuant, QuantConfig
from .options import ENGINES
from .quantizer import QuantSpec
from .training import ptq

TORCH_AO_MATCH = QuantConfig(
    wbits=8, abits=8, granularity="per-channel", restricted=False, keep_first_last=False
)
"""Our recipe that matches :func:`qconfig` (static PTQ): every layer, qint8 full-range per-channel weights,
quint8 min-max activations."""


class TorchAOMissing(UserError):
    """This torch build lacks torch.ao.quantization's eager mode or its quantised CPU engines."""


def torch_ao_available() -> tuple[bool, str]:
    """``(True, engine)`` when eager-mode static quantisation can run here, else ``(False, reason)``."""
    try:
        from torch.ao import quantization as _  # noqa: F401
    except ImportError as e:
        return False, f"torch {torch.__version__} has no torch.ao.quantization ({e})"
    engines = torch.backends.quantized.supported_engines
    for engine in ENGINES:
        if engine in engines:
            return True, engine
    return False, f"torch {torch.__version__} has no quantised CPU engine (engines: {engines})"


def set_engine(engine: str | None = None) -> str:
    """Select torch's quantised engine (``None``: the preferred one, see :func:`torch_ao_available`)."""
    ok, default = torch_ao_available()
    if not ok:
        raise TorchAOMissing(default)
    engine = engine or default
    if engine not in torch.backends.quantized.supported_engines:
        raise TorchAOMissing(
            f"engine {engine!r} is not supported by this torch (supported: "
            f"{', '.join(e for e in torch.backends.quantized.supported_engines if e != 'none')})"
        )
    torch.backends.quantized.engine = engine
    return engine


def qconfig(qat: bool = False):
    """Matching observers: MinMax quint8 affine activations, PerChannelMinMax qint8 symmetric weights."""
    from torch.ao import quantization as tq

    act_obs = tq.MinMaxObserver.with_args(
        dtype=torch.quint8, qscheme=torch.per_tensor_affine, reduce_range=False
    )
    w_obs = tq.PerChannelMinMaxObserver.with_args(dtype=torch.qint8, qscheme=torch.per_channel_symmetric)
    if not qat:
        return tq.QConfig(activation=act_obs, weight=w_obs)
    return tq.QConfig(
        activation=tq.FakeQuantize.with_args(
            observer=tq.MovingAverageMinMaxObserver,
            dtype=torch.quint8,
            qscheme=torch.per_tensor_affine,
            reduce_range=False,
            quant_min=0,
            quant_max=255,
        ),
        weight=tq.FakeQuantize.with_args(
            observer=tq.MovingAveragePerChannelMinMaxObserver,
            dtype=torch.qint8,
            qscheme=torch.per_channel_symmetric,
            quant_min=-128,
            quant_max=127,
        ),
    )


class Stubbed(nn.Module):
    """``DeQuantStub(model(QuantStub(x)))``: the wrapper eager-mode quantisation needs."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        from torch.ao.quantization import DeQuantStub, QuantStub

        self.quant, self.model, self.dequant = QuantStub(), model, DeQuantStub()

    def forward(self, x: Tensor) -> Tensor:
        return self.dequant(self.model(self.quant(x)))


def _fusable(model: nn.Sequential) -> list[list[str]]:
    """Consecutive (conv|linear, [bn], relu) names of a Sequential model."""
    names = [n for n, _ in model.named_children()]
    mods = dict(model.named_children())
    groups = []
    for i, n in enumerate(names):
        if isinstance(mods[n], (nn.Conv2d, nn.Linear)):
            group = [n]
            for nxt in names[i + 1 : i + 3]:
                if isinstance(mods[nxt], (nn.BatchNorm2d, nn.ReLU)):
                    group.append(nxt)
                    if isinstance(mods[nxt], nn.ReLU):
                        break
                else:
                    break
            if len(group) > 1:
                groups.append(group)
    return groups


def _prepare(model: nn.Module, qat: bool) -> nn.Module:
    from torch.ao import quantization as tq

    if not isinstance(model, nn.Sequential):
        raise UserError("the torch.ao comparison supports the Sequential LeNet models")
    m = copy.deepcopy(model).cpu()
    m.train(qat)
    fuse = tq.fuse_modules_qat if qat else tq.fuse_modules
    m = Stubbed(fuse(m, _fusable(m)))
    m.qconfig = qconfig(qat)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tq.prepare_qat(m) if qat else tq.prepare(m.eval())


@torch.no_grad()
def ao_static_ptq(model: nn.Module, x_calib: Tensor, engine: str | None = None) -> nn.Module:
    """torch.ao eager static PTQ: fuse, prepare, calibrate on ``x_calib``, convert to an int8 CPU model.

    The converted model's kernels are those of ``engine`` (default: see :func:`set_engine`); run it with
    the same engine selected.
    """
    from torch.ao import quantization as tq

    set_engine(engine)
    prepared = _prepare(model, qat=False)
    prepared(x_calib.cpu())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tq.convert(prepared.eval())


def ao_qat(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    *,
    epochs: int,
    lr: float = 2e-4,
    batch_size: int = 128,
    seed: int = 0,
) -> nn.Module:
    """torch.ao eager QAT (prepare_qat with FakeQuantize, Adam) and conversion to int8."""
    from torch.ao import quantization as tq

    set_engine()
    prepared = _prepare(model, qat=True)
    opt = torch.optim.Adam(prepared.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        prepared.train()
        for idx in torch.randperm(len(x), generator=gen).split(batch_size):
            opt.zero_grad()
            nn.functional.cross_entropy(prepared(x[idx]), y[idx]).backward()
            opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tq.convert(prepared.eval())


class OutputQuant(nn.Module):
    """``model`` followed by a fake quantiser of its output (the logits), as torch.ao's converted model has."""

    def __init__(self, model: nn.Module, out: ActQuant) -> None:
        super().__init__()
        self.model, self.out = model, out

    def forward(self, x: Tensor) -> Tensor:
        return self.out(self.model(x))


@torch.no_grad()
def ptq_like_torch_ao(model: nn.Module, x_calib: Tensor) -> nn.Module:
    """Our fake-quantised counterpart of :func:`ao_static_ptq`: :data:`TORCH_AO_MATCH` PTQ, plus the logits
    quantised to quint8 with the min-max range of the FP32 model's logits on ``x_calib`` (torch.ao's output
    observer sees the same FP32 values)."""
    model = copy.deepcopy(model).cpu().eval()
    q = ptq(model, x_calib.cpu(), TORCH_AO_MATCH)
    out = ActQuant(QuantSpec(8, signed=False, symmetric=False))
    out(model(x_calib.cpu()))
    out.calibrate("minmax")
    return OutputQuant(q, out).eval()


@torch.no_grad()
def top1_disagreement(a: nn.Module, b: nn.Module, x: Tensor, batch_size: int = 1000) -> float:
    """Percentage of the images in ``x`` on which the two models' top-1 classes differ (CPU)."""
    a.eval(), b.eval()
    differ = 0
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size].cpu()
        differ += int((a(xb).argmax(-1) != b(xb).argmax(-1)).sum())
    return 100.0 * differ / max(len(x), 1)
