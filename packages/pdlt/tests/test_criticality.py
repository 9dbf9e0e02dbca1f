import numpy as np
import pytest

from pkg_pdlt.activations import get_activation
from pkg_pdlt.criticality import closed_form, find_criticality, residuals


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
