import pytest
import torch

from pkg_quantization.quantizer import (
    QuantSpec,
    binarize,
    compute_qparams,
    fake_quantize,
    lsq_quantize,
    minmax_range,
    ternarize,
)
from pkg_shared.errors import UserError

tq = pytest.importorskip("torch.ao.quantization", reason="this torch has no torch.ao.quantization")

SPECS = [
    QuantSpec(8, signed=False, symmetric=False),
    QuantSpec(8, signed=True, symmetric=True),
    QuantSpec(4, signed=True, symmetric=True, restricted=True),
    QuantSpec(3, signed=False, symmetric=False),
    QuantSpec(2, signed=True, symmetric=False),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_fake_quant_is_bit_exact_with_torch(spec, device):
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(5000, generator=g) * 2 + 0.3).to(device)
    s, z = compute_qparams(*minmax_range(x, spec), spec)
    ref = torch.fake_quantize_per_tensor_affine(x, float(s), int(z), *spec.qrange)
    assert torch.equal(fake_quantize(x, s, z, spec), ref)
    w = torch.randn(12, 3, 5, 5, generator=g).to(device)
    pc = QuantSpec(spec.bits, spec.signed, spec.symmetric, spec.restricted, "per-channel")
    s, z = compute_qparams(*minmax_range(w, pc), pc)
    ref = torch.fake_quantize_per_channel_affine(w, s, z.int(), 0, *pc.qrange)
    assert torch.equal(fake_quantize(w, s, z, pc), ref)


@pytest.mark.parametrize(
    "x",
    [torch.randn(64, 8) * 3, torch.rand(64, 8) + 0.5, torch.full((64, 8), 2.5), torch.zeros(64, 8)],
    ids=["gauss", "positive", "constant", "zeros"],
)
def test_observer_parity(x):
    cases = [
        (tq.MinMaxObserver(dtype=torch.quint8, qscheme=torch.per_tensor_affine), QuantSpec(8, False, False)),
        (tq.MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric), QuantSpec(8, True, True)),
        (
            tq.MinMaxObserver(
                dtype=torch.qint8, qscheme=torch.per_tensor_symmetric, quant_min=-127, quant_max=127
            ),
            QuantSpec(8, True, True, restricted=True),
        ),
        (
            tq.PerChannelMinMaxObserver(dtype=torch.qint8, qscheme=torch.per_channel_symmetric),
            QuantSpec(8, True, True, granularity="per-channel"),
        ),
        (
            tq.PerChannelMinMaxObserver(dtype=torch.quint8, qscheme=torch.per_channel_affine),
            QuantSpec(8, False, False, granularity="per-channel"),
        ),
    ]
    for obs, spec in cases:
        obs(x)
        s_ref, z_ref = obs.calculate_qparams()
        s, z = compute_qparams(*minmax_range(x, spec), spec)
        torch.testing.assert_close(s.reshape(s_ref.shape), s_ref, atol=1e-7, rtol=0)
        assert torch.equal(z.reshape(z_ref.shape).to(z_ref.dtype), z_ref), (spec, z, z_ref)


def test_round_trip_error_and_clipping():
    spec = QuantSpec(4, signed=False, symmetric=False)
    alpha, beta = torch.tensor(-1.0), torch.tensor(3.0)
    s, z = compute_qparams(alpha, beta, spec)
    inside = torch.linspace(-1.0, 3.0, 1001)
    assert ((fake_quantize(inside, s, z, spec) - inside).abs() <= s / 2 + 1e-6).all()
    outside = torch.tensor([-5.0, -1.5, 3.7, 10.0])
    out = fake_quantize(outside, s, z, spec)
    lo, hi = (torch.tensor(spec.qrange) - z) * s
    assert torch.allclose(out, torch.tensor([lo, lo, hi, hi]))
    assert torch.isclose(lo, alpha, atol=float(s) / 2) and torch.isclose(hi, beta, atol=float(s) / 2)


def test_clipped_ste_gradient_is_one_inside_zero_outside():
    spec = QuantSpec(8, signed=False, symmetric=False)
    s, z = compute_qparams(torch.tensor(0.0), torch.tensor(1.0), spec)
    x = torch.tensor([-0.5, 0.0, 0.3, 0.99, 1.0, 1.5], requires_grad=True)
    fake_quantize(x, s, z, spec).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 1.0, 0.0]


def test_lsq_step_gradient_matches_finite_differences():
    spec = QuantSpec(4, signed=True, symmetric=True)
    x = torch.randn(200, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    step = torch.tensor([0.2], dtype=torch.float64, requires_grad=True)
    lsq_quantize(x, step, spec).sum().backward()
    qmin, qmax = spec.qrange
    g = 1.0 / (200 * qmax) ** 0.5
    # the LSQ surrogate: rounding residual frozen at s0, clamp differentiated (Esser et al., Eq. 3)
    residual = (torch.round(torch.clamp(x / 0.2, qmin, qmax)) - torch.clamp(x / 0.2, qmin, qmax)).detach()

    def surrogate(s: float) -> torch.Tensor:
        return ((torch.clamp(x / s, qmin, qmax) + residual) * s).sum()

    h = 1e-6
    fd = (surrogate(0.2 + h) - surrogate(0.2 - h)) / (2 * h)
    assert float(step.grad) == pytest.approx(float(fd) * g, rel=1e-5)


def test_stochastic_rounding_is_unbiased():
    spec = QuantSpec(4, signed=False, symmetric=False, rounding="stochastic")
    s, z = compute_qparams(torch.tensor(0.0), torch.tensor(1.5), spec)
    x = torch.full((200_000,), 0.537)
    assert float(fake_quantize(x, s, z, spec).mean()) == pytest.approx(0.537, abs=2e-3)


def test_per_group_shares_ranges():
    spec = QuantSpec(4, granularity="per-group", group_size=2)
    w = torch.randn(6, 10)
    w[0] *= 100  # a large channel only affects its own group
    s, _ = compute_qparams(*minmax_range(w, spec), spec)
    assert s.shape == (3,) and s[0] > 10 * s[1:].max()
    with pytest.raises(UserError, match="does not divide"):
        minmax_range(w, QuantSpec(4, granularity="per-group", group_size=4))


def test_binary_and_ternary_levels():
    w = torch.randn(4, 50, requires_grad=True)
    spec = QuantSpec(1, granularity="per-channel")
    b = binarize(w, spec)
    for row, orig in zip(b.detach(), w.detach(), strict=True):
        torch.testing.assert_close(row.abs().unique(), orig.abs().mean().reshape(1))
    t = ternarize(w, QuantSpec(2, granularity="per-channel"))
    assert all(len(row.unique()) == 3 for row in t)
    t.sum().backward()
    assert torch.equal(w.grad, torch.ones_like(w))  # STE


@pytest.mark.parametrize(
    "kwargs",
    [
        {"bits": 0},
        {"bits": 9},
        {"rounding": "up"},
        {"granularity": "per-row"},
        {"bits": 1, "restricted": True},  # the grid would be the single level 0: S = max / 0
    ],
)
def test_bad_spec(kwargs):
    with pytest.raises(UserError):
        QuantSpec(**kwargs)


def test_one_bit_restricted_names_the_limit():
    with pytest.raises(UserError, match=">= 2 bits"):
        QuantSpec(1, restricted=True)
