"""Side by side with pykan 0.2.8 (skipped unless `kan` is importable; never a runtime dependency)."""

import pytest
import torch

from pkg_kan_hea import KAN, b_splines, coef2curve, uniform_grid
from pkg_kan_hea.bench import load_pykan_weights

kan = pytest.importorskip("kan")


def test_basis_and_curve_equal_pykan():
    from kan.spline import B_batch
    from kan.spline import coef2curve as pk_coef2curve

    grid = uniform_grid(4, 5, 3)
    x = torch.rand(100, 4) * 2 - 1
    assert torch.allclose(b_splines(x, grid, 3), B_batch(x, grid, 3), atol=1e-6)
    coef = torch.randn(4, 3, 8)
    assert torch.allclose(coef2curve(x, grid, coef, 3), pk_coef2curve(x, grid, coef, 3), atol=1e-6)


def test_network_and_grid_update_equal_pykan():
    ref = kan.KAN(width=[3, 4, 2], grid=5, k=3, seed=0, auto_save=False)
    ours = KAN([3, 4, 2], 5, 3)
    load_pykan_weights(ours, ref)
    x = torch.rand(200, 3) * 2 - 1
    assert torch.allclose(ours(x), ref(x), atol=1e-5)
    ref.act_fun[0].update_grid_from_samples(x)
    ours.layers[0].update_grid(x)
    assert torch.allclose(ours.layers[0].grid, ref.act_fun[0].grid, atol=1e-6)
    assert torch.allclose(ours.layers[0](x), ref.act_fun[0](x)[0], atol=1e-5)
