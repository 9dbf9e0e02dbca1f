"""Sample builders (the Amazon protocol, the MovieLens rating protocol) and the encoding into tensors.

Every dataset ends as three frames (train / validation / test) with the columns ``user`` (the GAUC group),
``item`` (the candidate), ``hist`` (the behaviours, oldest first, ``^``-joined), ``label`` and optional
profile columns; :func:`encode` turns them into id tensors with :class:`pkg_shared.features.FeatureEncoder`
(vocabularies fitted on the train frame alone; the history shares the item vocabulary; a history longer
than ``max_hist`` keeps its LAST ``max_hist`` behaviours; an empty one is all padding, masked).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from pkg_shared.ctr import check_splits
from pkg_shared.errors import UserError
from pkg_shared.features import N_RESERVED, FeatureEncoder, FieldSpec

from .model import Schema

SEP = "^"


@dataclass
class CTRData:
    """Encoded splits (``{"item", "hist", "hist_mask", <profile>, "label", "group"}`` tensors each)."""

    name: str
    schema: Schema
    cate_list: torch.Tensor | None
    encoder: FeatureEncoder
    splits: dict[str, dict[str, torch.Tensor]]
    frames: dict[str, pd.DataFrame] = field(repr=False)
    item_tokens: list[str] = field(repr=False)

    def sizes(self) -> dict[str, int]:
        return {k: len(v["label"]) for k, v in self.splits.items()}


def item_categories(items: Sequence, cates: Sequence) -> pd.Series:
    """The item -> category lookup (``cate_list``, spec Pitfalls); an item given two categories is bad input."""
    table = pd.DataFrame({"item": pd.Series(items).astype(str), "cate": pd.Series(cates).astype(str)})
    table = table.drop_duplicates()
    clash = table["item"].duplicated(keep=False)
    if clash.any():
        first = table[clash].iloc[:4].to_dict("records")
        raise UserError(
            f"mismatched candidate/history categories: {clash.sum()} rows give an item a second category "
            f"(e.g. {first}); an item has one category, looked up for candidate and behaviours alike"
        )
    return table.set_index("item")["cate"]


def _histories(items: np.ndarray, starts: np.ndarray, ends: np.ndarray, max_hist: int | None) -> list[str]:
    """``^``-joined ``items[max(start, end - max_hist):end]`` for every (start, end)."""
    tokens = items.astype(str)
    if max_hist is not None:
        starts = np.maximum(starts, ends - max_hist)
    return [SEP.join(tokens[s:e]) for s, e in zip(starts.tolist(), ends.tolist())]


def _negatives(
    users: np.ndarray, seen: np.ndarray, n_items: int, rng: np.random.Generator, k: int = 1
) -> np.ndarray:
    """``k`` item indices per entry of ``users`` (codes), drawn uniformly among items the user never had.

    Vectorised rejection sampling on the ``(n_users, n_items)`` boolean matrix ``seen``.
    """
    out = rng.integers(n_items, size=(len(users), k))
    bad = seen[users[:, None], out]
    while bad.any():
        out[bad] = rng.integers(n_items, size=int(bad.sum()))
        bad = seen[users[:, None], out]
    return out


def sort_events(events: pd.DataFrame) -> pd.DataFrame:
    """Events sorted per user by time, ties by item id (as strings, so any id type sorts)."""
    ev = events.assign(_item=events["item"].astype(str))
    return (
        ev.sort_values(["user", "time", "_item"], kind="stable").drop(columns="_item").reset_index(drop=True)
    )


def amazon_protocol(
    events: pd.DataFrame,
    *,
    max_hist: int | None = 50,
    holdout_val: bool = True,
    eval_negatives: int = 1,
    seed: int = 1234,
) -> dict[str, pd.DataFrame]:
    """The official ``build_dataset.py`` protocol on ``events`` (columns user, item, time).

    Per user, behaviours sorted by time ``b_1..b_n``. Train: for k = 1..n-2 the pair (history
    ``b_1..b_k``, target ``b_{k+1}``, label 1) and (same history, an item the user never had, label 0).
    Test: history ``b_1..b_{n-1}``, target ``b_n`` against ``eval_negatives`` sampled negatives (official:
    one). With ``holdout_val`` the second-to-last behaviour is the validation target (history
    ``b_1..b_{n-2}``) and leaves the training set (k = 1..n-3). Users with too few behaviours are dropped.
    """
    ev = sort_events(events)
    user_codes, users = pd.factorize(ev["user"])
    item_codes, items = pd.factorize(ev["item"])
    counts = np.bincount(user_codes)
    starts = np.cumsum(counts) - counts
    reserved = 2 if holdout_val else 1
    ok = counts >= reserved + 2
    rng = np.random.default_rng(seed)
    seen = np.zeros((len(users), len(items)), dtype=bool)
    seen[user_codes, item_codes] = True
    pos = np.arange(len(ev)) - starts[user_codes]
    train_rows = np.flatnonzero(ok[user_codes] & (pos >= 1) & (pos < counts[user_codes] - reserved))
    frames = {"train": _pairs(ev, train_rows, starts, user_codes, item_codes, items, seen, max_hist, rng, 1)}
    last = starts + counts - 1
    held = {"test": last[ok]}
    if holdout_val:
        held["valid"] = last[ok] - 1
    for name in ("valid", "test"):
        if name in held:
            frames[name] = _pairs(
                ev, held[name], starts, user_codes, item_codes, items, seen, max_hist, rng, eval_negatives
            )
    return frames


def _pairs(ev, rows, starts, user_codes, item_codes, items, seen, max_hist, rng, k) -> pd.DataFrame:
    """One positive (the event at each row) and ``k`` sampled negatives sharing its history."""
    users = user_codes[rows]
    hist = _histories(items.to_numpy()[item_codes], starts[users], rows, max_hist)
    neg = _negatives(users, seen, len(items), rng, k)
    cand = np.concatenate([item_codes[rows][:, None], neg], axis=1)  # (n, 1 + k)
    return pd.DataFrame(
        {
            "user": np.repeat(ev["user"].to_numpy()[rows], 1 + k),
            "item": items.to_numpy()[cand.reshape(-1)],
            "hist": np.repeat(np.array(hist, dtype=object), 1 + k),
            "label": np.tile(np.r_[1.0, np.zeros(k)], len(rows)),
        }
    )


def rating_protocol(
    events: pd.DataFrame, profile: pd.DataFrame | None, *, max_hist: int | None = 50, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """The paper's MovieLens protocol: label = rating >= 4, behaviours = the user's earlier-rated movies.

    Users are split 70 / 10 / 20 into train / validation / test (the paper splits by user; the validation
    users are ours, for model selection). ``profile`` (indexed by user) adds one-hot profile columns.
    """
    ev = sort_events(events)
    user_codes, users = pd.factorize(ev["user"])
    counts = np.bincount(user_codes)
    starts = np.cumsum(counts) - counts
    hist = _histories(ev["item"].to_numpy(), starts[user_codes], np.arange(len(ev)), max_hist)
    frame = pd.DataFrame(
        {"user": ev["user"].to_numpy(), "item": ev["item"].to_numpy(), "hist": hist,
         "label": (ev["rating"].to_numpy() >= 4).astype(np.float64)}
    )  # fmt: skip
    if profile is not None:
        frame = frame.join(profile, on="user")
    order = np.random.default_rng(seed).permutation(len(users))
    cut_val, cut_test = int(0.7 * len(users)), int(0.8 * len(users))
    part = np.empty(len(users), dtype=object)
    part[order[:cut_val]], part[order[cut_val:cut_test]], part[order[cut_test:]] = "train", "valid", "test"
    where = part[user_codes]
    return {name: frame[where == name].reset_index(drop=True) for name in ("train", "valid", "test")}


def tensors(encoder: FeatureEncoder, frame: pd.DataFrame) -> dict[str, torch.Tensor]:
    """``encoder.transform(frame)`` as tensors owning their memory (pandas may hand out read-only arrays)."""
    return {k: torch.tensor(v) for k, v in encoder.transform(frame).items()}


def encode(
    name: str,
    frames: Mapping[str, pd.DataFrame],
    *,
    max_hist: int,
    profile: Sequence[str] = (),
    item_cate: pd.Series | None = None,
    encoder: FeatureEncoder | None = None,
) -> CTRData:
    """Fit the :class:`FeatureEncoder` on ``frames["train"]`` (or use ``encoder``, a fitted one, e.g. a
    checkpoint's) and encode every split into tensors.

    ``item_cate`` (raw item -> raw category) becomes ``cate_list`` over the encoded goods ids, with its
    own vocabulary of the train items' categories; unknown goods ids get the unknown category. A ``cate``
    column in the frames must agree with it (else "mismatched candidate/history categories").
    """
    check_splits(frames, f"dataset {name}")
    fields = [
        FieldSpec("item"),
        FieldSpec("hist", "sequence", max_len=max_hist, sep=SEP, share_vocab_with="item"),
        *(FieldSpec(p) for p in profile),
    ]
    if encoder is None:
        encoder = FeatureEncoder(fields).fit(frames["train"])
    elif [f.name for f in encoder.fields] != [f.name for f in fields]:
        raise UserError(
            f"dataset {name}: the saved encoder has fields {[f.name for f in encoder.fields]}, "
            f"these data need {[f.name for f in fields]}"
        )
    tokens = encoder.to_dict()["vocabularies"]["item"]
    cate_list, n_cates = None, 0
    if item_cate is not None:
        for frame in frames.values():
            if "cate" in frame:
                item_categories(
                    pd.concat([frame["item"].astype(str), item_cate.index.to_series()]),
                    pd.concat([frame["cate"].astype(str), item_cate]),
                )
        cates = pd.DataFrame({"cate": item_cate.reindex(tokens).to_numpy()})
        cate_encoder = FeatureEncoder([FieldSpec("cate")]).fit(cates)
        ids = cate_encoder.transform(cates)["cate"]
        cate_list = torch.from_numpy(np.r_[0, 1, ids].astype(np.int64))
        n_cates = cate_encoder.vocab_size("cate")
    splits = {}
    for split, frame in frames.items():
        arrays = tensors(encoder, frame)
        arrays["label"] = torch.as_tensor(frame["label"].to_numpy(dtype=np.float32))
        arrays["group"] = torch.as_tensor(pd.factorize(frame["user"])[0])
        splits[split] = arrays
    schema = Schema(
        n_items=N_RESERVED + len(tokens), n_cates=n_cates, profile={p: encoder.vocab_size(p) for p in profile}
    )
    return CTRData(name, schema, cate_list, encoder, splits, dict(frames), list(tokens))
