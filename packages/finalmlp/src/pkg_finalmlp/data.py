"""CTR datasets through ``pkg_shared.features``: BARS CSVs, ml100k-ctr, the tiny Taobao sample, synthetic.

Every dataset becomes a :class:`CTRData`: one ``(N, F)`` int64 matrix of field indices per split (padding 0,
unknown 1, real tokens from 2, vocabularies fit on the train split alone, so a category unseen in train maps
to the unknown index), float32 labels and, when the data have numeric fields, an ``(N, F)`` float32 matrix
of values: a numeric field's index is always 1 (its one embedding vector) and its value scales that vector,
as FuxiCTR's numeric features (``type: numeric``); a categorical field's value is 1. Splits are encoded
chunk by chunk into preallocated matrices; training streams shuffled batches out of them
(:class:`pkg_shared.ctr.Batches`). The readers and label checks are :mod:`pkg_shared.ctr`'s.

- ``csv:<dir>``: the FuxiCTR/BARS layout, ``train.csv``, ``valid.csv``, ``test.csv`` with a header, a
  ``label`` column (0/1) and feature columns (Criteo_x1, Avazu_x1, MovielensLatest_x1, Frappe_x1).
  Criteo's ``I1..I13`` are numeric fields, as the official BARS/FuxiCTR Criteo_x1 configuration declares
  them (no normaliser, missing values 0): the Criteo_x1 files already hold them scaled to [0, 1], where
  log-bucketing would collapse them into one or two buckets. Every other column is categorical.
- ``ml100k``: the spec's ml100k-ctr task from ``<data root>/movielens-100k`` (atomic ``ml-100k.inter/
  .item/.user`` or GroupLens's ``u.data/u.item/u.user``): label = rating >= 4; 8 fields; random 8:1:1.
- ``taobao-tiny``: ``<data root>/ctr-taobao-ad-tiny`` (100 rows a split; format and smoke tests only).
- ``synthetic``: :func:`synthetic_ctr`, offline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pkg_shared.ctr import (
    ML100K_SOURCE,
    SPLITS,
    check_ctr_labels,
    check_splits,
    load_movielens_100k,
    read_splits,
)
from pkg_shared.ctr import load_taobao_tiny as read_taobao_tiny
from pkg_shared.data import DataError, train_val_test_split
from pkg_shared.features import FeatureEncoder, FieldSpec

from .config import CRITEO_NUMERIC

DATASETS = ("synthetic", "ml100k", "taobao-tiny")
ML_SOURCE = ML100K_SOURCE
ML_FIELDS = ("user_id", "item_id", "age", "gender", "occupation", "zip", "release_year", "genre")
TAOBAO_DROP = ("time_stamp", "click_sequence")
CHUNK_ROWS = 500_000


@dataclass
class CTRData:
    """Encoded splits: ``x[split]`` ``(N, F)`` int64, ``y[split]`` ``(N,)`` float32, and with numeric fields
    ``values[split]`` ``(N, F)`` float32; ``fields``: name -> table rows (2 for a numeric field)."""

    name: str
    fields: dict[str, int]
    x: dict[str, torch.Tensor]
    y: dict[str, torch.Tensor]
    encoder: FeatureEncoder
    values: dict[str, torch.Tensor] | None = None
    numeric: tuple[str, ...] = ()

    def table(self, split: str) -> dict[str, torch.Tensor]:
        """The split as a batch table ``{"x", "label"[, "values"]}`` (for ``Batches`` and ``predict``)."""
        out = {"x": self.x[split], "label": self.y[split]}
        if self.values is not None:
            out["values"] = self.values[split]
        return out

    def describe(self) -> str:
        sizes = ", ".join(f"{s} {len(self.y[s]):,}" for s in SPLITS)
        pos = float(self.y["train"].mean())
        num = f" ({len(self.numeric)} numeric)" if self.numeric else ""
        return f"{self.name}: {len(self.fields)} fields{num}, {sizes} rows, {pos:.1%} positive (train)"


def log_bucket(values: pd.Series) -> pd.Series:
    """FuxiCTR's ``convert_to_bucket``: ``floor(log(v)^2)`` for v > 2, else ``int(v)``; missing stays missing."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        bucket = np.where(v > 2, np.floor(np.log(np.where(v > 2, v, 1.0)) ** 2), np.trunc(v))
    return pd.Series(bucket, index=values.index).astype("Int64")


def encode(
    name: str,
    frames: Mapping[str, pd.DataFrame],
    columns: Sequence[str] | None = None,
    *,
    min_count: int = 1,
    bucketise: Sequence[str] = (),
    numeric: Sequence[str] = (),
    encoder: FeatureEncoder | None = None,
) -> CTRData:
    """Fit a FeatureEncoder on ``frames["train"]`` and encode all splits (see the module docstring).

    Columns in ``numeric`` are numeric fields (value x vector; missing -> 0), those in ``bucketise`` are
    log-bucketed then categorical, every other column but ``label`` is categorical. With ``encoder`` (a
    fitted one, e.g. a checkpoint's) its vocabularies and field kinds are used instead of fitting.
    """
    check_splits(frames, name)
    train = frames["train"]
    if encoder is not None:
        columns = [spec.name for spec in encoder.fields]
        numeric = [spec.name for spec in encoder.fields if spec.kind == "numeric"]
    columns = list(columns or [c for c in train.columns if c != "label"])
    if not columns:
        raise DataError(f"{name}: no feature column besides 'label'")
    numeric = [c for c in columns if c in set(numeric)]

    def prepared(frame: pd.DataFrame, split: str) -> pd.DataFrame:
        missing = sorted(set(columns) - set(frame.columns))
        if missing:
            raise DataError(f"{name} {split}: lacks the column(s) {missing}")
        out = frame[columns].copy()
        for col in set(bucketise) & set(columns):
            out[col] = log_bucket(out[col])
        for col in numeric:
            values = pd.to_numeric(out[col], errors="coerce")
            bad = values.isna() & out[col].notna() & (out[col].astype(str).str.strip() != "")
            if bad.any():
                row = int(np.argmax(bad.to_numpy()))
                raise DataError(
                    f"{name} {split}, column '{col}': {out[col].iloc[row]!r} at row {row} is not a number"
                )
            if not np.isfinite(values.dropna().to_numpy(dtype=np.float64)).all():
                raise DataError(f"{name} {split}, column '{col}': a value is not finite")
            out[col] = values.astype(np.float64)
        return out

    if encoder is None:
        specs = [
            FieldSpec(c, "numeric", fill=0) if c in numeric else FieldSpec(c, min_count=min_count)
            for c in columns
        ]
        encoder = FeatureEncoder(specs)
        encoder.fit(prepared(train, "train"))
    x, y, values = {}, {}, ({} if numeric else None)
    for split in SPLITS:
        frame = frames[split]
        y[split] = torch.from_numpy(
            check_ctr_labels(frame["label"], f"{name} {split}")
            if "label" in frame
            else _no_label(name, split, frame)
        )
        matrix = np.empty((len(frame), len(columns)), dtype=np.int64)
        scale = np.ones((len(frame), len(columns)), dtype=np.float32) if numeric else None
        for start in range(0, len(frame), CHUNK_ROWS):
            arrays = encoder.transform(prepared(frame.iloc[start : start + CHUNK_ROWS], split))
            for j, col in enumerate(columns):
                if col in numeric:
                    matrix[start : start + CHUNK_ROWS, j] = 1
                    scale[start : start + CHUNK_ROWS, j] = arrays[col]
                else:
                    matrix[start : start + CHUNK_ROWS, j] = arrays[col]
        x[split] = torch.from_numpy(matrix)
        if values is not None:
            values[split] = torch.from_numpy(scale)
    fields = {c: 2 if c in numeric else encoder.vocab_size(c) for c in columns}
    return CTRData(name, fields, x, y, encoder, values, tuple(numeric))


def _no_label(name: str, split: str, frame: pd.DataFrame) -> np.ndarray:
    raise DataError(f"{name} {split}: no 'label' column (columns: {', '.join(map(str, frame.columns[:8]))})")


def read_csv_dir(folder: str | Path) -> dict[str, pd.DataFrame]:
    """``train.csv``, ``valid.csv``, ``test.csv`` of a BARS folder, every column read as text (all required)."""
    return read_splits(folder, columns=("label",), keep_default_na=True)


def load_csv(
    folder: str | Path,
    min_count: int = 1,
    encoder: FeatureEncoder | None = None,
    numeric: Sequence[str] | None = None,
) -> CTRData:
    """A FuxiCTR/BARS CSV folder (``csv:<dir>``); ``numeric`` fields (default: Criteo's I1..I13 where present)."""
    frames = read_csv_dir(folder)
    numeric = CRITEO_NUMERIC if numeric is None else tuple(numeric)
    return encode(f"csv:{folder}", frames, min_count=min_count, numeric=numeric, encoder=encoder)


def load_taobao_tiny(root: str | Path | None = None, encoder: FeatureEncoder | None = None) -> CTRData:
    """The 100-row Taobao ad sample: ``clk`` is the label, ``price`` log-bucketed; timestamp and sequence dropped."""
    frames = {
        s: f.drop(columns=list(TAOBAO_DROP)).rename(columns={"clk": "label"}).replace("", None)
        for s, f in read_taobao_tiny(root).items()
    }
    return encode("taobao-tiny", frames, bucketise=("price",), encoder=encoder)


def movielens_frame(root: str | Path | None = None, sizes: dict[str, int] | None = None) -> pd.DataFrame:
    """ml100k-ctr rows: the 8 fields of the spec and ``label = rating >= 4``, in the ratings' file order.

    Read by :func:`pkg_shared.ctr.load_movielens_100k` (either layout, validated; ``sizes=None`` keeps the
    documented sizes).
    """
    ml = load_movielens_100k(root) if sizes is None else load_movielens_100k(root, sizes=sizes)
    users = ml.users.rename(columns={"user": "user_id"})
    users["zip"] = users["zip_code"].astype(str).str[:2]
    items = ml.items.rename(columns={"item": "item_id"})[["item_id", "release_year", "genre"]]
    rows = ml.ratings.rename(columns={"user": "user_id", "item": "item_id"})
    rows = rows.merge(users, on="user_id", how="left").merge(items, on="item_id", how="left")
    rows["label"] = (rows["rating"] >= 4).astype(np.float32)
    return rows[[*ML_FIELDS, "label"]]


def split_811(frame: pd.DataFrame, seed: int = 0) -> dict[str, pd.DataFrame]:
    """A random 8:1:1 train/valid/test split, fixed by ``seed`` (not stratified)."""
    tr, va, te = train_val_test_split(len(frame), 0.1, 0.1, seed=seed, stratify=False)
    return {s: frame.iloc[i].reset_index(drop=True) for s, i in zip(SPLITS, (tr, va, te), strict=True)}


def load_ml100k(
    root: str | Path | None = None, split_seed: int = 0, encoder: FeatureEncoder | None = None
) -> CTRData:
    """The spec's ml100k-ctr: 100,000 ratings, label rating >= 4 (55.4 % positive), 8 fields, 8:1:1."""
    return encode("ml100k-ctr", split_811(movielens_frame(root), split_seed), ML_FIELDS, encoder=encoder)


def synthetic_ctr(
    n: int = 200_000,
    n_user_fields: int = 3,
    n_item_fields: int = 3,
    vocab: int = 30,
    k_true: int = 4,
    seed: int = 0,
) -> pd.DataFrame:
    """Synthetic CTR rows (spec "Data"): user fields ``u0..``, item fields ``i0..``, ``label``.

    Every value of every field has a first-order weight ``w ~ N(0, 0.5^2)`` and a latent vector
    ``v ~ N(0, I / k_true)``. ``logit = sum_f w_f + sum_{(u, i) user x item} <v_u, v_i> + 0.5 * t``
    where ``t`` is a product of three fields' scalar codes (a third-order term); labels are
    ``Bernoulli(sigmoid(logit - shift))`` with ``shift`` the 75th percentile of the logits (~25-30 % positive).
    """
    rng = np.random.default_rng(seed)
    n_fields = n_user_fields + n_item_fields
    codes = rng.integers(vocab, size=(n, n_fields))
    w = rng.normal(0, 0.5, size=(n_fields, vocab))
    v = rng.normal(0, 1 / np.sqrt(k_true), size=(n_fields, vocab, k_true))
    logit = w[np.arange(n_fields), codes].sum(1)
    latent = v[np.arange(n_fields), codes]  # (n, fields, k)
    logit += np.einsum("nuk,nik->n", latent[:, :n_user_fields], latent[:, n_user_fields:])
    scalar = rng.normal(size=(n_fields, vocab))[np.arange(n_fields), codes]
    logit += 0.5 * scalar[:, 0] * scalar[:, n_user_fields] * scalar[:, -1]
    label = rng.random(n) < 1 / (1 + np.exp(-(logit - np.quantile(logit, 0.75))))
    names = [f"u{j}" for j in range(n_user_fields)] + [f"i{j}" for j in range(n_item_fields)]
    frame = pd.DataFrame(codes, columns=names).astype(str)
    frame["label"] = label.astype(np.float32)
    return frame


def load_dataset(
    spec: str,
    root: str | Path | None = None,
    *,
    n_synthetic: int = 200_000,
    seed: int = 0,
    encoder: FeatureEncoder | None = None,
    numeric: Sequence[str] | None = None,
) -> CTRData:
    """``synthetic`` | ``ml100k`` | ``taobao-tiny`` | ``csv:<dir>``, encoded; ``seed`` fixes random splits.

    ``numeric``: the numeric fields of a ``csv:<dir>`` (default: Criteo's I1..I13 where present).

    ``encoder``: a fitted encoder to reuse (evaluating a checkpoint) instead of fitting on the train split.
    """
    if spec.startswith("csv:"):
        return load_csv(spec[4:], encoder=encoder, numeric=numeric)
    if spec == "synthetic":
        return encode("synthetic", split_811(synthetic_ctr(n_synthetic, seed=seed), seed), encoder=encoder)
    if spec in ("ml100k", "ml100k-ctr"):
        return load_ml100k(root, seed, encoder)
    if spec == "taobao-tiny":
        return load_taobao_tiny(root, encoder)
    raise DataError(f"unknown dataset {spec!r}: one of {', '.join(DATASETS)} or csv:<dir>")
