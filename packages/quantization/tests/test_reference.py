import pytest
import torch

from pkg_quantization.layers import QuantConfig
from pkg_quantization.models import lenet
from pkg_quantization.reference import ao_static_ptq, torch_ao_available
from pkg_quantization.training import ptq

OK, WHY = torch_ao_available()
pytestmark = pytest.mark.skipif(not OK, reason=f"torch.ao eager static quantisation unavailable: {WHY}")


def test_w8a8_ptq_matches_torch_ao_eager_static():
    torch.manual_seed(0)
    model = lenet().eval()
    x_calib = torch.rand(64, 1, 28, 28)
    ours = ptq(
        model, x_calib, QuantConfig(granularity="per-channel", restricted=False, keep_first_last=False)
    )
    theirs = ao_static_ptq(model, x_calib)
    # the same observers give the same quantisation parameters
    assert float(theirs.quant.scale) == pytest.approx(float(ours.conv1.act.scale), rel=1e-6)
    assert int(theirs.quant.zero_point) == int(ours.conv1.act.zero_point)
    assert float(theirs.model.conv1.scale) == pytest.approx(float(ours.conv2.act.scale), rel=1e-6)
    assert float(theirs.model.fc1.scale) == pytest.approx(float(ours.fc2.act.scale), rel=1e-6)
    w_ao = theirs.model.conv2.weight()
    torch.testing.assert_close(w_ao.dequantize(), ours.conv2.quant_weight().detach())
