"""Simulated (fake) quantisation modules (survey Sec. III-F): ``ActQuant``, ``QuantLinear``, ``QuantConv2d``.

A quantised layer fake-quantises its weights (per tensor, channel or group; uniform, binary or ternary)
and, through its ``ActQuant``, its input activation, so an ``ActQuant`` sits after every activation that
feeds a quantised layer. For PTQ, BatchNorm is folded into the preceding convolution first
(:func:`fold_bn`, ``w' = gamma w / sigma``, ``b' = beta + gamma (b - mu) / sigma``; Jacob et al. 2018,
survey Sec. III-F). For QAT, :class:`QuantConvBn2d` keeps BN training, quantising the folded weight,
until its statistics are frozen; :func:`fold_qat_bn` then folds it for inference.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pkg_shared.errors import UserError

from .calibration import calibrated_qparams
from .options import WEIGHT_SCHEMES
from .quantizer import (
    QuantSpec,
    binarize,
    compute_qparams,
    fake_quantize,
    fake_quantize_minmax,
    lsq_quantize,
    minmax_range,
    ternarize,
)


@dataclass(frozen=True)
class QuantConfig:
    """One quantisation recipe (paper defaults: symmetric restricted-range weights, unsigned activations).

    ``wbits``/``abits``: bit-widths (1-8; ``wbits=1`` means binary weights); ``granularity`` of the
    weights (activations are always per tensor); ``calib``: the activation calibrator; ``dynamic``:
    activation ranges from each batch at inference instead of calibrated once; ``weight_scheme``:
    uniform, binary or ternary; ``keep_first_last``: leave the first and last layers in FP32 (survey
    convention); ``layer_bits``: per-layer weight bits (mixed precision), by module name.
    """

    wbits: int = 8
    abits: int = 8
    granularity: str = "per-channel"
    group_size: int = 4
    restricted: bool = True
    calib: str = "minmax"
    percentile: float = 99.99
    dynamic: bool = False
    rounding: str = "nearest"
    weight_scheme: str = "uniform"
    lsq: bool = False
    keep_first_last: bool = True
    layer_bits: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, bits in (("wbits", self.wbits), ("abits", self.abits), *self.layer_bits.items()):
            if not 1 <= int(bits) <= 8:
                raise UserError(f"bit-width of {name} must be in 1..8, got {bits}")
        if self.weight_scheme not in WEIGHT_SCHEMES:
            raise UserError(f"weight scheme must be one of {WEIGHT_SCHEMES}, got {self.weight_scheme!r}")

    def weight_spec(self, bits: int | None = None) -> QuantSpec:
        b = self.wbits if bits is None else bits
        return QuantSpec(
            b, True, True, self.restricted and b > 1, self.granularity, self.group_size, self.rounding
        )  # type: ignore[arg-type]

    def act_spec(self) -> QuantSpec:
        return QuantSpec(self.abits, signed=False, symmetric=False, rounding=self.rounding)


class ActQuant(nn.Module):
    """Fake-quantise an activation with a per-tensor affine range (static, dynamic or LSQ).

    Modes: ``observe`` records the inputs for calibration (and passes them through unchanged);
    ``static`` uses the calibrated ``scale``/``zero_point``; ``dynamic`` takes min/max of every batch;
    ``off`` is the identity. With ``lsq`` the step size is a learnable parameter after calibration.
    """

    def __init__(self, spec: QuantSpec, *, dynamic: bool = False, lsq: bool = False) -> None:
        super().__init__()
        if spec.per_channel:
            raise UserError("activations are quantised per tensor only (no per-channel activations)")
        self.spec, self.lsq = spec, lsq
        self.mode = "dynamic" if dynamic else "observe"
        self.register_buffer("scale", torch.ones(()))
        self.register_buffer("zero_point", torch.zeros((), dtype=torch.int64))
        self.step = nn.Parameter(torch.ones(()), requires_grad=lsq)
        self.seen: list[Tensor] = []

    def calibrate(self, method: str = "minmax", percentile: float = 99.99) -> None:
        """Set ``scale``/``zero_point`` from the observed inputs and switch to ``static``."""
        if not self.seen:
            raise RuntimeError("ActQuant.calibrate: no activations were observed")
        scale, zero = calibrated_qparams(self.seen, self.spec, method, percentile)
        self.scale.copy_(scale.reshape(())), self.zero_point.copy_(zero.reshape(()))
        if self.lsq:
            signed = bool(min(float(t.min()) for t in self.seen) < 0)
            self.spec = replace(self.spec, signed=signed, symmetric=True)
            lo, hi = minmax_range(torch.cat([t.flatten() for t in self.seen]), self.spec)
            self.step.data.copy_(compute_qparams(lo, hi, self.spec)[0].reshape(()))
        self.seen, self.mode = [], "static"

    def load_range(self, scale: Tensor, zero_point: Tensor, step: Tensor, spec: QuantSpec) -> None:
        """Take a range computed by :meth:`calibrate` elsewhere (same data and calibrator)."""
        self.scale.copy_(scale), self.zero_point.copy_(zero_point), self.step.data.copy_(step)
        self.spec, self.seen, self.mode = spec, [], "static"

    def forward(self, x: Tensor) -> Tensor:
        if self.mode == "off":
            return x
        if self.mode == "observe":
            self.seen.append(x.detach())
            return x
        if self.mode == "dynamic":
            return fake_quantize_minmax(x, self.spec)
        if self.lsq:
            return lsq_quantize(x, self.step, self.spec)
        return fake_quantize(x, self.scale, self.zero_point, self.spec)


class _QuantWeight:
    """Weight fake-quantisation shared by :class:`QuantLinear` and :class:`QuantConv2d`."""

    weight: nn.Parameter
    w_spec: QuantSpec | None
    scheme: str
    act: ActQuant | None
    w_step: nn.Parameter | None

    def _setup(self, w_spec: QuantSpec | None, scheme: str, act: ActQuant | None, lsq: bool) -> None:
        self.w_spec, self.scheme, self.act = w_spec, scheme, act
        self.w_enabled = True
        self.w_step = None
        if lsq and scheme == "uniform" and w_spec is not None:
            lo, hi = minmax_range(self.float_weight(), w_spec)
            self.w_step = nn.Parameter(compute_qparams(lo, hi, w_spec)[0])

    def float_weight(self) -> Tensor:
        """The real-valued weight that is quantised (``W``; ``W gamma / sigma`` in :class:`QuantConvBn2d`)."""
        return self.weight

    def quant_weight(self) -> Tensor:
        """The fake-quantised weight ``W~`` (min-max range of the current weights, or LSQ's step).

        A layer without a weight spec (a first/last layer kept in FP32 during QAT) returns ``W``.
        """
        w = self.float_weight()
        if not self.w_enabled or self.w_spec is None:
            return w
        if self.scheme == "binary" or self.w_spec.bits == 1:
            return binarize(w, self.w_spec)
        if self.scheme == "ternary":
            return ternarize(w, self.w_spec)
        if self.w_step is not None:
            return lsq_quantize(w, self.w_step, self.w_spec)
        return fake_quantize_minmax(w, self.w_spec)

    def quant_input(self, x: Tensor) -> Tensor:
        return x if self.act is None else self.act(x)


class QuantLinear(nn.Linear, _QuantWeight):
    """``y = W~ x~ + b``: a Linear layer with fake-quantised weights and input."""

    def __init__(
        self,
        linear: nn.Linear,
        w_spec: QuantSpec | None,
        *,
        scheme: str = "uniform",
        act: ActQuant | None = None,
        lsq: bool = False,
    ) -> None:
        super().__init__(linear.in_features, linear.out_features, linear.bias is not None)
        self.load_state_dict(linear.state_dict())
        self.to(linear.weight.device)
        self._setup(w_spec, scheme, act, lsq)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(self.quant_input(x), self.quant_weight(), self.bias)


class QuantConv2d(nn.Conv2d, _QuantWeight):
    """``y = W~ * x~ + b``: a Conv2d with fake-quantised weights (per output channel on axis 0) and input."""

    def __init__(
        self,
        conv: nn.Conv2d,
        w_spec: QuantSpec | None,
        *,
        scheme: str = "uniform",
        act: ActQuant | None = None,
        lsq: bool = False,
    ) -> None:
        super().__init__(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            conv.stride,
            conv.padding,
            conv.dilation,
            conv.groups,
            conv.bias is not None,
        )
        self.load_state_dict(conv.state_dict())
        self.to(conv.weight.device)
        self._setup(w_spec, scheme, act, lsq)

    def forward(self, x: Tensor) -> Tensor:
        return self._conv_forward(self.quant_input(x), self.quant_weight(), self.bias)


class QuantConvBn2d(QuantConv2d):
    """Conv2d + BatchNorm2d for QAT with BN folding simulated (Jacob et al. 2018, Sec. 3.2; torch.ao's ConvBn2d).

    The quantised weight is the folded one, ``W~ = Q(W gamma / sigma)`` with ``sigma`` from BN's running
    variance, so training sees the grid that inference will use. The convolution output is divided by
    ``gamma / sigma`` again and passed through BN, which uses the batch statistics (and updates the
    running ones) until :meth:`freeze` is called, and the running statistics after (spec: "freeze BN
    statistics after 1-2 epochs"). Frozen or in eval mode the layer equals the folded convolution
    ``W~ * x~ + beta + gamma (b - mu) / sigma``; :meth:`fold` returns that layer. ``w_spec=None`` keeps
    the weights in FP32 (the first/last layers).
    """

    def __init__(
        self,
        conv: nn.Conv2d,
        bn: nn.BatchNorm2d,
        w_spec: QuantSpec | None,
        *,
        scheme: str = "uniform",
        act: ActQuant | None = None,
        lsq: bool = False,
    ) -> None:
        super().__init__(conv, w_spec, scheme=scheme, act=act)
        self.bn = copy.deepcopy(bn)
        self.bn_frozen = False
        self._setup(w_spec, scheme, act, lsq)  # LSQ's initial step from the folded weight

    def bn_factor(self) -> Tensor:
        """``gamma / sigma`` per output channel (running statistics)."""
        gamma = self.bn.weight if self.bn.affine else torch.ones_like(self.bn.running_var)
        return gamma / torch.sqrt(self.bn.running_var + self.bn.eps)

    def float_weight(self) -> Tensor:
        return self.weight * self.bn_factor().reshape(-1, 1, 1, 1)

    def freeze(self) -> None:
        """Stop updating BN's statistics: from now on it normalises with the running ones."""
        self.bn_frozen = True

    def forward(self, x: Tensor) -> Tensor:
        y = self._conv_forward(self.quant_input(x), self.quant_weight(), None)
        y = y / self.bn_factor().reshape(1, -1, 1, 1)
        if self.bias is not None:
            y = y + self.bias.reshape(1, -1, 1, 1)
        bn = self.bn
        use_batch = self.training and not self.bn_frozen
        return F.batch_norm(
            y,
            bn.running_mean,
            bn.running_var,
            bn.weight,
            bn.bias,
            training=use_batch,
            momentum=bn.momentum if bn.momentum is not None else 0.1,
            eps=bn.eps,
        )

    @torch.no_grad()
    def fold(self) -> nn.Conv2d:
        """The equivalent inference layer: a :class:`QuantConv2d` (or FP32 Conv2d) with BN folded in."""
        plain = nn.Conv2d(
            self.in_channels,
            self.out_channels,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.groups,
            self.bias is not None,
        ).to(self.weight.device)
        plain.weight.copy_(self.weight)
        if self.bias is not None:
            plain.bias.copy_(self.bias)
        folded = fold_bn(plain, self.bn)
        if self.w_spec is None:
            return folded
        out = QuantConv2d(folded, self.w_spec, scheme=self.scheme, act=self.act)
        out.w_step = self.w_step
        return out


QUANT_LAYERS = (QuantLinear, QuantConv2d)


def freeze_bn_stats(model: nn.Module) -> None:
    """Freeze the BN statistics of every :class:`QuantConvBn2d` (QAT's late-training schedule)."""
    for m in model.modules():
        if isinstance(m, QuantConvBn2d):
            m.freeze()


def fold_qat_bn(model: nn.Module) -> nn.Module:
    """Replace every :class:`QuantConvBn2d` by its folded inference layer (in place; returns ``model``)."""
    for name, m in list(model.named_modules()):
        if isinstance(m, QuantConvBn2d):
            parent_name, _, attr = name.rpartition(".")
            setattr(model.get_submodule(parent_name), attr, m.fold())
    return model


@torch.no_grad()
def fold_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """A Conv2d equal to ``bn(conv(x))`` in eval mode: ``w' = gamma w / sigma``, ``b' = beta + gamma (b - mu) / sigma``."""
    sigma = torch.sqrt(bn.running_var + bn.eps)
    gamma = bn.weight if bn.affine else torch.ones_like(sigma)
    beta = bn.bias if bn.affine else torch.zeros_like(sigma)
    folded = copy.deepcopy(conv)
    folded.weight.copy_(conv.weight * (gamma / sigma).reshape(-1, 1, 1, 1))
    b = conv.bias if conv.bias is not None else torch.zeros_like(sigma)
    folded.bias = nn.Parameter(beta + gamma * (b - bn.running_mean) / sigma)
    return folded


def _conv_bn_pairs(model: nn.Module) -> list[tuple[nn.Module, str, str]]:
    """``(parent, conv_attr, bn_attr)`` for every BatchNorm2d registered right after a Conv2d (same parent)."""
    pairs = []
    for parent in model.modules():
        children = list(parent.named_children())
        for (name, conv), (bn_name, bn) in zip(children, children[1:], strict=False):
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                pairs.append((parent, name, bn_name))
    return pairs


def fold_model_bn(model: nn.Module) -> nn.Module:
    """Fold every BatchNorm2d registered right after a Conv2d (same parent) into it; BN becomes Identity."""
    for parent, name, bn_name in _conv_bn_pairs(model):
        setattr(parent, name, fold_bn(getattr(parent, name), getattr(parent, bn_name)))
        setattr(parent, bn_name, nn.Identity())
    return model


def weight_layers(model: nn.Module) -> list[str]:
    """Names of the Conv2d/Linear modules in registration order (first = input layer, last = classifier)."""
    return [n for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def quantize_model(model: nn.Module, cfg: QuantConfig, *, keep_bn: bool = False) -> nn.Module:
    """A fake-quantised copy of ``model`` (eval mode) ready for calibration.

    Every Conv2d/Linear becomes a Quant layer with an ``ActQuant`` on its input, except the first and
    last layers when ``cfg.keep_first_last``; ``cfg.layer_bits`` overrides the weight bits per layer.
    BN is folded first (PTQ), or with ``keep_bn`` (QAT) every Conv2d+BN pair becomes a
    :class:`QuantConvBn2d` whose BN keeps training until frozen (FP32 weights where the layer is kept).
    """
    q = copy.deepcopy(model)
    pairs: dict[int, tuple[nn.Module, str]] = {}
    if keep_bn:
        pairs = {id(getattr(parent, c)): (parent, b) for parent, c, b in _conv_bn_pairs(q)}
    else:
        fold_model_bn(q)
    q.eval()
    names = weight_layers(q)
    unknown = set(cfg.layer_bits) - set(names)
    if unknown:
        raise UserError(f"layer_bits names unknown layers {sorted(unknown)} (layers: {names})")
    kept = {names[0], names[-1]} if cfg.keep_first_last else set()
    for name in names:
        parent_name, _, attr = name.rpartition(".")
        parent = q.get_submodule(parent_name)
        layer = getattr(parent, attr)
        bn_pair = pairs.get(id(layer))
        if name in kept:
            if bn_pair is not None:
                setattr(parent, attr, QuantConvBn2d(layer, getattr(*bn_pair), None))
                setattr(*bn_pair, nn.Identity())
            continue
        act = ActQuant(cfg.act_spec(), dynamic=cfg.dynamic, lsq=cfg.lsq)
        w_spec = cfg.weight_spec(cfg.layer_bits.get(name))
        if w_spec.granularity == "per-group" and layer.weight.shape[0] % w_spec.group_size:
            raise UserError(
                f"group size {w_spec.group_size} does not divide the {layer.weight.shape[0]} channels of {name}"
            )
        options = {"scheme": cfg.weight_scheme, "act": act, "lsq": cfg.lsq}
        if bn_pair is not None:
            setattr(parent, attr, QuantConvBn2d(layer, getattr(*bn_pair), w_spec, **options))
            setattr(*bn_pair, nn.Identity())
        else:
            cls = QuantConv2d if isinstance(layer, nn.Conv2d) else QuantLinear
            setattr(parent, attr, cls(layer, w_spec, **options))
    return q
