import numpy as np
import pytest
import torch

from pkg_pdlt.activations import NAMES, get_activation
from pkg_pdlt.gaussian import expect, expect2
from pkg_pdlt.theory import chi_parallel, sigma2
from pkg_shared.errors import UserError

ALL = ["relu", "linear", "leaky_relu:0.1", "tanh", "sin", "swish", "gelu", "sigmoid", "softplus"]


def test_gaussian_moments_exact():
    K = np.array([0.3, 1.0, 7.5])
    relu = get_activation("relu").fn
    np.testing.assert_allclose(expect(lambda z: z**2, K), K, rtol=1e-12)
    np.testing.assert_allclose(expect(lambda z: z**4, K), 3 * K**2, rtol=1e-12)
    np.testing.assert_allclose(expect(lambda z: relu(z) ** 2, K), K / 2, rtol=1e-12)
    np.testing.assert_allclose(expect(lambda z: relu(z) ** 4, K), 3 * K**2 / 2, rtol=1e-12)


def test_bivariate_moments_exact():
    Kaa, Kab, Kbb = np.array([1.0, 2.0]), np.array([0.3, -1.2]), np.array([0.5, 3.0])
    ident = lambda z: z  # noqa: E731
    np.testing.assert_allclose(expect2(ident, ident, Kaa, Kab, Kbb), Kab, atol=1e-12)
    sq = lambda z: z**2  # noqa: E731
    np.testing.assert_allclose(expect2(sq, sq, Kaa, Kab, Kbb), Kaa * Kbb + 2 * Kab**2, rtol=1e-10)
    # identical inputs (singular kernel) reduce to the 1-D expectation
    t = get_activation("tanh").fn
    assert expect2(t, t, 0.8, 0.8, 0.8) == pytest.approx(float(expect(lambda z: t(z) ** 2, 0.8)), rel=1e-8)


def test_tanh_derivative_quadrature_vs_monte_carlo():
    act = get_activation("tanh")
    z = np.random.default_rng(0).normal(0.0, np.sqrt(0.7), 1_000_000)
    assert float(expect(lambda u: act.grad(u) ** 2, 0.7)) == pytest.approx(
        np.mean(act.grad(z) ** 2), abs=1e-3
    )


@pytest.mark.parametrize("name", ALL)
def test_chi_parallel_is_the_derivative_of_the_recursion(name):
    act, K, h, C_W = get_activation(name), 0.7, 1e-5, 1.3
    fd = C_W * (sigma2(act, K + h) - sigma2(act, K - h)) / (2 * h)
    assert float(chi_parallel(act, K, C_W)) == pytest.approx(float(fd), rel=1e-6)


@pytest.mark.parametrize("name", ALL)
def test_numpy_derivative_matches_autograd(name):
    act = get_activation(name)
    z = torch.linspace(-3, 3, 61, dtype=torch.float64).add(1e-3).requires_grad_()
    (grad,) = torch.autograd.grad(act.torch_fn(z).sum(), z)
    np.testing.assert_allclose(act.grad(z.detach().numpy()), grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(act.fn(z.detach().numpy()), act.torch_fn(z).detach().numpy(), atol=1e-12)


def test_relu_derivative_at_zero_is_zero():
    assert get_activation("relu").grad(np.array([0.0]))[0] == 0.0


@pytest.mark.parametrize("spec", ["elu", "leaky_relu", "leaky_relu:abc", "leaky_relu:nan", "leaky_relu:"])
def test_bad_activation_names(spec):
    with pytest.raises(UserError) as err:
        get_activation(spec)
    assert "tanh" in str(err.value) or "leaky_relu:<slope>" in str(err.value)
    assert "leaky_relu:<slope>" in NAMES
