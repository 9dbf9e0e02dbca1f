import numpy as np
import pytest

from pkg_pdlt.activations import get_activation
from pkg_pdlt.criticality import closed_form, find_criticality
from pkg_pdlt.experiment import regressions
from pkg_pdlt.gaussian import expect, expect2
from pkg_pdlt.theory import (
    chi_perp,
    correlation_recursion,
    equivalent_learning_rates,
    exact_kurtosis,
    kernel_recursion,
    kurtosis_1n,
    multi_input_recursion,
    ntk_recursion,
    pair_expectations,
    scale_invariant_moments,
    two_inputs,
    vertex_recursion,
)
from pkg_shared.errors import UserError


def test_leaky_relu_closed_forms_vs_generic_recursion():
    act = get_activation("leaky_relu:0.1")
    A2, A4, nu = scale_invariant_moments(act)
    assert pytest.approx((0.505, 0.50005)) == (A2, A4)
    assert nu == pytest.approx(4.882, abs=5e-4)
    assert closed_form(act)[1] == pytest.approx(1.9802, abs=5e-5)
    crit = find_criticality(act)
    assert crit.klass == "scale-invariant" and pytest.approx(1 / A2, rel=1e-9) == crit.C_W
    K, V = vertex_recursion(act, 0.0, 1 / A2, 0.8, 30)
    np.testing.assert_allclose(K, 0.8, rtol=1e-12)
    np.testing.assert_allclose(V / K**2, nu * np.arange(30), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(("name", "nu", "cw"), [("relu", 5.0, 2.0), ("linear", 2.0, 1.0)])
def test_scale_invariant_nu(name, nu, cw):
    assert scale_invariant_moments(get_activation(name))[2] == pytest.approx(nu)
    assert closed_form(name) == pytest.approx((0.0, cw))


def test_1n_formula_is_the_linearisation_of_the_exact_kurtosis():
    n = 10**6
    K, V = vertex_recursion("relu", 0.0, 2.0, 1.0, 20)
    np.testing.assert_allclose(kurtosis_1n(K, V, n), exact_kurtosis("relu", n, 20), rtol=1e-4)


def test_unequal_widths_linear_sum_of_inverse_widths():
    widths = [8, 32, 16, 64, 4]
    K, V = vertex_recursion("linear", 0.0, 1.0, 1.0, 6, widths=widths)
    kappa = kurtosis_1n(K, V, widths)
    expected = np.concatenate([[0.0], np.cumsum(2.0 / np.asarray(widths))])
    np.testing.assert_allclose(kappa, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        exact_kurtosis("linear", widths, 6), np.cumprod([1, *(1 + 2 / np.array(widths))]) - 1
    )


def test_ntk_with_lambda_equal_to_C_is_the_standard_formula():
    act, C_b, C_W, K1 = get_activation("tanh"), 0.1, 1.4, 0.9
    K = kernel_recursion(act, C_b, C_W, K1, 15)
    theta = ntk_recursion(act, C_b, C_W, K1, 15, lam_b=C_b, lam_W=C_W)
    assert theta[0] == pytest.approx(K[0])
    np.testing.assert_allclose(theta[1:], K[1:] + chi_perp(act, K[:-1], C_W) * theta[:-1], rtol=1e-12)


def test_learning_rate_equivalence_keeps_relu_ntk_order_one():
    finals = []
    for L in (10, 100, 1000):
        lam_b, lam_W = equivalent_learning_rates(1.0, 1.0, L)
        finals.append(ntk_recursion("relu", 0.0, 2.0, 2.0, L, lam_b, lam_W)[-1])
    raw = ntk_recursion("relu", 0.0, 2.0, 2.0, 1000, 1.0, 1.0)
    assert np.allclose(np.diff(raw[1:]), 2.0)  # linear growth at criticality: lambda_b + lambda_W K/2
    assert finals == pytest.approx([2.0] * 3, rel=1e-12) and raw[-1] == pytest.approx(2000.0)


def test_multi_input_diagonal_and_relu_arccos_kernel():
    X = np.random.default_rng(1).normal(size=(3, 10))
    X *= np.sqrt(10) / np.linalg.norm(X, axis=1, keepdims=True)  # |x|^2 = n_0
    res = multi_input_recursion("relu", 0.0, 2.0, X, 4)
    np.testing.assert_allclose(np.diagonal(res.K, axis1=1, axis2=2), 2.0, rtol=1e-12)
    rho = res.K[0, 0, 1] / 2.0
    theta = np.arccos(rho)
    arccos = 2.0 * 2.0 / (2 * np.pi) * (np.sin(theta) + (np.pi - theta) * np.cos(theta))
    assert res.K[1, 0, 1] == pytest.approx(arccos, rel=1e-12)
    single = ntk_recursion("relu", 0.0, 2.0, 2.0, 4, 1.0, 1.0)
    np.testing.assert_allclose(
        np.diagonal(res.theta, axis1=1, axis2=2), single[:, None] * np.ones(3), rtol=1e-10
    )


@pytest.mark.parametrize("name", ["relu", "leaky_relu:-0.3", "linear"])
def test_bivariate_quadrature_converges_to_the_exact_piecewise_linear_pairs(name):
    act = get_activation(name)
    K = np.array([[1.3, 0.4], [0.4, 0.7]])
    ss, dd = pair_expectations(act, K)
    assert expect2(act.fn, act.fn, 1.3, 0.4, 0.7, nodes=256) == pytest.approx(ss[0, 1], abs=1e-3)
    # step functions: the tensor-product rule converges only like 1/nodes (2.6e-3 at 256 for leaky)
    assert expect2(act.grad, act.grad, 1.3, 0.4, 0.7, nodes=256) == pytest.approx(dd[0, 1], abs=5e-3)
    assert ss[0, 0] == pytest.approx(float(expect(lambda z: act.fn(z) ** 2, 1.3)), rel=1e-12)


def test_perpendicular_perturbation_scales_by_chi_perp():
    C_b, C_W, eps = 0.0, 1.5, 1e-6
    Kstar = kernel_recursion("tanh", C_b, C_W, 1.0, 400)[-1]  # chaotic side: a nonzero fixed point
    K = multi_input_recursion("tanh", C_b, C_W, two_inputs(Kstar / C_W, 1 - eps, 2), 4).K
    gap = K[:, 0, 0] - K[:, 0, 1]
    np.testing.assert_allclose(gap[1:] / gap[:-1], chi_perp(get_activation("tanh"), Kstar, C_W), rtol=1e-3)
    assert correlation_recursion("tanh", C_b, C_W, Kstar, 0.5, 3)[0] == pytest.approx(0.5)


def test_tanh_off_criticality():
    ordered = kernel_recursion("tanh", 0.0, 0.8, 1.0, 200)
    assert ordered[-1] / ordered[-2] == pytest.approx(0.8, rel=1e-3)  # exponential decay at rate C_W
    chaotic = kernel_recursion("tanh", 0.0, 1.2, 1.0, 300)
    assert chaotic[-1] == pytest.approx(chaotic[-2], rel=1e-9) and chaotic[-1] > 0.1


def test_spec_recursion_values():
    res = regressions()
    assert res["regression_worst_ratio"] <= 1.0, res["regression_values"]
    assert res["regression_values"]["tanh lK(l=200)"] == pytest.approx(0.507, abs=1e-3)


@pytest.mark.parametrize(
    "kwargs", [dict(C_W=0.0), dict(C_W=-1.0), dict(C_b=-0.1), dict(K1=0.0), dict(depth=0)]
)
def test_bad_hyperparameters(kwargs):
    args = dict(act="tanh", C_b=0.0, C_W=1.0, K1=1.0, depth=5) | kwargs
    with pytest.raises(UserError):
        kernel_recursion(**args)
