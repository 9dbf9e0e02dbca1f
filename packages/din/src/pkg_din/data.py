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

from pkg_shared.ctr import ML100K_SIZES, ML100K_SOURCE, load_movielens_100k, load_taobao_tiny
from pkg_shared.data import DataError, DatasetMissing, require_files
from pkg_shared.errors import UserError
from pkg_shared.features import FeatureEncoder

from .config import DATASETS
from .protocols import SEP, CTRData, amazon_protocol, encode, item_categories, rating_protocol

ML_SOURCE = ML100K_SOURCE
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
        raise UserError(f"need 1 <= interests {interests} <= n_cates {n_cates} <= n_items {n_items}")
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
        "valid": frame[(part >= 0.8) & (part < 0.9)],
        "test": frame[part >= 0.9],
    }
    lookup = item_categories(np.arange(n_items), item_cate)
    return {k_: v.reset_index(drop=True) for k_, v in frames.items()}, lookup


def load_movielens(
    root: str | Path | None = None, sizes: dict[str, int] | None = ML100K_SIZES
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """``(events[user, item, rating, time], item -> first genre, profile[age, gender, occupation])``.

    Reads ``movielens-100k/`` through :func:`pkg_shared.ctr.load_movielens_100k` (GroupLens's layout or the
    atomic one; the documented ``sizes``, ratings and ids validated there; ``sizes=None`` skips the sizes).
    """
    ml = load_movielens_100k(root, sizes=sizes)
    lookup = item_categories(ml.items["item"], ml.items["genre"])
    return ml.ratings, lookup, ml.users.set_index("user")[list(ML_PROFILE)]


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
    encoder: FeatureEncoder | None = None,
) -> CTRData:
    """One of :data:`DATASETS`, encoded (cached: the same arguments give the same object).

    ``max_users`` keeps the first users (synthetic: generates that many); ``synthetic`` holds ``synthetic_interest`` keyword
    arguments as ``(key, value)`` pairs. ``encoder``: a fitted encoder (a checkpoint's) used instead of
    fitting the vocabularies on the train split.
    """
    if name == "synthetic":
        kwargs = {**dict(synthetic), **({"n_users": max_users} if max_users else {})}
        frames, lookup = synthetic_interest(**kwargs)
        return encode(name, frames, max_hist=max_hist, item_cate=lookup, encoder=encoder)
    if name == "taobao-tiny":
        frames = {
            split: frame.rename(columns={"brand": "item", "click_sequence": "hist"}).assign(
                user=frame["userid"], label=frame["clk"].astype(np.float64)
            )
            for split, frame in load_taobao_tiny(root).items()
        }
        return encode(name, frames, max_hist=max_hist, profile=TAOBAO_PROFILE, encoder=encoder)
    if name == "amazon":
        events, lookup = load_amazon(root)
        frames = amazon_protocol(events, max_hist=max_hist, eval_negatives=eval_negatives)
        return encode(name, frames, max_hist=max_hist, item_cate=lookup, encoder=encoder)
    if name in ("ml100k-seq", "ml100k-rating"):
        events, lookup, profile = load_movielens(root)
        if max_users is not None:
            first = pd.unique(events["user"])[:max_users]
            events = events[events["user"].isin(first)]
        if name == "ml100k-seq":
            frames = amazon_protocol(
                events[["user", "item", "time"]], max_hist=max_hist, eval_negatives=eval_negatives
            )
            return encode(name, frames, max_hist=max_hist, item_cate=lookup, encoder=encoder)
        frames = rating_protocol(events, profile, max_hist=max_hist)
        return encode(name, frames, max_hist=max_hist, profile=ML_PROFILE, item_cate=lookup, encoder=encoder)
    raise DatasetMissing(f"unknown dataset {name!r} (one of {', '.join(DATASETS)})")
