"""The Principles of Deep Learning Theory — Roberts, Yaida & Hanin, Cambridge University Press 2022,
arXiv:2106.10165.

Implemented: the effective theory of randomly initialised MLPs. Gauss-Hermite Gaussian expectations
(``gaussian``); the kernel recursion for one and several inputs, the parallel and perpendicular
susceptibilities, the four-point vertex (equal and unequal widths) with the 1/n kurtosis and the exact
finite-width kurtosis of scale-invariant nets, the NTK mean recursion with the learning-rate
equivalence rescaling and the two-input correlation recursion (``theory``); criticality and the
universality classes (``criticality``); Monte Carlo ensembles of random networks as batched float64
matmuls and empirical NTKs with torch.func (``montecarlo``).
"""

__version__ = "0.1.0"

from .activations import NAMES, Activation, get_activation
from .criticality import Criticality, closed_form, find_criticality
from .gaussian import expect, expect2
from .montecarlo import Ensemble, Moments, RandomMLP, correlation, empirical_ntk, ensemble, moments
from .theory import (
    chi_parallel,
    chi_perp,
    correlation_recursion,
    equivalent_learning_rates,
    exact_kurtosis,
    kernel_recursion,
    kurtosis_1n,
    multi_input_recursion,
    ntk_recursion,
    scale_invariant_moments,
    vertex_recursion,
)

__all__ = [
    "NAMES",
    "Activation",
    "Criticality",
    "Ensemble",
    "Moments",
    "RandomMLP",
    "__version__",
    "chi_parallel",
    "chi_perp",
    "closed_form",
    "correlation",
    "correlation_recursion",
    "empirical_ntk",
    "ensemble",
    "equivalent_learning_rates",
    "exact_kurtosis",
    "expect",
    "expect2",
    "find_criticality",
    "get_activation",
    "kernel_recursion",
    "kurtosis_1n",
    "moments",
    "multi_input_recursion",
    "ntk_recursion",
    "scale_invariant_moments",
    "vertex_recursion",
]
