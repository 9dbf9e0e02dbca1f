"""CTR datasets through ``pkg_shared.features``: BARS CSVs, ml100k-ctr, the tiny Taobao sample, synthetic.

Every dataset becomes a :class:`CTRData`: one ``(N, F)`` int64 matrix of field indices per split (padding 0,
unknown 1, real tokens from 2, vocabularies fit on the train split alone, so a category unseen in train maps
to the unknown index) and float32 labels. Splits are encoded chunk by chunk into a preallocated matrix,
so the encoded table is never held twice; training streams shuffled batches out of it (:class:`Batches`).

- ``csv:<dir>``: the FuxiCTR/BARS layout, ``train.csv``, ``valid.csv``, ``test.csv`` with a header, a
  ``label`` column (0/1) and categorical columns (Criteo_x1, Avazu_x1, MovielensLatest_x1, Frappe_x1).
  Criteo's numeric ``I1..I13`` are discretised as in FuxiCTR's Criteo_x1 config (``convert_to_bucket``).
- ``ml100k``: the spec's ml100k-ctr task from ``<data root>/movielens-100k`` (atomic ``ml-100k.inter/
  .item/.user`` or GroupLens's ``u.data/u.item/u.user``): label = rating >= 4; 8 fields; random 8:1:1.
- ``taobao-tiny``: ``<data root>/ctr-taobao-ad-tiny`` (100 rows a split; format and smoke tests only).
- ``synthetic``: :func:`synthetic_ctr`, offline.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pkg_shared.data import DataError, data_root, require_files, train_val_test_split
from pkg_shared.features import FeatureEncoder, FieldSpec

from .config import CRITEO_NUMERIC

DATASETS = ("synthetic", "ml100k", "taobao-tiny")
SPLITS = ("train", "valid", "test")
ML_SOURCE = "https://grouplens.org/datasets/movielens/100k/ (ml-100k.zip), or the recbole==1.2.1 wheel"
ML_FIELDS = ("user_id", "item_id", "age", "gender", "occupation", "zip", "release_year", "genre")
GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
TAOBAO_DROP = ("time_stamp", "click_sequence")
CHUNK_ROWS = 500_000


@dataclass
class CTRData:
    """Encoded splits: ``x[split]`` ``(N, F)`` int64, ``y[split]`` ``(N,)`` float32; ``fields``: name -> rows."""

    name: str
    fields: dict[str, int]
    x: dict[str, torch.Tensor]
    y: dict[str, torch.Tensor]
    encoder: FeatureEncoder

    def describe(self) -> str:
        sizes = ", ".join(f"{s} {len(self.y[s]):,}" for s in SPLITS)
        pos = float(self.y["train"].mean())
        return f"{self.name}: {len(self.fields)} fields, {sizes} rows, {pos:.1%} positive (train)"


class Batches:
    """Mini-batches ``(x, y)`` out of one split, reshuffled every pass with its own ``generator``."""

    def __init__(
        self, x: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool, seed: int = 0
    ) -> None:
        self.x, self.y, self.batch_size, self.shuffle = x, y, batch_size, shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return -(-len(self.y) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.y)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else None
        for start in range(0, n, self.batch_size):
            if order is None:
                yield self.x[start : start + self.batch_size], self.y[start : start + self.batch_size]
            else:
                idx = order[start : start + self.batch_size]
                yield self.x[idx], self.y[idx]


def labels_of(frame: pd.DataFrame, where: str) -> np.ndarray:
    """The ``label`` column as float32; raises DataError when absent or not in {0, 1}."""
    if "label" not in frame.columns:
        raise DataError(f"{where}: no 'label' column (columns: {', '.join(map(str, frame.columns[:8]))})")
    label = pd.to_numeric(frame["label"], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isin(label, (0.0, 1.0))
    if bad.any():
        raise DataError(
            f"{where}: labels must be 0 or 1; row {int(np.argmax(bad))} has {frame['label'].iloc[int(np.argmax(bad))]!r}"
        )
    return label.astype(np.float32)


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
    encoder: FeatureEncoder | None = None,
) -> CTRData:
    """Fit a FeatureEncoder on ``frames["train"]`` (all columns but ``label``, categorical) and encode all splits.

    With ``encoder`` (a fitted one, e.g. a checkpoint's) its vocabularies are used instead of fitting.
    """
    for split in SPLITS:
        if split not in frames or len(frames[split]) == 0:
            raise DataError(f"{name}: the {split} split is empty")
    train = frames["train"]
    if encoder is not None:
        columns = [spec.name for spec in encoder.fields]
    columns = list(columns or [c for c in train.columns if c != "label"])
    if not columns:
        raise DataError(f"{name}: no feature column besides 'label'")

    def prepared(frame: pd.DataFrame) -> pd.DataFrame:
        missing = sorted(set(columns) - set(frame.columns))
        if missing:
            raise DataError(f"{name}: a split lacks the column(s) {missing}")
        out = frame[columns].copy()
        for col in set(bucketise) & set(columns):
            out[col] = log_bucket(out[col])
        return out

    if encoder is None:
        encoder = FeatureEncoder(FieldSpec(c, min_count=min_count) for c in columns)
        encoder.fit(prepared(train))
    x, y = {}, {}
    for split in SPLITS:
        frame = frames[split]
        y[split] = torch.from_numpy(labels_of(frame, f"{name} {split}"))
        matrix = np.empty((len(frame), len(columns)), dtype=np.int64)
        for start in range(0, len(frame), CHUNK_ROWS):
            arrays = encoder.transform(prepared(frame.iloc[start : start + CHUNK_ROWS]))
            for j, col in enumerate(columns):
                matrix[start : start + CHUNK_ROWS, j] = arrays[col]
        x[split] = torch.from_numpy(matrix)
    fields = {c: encoder.vocab_size(c) for c in columns}
    return CTRData(name, fields, x, y, encoder)


def read_csv_dir(folder: str | Path) -> dict[str, pd.DataFrame]:
    """``train.csv``, ``valid.csv``, ``test.csv`` of a BARS folder, every column read as text."""
    folder = Path(folder).expanduser()
    frames = {}
    for split in SPLITS:
        path = folder / f"{split}.csv"
        if not path.is_file():
            raise DataError(
                f"{path} not found: a BARS/FuxiCTR folder holds train.csv, valid.csv and test.csv"
            )
        try:
            frames[split] = pd.read_csv(path, dtype=str, keep_default_na=True)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
            raise DataError(f"cannot read {path}: {e}") from None
    return frames


def load_csv(folder: str | Path, min_count: int = 1, encoder: FeatureEncoder | None = None) -> CTRData:
    """A FuxiCTR/BARS CSV folder (``csv:<dir>``); Criteo's numeric I1..I13 are log-bucketised."""
    frames = read_csv_dir(folder)
    return encode(f"csv:{folder}", frames, min_count=min_count, bucketise=CRITEO_NUMERIC, encoder=encoder)


def load_taobao_tiny(root: str | Path | None = None, encoder: FeatureEncoder | None = None) -> CTRData:
    """The 100-row Taobao ad sample: ``clk`` is the label; the timestamp and click sequence are dropped."""
    folder = require_files("ctr-taobao-ad-tiny", [f"{s}.csv" for s in SPLITS], root=root)
    frames = {
        s: f.drop(columns=list(TAOBAO_DROP), errors="ignore").rename(columns={"clk": "label"})
        for s, f in read_csv_dir(folder).items()
    }
    return encode("taobao-tiny", frames, bucketise=("price",), encoder=encoder)


def movielens_frame(root: str | Path | None = None) -> pd.DataFrame:
    """ml100k-ctr rows: the 8 fields of the spec and ``label = rating >= 4``, in the ratings' file order."""
    folder = data_root(root) / "movielens-100k"
    if (folder / "u.data").is_file():
        folder = require_files("movielens-100k", ["u.data", "u.item", "u.user"], root=root, source=ML_SOURCE)
        try:
            inter = pd.read_csv(
                folder / "u.data", sep="\t", names=["user_id", "item_id", "rating", "timestamp"]
            )
            raw = pd.read_csv(folder / "u.item", sep="|", header=None, encoding="latin-1")
            user = pd.read_csv(
                folder / "u.user", sep="|", names=["user_id", "age", "gender", "occupation", "zip_code"]
            )
            genre = np.array(GENRES)[raw.iloc[:, 5:24].to_numpy(dtype=bool).argmax(1)]
            year = pd.to_datetime(raw[2], format="%d-%b-%Y", errors="coerce").dt.year.astype("Int64")
            item = pd.DataFrame({"item_id": raw[0], "release_year": year, "genre": genre})
        except (pd.errors.ParserError, ValueError, IndexError, KeyError) as e:
            raise DataError(f"{folder}: not GroupLens's MovieLens-100K layout ({e})") from None
    else:
        folder = require_files(
            "movielens-100k", [f"ml-100k.{s}" for s in ("inter", "item", "user")], root=root, source=ML_SOURCE
        )
        try:
            inter, item, user = (
                pd.read_csv(folder / f"ml-100k.{s}", sep="\t", dtype=str).rename(
                    columns=lambda c: c.split(":")[0]
                )
                for s in ("inter", "item", "user")
            )
            item["genre"] = item["class"].fillna("").str.split(" ").str[0]
            item = item[["item_id", "release_year", "genre"]]
        except (pd.errors.ParserError, KeyError, ValueError) as e:
            raise DataError(f"{folder}: not the atomic MovieLens-100K files ({e})") from None
    try:
        user["zip"] = user["zip_code"].astype(str).str[:2]
        inter["user_id"], inter["item_id"] = inter["user_id"].astype(str), inter["item_id"].astype(str)
        user["user_id"], item["item_id"] = user["user_id"].astype(str), item["item_id"].astype(str)
        rows = inter.merge(user, on="user_id", how="left").merge(item, on="item_id", how="left")
        rows["label"] = (pd.to_numeric(rows["rating"]) >= 4).astype(np.float32)
    except (KeyError, ValueError) as e:
        raise DataError(f"{folder}: MovieLens-100K file lacks a column or has a bad rating ({e})") from None
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
) -> CTRData:
    """``synthetic`` | ``ml100k`` | ``taobao-tiny`` | ``csv:<dir>``, encoded; ``seed`` fixes random splits.

    ``encoder``: a fitted encoder to reuse (evaluating a checkpoint) instead of fitting on the train split.
    """
    if spec.startswith("csv:"):
        return load_csv(spec[4:], encoder=encoder)
    if spec == "synthetic":
        return encode("synthetic", split_811(synthetic_ctr(n_synthetic, seed=seed), seed), encoder=encoder)
    if spec in ("ml100k", "ml100k-ctr"):
        return load_ml100k(root, seed, encoder)
    if spec == "taobao-tiny":
        return load_taobao_tiny(root, encoder)
    raise DataError(f"unknown dataset {spec!r}: one of {', '.join(DATASETS)} or csv:<dir>")
