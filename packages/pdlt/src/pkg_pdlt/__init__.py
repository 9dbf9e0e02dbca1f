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

from pkg_shared.package import lazy_exports, version_of

__version__ = version_of("pkg-pdlt")
_EXPORTS = {
    "NAMES": ".activations",
    "Activation": ".activations",
    "get_activation": ".activations",
    "Criticality": ".criticality",
    "boundary_root": ".criticality",
    "closed_form": ".criticality",
    "find_criticality": ".criticality",
    "expect": ".gaussian",
    "expect2": ".gaussian",
    "Ensemble": ".montecarlo",
    "Moments": ".montecarlo",
    "RandomMLP": ".montecarlo",
    "correlation": ".montecarlo",
    "empirical_ntk": ".montecarlo",
    "ensemble": ".montecarlo",
    "moments": ".montecarlo",
    **{
        name: ".theory"
        for name in (
            "chi_parallel",
            "chi_perp",
            "correlation_recursion",
            "equivalent_learning_rates",
            "exact_kurtosis",
            "kernel_recursion",
            "kurtosis_1n",
            "multi_input_recursion",
            "ntk_recursion",
            "scale_invariant_moments",
            "vertex_recursion",
        )
    },
}
__all__ = sorted([*_EXPORTS, "__version__"])
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
