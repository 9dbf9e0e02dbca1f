import numpy as np
import pytest
import torch

from pkg_pdlt.activations import Activation, get_activation
from pkg_pdlt.criticality import boundary_root, closed_form, find_criticality, residuals


@pytest.mark.parametrize("name", ["relu", "linear", "leaky_relu:0.1", "tanh", "sin"])
def test_solver_reproduces_the_closed_forms(name):
    crit = find_criticality(name)
    assert (crit.C_b, crit.C_W) == pytest.approx(closed_form(name), abs=1e-6)


def test_k_star_zero_class():
    for name, a1 in (("tanh", -2.0), ("sin", -1.0)):
        crit = find_criticality(name)
        assert crit.klass == "K*=0" and crit.K_star == 0.0 and crit.a1 == pytest.approx(a1)


def test_sigmoid_has_no_criticality():
    crit = find_criticality("sigmoid")
    assert crit.klass == "none" and crit.C_W is None and "none" in crit.describe()


@pytest.mark.parametrize("name", ["swish", "gelu"])
def test_swish_gelu_found_solutions_solve_the_equations(name):
    crit = find_criticality(name)
    assert crit.a1 > 0  # the K* -> 0 boundary is only half-stable
    assert closed_form(name) is None
    for C_b, C_W, K in crit.solutions:
        assert np.max(np.abs(residuals(get_activation(name), C_b, C_W, K))) < 1e-8


def test_boundary_root_is_found_numerically_not_copied_from_the_closed_form():
    """2 tanh(z) has sigma_1 = 2: the K* -> 0 root must come out at C_W = 1/4 from the numerics alone."""
    act = Activation(
        "2tanh", lambda z: 2 * np.tanh(z), lambda z: 2 * (1 - np.tanh(z) ** 2), lambda z: 2 * torch.tanh(z)
    )
    C_b, C_W, residual = boundary_root(act)
    assert abs(C_b) < 1e-9 and pytest.approx(0.25, abs=1e-9) == C_W and residual < 1e-4
    crit = find_criticality(act)
    assert crit.klass == "K*=0" and (crit.C_b, crit.C_W) == (C_b, C_W) and "numerically" in crit.note
    assert closed_form(act) == pytest.approx((0.0, 0.25))


def test_tanh_root_is_not_exactly_the_closed_form():
    """The reported root is the solver's own number (close to, not bit-equal to, (0, 1))."""
    crit = find_criticality("tanh")
    assert (crit.C_b, crit.C_W) != (0.0, 1.0)
    assert max(abs(crit.C_b), abs(crit.C_W - 1)) < 1e-8
