"""Feature encoding for the CTR and tabular papers: vocabularies, token sequences and numeric scaling.

A small cousin of FuxiCTR's ``FeatureProcessor``. Each column is described by a :class:`FieldSpec`;
:class:`FeatureEncoder` fits vocabularies and numeric statistics on the train split alone and turns any
split into numpy arrays ready for embedding tables:

- categorical: ``int64 (N,)`` indices;
- sequence: ``int64 (N, max_len)`` indices right-padded with 0, keeping the last ``max_len`` tokens in
  order, and a boolean ``(N, max_len)`` mask of the real positions under ``f"{name}_mask"``;
- numeric: ``float32 (N,)`` values, missing ones filled, optionally normalised.

Index 0 is padding and missing values, index 1 is unknown (unseen in train, or rarer than
``min_count``), and the real tokens follow from 2 by descending train frequency, ties broken by token
string. Tokens compare as strings, so ``3`` and ``"3"`` are one token; in a column of numbers only, a
float holding a whole number is the integer's token (``3.0`` is ``"3"``), because pandas stores an integer
column with missing values as floats. NaN, None and the empty string are missing.
"""

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
import torch

from pkg_shared.errors import UserError
from pkg_shared.io import atomic_write_bytes

PAD = 0
UNKNOWN = 1
N_RESERVED = 2
KINDS = ("categorical", "numeric", "sequence")
NORMALIZATIONS = ("standard", "minmax", None)
FORMAT_NAME = "pkg_shared.FeatureEncoder"
FORMAT_VERSION = 1
_STAT_KEYS = ("mean", "std", "min", "max", "fill")
_TOKENISED = ("categorical", "sequence")
# Options that only some kinds use: any other kind must leave them at their defaults.
_APPLIES_TO = {
    "min_count": _TOKENISED,
    "max_len": ("sequence",),
    "sep": ("sequence",),
    "share_vocab_with": _TOKENISED,
    "normalize": ("numeric",),
    "fill": ("numeric",),
}
_MAX_EXACT_INT = 2.0**53


class FeatureError(UserError):
    """A field spec, a frame or a saved encoder that the feature encoder cannot work with."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class FieldSpec:
    """How one column is encoded.

    Args:
        name: the column's name in the frame, also the key of its array in ``transform``'s output.
        kind: ``"categorical"`` (one token a row), ``"sequence"`` (a token list a row) or ``"numeric"``.
        min_count: train tokens seen fewer times than this map to unknown (categorical, sequence).
        max_len: how many tokens of a sequence are kept (sequence only, required).
        sep: token separator in string sequence cells; list and array cells are taken as they are.
        share_vocab_with: a categorical or sequence field whose vocabulary this one uses (a behaviour
            history sharing the item field's ids); it is fit on both fields' train tokens together and
            stored once, under that field.
        normalize: ``"standard"`` (train mean and std), ``"minmax"`` (train min and max, to [0, 1]) or
            ``None`` (numeric only).
        fill: value for missing numeric cells, in the column's own units; ``None`` means the train mean.
    """

    name: str
    kind: str = "categorical"
    min_count: int = 1
    max_len: int | None = None
    sep: str = "^"
    share_vocab_with: str | None = None
    normalize: str | None = None
    fill: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise FeatureError(f"a field name must be a non-empty string, got {self.name!r}")
        if self.kind not in KINDS:
            self._reject("kind", f"one of {', '.join(KINDS)}")
        defaults = {option.name: option.default for option in dataclass_fields(self)}
        for option, kinds in _APPLIES_TO.items():
            if self.kind not in kinds and getattr(self, option) != defaults[option]:
                self._reject(option, f"left unset: it applies to {' and '.join(kinds)} fields only")
        if not _is_int(self.min_count) or self.min_count < 1:
            self._reject("min_count", "an integer >= 1")
        if self.kind == "sequence" and (not _is_int(self.max_len) or self.max_len < 1):
            self._reject("max_len", "an integer >= 1 (required for a sequence field)")
        if not isinstance(self.sep, str) or not self.sep:
            self._reject("sep", "a non-empty string")
        if self.share_vocab_with is not None and (
            not isinstance(self.share_vocab_with, str) or self.share_vocab_with in ("", self.name)
        ):
            self._reject("share_vocab_with", "the name of another field")
        if self.normalize not in NORMALIZATIONS:
            self._reject("normalize", "'standard', 'minmax' or None")
        if self.fill is not None and not (
            _is_int(self.fill) or (isinstance(self.fill, float) and np.isfinite(self.fill))
        ):
            self._reject("fill", "a finite number or None (the train mean)")

    def _reject(self, option: str, expected: str) -> None:
        value = getattr(self, option)
        raise FeatureError(f"field {self.name!r}: {option}={value!r} is invalid; expected {expected}")


class FeatureEncoder:
    """Fits vocabularies and numeric statistics on a train frame, then encodes frames into arrays.

    Example::

        encoder = FeatureEncoder([
            FieldSpec("item"),
            FieldSpec("history", "sequence", max_len=20, share_vocab_with="item"),
            FieldSpec("price", "numeric", normalize="standard"),
        ])
        train_arrays = encoder.fit_transform(train_df)
        test_arrays = encoder.transform(test_df)
        table_rows = encoder.vocab_size("item")  # embedding table size, reserved rows included
    """

    def __init__(self, fields: Iterable[FieldSpec]) -> None:
        self._fields = tuple(fields)
        _check_fields(self._fields)
        self._by_name = {spec.name: spec for spec in self._fields}
        self._vocabs: dict[str, pd.Index] | None = None
        self._stats: dict[str, dict[str, float]] | None = None

    @property
    def fields(self) -> tuple[FieldSpec, ...]:
        """The field specs, in the order of ``transform``'s output."""
        return self._fields

    @property
    def is_fitted(self) -> bool:
        """Whether ``fit`` (or ``from_dict``/``load``) has set the vocabularies and statistics."""
        return self._vocabs is not None

    def fit(self, df: pd.DataFrame) -> Self:
        """Fit vocabularies and numeric statistics on ``df``, which must be the train split alone."""
        _check_frame(df, self._fields)
        tokens: dict[str, list[pd.Series]] = {}
        stats: dict[str, dict[str, float]] = {}
        for spec in self._fields:
            if spec.kind == "numeric":
                stats[spec.name] = _numeric_stats(spec, _numeric_values(spec, df[spec.name]))
                continue
            column = df[spec.name]
            seen = (
                _categorical_tokens(column)
                if spec.kind == "categorical"
                else _sequence_tokens(column, spec.sep)[1]
            )
            tokens.setdefault(spec.share_vocab_with or spec.name, []).append(seen.dropna())
        self._vocabs = {
            owner: _vocabulary(pd.concat(parts, ignore_index=True), self._by_name[owner].min_count)
            for owner, parts in tokens.items()
        }
        self._stats = stats
        return self

    def transform(self, df: pd.DataFrame) -> dict[str, np.ndarray]:
        """Encode ``df`` with the fitted vocabularies and statistics (see the module docstring)."""
        if self._vocabs is None or self._stats is None:
            raise FeatureError("transform called before fit: fit the encoder on the train split first")
        _check_frame(df, self._fields)
        out: dict[str, np.ndarray] = {}
        for spec in self._fields:
            column = df[spec.name]
            if spec.kind == "numeric":
                out[spec.name] = _scale(spec, _numeric_values(spec, column), self._stats[spec.name])
            elif spec.kind == "categorical":
                out[spec.name] = self._index(spec, _categorical_tokens(column))
            else:
                rows, tokens = _sequence_tokens(column, spec.sep)
                ids = _pad_last(self._index(spec, tokens), rows, len(column), spec.max_len)
                out[spec.name] = ids
                out[f"{spec.name}_mask"] = ids != PAD
        return out

    def fit_transform(self, df: pd.DataFrame) -> dict[str, np.ndarray]:
        """``fit(df)`` then ``transform(df)``."""
        return self.fit(df).transform(df)

    def vocab_size(self, name: str) -> int:
        """Rows of the embedding table of field ``name``: its vocabulary plus the two reserved rows."""
        if name not in self._by_name:
            raise FeatureError(f"no field named {name!r}; fields: {', '.join(self._by_name)}")
        spec = self._by_name[name]
        if spec.kind == "numeric":
            raise FeatureError(f"field {name!r} is numeric: it has no vocabulary")
        if self._vocabs is None:
            raise FeatureError("vocab_size called before fit: fit the encoder on the train split first")
        return N_RESERVED + len(self._vocabs[spec.share_vocab_with or name])

    def _index(self, spec: FieldSpec, tokens: pd.Series) -> np.ndarray:
        """Vocabulary indices of token strings: 0 where missing, 1 where unknown, real tokens from 2."""
        positions = self._vocabs[spec.share_vocab_with or spec.name].get_indexer(tokens)
        ids = np.where(positions < 0, UNKNOWN, positions + N_RESERVED).astype(np.int64)
        ids[tokens.isna().to_numpy()] = PAD
        return ids

    def to_dict(self) -> dict[str, Any]:
        """The fitted encoder as plain JSON-able data (see ``from_dict``)."""
        if self._vocabs is None or self._stats is None:
            raise FeatureError("to_dict called before fit: fit the encoder on the train split first")
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "fields": [asdict(spec) for spec in self._fields],
            "vocabularies": {owner: vocab.tolist() for owner, vocab in self._vocabs.items()},
            "numeric": {name: dict(stats) for name, stats in self._stats.items()},
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> Self:
        """Rebuild a fitted encoder from ``to_dict``'s output; malformed data raises FeatureError."""
        if not isinstance(state, Mapping) or state.get("format") != FORMAT_NAME:
            raise FeatureError(f"not a saved FeatureEncoder: expected format {FORMAT_NAME!r}")
        if state.get("version") != FORMAT_VERSION:
            raise FeatureError(
                f"saved FeatureEncoder has format version {state.get('version')!r}; "
                f"this pkg_shared reads version {FORMAT_VERSION}"
            )
        malformed = "malformed FeatureEncoder state: "
        try:
            encoder = cls(FieldSpec(**spec) for spec in state["fields"])
            vocabs = {
                owner: pd.Index(tokens, dtype=object) for owner, tokens in state["vocabularies"].items()
            }
            stats = {
                name: {key: float(st[key]) for key in _STAT_KEYS} for name, st in state["numeric"].items()
            }
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise FeatureError(f"{malformed}{type(err).__name__}: {err}") from err
        owners = {spec.share_vocab_with or spec.name for spec in encoder.fields if spec.kind != "numeric"}
        numeric = {spec.name for spec in encoder.fields if spec.kind == "numeric"}
        if set(vocabs) != owners or set(stats) != numeric:
            raise FeatureError(f"{malformed}its vocabularies or numeric statistics do not match its fields")
        if not all(
            pd.api.types.infer_dtype(v) in ("string", "empty") and v.is_unique for v in vocabs.values()
        ):
            raise FeatureError(f"{malformed}a vocabulary is not a list of unique strings")
        if not np.isfinite([value for st in stats.values() for value in st.values()]).all():
            raise FeatureError(f"{malformed}numeric statistics must be finite")
        encoder._vocabs = {owner: pd.Index(vocab.astype(str)) for owner, vocab in vocabs.items()}
        encoder._stats = stats
        return encoder

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the fitted encoder to ``path`` as JSON, atomically (a temp file, then ``os.replace``)."""
        text = json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n"
        try:
            return atomic_write_bytes(path, text.encode("utf-8"))
        except OSError as err:
            raise FeatureError(f"cannot write the encoder to {path}: {err.strerror or err}") from err

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Read an encoder written by ``save``; a missing, malformed or wrong-version file raises FeatureError."""
        try:
            state = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as err:
            raise FeatureError(f"cannot read the encoder file {path}: {err.strerror or err}") from err
        except ValueError as err:
            raise FeatureError(f"{path}: not a saved FeatureEncoder (invalid JSON: {err})") from err
        try:
            return cls.from_dict(state)
        except FeatureError as err:
            raise FeatureError(f"{path}: {err}") from err


def to_tensors(arrays: Mapping[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """Wrap ``transform``'s arrays as tensors sharing their memory (``torch.from_numpy``, no copy)."""
    return {name: torch.from_numpy(array) for name, array in arrays.items()}


def _check_fields(fields: tuple[FieldSpec, ...]) -> None:
    if not fields:
        raise FeatureError("FeatureEncoder needs at least one FieldSpec")
    for spec in fields:
        if not isinstance(spec, FieldSpec):
            raise FeatureError(f"FeatureEncoder takes FieldSpec objects, got {type(spec).__name__}")
    by_name = {spec.name: spec for spec in fields}
    if len(by_name) != len(fields):
        raise FeatureError(f"field names must be unique, got {[spec.name for spec in fields]}")
    for spec in fields:
        if spec.kind == "sequence" and f"{spec.name}_mask" in by_name:
            raise FeatureError(
                f"field {spec.name + '_mask'!r} clashes with the mask of sequence field {spec.name!r}"
            )
        if spec.share_vocab_with is None:
            continue
        target = by_name.get(spec.share_vocab_with)
        if target is None or target.kind == "numeric" or target.share_vocab_with:
            raise FeatureError(
                f"field {spec.name!r}: share_vocab_with={spec.share_vocab_with!r} must name a categorical or "
                "sequence field that owns its vocabulary (does not itself share one)"
            )
        if target.min_count != spec.min_count:
            raise FeatureError(
                f"field {spec.name!r}: min_count={spec.min_count} differs from min_count={target.min_count} "
                f"of {target.name!r}, whose vocabulary it shares"
            )


def _check_frame(df: pd.DataFrame, fields: tuple[FieldSpec, ...]) -> None:
    if not isinstance(df, pd.DataFrame):
        raise FeatureError(f"expected a pandas DataFrame, got {type(df).__name__}")
    missing = [spec.name for spec in fields if spec.name not in df.columns]
    if missing:
        raise FeatureError(f"field(s) {', '.join(map(repr, missing))} missing from the frame's columns")


def _categorical_tokens(values: pd.Series) -> pd.Series:
    """Token strings of the cells, NaN where missing (NaN, None or the empty string)."""
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    if inferred in ("floating", "mixed-integer-float"):
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        text = numbers.astype(str).astype(object)
        whole = np.isfinite(numbers) & (np.floor(numbers) == numbers) & (np.abs(numbers) < _MAX_EXACT_INT)
        text[whole] = numbers[whole].astype(np.int64).astype(str)
        text[np.isnan(numbers)] = np.nan
        tokens = pd.Series(text, index=values.index, dtype=str)
    else:
        tokens = values.astype(str).where(values.notna())
    return tokens.where(tokens != "")


def _sequence_tokens(values: pd.Series, sep: str) -> tuple[np.ndarray, pd.Series]:
    """Split sequence cells into their non-missing tokens: each token's row position and string.

    String cells are joined and split in one pass (a cell with k separators gives k + 1 tokens, in
    order); list and array cells go through ``Series.explode``. Rows come out non-decreasing.
    """
    cells = values.reset_index(drop=True)
    n_seps = np.full(len(cells), np.nan)
    if pd.api.types.infer_dtype(cells, skipna=True) in ("string", "mixed", "mixed-integer"):
        n_seps = cells.str.count(re.escape(sep)).to_numpy(dtype=np.float64, na_value=np.nan)
    is_text = ~np.isnan(n_seps)
    text = cells.to_numpy()[is_text]
    rows = np.repeat(np.flatnonzero(is_text), n_seps[is_text].astype(np.int64) + 1)
    tokens = np.array(sep.join(text).split(sep) if text.size else [], dtype=object)
    rows, tokens = rows[tokens != ""], tokens[tokens != ""]
    other = _categorical_tokens(cells[~is_text & cells.notna().to_numpy()].explode()).dropna()
    if other.size:
        rows = np.concatenate([rows, other.index.to_numpy(dtype=np.int64)])
        tokens = np.concatenate([tokens, other.to_numpy(dtype=object)])
        order = np.argsort(rows, kind="stable")
        rows, tokens = rows[order], tokens[order]
    return rows, pd.Series(tokens, dtype=object)


def _pad_last(ids: np.ndarray, rows: np.ndarray, n_rows: int, max_len: int) -> np.ndarray:
    """Place each row's last ``max_len`` token ids, in order, into a right-padded ``(n_rows, max_len)`` array.

    ``rows`` holds each id's row position, non-decreasing (as ``_sequence_tokens`` gives them).
    """
    counts = np.bincount(rows, minlength=n_rows)
    starts = np.cumsum(counts) - counts
    position = np.arange(rows.size) - starts[rows]
    dropped = np.maximum(counts - max_len, 0)[rows]
    keep = position >= dropped
    out = np.zeros((n_rows, max_len), dtype=np.int64)
    out[rows[keep], (position - dropped)[keep]] = ids[keep]
    return out


def _vocabulary(tokens: pd.Series, min_count: int) -> pd.Index:
    """Tokens seen at least ``min_count`` times, by descending count, ties by token string."""
    counts = tokens.value_counts()
    counts = counts[counts >= min_count]
    order = np.lexsort((counts.index.to_numpy(dtype=str), -counts.to_numpy()))
    return pd.Index(counts.index[order].astype(str))


def _numeric_values(spec: FieldSpec, values: pd.Series) -> np.ndarray:
    """The column as float64, NaN where missing (NaN, None or infinite)."""
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_complex_dtype(values):
        raise FeatureError(f"field {spec.name!r} is numeric but its column holds {values.dtype} values")
    numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(np.isfinite(numbers), numbers, np.nan)


def _numeric_stats(spec: FieldSpec, numbers: np.ndarray) -> dict[str, float]:
    seen = numbers[~np.isnan(numbers)]
    if seen.size == 0:
        raise FeatureError(f"field {spec.name!r} has no numeric value in the training frame")
    mean = float(seen.mean())
    fill = mean if spec.fill is None else float(spec.fill)
    return {
        "mean": mean,
        "std": float(seen.std()),
        "min": float(seen.min()),
        "max": float(seen.max()),
        "fill": fill,
    }


def _scale(spec: FieldSpec, numbers: np.ndarray, stats: Mapping[str, float]) -> np.ndarray:
    """Fill missing values, then normalise with the train statistics (a zero spread divides by 1)."""
    filled = np.where(np.isnan(numbers), stats["fill"], numbers)
    if spec.normalize == "standard":
        filled = (filled - stats["mean"]) / (stats["std"] or 1.0)
    elif spec.normalize == "minmax":
        filled = (filled - stats["min"]) / ((stats["max"] - stats["min"]) or 1.0)
    return filled.astype(np.float32)
