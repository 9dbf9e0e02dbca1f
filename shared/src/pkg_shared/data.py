"""The data root, clear errors for missing datasets, validation where data enters, splits and readers.

Every loader validates what it reads with the ``check_*`` helpers here (columns present, numbers finite,
labels in the expected set, index arrays in bounds, row counts, non-empty splits), so bad data is one
line naming the file, the column and the row (exit 2), never exit 3, a signal from a native library, or a
silently wrong result.

Real datasets live in the data root, laid out as ``<root>/<dataset>/<files>`` (the layout of the
project's ``shared/data``). The root is ``--data-dir`` when given, else ``$PKG_DATA_DIR``, else a
per-user cache folder (``$XDG_CACHE_HOME/pkg-zoo/data`` or ``~/.cache/pkg-zoo/data``). Nothing here
downloads: a missing dataset raises :class:`DatasetMissing` naming the files and their public source.
"""

from __future__ import annotations

import sqlite3
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .dataroot import ENV_VAR, data_root
from .errors import UserError

if TYPE_CHECKING:
    import pandas as pd


class DatasetMissing(UserError):
    """A dataset's files are not in the data root."""


class DataError(UserError):
    """A data file exists but cannot be read as expected."""


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
    from sklearn.model_selection import train_test_split

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
        z = np.load(path, allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise DataError(f"{path} is not an .npz archive (a bare .npy array?)")
        with z:
            arrays = {k: z[k] for k in z.files}
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as e:
        raise DataError(f"{path} is not a readable .npz file (truncated or damaged: {e})") from None
    missing = sorted(set(keys or ()) - set(arrays))
    if missing:
        raise DataError(f"{path} lacks arrays {missing} (has {sorted(arrays)})")
    return arrays


def read_table(
    path: str | Path, *, columns: Iterable[str] | None = None, rows: int | None = None, **kwargs: Any
) -> pd.DataFrame:
    """Read a CSV, TSV, JSON Lines or parquet file into a DataFrame (pandas), by its suffix.

    With ``columns``, each must be present (:func:`require_columns`); with ``rows``, the file must hold
    exactly that many (a truncated file is caught here, not by a wrong result later).
    """
    frame = _read_table(Path(path), **kwargs)
    if columns is not None:
        require_columns(frame, columns, path)
    if rows is not None and len(frame) != rows:
        raise DataError(
            f"{path} holds {len(frame)} rows where {rows} are expected (truncated or wrong file?)"
        )
    if len(frame) == 0:
        raise DataError(f"{path} holds no rows")
    return frame


def _read_table(path: Path, **kwargs: Any) -> pd.DataFrame:
    import pandas as pd

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
    except (
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        UnicodeDecodeError,
        ValueError,
        EOFError,
        OSError,
    ) as e:
        raise DataError(
            f"cannot read {path}: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
        ) from None
    raise DataError(f"unsupported table format '{suffix}' for {path} (csv, tsv, jsonl, parquet)")


SKLEARN_DATASETS = ("digits", "iris", "wine", "breast_cancer", "diabetes")


def sklearn_dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    """One of scikit-learn's bundled (offline) datasets as ``(X float32, y)``."""
    if name not in SKLEARN_DATASETS:
        raise DataError(f"unknown bundled dataset '{name}' (one of {', '.join(SKLEARN_DATASETS)})")
    from sklearn import datasets as skdatasets

    X, y = getattr(skdatasets, f"load_{name}")(return_X_y=True)
    return X.astype(np.float32), y


def open_sqlite(path: str | Path, *, what: str = "database", **connect: Any) -> sqlite3.Connection:
    """Open a SQLite file, checking first that it is an intact database (``PRAGMA quick_check``).

    A damaged or non-SQLite file is a :class:`DataError` naming it (exit 2), never a crash mid-run.
    ``connect`` goes to ``sqlite3.connect`` (``check_same_thread=False``, ``timeout=...``).
    """
    path = Path(path)
    try:
        conn = sqlite3.connect(path, **connect)
        result = conn.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as e:
        raise DataError(f"{what} {path} is not a readable SQLite database ({e})") from None
    if result is None or result[0] != "ok":
        conn.close()
        raise DataError(f"{what} {path} is damaged (SQLite quick_check: {result and result[0]})")
    return conn


# ------------------------------------------------------------------------------------------- validation
def _where(source: str | Path | None, column: str | None = None) -> str:
    parts = [str(source)] if source is not None else []
    if column is not None:
        parts.append(f"column '{column}'")
    return ", ".join(parts) or "data"


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def require_columns(frame: pd.DataFrame, columns: Iterable[str], source: str | Path | None = None) -> None:
    """Every one of ``columns`` is in ``frame`` (else name the file, the missing columns and those present)."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{_where(source)} lacks column(s) {missing} (has {list(frame.columns)[:20]})")


def check_finite(values: Any, source: str | Path | None = None, column: str | None = None) -> np.ndarray:
    """``values`` as a float array with no NaN or infinity (else name the first bad row)."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{_where(source, column)} holds values that are not numbers") from None
    bad = ~np.isfinite(array)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])  # the first axis is the row, also for 2-D arrays
        raise DataError(
            f"{_where(source, column)}: {int(bad.sum())} value(s) are not finite numbers (first at row {row})"
        )
    return array


def check_labels(
    values: Any, allowed: Iterable[Any], source: str | Path | None = None, column: str | None = None
) -> np.ndarray:
    """Every label is in ``allowed`` (e.g. ``{0, 1}`` for CTR, ``range(C)`` for classes); names the row."""
    array = np.asarray(values)
    allowed = list(allowed)
    try:
        ok = np.isin(array, np.asarray(allowed))
    except TypeError:
        ok = np.array([v in allowed for v in array.ravel()]).reshape(array.shape)
    if not ok.all():
        row = int(np.argwhere(~ok)[0][0])
        shown = allowed if len(allowed) <= 10 else f"{allowed[0]}..{allowed[-1]}"
        raise DataError(
            f"{_where(source, column)}: label {_plain(array.ravel()[row])!r} at row {row} is not one of {shown}"
        )
    return array


def check_index(indices: Any, size: int, source: str | Path | None = None, what: str = "index") -> np.ndarray:
    """Whole-number indices in ``[0, size)`` (never hand an out-of-range index to torch or scipy)."""
    array = np.asarray(indices)
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise DataError(f"{_where(source)}: {what} array is not whole numbers ({array.dtype})")
    if array.size and (array.min() < 0 or array.max() >= size):
        bad = int(np.flatnonzero((array < 0) | (array >= size))[0])  # a flat position, also for 2-D arrays
        raise DataError(
            f"{_where(source)}: {what} {_plain(array.ravel()[bad])} at position {bad} is outside [0, {size})"
        )
    return array


def check_csr(
    indptr: Any, indices: Any, shape: tuple[int, int], source: str | Path | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A CSR structure that scipy and torch can take safely: ``indptr`` of length rows+1, starting at 0,
    non-decreasing, ending at ``len(indices)``; ``indices`` within ``[0, cols)``."""
    indptr, indices = np.asarray(indptr), np.asarray(indices)
    rows, cols = shape
    where = _where(source)
    if indptr.ndim != 1 or len(indptr) != rows + 1:
        raise DataError(f"{where}: CSR indptr has length {indptr.size}, expected rows + 1 = {rows + 1}")
    if indptr[0] != 0 or indptr[-1] != len(indices) or (np.diff(indptr) < 0).any():
        raise DataError(f"{where}: CSR indptr must start at 0, never decrease and end at {len(indices)}")
    check_index(indices, cols, source, "column index")
    return indptr, indices


def check_split(
    name: str, n: int, labels: Any = None, *, both_classes: bool = False, source: str | Path | None = None
) -> None:
    """A split is non-empty and, with ``both_classes`` (e.g. for AUC), holds both classes of ``labels``."""
    if n < 1:
        raise DataError(f"{_where(source)}: the {name} split is empty")
    if both_classes and labels is not None and len(np.unique(np.asarray(labels))) < 2:
        raise DataError(f"{_where(source)}: the {name} split holds one class only (AUC needs both)")
