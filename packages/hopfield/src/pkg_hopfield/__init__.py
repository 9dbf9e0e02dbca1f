"""Hopfield Networks is All You Need — Ramsauer, Schäfl, Lehner, Seidl, Widrich, Gruber, Holzleitner,
Adler, Kreil, Kopp, Klambauer, Brandstetter, Hochreiter; ICLR 2021; arXiv:2008.02217.

Implemented: the modern Hopfield network as code (energy eq. (2), update rule eq. (3), iteration to a
fixed point, pattern separation, the one-step retrieval-error bound, the storage capacity of Theorem 3,
the three kinds of fixed points), the classical binary Hopfield net as the capacity baseline, the layers
``Hopfield``, ``HopfieldPooling`` and ``HopfieldLayer`` (heads, beta, LayerNorm on patterns, masks,
extra update steps, dropout on the association matrix; one step without normalisation equals
``torch.nn.MultiheadAttention``), MIL models (Hopfield pooling, mean/max pooling, attention-MIL of Ilse
et al. 2018) with the bit-pattern, Tiger/Fox/Elephant and MNIST-bags experiments, and a tabular
classifier on ``HopfieldLayer`` compared with scikit-learn baselines. :mod:`pkg_hopfield.reference`
loads the authors' hflayers from a local checkout and builds its layers with our weights (same outputs).
"""

from pkg_shared.package import lazy_exports, version_of

__version__ = version_of("pkg-hopfield")
_EXPORTS = {
    **dict.fromkeys(["Hopfield", "HopfieldLayer", "HopfieldPooling"], ".layers"),
    **dict.fromkeys(["AttentionMIL", "HopfieldMIL", "PoolingMIL", "make_mil_model"], ".mil"),
    "HopfieldTabular": ".tabular",
    **dict.fromkeys(
        [
            "BinaryHopfield",
            "Capacity",
            "Iteration",
            "energy",
            "fixed_point_regime",
            "iterate_until_converged",
            "lse",
            "retrieval_error_bound",
            "separation",
            "separation_threshold",
            "storage_capacity",
            "update",
        ],
        ".theory",
    ),
    "reproduce": ".experiment",
}
__all__ = sorted([*_EXPORTS, "__version__"])
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
