"""The datasets: the synthetic interest generator (offline default), MovieLens-100K (two protocols),
Amazon Electronics (user-supplied files) and the tiny Taobao ad sample (smoke tests).

Real data comes from the data root (``--data-dir`` or ``$PKG_DATA_DIR``): ``movielens-100k/`` with the
atomic files ``ml-100k.{inter,item,user}`` or GroupLens's original ``u.data``, ``u.item``, ``u.user``;
``amazon-electronics/`` with ``reviews_Electronics_5.json`` and ``meta_Electronics.json``;
``ctr-taobao-ad-tiny/`` with ``train.csv``, ``valid.csv``, ``test.csv``.
"""

from __future__ import annotations

import ast
import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd

from pkg_shared.data import DataError, DatasetMissing, data_root, read_table, require_files

from .protocols import SEP, CTRData, amazon_protocol, encode, item_categories, rating_protocol

DATASETS = ("synthetic", "ml100k-seq", "ml100k-rating", "taobao-tiny", "amazon")
ML_SOURCE = "https://grouplens.org/datasets/movielens/100k/ (ml-100k.zip)"
AMAZON_SOURCE = "https://jmcauley.ucsd.edu/data/amazon/ (Electronics 5-core reviews + metadata)"
TAOBAO_PROFILE = (
    "userid", "adgroup_id", "pid", "cate_id", "campaign_id", "customer", "cms_segid", "cms_group_id",
    "final_gender_code", "age_level", "pvalue_level", "shopping_level", "occupation", "new_user_class_level",
)  # fmt: skip
ML_PROFILE = ("age", "gender", "occupation")


def synthetic_interest(
    n_users: int = 6000,
    n_items: int = 4000,
    n_cates: int = 200,
    interests: tuple[int, int] = (1, 6),
    hist_len: int = 50,
    noise: float = 0.5,
    per_user: int = 20,
    seed: int = 0,
) -> tuple[dict[str, pd.DataFrame], pd.Series]:
    """Users with 1-6 interest categories; their history mixes interest items with ``noise`` random ones.

    Each impression's target comes from an interest category with probability 0.5 (else a random item)
    and is clicked with probability 0.8 when its category is one of the user's interests, else 0.1. Sum
    pooling over a long, noisy, multi-interest history blurs the signal; target attention recovers it.
    Impressions are split 80 / 10 / 10 at random. Returns the frames and the item -> category lookup.
    """
    if not 1 <= interests[0] <= interests[1] <= n_cates <= n_items:
        raise ValueError(f"need 1 <= interests {interests} <= n_cates {n_cates} <= n_items {n_items}")
    rng = np.random.default_rng(seed)
    item_cate = rng.permutation(np.arange(n_items) % n_cates)  # every category has items
    by_cate = np.argsort(item_cate, kind="stable")
    size = np.bincount(item_cate, minlength=n_cates)
    first = np.cumsum(size) - size
    k = rng.integers(interests[0], interests[1] + 1, size=n_users)
    chosen = np.argsort(rng.random((n_users, n_cates)), axis=1)[:, : interests[1]]  # distinct categories

    def draw(users: np.ndarray, p_interest: float) -> np.ndarray:
        cate = chosen[users, (rng.random(users.shape) * k[users]).astype(np.int64)]
        from_interest = by_cate[first[cate] + (rng.random(users.shape) * size[cate]).astype(np.int64)]
        return np.where(
            rng.random(users.shape) < p_interest, from_interest, rng.integers(n_items, size=users.shape)
        )

    users = np.arange(n_users)
    hist = draw(np.repeat(users[:, None], hist_len, axis=1), 1.0 - noise)
    imp_user = np.repeat(users, per_user)
    target = draw(imp_user, 0.5)
    is_interest = (chosen[imp_user] == item_cate[target][:, None])[:, : interests[1]]
    is_interest &= np.arange(interests[1]) < k[imp_user][:, None]
    label = rng.random(len(target)) < np.where(is_interest.any(1), 0.8, 0.1)
    hist_text = np.array([SEP.join(row) for row in hist.astype(str)], dtype=object)
    frame = pd.DataFrame(
        {"user": imp_user, "item": target, "hist": hist_text[imp_user], "label": label.astype(np.float64)}
    )
    part = rng.random(len(frame))
    frames = {
        "train": frame[part < 0.8],
        "val": frame[(part >= 0.8) & (part < 0.9)],
        "test": frame[part >= 0.9],
    }
    lookup = item_categories(np.arange(n_items), item_cate)
    return {k_: v.reset_index(drop=True) for k_, v in frames.items()}, lookup


def load_movielens(root: str | Path | None = None) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """``(events[user, item, rating, time], item -> first genre, profile[age, gender, occupation])``.

    Reads ``movielens-100k/`` in the atomic layout (``ml-100k.inter/.item/.user``) or GroupLens's
    original one (``u.data``, ``u.item``, ``u.user``).
    """
    folder = data_root(root) / "movielens-100k"
    if (folder / "u.data").is_file():
        return _grouplens_layout(require_files("movielens-100k", ["u.data", "u.item", "u.user"], root=root))
    folder = require_files(
        "movielens-100k", ["ml-100k.inter", "ml-100k.item", "ml-100k.user"], root=root, source=ML_SOURCE
    )
    inter, item, user = (read_table(folder / f"ml-100k.{s}") for s in ("inter", "item", "user"))
    for table, cols in ((inter, 4), (item, 4), (user, 5)):
        table.columns = [str(c).split(":")[0] for c in table.columns]
        if table.shape[1] < cols:
            raise DataError(f"{folder}: an atomic file has {table.shape[1]} columns, expected {cols}")
    try:
        events = inter.rename(columns={"user_id": "user", "item_id": "item", "timestamp": "time"})
        events = events[["user", "item", "rating", "time"]]
        genre = item.set_index("item_id")["class"].fillna("unknown").astype(str).str.split(" ").str[0]
        profile = user.set_index("user_id")[list(ML_PROFILE)]
    except KeyError as e:
        raise DataError(f"{folder}: the atomic files lack the column {e}") from None
    return events, item_categories(genre.index, genre.to_numpy()), profile


GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip


def _grouplens_layout(folder: Path) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    try:
        events = pd.read_csv(folder / "u.data", sep="\t", names=["user", "item", "rating", "time"])
        item = pd.read_csv(folder / "u.item", sep="|", header=None, encoding="latin-1")
        user = pd.read_csv(folder / "u.user", sep="|", names=["user", "age", "gender", "occupation", "zip"])
        flags = item.iloc[:, 5:24].to_numpy(dtype=bool)
    except (pd.errors.ParserError, ValueError, IndexError) as e:
        raise DataError(f"{folder}: not GroupLens's MovieLens-100K layout ({e})") from None
    genre = np.array(GENRES)[flags.argmax(1)]
    return events, item_categories(item[0], genre), user.set_index("user")[list(ML_PROFILE)]


def load_amazon(root: str | Path | None = None) -> tuple[pd.DataFrame, pd.Series]:
    """Amazon Electronics 5-core reviews and metadata (user-supplied): ``(events, item -> category)``.

    As the official ``utils/2_remap_id.py``: events are (reviewerID, asin, unixReviewTime); the category is
    the last level of the item's LAST category path (``categories[-1][-1]``); only items with metadata are
    kept. Review lines are JSON, read in chunks with ids kept as strings (ASINs such as ``0528881469``
    must keep their leading zero). Metadata lines are Python literals in the original dump (or JSON);
    they are parsed with ``json`` or ``ast.literal_eval``, never ``eval`` as the official script does.
    """
    folder = require_files(
        "amazon-electronics", ["reviews_Electronics_5.json", "meta_Electronics.json"], root=root,
        source=AMAZON_SOURCE,
    )  # fmt: skip
    columns = {"reviewerID": "user", "asin": "item", "unixReviewTime": "time"}
    try:
        chunks = pd.read_json(
            folder / "reviews_Electronics_5.json", lines=True, dtype=False, chunksize=200_000
        )
        events = pd.concat([c[list(columns)] for c in chunks], ignore_index=True).rename(columns=columns)
        events = events.astype({"user": str, "item": str, "time": np.int64})
    except (ValueError, KeyError) as e:
        raise DataError(f"{folder}/reviews_Electronics_5.json: not the 5-core review dump ({e})") from None
    items, cates = [], []
    with open(folder / "meta_Electronics.json", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                row = json.loads(line) if line.lstrip().startswith('{"') else ast.literal_eval(line)
                items.append(str(row["asin"]))
                cates.append(row["categories"][-1][-1])
            except (ValueError, SyntaxError, KeyError, IndexError, TypeError):
                raise DataError(f"{folder}/meta_Electronics.json line {n}: not an item record") from None
    lookup = item_categories(items, cates)
    return events[events["item"].isin(lookup.index)].reset_index(drop=True), lookup


@functools.lru_cache(maxsize=8)
def load_dataset(
    name: str,
    root: str | None = None,
    *,
    max_hist: int = 50,
    eval_negatives: int = 20,
    max_users: int | None = None,
    synthetic: tuple = (),
) -> CTRData:
    """One of :data:`DATASETS`, encoded (cached: the same arguments give the same object).

    ``max_users`` keeps the first users (synthetic: generates that many); ``synthetic`` holds ``synthetic_interest`` keyword
    arguments as ``(key, value)`` pairs.
    """
    if name == "synthetic":
        kwargs = {**dict(synthetic), **({"n_users": max_users} if max_users else {})}
        frames, lookup = synthetic_interest(**kwargs)
        return encode(name, frames, max_hist=max_hist, item_cate=lookup)
    if name == "taobao-tiny":
        folder = require_files("ctr-taobao-ad-tiny", ["train.csv", "valid.csv", "test.csv"], root=root)
        frames = {}
        for split, file in (("train", "train.csv"), ("val", "valid.csv"), ("test", "test.csv")):
            df = read_table(folder / file, dtype=str, keep_default_na=False)
            if not {"clk", "brand", "click_sequence", *TAOBAO_PROFILE} <= set(df.columns):
                raise DataError(
                    f"{folder / file}: not the Taobao ad sample (columns {list(df.columns)[:5]}...)"
                )
            frames[split] = df.rename(
                columns={"clk": "label", "brand": "item", "click_sequence": "hist"}
            ).assign(user=df["userid"], label=pd.to_numeric(df["clk"], errors="raise").astype(float))
        return encode(name, frames, max_hist=max_hist, profile=TAOBAO_PROFILE)
    if name == "amazon":
        events, lookup = load_amazon(root)
        frames = amazon_protocol(events, max_hist=max_hist, eval_negatives=eval_negatives)
        return encode(name, frames, max_hist=max_hist, item_cate=lookup)
    if name in ("ml100k-seq", "ml100k-rating"):
        events, lookup, profile = load_movielens(root)
        if max_users is not None:
            events = events[events["user"].isin(np.sort(events["user"].unique())[:max_users])]
        if name == "ml100k-seq":
            frames = amazon_protocol(
                events[["user", "item", "time"]], max_hist=max_hist, eval_negatives=eval_negatives
            )
            return encode(name, frames, max_hist=max_hist, item_cate=lookup)
        frames = rating_protocol(events, profile, max_hist=max_hist)
        return encode(name, frames, max_hist=max_hist, profile=ML_PROFILE, item_cate=lookup)
    raise DatasetMissing(f"unknown dataset {name!r} (one of {', '.join(DATASETS)})")
