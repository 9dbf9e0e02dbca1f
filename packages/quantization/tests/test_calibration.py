import pytest
import torch

from pkg_quantization.calibration import calibrate_range, calibrated_qparams
from pkg_quantization.quantizer import QuantSpec, fake_quantize
from pkg_shared.errors import UserError


def _mse(x, spec, method, on=None):
    s, z = calibrated_qparams(x, spec, method)
    on = torch.ones_like(x, dtype=torch.bool) if on is None else on
    return float((fake_quantize(x, s, z, spec) - x)[on].pow(2).mean())


def gaussian_with_outliers(n=100_000, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, generator=g)
    outlier = torch.zeros(n, dtype=torch.bool)
    outlier[torch.randperm(n, generator=g)[: n // 100]] = True
    x[outlier] = torch.randn(int(outlier.sum()), generator=g) * 20
    return x, outlier


def test_kl_clips_outliers_and_beats_minmax_on_the_bulk():
    x, outlier = gaussian_with_outliers()
    spec = QuantSpec(8, signed=True, symmetric=True)  # TensorRT's setting: 128 levels of |x|
    _, beta = calibrate_range(x, spec, "kl")
    assert float(beta) < float(x.abs().max())
    # the Gaussian bulk gets a finer grid; the clipped 1% (sd 20) costs more than it gains in total MSE
    assert _mse(x, spec, "kl", ~outlier) < _mse(x, spec, "minmax", ~outlier)


def test_mse_and_percentile_clip():
    x, _ = gaussian_with_outliers(seed=1)
    spec = QuantSpec(4, signed=True, symmetric=True)
    assert _mse(x, spec, "mse") < _mse(x, spec, "minmax")
    lo, hi = calibrate_range(x, spec, "percentile", percentile=99.0)
    assert float(lo) == pytest.approx(float(x.quantile(0.01)), abs=0.05)
    assert float(hi) == pytest.approx(float(x.quantile(0.99)), abs=0.05)
    assert calibrate_range(x, spec, "percentile", percentile=100.0)[1] == x.max()


def test_moving_average_matches_torch():
    tq = pytest.importorskip("torch.ao.quantization", reason="this torch has no torch.ao.quantization")
    batches = [torch.randn(100) * (i + 1) for i in range(5)]
    obs = tq.MovingAverageMinMaxObserver(averaging_constant=0.01)
    for b in batches:
        obs(b)
    lo, hi = calibrate_range(batches, QuantSpec(8, False, False), "moving-average")
    (
        torch.testing.assert_close(lo, obs.min_val.reshape(1)),
        torch.testing.assert_close(hi, obs.max_val.reshape(1)),
    )


def test_per_channel_calibrators_shape():
    w = torch.randn(2, 3, 3, 3)
    spec = QuantSpec(4, granularity="per-channel")
    for method in ("minmax", "percentile", "mse", "kl"):
        lo, hi = calibrate_range(w, spec, method)
        assert lo.shape == hi.shape == (2,) and (lo <= hi).all()


@pytest.mark.parametrize("p", [0.0, -1.0, 100.5])
def test_bad_percentile(p):
    with pytest.raises(UserError, match="percentile"):
        calibrate_range(torch.randn(10), QuantSpec(), "percentile", percentile=p)


def test_unknown_calibrator():
    with pytest.raises(UserError):
        calibrate_range(torch.randn(10), QuantSpec(), "entropy")
