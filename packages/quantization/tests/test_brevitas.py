"""Optional reference: brevitas (not a dependency; these tests skip when it is not installed)."""

import pytest
import torch

from pkg_quantization.quantizer import QuantSpec, fake_quantize_minmax

qnn = pytest.importorskip("brevitas.nn", reason="brevitas is not installed (optional reference)")


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_per_channel_restricted_weights_equal_brevitas(bits):
    from brevitas.quant import Int8WeightPerChannelFloat

    torch.manual_seed(bits)
    spec = QuantSpec(bits, restricted=True, granularity="per-channel")
    for layer in (
        qnn.QuantConv2d(16, 32, 5, weight_quant=Int8WeightPerChannelFloat, weight_bit_width=bits),
        qnn.QuantLinear(512, 128, bias=True, weight_quant=Int8WeightPerChannelFloat, weight_bit_width=bits),
    ):
        ref = layer.quant_weight().value.detach()
        assert torch.equal(fake_quantize_minmax(layer.weight.detach(), spec), ref)


def test_brevitas_lenet_copies_the_fp32_model():
    from pkg_quantization.brevitas_ref import brevitas_lenet
    from pkg_quantization.models import lenet

    torch.manual_seed(0)
    model = lenet().eval()
    b = brevitas_lenet(model, wbits=8, abits=8).eval()
    x = torch.rand(4, 1, 28, 28)
    assert torch.equal(b.conv1.weight, model.conv1.weight) and torch.equal(b.fc1.bias, model.fc1.bias)
    assert b(x).shape == (4, 10)
