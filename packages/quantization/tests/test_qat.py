import copy

import torch
from torch import nn

import pkg_quantization.training as training
from pkg_quantization.layers import QuantConfig, QuantConv2d, QuantConvBn2d, fold_qat_bn
from pkg_quantization.models import lenet
from pkg_quantization.quantizer import QuantSpec


def _bn_lenet() -> nn.Module:
    torch.manual_seed(0)
    model = lenet(bn=True)
    model.train()
    model(torch.rand(64, 1, 28, 28))  # non-trivial running statistics
    return model.eval()


def test_conv_bn_quantises_the_folded_weight_and_equals_its_fold_once_frozen():
    torch.manual_seed(0)
    conv, bn = nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8)
    bn.running_mean.uniform_(-1, 1), bn.running_var.uniform_(0.5, 2), bn.weight.data.uniform_(0.5, 2)
    layer = QuantConvBn2d(conv, bn, QuantSpec(4, granularity="per-channel", restricted=True))
    x = torch.randn(16, 3, 9, 9)
    folded = layer.fold()
    assert isinstance(folded, QuantConv2d)
    layer.eval()
    torch.testing.assert_close(layer(x), folded(x), atol=1e-5, rtol=1e-5)
    # training mode, not frozen: BN normalises with the batch statistics and updates the running ones
    layer.train()
    before = layer.bn.running_mean.clone()
    y = layer(x)
    torch.testing.assert_close(y.mean(dim=(0, 2, 3)), layer.bn.bias.detach(), atol=1e-4, rtol=0)
    assert not torch.equal(layer.bn.running_mean, before)
    # frozen: running statistics stay, and the layer equals the folded inference layer in training mode too
    layer.freeze()
    frozen = layer.bn.running_mean.clone()
    torch.testing.assert_close(layer(x), layer.fold()(x), atol=1e-5, rtol=1e-5)
    assert torch.equal(layer.bn.running_mean, frozen)


def test_ptq_with_bn_kept_equals_its_fold():
    model, x = _bn_lenet(), torch.rand(64, 1, 28, 28)
    kept = training.ptq(model, x, QuantConfig(wbits=4, abits=8), keep_bn=True)
    assert isinstance(kept.conv1, QuantConvBn2d) and kept.conv1.w_spec is None  # first layer in FP32
    assert isinstance(kept.conv2, QuantConvBn2d) and kept.conv2.w_spec.bits == 4
    folded = fold_qat_bn(copy.deepcopy(kept))
    assert not any(isinstance(m, (nn.BatchNorm2d, QuantConvBn2d)) for m in folded.modules())
    torch.testing.assert_close(folded(x), kept(x), atol=1e-5, rtol=1e-5)


def test_qat_freezes_bn_statistics_after_the_first_epoch(monkeypatch):
    model = _bn_lenet()
    start = model.bn2.running_mean.clone()
    seen: dict[str, object] = {}
    real_freeze = training.freeze_bn_stats

    def spy(m: nn.Module) -> None:
        if not seen:
            seen["layer"] = m.conv2
            seen["at_freeze"] = m.conv2.bn.running_mean.clone()
        real_freeze(m)

    monkeypatch.setattr(training, "freeze_bn_stats", spy)
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    q = training.qat(model, x, y, QuantConfig(wbits=4, abits=4), epochs=2, batch_size=32, bn_freeze_epoch=1)
    layer = seen["layer"]
    assert isinstance(layer, QuantConvBn2d) and layer.bn_frozen
    assert not torch.equal(seen["at_freeze"], start)  # BN statistics were trained during epoch 1
    assert torch.equal(layer.bn.running_mean, seen["at_freeze"])  # and frozen during epoch 2
    assert not any(isinstance(m, (nn.BatchNorm2d, QuantConvBn2d)) for m in q.modules())
    assert q(x[:2]).shape == (2, 10)
