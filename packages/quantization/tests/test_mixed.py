import itertools

import numpy as np
import pytest
import torch

from pkg_quantization.mixed import (
    allocate_bits,
    average_bits,
    hutchinson_trace,
    omega,
    random_assignment,
)
from pkg_shared.errors import UserError


def test_hutchinson_trace_of_a_quadratic():
    g = torch.Generator().manual_seed(0)
    m = torch.randn(30, 30, generator=g, dtype=torch.float64)
    a = m @ m.T + torch.eye(30, dtype=torch.float64)
    x = torch.randn(30, dtype=torch.float64, requires_grad=True)
    (est,) = hutchinson_trace(lambda: 0.5 * x @ a @ x, [x], probes=200, seed=0)
    assert est == pytest.approx(float(torch.trace(a)), rel=0.05)


@pytest.mark.parametrize("seed", range(5))
def test_dp_is_the_exhaustive_optimum(seed):
    rng = np.random.default_rng(seed)
    n_layers, bits = int(rng.integers(2, 7)), (2, 3, 4, 8)
    sizes = [int(s) for s in rng.integers(1, 50, n_layers) * 4]
    omega = rng.random((n_layers, len(bits))) * np.array([8.0, 4.0, 2.0, 0.1])
    avg = float(rng.uniform(2.5, 6.0))
    plan = allocate_bits(omega, sizes, bits, avg)
    best = min(
        (sum(omega[i, bits.index(b)] for i, b in enumerate(p)), p)
        for p in itertools.product(bits, repeat=n_layers)
        if average_bits(p, sizes) <= avg + 1e-9
    )
    assert average_bits(plan, sizes) <= avg + 1e-9
    assert sum(omega[i, bits.index(b)] for i, b in enumerate(plan)) == pytest.approx(best[0])


def test_baselines_respect_the_budget():
    sizes = [400, 12800, 65536, 1280]
    plan = random_assignment(sizes, (2, 3, 4, 8), 3.0, seed=0)
    assert average_bits(plan, sizes) <= 3.0
    rev = omega([1.0, 4.0, 2.0, 8.0], [1, 1, 1, 1], np.ones((4, 2)), reverse=True)
    assert rev[:, 0].tolist() == [8.0, 2.0, 4.0, 1.0]


def test_budget_above_the_widest_bits_is_that_width():
    """An average budget beyond the widest bit-width (``--avg-bits 1e9``) gives every layer that width
    without building a table of 1e9 entries."""
    assert allocate_bits(np.array([[3.0, 2.0, 1.0]] * 2), [10, 10], (2, 4, 8), 1e9) == [8, 8]


def test_one_bit_restricted_perturbation_is_refused():
    from pkg_quantization.mixed import perturbations
    from pkg_quantization.models import lenet
    from pkg_quantization.quantizer import QuantSpec

    with pytest.raises(UserError, match=">= 2 bits"):
        perturbations(lenet(), ["fc1"], (1, 2), QuantSpec(granularity="per-channel", restricted=True))


def test_budget_below_two_bits_is_refused():
    with pytest.raises(UserError, match=">= 2"):
        allocate_bits(np.ones((2, 3)), [10, 10], (2, 4, 8), 1.5)
