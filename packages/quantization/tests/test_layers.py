import copy

import pytest
import torch
from torch import nn

from pkg_quantization.layers import (
    ActQuant,
    QuantConfig,
    QuantConv2d,
    QuantLinear,
    fold_bn,
    fold_model_bn,
    quantize_model,
)
from pkg_quantization.models import ResNet20, lenet
from pkg_quantization.quantizer import QuantSpec
from pkg_quantization.training import ptq
from pkg_shared.errors import UserError


def _randomise_bn(model: nn.Module) -> None:
    g = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g))
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.randn(n, generator=g))
            m.bias.data.copy_(torch.randn(n, generator=g))


@pytest.mark.parametrize("make", [lambda: lenet(bn=True), lambda: ResNet20()], ids=["lenet-bn", "resnet20"])
def test_fold_bn_leaves_fp32_outputs_unchanged(make):
    torch.manual_seed(0)
    model = make()
    _randomise_bn(model)
    model.eval()
    x = torch.randn(4, *((1, 28, 28) if isinstance(model, nn.Sequential) else (3, 32, 32)))
    folded = fold_model_bn(copy.deepcopy(model)).eval()
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    torch.testing.assert_close(folded(x), model(x), atol=1e-5, rtol=1e-5)


def test_fold_bn_single_layer():
    conv, bn = nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)
    _randomise_bn(nn.Sequential(conv, bn))
    bn.eval()
    x = torch.randn(2, 3, 8, 8)
    torch.testing.assert_close(fold_bn(conv, bn)(x), bn(conv(x)), atol=1e-5, rtol=1e-5)


def test_quant_layers_at_8_bits_are_close(device):
    torch.manual_seed(0)
    lin, conv = nn.Linear(32, 16).to(device), nn.Conv2d(3, 8, 3).to(device)
    spec = QuantSpec(8, granularity="per-channel")
    x, xi = torch.randn(10, 32, device=device), torch.randn(2, 3, 9, 9, device=device)
    torch.testing.assert_close(QuantLinear(lin, spec)(x), lin(x), atol=0.02, rtol=0.02)
    torch.testing.assert_close(QuantConv2d(conv, spec)(xi), conv(xi), atol=0.02, rtol=0.02)


def test_quantize_model_keeps_first_last_and_calibrates():
    model = lenet().eval()
    q = ptq(model, torch.rand(32, 1, 28, 28), QuantConfig(wbits=4, abits=4))
    assert isinstance(q.conv1, nn.Conv2d) and not isinstance(q.conv1, QuantConv2d)
    assert isinstance(q.fc2, nn.Linear) and not isinstance(q.fc2, QuantLinear)
    assert isinstance(q.conv2, QuantConv2d) and isinstance(q.fc1, QuantLinear)
    assert q.conv2.act.mode == "static" and q.conv2.act.zero_point == 0  # post-ReLU input: alpha = 0
    full = quantize_model(model, QuantConfig(keep_first_last=False))
    assert isinstance(full.conv1, QuantConv2d) and isinstance(full.fc2, QuantLinear)


def test_dynamic_activations_need_no_calibration():
    model = lenet().eval()
    q = ptq(model, torch.rand(8, 1, 28, 28), QuantConfig(dynamic=True))
    assert q.fc1.act.mode == "dynamic" and q(torch.rand(3, 1, 28, 28)).shape == (3, 10)


def test_bias_correction_reduces_mean_output_error():
    torch.manual_seed(0)
    model = lenet().eval()
    x = torch.rand(128, 1, 28, 28)
    cfg = QuantConfig(wbits=3, abits=8, granularity="per-tensor")
    ref = model(x)
    plain, corrected = ptq(model, x, cfg), ptq(model, x, cfg, bias_correction=True)
    bias_err = lambda q: (q(x) - ref).mean(dim=0).abs().mean()  # noqa: E731
    assert bias_err(corrected) < bias_err(plain)


def test_bad_configs():
    with pytest.raises(UserError, match="per tensor only"):
        ActQuant(QuantSpec(8, granularity="per-channel"))
    with pytest.raises(UserError, match="1..8"):
        QuantConfig(wbits=9)
    with pytest.raises(UserError, match="does not divide"):
        quantize_model(lenet(), QuantConfig(granularity="per-group", group_size=3))


def test_resnet20_ptq_runs_with_bn_folded():
    torch.manual_seed(0)
    model = ResNet20().eval()
    q = ptq(model, torch.randn(8, 3, 32, 32), QuantConfig(wbits=4, abits=8))
    assert not any(isinstance(m, nn.BatchNorm2d) for m in q.modules())
    assert sum(isinstance(m, QuantConv2d) for m in q.modules()) == 20  # 21 convs, the first kept in FP32
    assert q(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_lsq_steps_are_learned_in_qat():
    torch.manual_seed(0)
    model = lenet().eval()
    q = ptq(model, torch.rand(16, 1, 28, 28), QuantConfig(wbits=2, abits=4, lsq=True))
    steps = [q.conv2.w_step, q.fc1.w_step, q.conv2.act.step, q.fc1.act.step]
    before = [s.detach().clone() for s in steps]
    opt = torch.optim.SGD([p for p in q.parameters() if p.requires_grad], lr=0.1)
    q.train()
    torch.nn.functional.cross_entropy(q(torch.rand(8, 1, 28, 28)), torch.arange(8)).backward()
    opt.step()
    assert all(
        s.grad is not None and not torch.equal(s.detach(), b) for s, b in zip(steps, before, strict=True)
    )
