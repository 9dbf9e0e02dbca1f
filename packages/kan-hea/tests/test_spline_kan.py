import math

import pytest
import torch

from pkg_kan_hea import KAN, EfficientKANLinear, KANLayer, b_splines, coef2curve, curve2coef, uniform_grid
from pkg_kan_hea.data import pykan_function
from pkg_kan_hea.spline import adaptive_grid, quantile_indices
from pkg_kan_hea.train import TrainConfig, train_model
from pkg_shared.device import pinned_threads
from pkg_shared.errors import UserError


def test_partition_of_unity_and_nonnegative(device):
    grid = uniform_grid(3, 7, 3).to(device)
    x = (torch.rand(500, 3, device=device) * 2 - 1).clamp(-0.999, 0.999)
    basis = b_splines(x, grid, 3)
    assert basis.shape == (500, 3, 10)
    assert (basis >= 0).all()
    assert torch.allclose(basis.sum(-1), torch.ones(500, 3, device=device), atol=1e-6)


def test_basis_matches_closed_form_cubic():
    # uniform knots: the cubic B-spline centred at t_m + 2h is (2/3 - u^2 + |u|^3/2) at distance u*h
    grid = uniform_grid(1, 4, 3)  # knots every 0.5 from -2.5 to 2.5
    x = torch.tensor([[0.0], [0.1], [0.3]])
    basis = b_splines(x, grid, 3)[:, 0]
    centres = grid[0, :-4] + 2 * 0.5
    u = (x - centres) / 0.5
    expected = torch.where(u.abs() < 1, 2 / 3 - u**2 + u.abs() ** 3 / 2, (2 - u.abs()).clamp(min=0) ** 3 / 6)
    assert torch.allclose(basis, expected, atol=1e-6)


def test_zero_outside_the_extended_grid():
    grid = uniform_grid(1, 5, 3)
    assert b_splines(torch.tensor([[5.0], [-5.0]]), grid, 3).abs().max() == 0


def test_curve2coef_inverts_coef2curve():
    grid = uniform_grid(2, 5, 3).double()
    coef = torch.randn(2, 3, 8, dtype=torch.float64)
    x = torch.linspace(-1, 1, 200, dtype=torch.float64)[:, None].expand(200, 2)
    fitted = curve2coef(x, coef2curve(x, grid, coef, 3), grid, 3)
    assert torch.allclose(fitted, coef, atol=1e-8)


def test_layer_forward_equals_sum_of_edges(device):
    layer = KANLayer(4, 3).to(device)
    x = torch.rand(32, 4, device=device) * 2 - 1
    assert torch.allclose(layer(x), layer.edges(x).sum(1), atol=1e-6)


def test_pykan_initialisation_scales():
    torch.manual_seed(0)
    layer = KANLayer(16, 64, grid_size=5, noise_scale=0.3)
    assert torch.allclose(layer.scale_sp, torch.full((16, 64), 0.25))
    assert layer.scale_base.abs().max() <= 0.25 and layer.scale_base.std() > 0.1
    spline = coef2curve(layer.grid[:, 3:-3].T, layer.grid, layer.coef, 3)
    assert spline.abs().max() <= 0.3 / 5 / 2 + 1e-6  # a fit through noise of amplitude noise_scale / G


def test_gradients_reach_every_parameter(device):
    model = KAN([3, 4, 2]).to(device)
    model(torch.rand(16, 3, device=device) * 2 - 1).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_grid_update_at_init_preserves_function():
    torch.manual_seed(0)
    model = KAN([3, 4, 1])
    x = torch.rand(300, 3) * 1.6 - 0.8
    before = model(x)
    model.update_grid(x)
    assert (model(x) - before).abs().max() < 1e-3
    assert model.layers[0].grid[:, 3].allclose(x.min(0).values, atol=0.02)


def test_grid_extension_preserves_a_smooth_function():
    torch.manual_seed(0)
    model = KAN([2, 3], grid_size=5)
    x = torch.rand(400, 2) * 1.8 - 0.9
    layer = model.layers[0]
    with torch.no_grad():
        smooth = torch.sin(2 * x)[:, :, None].expand(400, 2, 3) * torch.tensor([1.0, -0.5, 2.0])
        layer.coef.copy_(curve2coef(x, smooth, layer.grid, 3))
        before = model(x)
        model.extend_grid(x, 10)
        assert layer.coef.shape == (2, 3, 13) and layer.grid.shape == (2, 17)
        assert (model(x) - before).abs().max() < 1e-3 * before.abs().max()


def test_efficient_kan_shape_params_and_equality_with_kan_layer():
    eff = EfficientKANLinear(5, 3, grid_size=5, spline_order=3)
    assert eff(torch.rand(7, 5)).shape == (7, 3)
    assert sum(p.numel() for p in eff.parameters()) == 5 * 3 * (5 + 3 + 2)
    ours = KANLayer(5, 3, grid_size=5, k=3)
    with torch.no_grad():  # W_b <-> s_b, W_s * S <-> s_sp * c
        ours.scale_base.copy_(eff.base_weight.T)
        ours.scale_sp.fill_(1.0)
        ours.coef.copy_(eff.scaled_spline_weight.permute(1, 0, 2))
    x = torch.rand(50, 5) * 2 - 1
    assert torch.allclose(ours(x), eff(x), atol=1e-6)


@pytest.mark.parametrize("batch", [2, 7, 50, 101, 999, 1000])
@pytest.mark.parametrize("grid", [1, 3, 5, 10])
def test_quantile_indices_of_each_reference(batch, grid):
    # efficient-kan: torch.linspace(0, batch - 1, G + 1, dtype=int64); pykan: int(batch / G * i), then -1
    assert (
        quantile_indices(batch, grid, "efficient-kan")
        == torch.linspace(0, batch - 1, grid + 1, dtype=torch.int64).tolist()
    )
    assert quantile_indices(batch, grid, "pykan") == [int(batch / grid * i) for i in range(grid)] + [
        batch - 1
    ]


def test_each_layer_updates_its_grid_as_its_reference_does():
    """KANLayer follows pykan (its indices, no margin, outer knots at the new grid's mean spacing);
    EfficientKANLinear follows efficient-kan (its indices, margin 0.01, outer knots at the uniform step)."""
    torch.manual_seed(0)
    x = torch.rand(50, 2) * 1.6 - 0.8
    xs = torch.sort(x, dim=0).values
    lo, hi = xs[0], xs[-1]
    eps, k, g = 0.02, 3, 5

    pyk = KANLayer(2, 3, grid_size=g, k=k, grid_eps=eps)
    pyk.update_grid(x)
    ids = [0, 10, 20, 30, 40, 49]  # int(50 / 5 * i), then the last
    inner = eps * (lo + (hi - lo) / g * torch.arange(g + 1)[:, None]) + (1 - eps) * xs[ids]
    assert torch.allclose(pyk.grid[:, k:-k], inner.T, atol=1e-6)
    h = (inner[-1] - inner[0]) / g
    assert torch.allclose(pyk.grid[:, k + g + 1] - pyk.grid[:, k + g], h, atol=1e-6)

    eff = EfficientKANLinear(2, 3, grid_size=g, spline_order=k, grid_eps=eps)
    eff.update_grid(x, margin=0.01)
    ids = [0, 9, 19, 29, 39, 49]  # linspace(0, 49, 6) truncated
    step = (hi - lo + 0.02) / g
    inner = eps * (lo - 0.01 + step * torch.arange(g + 1)[:, None]) + (1 - eps) * xs[ids]
    assert torch.allclose(eff.grid[:, k:-k], inner.T, atol=1e-6)
    assert torch.allclose(eff.grid[:, k + g + 1] - eff.grid[:, k + g], step, atol=1e-6)
    assert torch.allclose(eff.grid[:, k] - eff.grid[:, k - 1], step, atol=1e-6)
    assert not torch.allclose(eff.grid, pyk.grid, atol=1e-4)  # the two references differ


def test_efficient_kan_update_grid_preserves_the_function():
    torch.manual_seed(0)
    eff = EfficientKANLinear(5, 3)
    x = torch.rand(200, 5) * 2 - 1
    before = eff(x)
    eff.update_grid(x)
    assert (eff(x) - before).abs().max() < 1e-2 * before.abs().max()
    assert torch.equal(eff.spline_scaler, torch.ones_like(eff.spline_scaler))


def test_adaptive_grid_spacing_includes_the_margin():
    x = torch.linspace(-0.5, 0.5, 11)[:, None]
    inner, h = adaptive_grid(x, 5, grid_eps=1.0, margin=0.1, style="efficient-kan")
    assert torch.allclose(h, torch.tensor([[0.24]])) and torch.allclose(
        inner[0, [0, -1]], torch.tensor([-0.6, 0.6])
    )


def test_closed_form_fit_reaches_the_spec_rmse():
    """The spec's check, fast: [2,5,1] KAN, 1,000 points, LBFGS at G=5 then grid extension to G=10;
    test RMSE on 1,000 other points < 0.05 (``reproduce`` runs 20 LBFGS steps per grid; 5 here)."""
    torch.manual_seed(0)
    train, test = pykan_function(1000, 0), pykan_function(1000, 10_000)
    x, y = torch.as_tensor(train.x), torch.as_tensor(train.y)
    model = KAN([2, 5, 1], grid_size=5, k=3)
    cfg = TrainConfig(steps=5, opt="lbfgs", lr=1.0)
    with pinned_threads(1):
        train_model(model, x, y, "regression", cfg)
        model.extend_grid(x, 10)
        train_model(model, x, y, "regression", cfg)
        with torch.no_grad():
            pred = model(torch.as_tensor(test.x))
    rmse = float(((pred - torch.as_tensor(test.y)) ** 2).mean().sqrt())
    assert rmse < 0.05, rmse


def test_regularizer_importance_and_pruning():
    torch.manual_seed(0)
    x = torch.rand(100, 3) * 2 - 1
    y = torch.sin(math.pi * x[:, :1])  # only input 0 matters
    model = KAN([3, 3, 1])
    reg = model.regularization(x)
    assert reg.ndim == 0 and reg > 0
    with pinned_threads(1):
        train_model(model, x, y, "regression", TrainConfig(steps=60, lamb=1e-3))
    importance = model.feature_importance(x)
    assert importance.argmax() == 0 and importance.sum() == pytest.approx(1.0, abs=1e-4)
    pruned = model.prune(x, edge_threshold=0.05)
    assert pruned["edges"] > 0 and (model.layers[0].mask[0] > 0).any()


def test_compact_network_equals_the_masked_one():
    torch.manual_seed(0)
    model = KAN([3, 5, 4, 2])
    with torch.no_grad():  # node 1 of layer 1 feeds nothing; node 3 of layer 2 only the dead node's path
        model.layers[1].mask[1, :] = 0.0
        model.layers[2].mask[3, :] = 0.0
        model.layers[1].mask[0, 2] = 0.0  # a masked edge between kept nodes stays masked
    small = model.compact()
    assert small.width == [3, 4, 3, 2]
    x = torch.rand(64, 3) * 2 - 1
    assert torch.allclose(small(x), model(x), atol=1e-6)
    assert sum(p.numel() for p in small.parameters()) < sum(p.numel() for p in model.parameters())


def test_prune_then_compact_preserves_outputs():
    torch.manual_seed(1)
    x = torch.rand(100, 3) * 2 - 1
    model = KAN([3, 6, 1])
    with torch.no_grad():  # hidden nodes 2 and 4 get (almost) silent incoming edges
        for layer_param in (model.layers[0].scale_base, model.layers[0].scale_sp):
            layer_param[:, [2, 4]] *= 1e-4
    counts = model.prune(x)
    small = model.compact()
    assert counts["nodes"] == 2 and small.width == [3, 4, 1]
    assert torch.allclose(small(x), model(x), atol=1e-6)


@pytest.mark.parametrize("bad", [dict(grid_size=0), dict(grid_size=10_000), dict(k=-1), dict(k=11)])
def test_grid_size_and_order_out_of_range(bad):
    with pytest.raises(UserError):
        KAN([2, 1], **bad)
