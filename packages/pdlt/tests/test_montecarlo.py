import numpy as np
import pytest
import torch

from pkg_pdlt.activations import get_activation
from pkg_pdlt.montecarlo import RandomMLP, correlation, empirical_ntk, ensemble, moments
from pkg_pdlt.theory import exact_kurtosis, kernel_recursion
from pkg_shared.errors import UserError


def test_linear_exact_kurtosis_at_n8():
    gen = torch.Generator().manual_seed(0)
    x = torch.ones(1, 8, dtype=torch.float64)
    mc = moments(ensemble("linear", 0.0, 1.0, x, [8] * 4, 20_000, generator=gen), generator=gen)
    exact = exact_kurtosis("linear", 8, 4)  # 0, 0.25, 0.5625, 0.953
    assert np.all(np.abs(mc.kappa - exact) <= 3 * mc.kappa_se), (mc.kappa, mc.kappa_se, exact)
    assert mc.kappa[-1] > 0.5  # a large effect, not noise around zero


def test_samplers_agree_in_distribution():
    x = torch.ones(1, 16, dtype=torch.float64)
    res = []
    for sampler in ("weights", "marginal"):
        gen = torch.Generator().manual_seed(1)
        res.append(
            moments(
                ensemble("tanh", 0.0, 1.0, x, [16] * 4, 2000, sampler=sampler, generator=gen), generator=gen
            )
        )
    w, m = res
    assert np.all(np.abs(w.K - m.K) <= 3 * np.hypot(w.K_se, m.K_se))
    assert np.all(np.abs(w.kappa - m.kappa) <= 3 * np.hypot(w.kappa_se, m.kappa_se))


def test_ensemble_shapes_kernel_and_correlation(device):
    gen = torch.Generator(device).manual_seed(0)
    X = torch.tensor([[1.0, 0.0], [0.6, 0.8]], dtype=torch.float64, device=device) * np.sqrt(2)
    ens = ensemble("relu", 0.0, 2.0, X, [64, 64, 64], 200, generator=gen)
    assert ens.gram.shape == (3, 200, 2, 2) and ens.gram.dtype == torch.float64
    rho, se = correlation(ens, 0, 1, generator=gen)
    assert rho[0] == pytest.approx(0.6, abs=3 * se[0] + 1e-9) and np.all(np.diff(rho) > 0)
    K = moments(ens, generator=gen).K
    np.testing.assert_allclose(K, kernel_recursion("relu", 0.0, 2.0, 2.0, 3), rtol=0.05)


def test_empirical_ntk_matches_autograd_on_the_same_networks():
    x = torch.linspace(-1, 1, 5, dtype=torch.float64)
    widths, lam_b, lam_W = [7, 6, 1], 0.3, 1.7
    theta = empirical_ntk(
        "tanh", 0.2, 1.5, x, widths, 10, lam_b=lam_b, lam_W=lam_W, generator=torch.Generator().manual_seed(3)
    )
    gen = torch.Generator().manual_seed(3)
    model = RandomMLP(5, widths, "tanh", 0.2, 1.5)
    stacked = {
        k: torch.randn(10, *p.shape, dtype=torch.float64, generator=gen) for k, p in model.named_parameters()
    }
    scale = {
        k: np.sqrt(1.5 / p.shape[1]) if k.endswith("weight") else np.sqrt(0.2)
        for k, p in model.named_parameters()
    }
    for s in (0, 9):
        with torch.no_grad():
            for k, p in model.named_parameters():
                p.copy_(scale[k] * stacked[k][s])
        grads = torch.autograd.grad(model(x)[0], list(model.parameters()))
        manual = sum(
            (lam_W / p.shape[1] if k.endswith("weight") else lam_b) * g.pow(2).sum()
            for (k, p), g in zip(model.named_parameters(), grads)
        )
        assert theta[s] == pytest.approx(float(manual), rel=1e-12)


def test_one_layer_ntk_is_exact():
    x = torch.ones(4, dtype=torch.float64) * 2.0
    theta = empirical_ntk("relu", 0.5, 2.0, x, [1], 10, lam_b=0.7, lam_W=1.1)
    np.testing.assert_allclose(theta, 0.7 + 1.1 * 4.0, rtol=1e-12)


def test_random_mlp_init_statistics():
    model = RandomMLP(100, [400, 3], "relu", 0.0, 2.0)
    assert model.layers[1].weight.var().item() == pytest.approx(2.0 / 400, rel=0.05)
    assert model.act.name == get_activation("relu").name


@pytest.mark.parametrize(
    ("samples", "widths", "sampler"),
    [(5, [8], "weights"), (100, [0, 8], "weights"), (100, [], "weights"), (100, [8], "gibbs")],
)
def test_bad_ensemble_input(samples, widths, sampler):
    with pytest.raises(UserError):
        ensemble("relu", 0.0, 2.0, torch.ones(1, 4), widths, samples, sampler=sampler)
