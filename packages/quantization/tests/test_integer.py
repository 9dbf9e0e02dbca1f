import pytest
import torch

from pkg_quantization.integer import ENERGY_PJ, IntegerLinear, dyadic, energy_ratios, fake_linear_output
from pkg_quantization.quantizer import QuantSpec, compute_qparams, minmax_range


@pytest.mark.parametrize("granularity", ["per-tensor", "per-channel"])
@pytest.mark.parametrize("bits", [8, 4])
def test_integer_linear_matches_fake_quant_within_one_lsb(granularity, bits):
    g = torch.Generator().manual_seed(bits)
    w, b = torch.randn(32, 100, generator=g) * 0.2, torch.randn(32, generator=g)
    x = torch.randn(500, 100, generator=g).relu()
    a_spec = QuantSpec(bits, signed=False, symmetric=False)
    w_spec = QuantSpec(bits, granularity=granularity, restricted=True)
    s_x, z_x = compute_qparams(*minmax_range(x, a_spec), a_spec)
    s_y, z_y = compute_qparams(*minmax_range(x @ w.T + b, a_spec), a_spec)
    args = (w, b, w_spec, s_x, z_x, a_spec, s_y, z_y, a_spec)
    y_int = IntegerLinear.build(*args)(x)
    assert y_int.dtype == torch.int64
    assert (y_int - fake_linear_output(x, *args)).abs().max() <= 1


def test_dyadic_approximation():
    m_real = torch.tensor([1e-4, 0.0123, 0.5, 0.999])
    m, k = dyadic(m_real)
    assert ((m >= 2**30) & (m < 2**31)).all()
    torch.testing.assert_close(m.double() / 2.0 ** k.double(), m_real.double(), rtol=1e-9, atol=0)


def test_energy_table_is_the_cited_one():
    assert ENERGY_PJ["int8 add"] == 0.03 and ENERGY_PJ["fp32 mult"] == 3.7
    assert energy_ratios()["add fp32/int8"] == pytest.approx(30.0)
    assert energy_ratios()["mult fp32/int8"] == pytest.approx(18.5)
