"""The three examples' tables (spec "Data"), a CSV reader that checks its input, and synthetic data.

Every loader returns a :class:`Table`: float32 features, targets (class labels, or one column per
regression target), their names, the task and, where one alloy repeats over rows, the groups that
cross-validation must keep together (GroupKFold by formula; spec "Pitfalls").
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pkg_shared.data import DataError, check_finite, read_table, require_files

CARBIDE, MPEA, ELASTIC = "hea-carbide-phase", "hea-mpea-mechanical", "hea-elastic-dft"
CARBIDE_SOURCE = "github.com/wylu-github/HECs_phase_formation (copy in shared/data/hea-carbide-phase)"
MPEA_SOURCE = "github.com/CitrineInformatics/MPEA_dataset (Borg et al. 2020)"
ELASTIC_SOURCE = "github.com/vzguille/elasisso data/ (Vazquez et al. 2022, CC0)"
CARBIDE_FEATURES = [
    "enthalpy", "entropy", "ssf_temperature", "dev", "dev0", "dev+", "dev-", "lattice_mean",
    "lattice_distortion", "tm_mean", "tm_dev", "ele_negativity", "ele_negativity_mean", "vec", "vec_dev",
    "mass_mean", "mass_dev",
]  # fmt: skip
PROCESSING = ("CAST", "WROUGHT", "ANNEAL", "POWDER", "OTHER")
SINGLE_PHASE = ("BCC", "FCC", "HCP")
REFRACTORY = ("Al", "Cr", "Mo", "Nb", "Ta", "Ti", "V", "W", "Zr")
ROM_PROPERTIES = ("atomic_radius", "en_pauling", "lattice_constant", "melting_point", "valence")
# Rows of the public files (a copy with another count is truncated or a different file: exit 2)
ROWS = {"hec_382_descriptors.csv": 382, "mpea_parsed.csv": 1545, "binaries.csv": 110, "ternaries.csv": 60,
        "unaries_nine_element_properties.csv": 9}  # fmt: skip
MPEA_COLUMNS = ["formula", "microstructure", "processing", "test_type", "test_temp_C", "YS_MPa", "UTS_MPa"]


@dataclass
class Table:
    """Features ``x (n, d)``, targets ``y`` ((n,) int labels or (n, t) floats), names and groups."""

    name: str
    x: np.ndarray
    y: np.ndarray
    features: list[str]
    targets: list[str]
    task: str
    groups: np.ndarray | None = None
    dropped: int = 0
    extra: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.x)


def numeric_frame(frame: pd.DataFrame, columns: list[str], where: str) -> pd.DataFrame:
    """``frame[columns]`` as floats; names every missing or non-numeric column in one error."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{where}: missing column(s) {missing} (has {list(frame.columns)[:40]})")
    bad = [
        c for c in columns if pd.to_numeric(frame[c], errors="coerce").isna().sum() > frame[c].isna().sum()
    ]
    if bad:
        raise DataError(f"{where}: non-numeric value(s) in column(s) {bad}")
    return frame[columns].apply(pd.to_numeric).astype(np.float64)


def drop_nan_targets(
    frame: pd.DataFrame, targets: list[str], where: str, strict: bool
) -> tuple[pd.DataFrame, int]:
    """Drop rows whose targets are NaN (with a warning and a count), or refuse them with ``strict``."""
    bad = frame[targets].isna().any(axis=1)
    n = int(bad.sum())
    if n and strict:
        raise DataError(f"{where}: {n} row(s) have a NaN target in {targets} (--strict refuses them)")
    if n:
        warnings.warn(f"{where}: dropped {n} row(s) with a NaN target", stacklevel=2)
    return frame[~bad], n


def read_csv_table(
    path: str | Path, features: list[str], targets: list[str], task: str, *, strict: bool = False
) -> Table:
    """A user's CSV (e.g. with numeric annealing time, cold-rolling %, homogenisation T; spec "Data")."""
    where = str(path)
    frame = read_table(path)
    numeric_frame(frame, features, where)
    if task == "classification":
        if len(targets) != 1:
            raise DataError(f"{where}: classification takes one target column, got {targets}")
        frame, dropped = drop_nan_targets(frame, targets, where, strict)
        labels = frame[targets[0]]
        y = pd.Categorical(labels).codes.astype(np.int64)
        classes = [str(c) for c in pd.Categorical(labels).categories]
        if len(classes) != 2:
            raise DataError(
                f"{where}: classification here is binary (F1 of the second class, ROC-AUC); column "
                f"{targets[0]!r} holds {len(classes)} class(es) {classes[:10]}"
            )
    else:
        frame, dropped = drop_nan_targets(
            frame.assign(**numeric_frame(frame, targets, where)), targets, where, strict
        )
        y, classes = check_finite(frame[targets], path, "targets").astype(np.float32), []
    x = numeric_frame(frame, features, where)
    if x.isna().any().any():
        raise DataError(f"{where}: NaN features in column(s) {list(x.columns[x.isna().any()])}")
    check_finite(x, path, "features")
    return Table(Path(path).stem, x.to_numpy(np.float32), y, features, targets, task, dropped=dropped,
                 extra={"classes": classes})  # fmt: skip


# ------------------------------------------------------------------------------------------- example 1
def load_carbide(root: str | Path | None = None) -> Table:
    """Example 1: 116 labelled equimolar carbides (80 S / 36 M), 17 descriptors; y = 1 for single phase."""
    name = "hec_382_descriptors.csv"
    folder = require_files(CARBIDE, [name], root=root, source=CARBIDE_SOURCE)
    path = folder / name
    frame = read_table(path, columns=["formula", "phase", *CARBIDE_FEATURES], rows=ROWS[name])
    frame = frame[frame["phase"].isin(["S", "M"])].reset_index(drop=True)
    x = numeric_frame(frame, CARBIDE_FEATURES, str(path)).to_numpy(np.float32)
    check_finite(x, path, "descriptors of the labelled rows")
    y = (frame["phase"] == "S").to_numpy(np.int64)
    return Table("carbide", x, y, list(CARBIDE_FEATURES), ["single_phase"], "classification",
                 extra={"classes": ["M", "S"], "formula": frame["formula"].tolist()})  # fmt: skip


# ------------------------------------------------------------------------------------------- example 2
def _mpea(root: str | Path | None) -> pd.DataFrame:
    name = "mpea_parsed.csv"
    folder = require_files(MPEA, [name], root=root, source=MPEA_SOURCE)
    frame = read_table(folder / name, columns=MPEA_COLUMNS, rows=ROWS[name])
    fractions = [c for c in frame.columns if c.startswith("x_")]
    if not fractions:
        raise DataError(f"{folder / name} has no atomic-fraction columns x_<El>")
    frame[fractions] = numeric_frame(frame, fractions, str(folder / name)).fillna(0.0)
    check_finite(frame[fractions], folder / name, "x_<El>")
    return frame.assign(source=str(folder / name))


def load_strength(root: str | Path | None = None) -> Table:
    """Example 2: the 276 tension rows with YS and UTS; features = atomic fractions of the elements present,
    processing one-hot (CAST/WROUGHT/ANNEAL/POWDER/OTHER) and test temperature (C); groups = formula."""
    frame = _mpea(root)
    frame = frame[(frame["test_type"] == "T") & frame["YS_MPa"].notna() & frame["UTS_MPa"].notna()]
    frame = frame.reset_index(drop=True)
    fractions = [c for c in frame.columns if c.startswith("x_") and (frame[c] > 0).any()]
    onehot = pd.DataFrame({f"proc_{p}": (frame["processing"] == p).astype(float) for p in PROCESSING})
    x = pd.concat([frame[fractions], onehot, frame[["test_temp_C"]]], axis=1)
    features = list(x.columns)
    source = frame["source"].iloc[0] if len(frame) else "mpea_parsed.csv"
    x = numeric_frame(x, features, source).to_numpy(np.float32)
    check_finite(x, source, "features of the tension rows")
    y = numeric_frame(frame, ["YS_MPa", "UTS_MPa"], source).to_numpy(np.float32)
    check_finite(y, source, "YS_MPa/UTS_MPa")
    return Table("strength", x, y, features, ["YS_MPa", "UTS_MPa"], "regression",
                 groups=frame["formula"].to_numpy())  # fmt: skip


# ------------------------------------------------------------------------------------------- example 3
def mixing_features(fractions: np.ndarray) -> np.ndarray:
    """Ideal mixing entropy -sum x ln x (units of R) and the number of elements, per row."""
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(fractions > 0, fractions * np.log(fractions), 0.0).sum(1)
    return np.stack([entropy, (fractions > 0).sum(1)], axis=1).astype(np.float32)


def load_hea_class(root: str | Path | None = None) -> Table:
    """Example 3a: HEA (single-phase FCC/BCC/HCP) = 1 vs multi-phase/intermetallic = 0 from the MPEA
    ``microstructure``; rows without one dropped; one row per (formula, label); features = the 30 atomic
    fractions + mixing entropy + number of elements; groups = formula."""
    frame = _mpea(root)
    frame = frame[frame["microstructure"].notna()]
    frame = frame.assign(hea=frame["microstructure"].isin(SINGLE_PHASE).astype(np.int64))
    frame = frame.drop_duplicates(["formula", "hea"]).reset_index(drop=True)
    fractions = [c for c in frame.columns if c.startswith("x_")]
    xf = frame[fractions].to_numpy(np.float32)
    x = np.concatenate([xf, mixing_features(xf)], axis=1)
    return Table("hea-class", x, frame["hea"].to_numpy(), [*fractions, "mixing_entropy", "n_elements"],
                 ["hea"], "classification", groups=frame["formula"].to_numpy(),
                 extra={"classes": ["non-HEA", "HEA"]})  # fmt: skip


def parse_formula(formula: str, elements: tuple[str, ...] = REFRACTORY) -> np.ndarray:
    """``'Nb16Mo24W24'`` -> atomic fractions over ``elements`` (amounts normalised to sum 1)."""
    tokens = re.findall(r"([A-Z][a-z]?)(\d*\.?\d*)", formula)
    amounts = dict.fromkeys(elements, 0.0)
    for el, amount in tokens:
        if el not in amounts:
            raise DataError(f"formula {formula!r}: element {el} is not one of {elements}")
        amounts[el] += float(amount or 1)
    total = sum(amounts.values())
    if not total > 0:
        raise DataError(f"formula {formula!r} has no amounts")
    return np.array([amounts[e] / total for e in elements], dtype=np.float32)


def unary_properties(root: str | Path | None = None) -> np.ndarray:
    """Elemental properties ``(9, len(ROM_PROPERTIES))`` of the nine refractory elements."""
    name = "unaries_nine_element_properties.csv"
    folder = require_files(ELASTIC, [name], root=root, source=ELASTIC_SOURCE)
    frame = read_table(folder / name, columns=["symbol", *ROM_PROPERTIES], rows=ROWS[name]).set_index(
        "symbol"
    )
    missing = [e for e in REFRACTORY if e not in frame.index]
    if missing:
        raise DataError(f"{folder / name} lacks the element(s) {missing}")
    values = numeric_frame(frame, list(ROM_PROPERTIES), str(folder / name)).loc[list(REFRACTORY)]
    return check_finite(values, folder / name, "properties").astype(np.float32)


def composition_features(fractions: np.ndarray, unaries: np.ndarray) -> np.ndarray:
    """Fractions, rule-of-mixture properties sum_e x_e p_e, and the atomic-size mismatch delta."""
    rom = fractions @ unaries
    radius = unaries[:, 0]
    delta = np.sqrt((fractions * (1 - radius / rom[:, :1]) ** 2).sum(1, keepdims=True))
    return np.concatenate([fractions, rom, delta], axis=1).astype(np.float32)


def composition_names() -> list[str]:
    return [f"x_{e}" for e in REFRACTORY] + [f"rom_{p}" for p in ROM_PROPERTIES] + ["size_mismatch"]


def load_bulk_modulus(root: str | Path | None = None) -> Table:
    """Example 3b: 170 DFT binaries/ternaries (bcc solid solutions, i.e. HEA-labelled); target K (GPa)."""
    files = ("binaries.csv", "ternaries.csv", "unaries_nine_element_properties.csv")
    folder = require_files(ELASTIC, files, root=root, source=ELASTIC_SOURCE)
    parts = []
    for name in files[:2]:
        part = read_table(folder / name, columns=["formula", "K"], rows=ROWS[name])
        check_finite(numeric_frame(part, ["K"], str(folder / name)), folder / name, "K")
        parts.append(part)
    frame, dropped = pd.concat(parts, ignore_index=True), 0
    frame = frame.assign(K=frame["K"].astype(np.float64))
    fractions = np.stack([parse_formula(str(f)) for f in frame["formula"]])
    x = composition_features(fractions, unary_properties(root))
    return Table("bulk-modulus", x, frame[["K"]].to_numpy(np.float32), composition_names(), ["K_GPa"],
                 "regression", dropped=dropped, extra={"formula": frame["formula"].tolist()})  # fmt: skip


# ------------------------------------------------------------------------------------------- synthetic
def pykan_function(n: int, seed: int = 0) -> Table:
    """f(x, y) = exp(sin(pi x) + y^2) on uniform [-1, 1]^2 (pykan's README example; spec "Tests")."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 2)).astype(np.float32)
    y = np.exp(np.sin(math.pi * x[:, 0]) + x[:, 1] ** 2)[:, None].astype(np.float32)
    return Table("exp-sin", x, y, ["x", "y"], ["f"], "regression")


def synthetic_phase(n: int, seed: int = 0) -> Table:
    """Offline stand-in of example 1: 17 descriptors, single phase when a smooth function of two is low."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(CARBIDE_FEATURES))).astype(np.float32)
    score = 1.5 * x[:, 0] + np.sin(2 * x[:, 8]) + 0.3 * rng.normal(size=n)
    return Table("synthetic-phase", x, (score < 0.5).astype(np.int64), list(CARBIDE_FEATURES), ["single_phase"],
                 "classification")  # fmt: skip
