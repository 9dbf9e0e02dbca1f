"""The data root, clear errors for missing datasets, deterministic splits and small readers.

Real datasets live in the data root, laid out as ``<root>/<dataset>/<files>`` (the layout of the
project's ``shared/data``). The root is ``--data-dir`` when given, else ``$PKG_DATA_DIR``, else a
per-user cache folder (``$XDG_CACHE_HOME/pkg-zoo/data`` or ``~/.cache/pkg-zoo/data``). Nothing here
downloads: a missing dataset raises :class:`DatasetMissing` naming the files and their public source.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn import datasets as skdatasets
from sklearn.model_selection import train_test_split

from .errors import UserError

ENV_VAR = "PKG_DATA_DIR"


class DatasetMissing(UserError):
    """A dataset's files are not in the data root."""


class DataError(UserError):
    """A data file exists but cannot be read as expected."""


def data_root(cli_value: str | Path | None = None) -> Path:
    """``--data-dir`` if given, else ``$PKG_DATA_DIR``, else the per-user cache folder."""
    if cli_value:
        return Path(cli_value).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "pkg-zoo" / "data"


def require_files(
    dataset: str, files: Iterable[str], *, root: str | Path | None = None, source: str | None = None
) -> Path:
    """Return ``<root>/<dataset>`` when every one of ``files`` is there, else raise :class:`DatasetMissing`.

    The message lists the files expected, the folder searched and, with ``source``, where the public copy
    lives; it is what a user sees as the one-line error of a ``pkg-<slug>`` command.
    """
    folder = data_root(root) / dataset
    files = list(files)
    missing = [f for f in files if not (folder / f).is_file()]
    if missing:
        where = f"; public source: {source}" if source else ""
        raise DatasetMissing(
            f"dataset '{dataset}' not found: expected {', '.join(missing)} in {folder} "
            f"(set --data-dir or ${ENV_VAR}){where}"
        )
    return folder


def has_dataset(dataset: str, files: Iterable[str], root: str | Path | None = None) -> bool:
    """True when :func:`require_files` would succeed."""
    folder = data_root(root) / dataset
    return all((folder / f).is_file() for f in files)


# ------------------------------------------------------------------------------------------------ splits
def split_indices(
    n_or_labels: int | Sequence | np.ndarray,
    test_size: float | int,
    *,
    seed: int = 0,
    stratify: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic (stratified when labels are given) train/test index split via scikit-learn."""
    if isinstance(n_or_labels, (int, np.integer)):
        index, labels = np.arange(int(n_or_labels)), None
    else:
        labels = np.asarray(n_or_labels)
        index = np.arange(len(labels))
    try:
        train, test = train_test_split(
            index, test_size=test_size, random_state=seed, stratify=labels if stratify else None
        )
    except ValueError as e:
        raise DataError(f"cannot split {len(index)} rows with test_size={test_size}: {e}") from None
    return np.sort(train), np.sort(test)


def train_val_test_split(
    n_or_labels: int | Sequence | np.ndarray,
    val_size: float,
    test_size: float,
    *,
    seed: int = 0,
    stratify: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three disjoint sorted index arrays; sizes are fractions of the whole."""
    if not (0 < val_size < 1 and 0 < test_size < 1 and val_size + test_size < 1):
        raise DataError(
            f"val_size and test_size must be fractions summing below 1 (got {val_size}, {test_size})"
        )
    labels = None if isinstance(n_or_labels, (int, np.integer)) else np.asarray(n_or_labels)
    rest, test = split_indices(n_or_labels, test_size, seed=seed, stratify=stratify)
    rest_labels = labels[rest] if labels is not None else len(rest)
    tr, va = split_indices(rest_labels, val_size / (1 - test_size), seed=seed, stratify=stratify)
    return rest[tr], rest[va], test


# ----------------------------------------------------------------------------------------------- readers
def load_npz(path: str | Path, keys: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Read an ``.npz`` without pickles; with ``keys``, check that each is present."""
    path = Path(path)
    if not path.is_file():
        raise DatasetMissing(f"file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (ValueError, OSError, EOFError) as e:
        raise DataError(f"{path} is not a readable .npz file ({e})") from None
    missing = sorted(set(keys or ()) - set(arrays))
    if missing:
        raise DataError(f"{path} lacks arrays {missing} (has {sorted(arrays)})")
    return arrays


def read_table(path: str | Path, **kwargs: Any) -> pd.DataFrame:
    """Read a CSV, TSV, JSON Lines or parquet file into a DataFrame (pandas), by its suffix."""
    path = Path(path)
    if not path.is_file():
        raise DatasetMissing(f"file not found: {path}")
    suffix = "".join(path.suffixes[-2:]) if path.suffix == ".gz" else path.suffix
    try:
        if suffix in (".csv", ".csv.gz"):
            return pd.read_csv(path, **kwargs)
        if suffix in (".tsv", ".tsv.gz", ".inter", ".user", ".item"):
            return pd.read_csv(path, sep="\t", **kwargs)
        if suffix in (".jsonl", ".jsonl.gz"):
            return pd.read_json(path, lines=True, **kwargs)
        if suffix == ".parquet":
            try:
                return pd.read_parquet(path, **kwargs)
            except ImportError:
                raise DataError("reading parquet needs pyarrow: pip install 'pkg-shared[parquet]'") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as e:
        raise DataError(f"cannot read {path}: {e}") from None
    raise DataError(f"unsupported table format '{suffix}' for {path} (csv, tsv, jsonl, parquet)")


SKLEARN_DATASETS = {
    "digits": skdatasets.load_digits,
    "iris": skdatasets.load_iris,
    "wine": skdatasets.load_wine,
    "breast_cancer": skdatasets.load_breast_cancer,
    "diabetes": skdatasets.load_diabetes,
}


def sklearn_dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    """One of scikit-learn's bundled (offline) datasets as ``(X float32, y)``."""
    if name not in SKLEARN_DATASETS:
        raise DataError(f"unknown bundled dataset '{name}' (one of {', '.join(SKLEARN_DATASETS)})")
    X, y = SKLEARN_DATASETS[name](return_X_y=True)
    return X.astype(np.float32), y
