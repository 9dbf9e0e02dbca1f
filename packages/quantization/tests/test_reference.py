import pytest
import torch

from pkg_quantization.models import lenet
from pkg_quantization.reference import (
    TORCH_AO_MATCH,
    ao_static_ptq,
    ptq_like_torch_ao,
    top1_disagreement,
    torch_ao_available,
)
from pkg_quantization.training import ptq

OK, WHY = torch_ao_available()
pytestmark = pytest.mark.skipif(not OK, reason=f"torch.ao eager static quantisation unavailable: {WHY}")


def test_w8a8_ptq_matches_torch_ao_eager_static():
    torch.manual_seed(0)
    model = lenet().eval()
    x_calib = torch.rand(64, 1, 28, 28)
    ours = ptq(model, x_calib, TORCH_AO_MATCH)
    theirs = ao_static_ptq(model, x_calib)
    # the same observers give the same quantisation parameters
    assert float(theirs.quant.scale) == pytest.approx(float(ours.conv1.act.scale), rel=1e-6)
    assert int(theirs.quant.zero_point) == int(ours.conv1.act.zero_point)
    assert float(theirs.model.conv1.scale) == pytest.approx(float(ours.conv2.act.scale), rel=1e-6)
    assert float(theirs.model.fc1.scale) == pytest.approx(float(ours.fc2.act.scale), rel=1e-6)
    w_ao = theirs.model.conv2.weight()
    torch.testing.assert_close(w_ao.dequantize(), ours.conv2.quant_weight().detach())


def test_logits_are_quantised_as_torch_ao_does():
    """torch.ao's converted model outputs quint8 logits (min-max observer on the FP32 logits); ours
    with the same output quantiser gives the same grid, and the two models agree on nearly every image."""
    torch.manual_seed(1)
    model = lenet().eval()
    x_calib, x = torch.rand(64, 1, 28, 28), torch.rand(200, 1, 28, 28)
    ours, theirs = ptq_like_torch_ao(model, x_calib), ao_static_ptq(model, x_calib)
    assert float(theirs.model.fc2.scale) == pytest.approx(float(ours.out.scale), rel=1e-6)
    assert int(theirs.model.fc2.zero_point) == int(ours.out.zero_point)
    a, b = ours(x).detach(), theirs(x)
    grid = b / float(ours.out.scale)
    assert torch.allclose(grid, grid.round(), atol=1e-3)  # torch.ao's logits lie on our output grid
    span = float(b.max() - b.min())
    # int8 kernels requantise every layer (int32 bias, integer rounding): logits differ by a few LSB
    assert (a - b).abs().mean() <= 0.05 * span
    assert top1_disagreement(ours, theirs, x) <= 25.0  # an untrained model: near-tied logits
    assert top1_disagreement(theirs, theirs, x) == 0.0
