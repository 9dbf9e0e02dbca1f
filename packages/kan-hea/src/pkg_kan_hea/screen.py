"""Example 3's pipeline (spec "Pipeline for example 3"): classify HEA, regress K on HEA rows, screen.

1. A KAN classifier [d, 4, 2] learns HEA vs non-HEA from the MPEA compositions.
2. The elastic-DFT compositions the classifier calls HEA (p > 0.5) train a KAN regressor [d, 4, 1] of K.
3. Random refractory compositions (``n``; 3 to 5 of Al Cr Mo Nb Ta Ti V W Zr, Dirichlet fractions) are
   classified; those with p(HEA) > 0.5 are ranked by predicted K.
Candidates with more elements than the DFT training set (binaries/ternaries) are an extrapolation in
composition space; inputs outside the training range are clipped to the grid and counted.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from pkg_shared.errors import UserError

from .config import EXAMPLE_MODELS
from .data import (
    REFRACTORY,
    composition_features,
    load_bulk_modulus,
    load_hea_class,
    mixing_features,
    unary_properties,
)
from .pipeline import ExtrapolationWarning, fit, predict
from .train import TrainConfig


def to_mpea_features(fractions: np.ndarray, mpea_features: list[str]) -> np.ndarray:
    """9-element fractions -> the classifier's 30 MPEA fraction columns + mixing entropy + n elements."""
    full = np.zeros((len(fractions), sum(f.startswith("x_") for f in mpea_features)), dtype=np.float32)
    for col, el in enumerate(REFRACTORY):
        full[:, mpea_features.index(f"x_{el}")] = fractions[:, col]
    return np.concatenate([full, mixing_features(full)], axis=1)


def candidates(n: int, seed: int, sizes: tuple[int, ...] = (3, 4, 5)) -> np.ndarray:
    """``n`` random compositions over the nine refractory elements, fractions >= 5 %."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, len(REFRACTORY)), dtype=np.float32)
    size = rng.choice(sizes, size=n)
    for m in sizes:  # vectorised per composition size
        rows = np.flatnonzero(size == m)
        picks = np.argsort(rng.random((len(rows), len(REFRACTORY))), axis=1)[:, :m]
        frac = 0.05 + (1 - 0.05 * m) * rng.dirichlet(np.ones(m), size=len(rows))
        out[rows[:, None], picks] = frac
    return out


def screen(root: str | Path | None, n: int, train: TrainConfig, seed: int, top: int = 10) -> pd.DataFrame:
    """The ranked top-``top`` candidates: composition, p(HEA), predicted K (GPa); ``attrs`` holds counts."""
    if n < 1:
        raise UserError(f"--n must be >= 1, got {n}")
    cls_table, k_table = load_hea_class(root), load_bulk_modulus(root)
    classifier, cls_scaler = fit(
        "kan", cls_table, np.arange(len(cls_table)), EXAMPLE_MODELS["hea-class"], train, seed
    )
    dft_fractions = k_table.x[:, : len(REFRACTORY)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ExtrapolationWarning)
        p_dft = predict(
            classifier, cls_scaler, to_mpea_features(dft_fractions, cls_table.features), "classification"
        )
        hea_rows = np.flatnonzero(p_dft[:, 1] > 0.5)
        if len(hea_rows) < 10:
            raise UserError(
                f"only {len(hea_rows)} DFT compositions classified HEA: too few to fit the regressor"
            )
        regressor, k_scaler = fit("kan", k_table, hea_rows, EXAMPLE_MODELS["bulk-modulus"], train, seed)
        comp = candidates(n, seed)
        p = predict(classifier, cls_scaler, to_mpea_features(comp, cls_table.features), "classification")[
            :, 1
        ]
        keep = np.flatnonzero(p > 0.5)
        k_pred = predict(
            regressor, k_scaler, composition_features(comp[keep], unary_properties(root)), "regression"
        )
    order = keep[np.argsort(-k_pred[:, 0])][:top]
    ranked = pd.DataFrame({
        "composition": [" ".join(f"{el}{x:.2f}" for el, x in zip(REFRACTORY, c) if x > 0) for c in comp[order]],
        "p_hea": p[order],
        "K_GPa": np.sort(k_pred[:, 0])[::-1][:top],
    })  # fmt: skip
    ranked.attrs.update(
        kept_fraction=len(keep) / n, dft_hea_rows=len(hea_rows), extrapolation_warnings=len(caught)
    )
    return ranked
