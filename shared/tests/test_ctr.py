"""pkg_shared.ctr: the MovieLens-100K readers (both layouts), CSV splits, labels, batches, prediction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import log_loss, roc_auc_score

from pkg_shared.ctr import (
    GENRES,
    Batches,
    check_ctr_labels,
    check_splits,
    ctr_scores,
    load_movielens_100k,
    predict,
    read_splits,
)
from pkg_shared.data import DataError, DatasetMissing
from pkg_shared.errors import UserError

RATINGS = [("1", "10", 5, 881250949), ("1", "20", 3, 881250950), ("2", "10", 4, 881250951), ("3", "30", 1, 1)]
ITEMS = [
    ("10", "A Film", "01-Jan-1995", ["Comedy", "Drama"]),
    ("20", "B", "", []),
    ("30", "C", "05-May-1977", ["Action"]),
]
USERS = [
    ("1", "24", "M", "technician", "85711"),
    ("2", "53", "F", "other", "94043"),
    ("3", "7", "M", "none", "1"),
]


def write_grouplens(folder, ratings=RATINGS):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "u.data").write_text("".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in ratings))
    lines = []
    for item, title, date, genres in ITEMS:
        flags = "|".join("1" if g in genres else "0" for g in GENRES)
        lines.append(f"{item}|{title}|{date}||http://x|{flags}\n")
    (folder / "u.item").write_text("".join(lines), encoding="latin-1")
    (folder / "u.user").write_text("".join("|".join(row) + "\n" for row in USERS))


def write_atomic(folder, ratings=RATINGS):
    folder.mkdir(parents=True, exist_ok=True)
    inter = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    (folder / "ml-100k.inter").write_text(inter + "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in ratings))
    item = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
    rows = [f"{i}\t{title}\t{date[-4:]}\t{' '.join(g)}\n" for i, title, date, g in ITEMS]
    (folder / "ml-100k.item").write_text(item + "".join(rows))
    user = "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n"
    (folder / "ml-100k.user").write_text(user + "".join("\t".join(row) + "\n" for row in USERS))


@pytest.mark.parametrize("writer", [write_grouplens, write_atomic], ids=["grouplens", "atomic"])
def test_both_layouts_read_alike(writer, tmp_path):
    writer(tmp_path / "movielens-100k")
    ml = load_movielens_100k(tmp_path, sizes=None)
    assert ml.ratings.to_dict("list") == {
        "user": ["1", "1", "2", "3"],
        "item": ["10", "20", "10", "30"],
        "rating": [5, 3, 4, 1],
        "time": [881250949, 881250950, 881250951, 1],
    }
    items = ml.items.set_index("item")
    assert items["genre"].to_dict() == {"10": "Comedy", "20": "unknown", "30": "Action"}
    assert items["genres"]["10"] == "Comedy Drama"
    assert items["release_year"]["30"] == 1977 and pd.isna(items["release_year"]["20"])
    assert ml.users["occupation"].tolist() == ["technician", "other", "none"]


@pytest.mark.parametrize("writer", [write_grouplens, write_atomic], ids=["grouplens", "atomic"])
def test_damaged_movielens_names_the_file(writer, tmp_path):
    folder = tmp_path / "movielens-100k"
    writer(folder)
    name = "u.data" if writer is write_grouplens else "ml-100k.inter"
    with pytest.raises(DataError, match=rf"{name} holds 4 rows where 5"):
        load_movielens_100k(tmp_path, sizes={"ratings": 5})
    writer(folder, ratings=[*RATINGS, ("2", "20", 7, 5)])
    with pytest.raises(DataError, match=rf"{name}, column 'rating': label 7 at row 4"):
        load_movielens_100k(tmp_path, sizes=None)
    writer(folder, ratings=[*RATINGS, ("9", "20", 2, 5)])
    with pytest.raises(DataError, match="user 9 .* is not in"):
        load_movielens_100k(tmp_path, sizes=None)
    data = folder / name
    data.write_bytes(data.read_bytes()[:-12])  # a line cut in the middle
    with pytest.raises(DataError, match=name):
        load_movielens_100k(tmp_path, sizes=None)


def test_missing_movielens_is_dataset_missing(tmp_path):
    with pytest.raises(DatasetMissing, match="ml-100k.inter.*grouplens"):
        load_movielens_100k(tmp_path)


def test_ctr_labels_name_file_column_row():
    assert check_ctr_labels(["0", "1", 1.0], "f.csv").tolist() == [0.0, 1.0, 1.0]
    with pytest.raises(DataError, match=r"f.csv, column 'clk': label '2' at row 2"):
        check_ctr_labels(["0", "1", "2"], "f.csv", "clk")
    with pytest.raises(DataError, match=r"label 'yes' at row 1"):
        check_ctr_labels(["0", "yes"], "f.csv")


def test_splits_missing_or_empty_is_an_error(tmp_path):
    for split in ("train", "test"):
        (tmp_path / f"{split}.csv").write_text("label,a\n1,x\n0,y\n")
    with pytest.raises(DatasetMissing, match="valid.csv"):
        read_splits(tmp_path)
    (tmp_path / "valid.csv").write_text("label,a\n")
    with pytest.raises(DataError, match="valid.csv holds no rows"):
        read_splits(tmp_path)
    (tmp_path / "valid.csv").write_text("label,a\n1,z\n")
    frames = read_splits(tmp_path, columns=("label", "a"))
    assert frames["valid"]["a"].tolist() == ["z"]
    with pytest.raises(DataError, match="lacks column"):
        read_splits(tmp_path, columns=("label", "b"))
    with pytest.raises(DataError, match="the valid split is missing"):
        check_splits({"train": [1], "test": [1]}, "demo")


def test_batches_cover_every_row_once_and_reshuffle():
    table = {"x": torch.arange(10), "label": torch.arange(10).float(), "group": torch.zeros(10)}
    batches = Batches(table, 4, seed=3, drop=("group",))
    first = [b for b in batches]
    assert len(batches) == 3 and [len(b["x"]) for b in first] == [4, 4, 2]
    assert sorted(torch.cat([b["x"] for b in first]).tolist()) == list(range(10))
    assert all(set(b) == {"x", "label"} and torch.equal(b["x"].float(), b["label"]) for b in first)
    second = torch.cat([b["x"] for b in batches])
    assert not torch.equal(torch.cat([b["x"] for b in first]), second)
    again = torch.cat([b["x"] for b in Batches(table, 4, seed=3)])
    assert torch.equal(again, torch.cat([b["x"] for b in first]))
    plain = torch.cat([b["x"] for b in Batches(table, 4, shuffle=False)])
    assert plain.tolist() == list(range(10))
    with pytest.raises(UserError, match="one length"):
        Batches({"x": torch.zeros(3), "y": torch.zeros(4)}, 2)


class Linear(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Linear(2, 1)
        self.dropout = torch.nn.Dropout(0.5)

    def forward(self, batch):
        return self.w(self.dropout(batch["x"])).squeeze(-1)


def test_predict_is_eval_mode_sigmoid_and_restores_mode():
    torch.manual_seed(0)
    model = Linear().train()
    x = torch.randn(37, 2)
    prob = predict(model, {"x": x, "label": torch.zeros(37)}, batch_size=8)
    assert model.training and prob.dtype == np.float64 and prob.shape == (37,)
    with torch.no_grad():
        expected = torch.sigmoid(model.w(x)).squeeze(-1).numpy()
    np.testing.assert_allclose(prob, expected, rtol=1e-6)


def test_ctr_scores_match_sklearn():
    label = np.array([0, 1, 1, 0, 1, 0])
    prob = np.array([0.1, 0.8, 0.4, 0.5, 1.0, 0.0])
    scores = ctr_scores(label, prob, group=np.array([0, 0, 0, 1, 1, 1]))
    assert scores["auc"] == pytest.approx(roc_auc_score(label, prob))
    assert scores["logloss"] == pytest.approx(log_loss(label, np.clip(prob, 1e-7, 1 - 1e-7)))
    assert scores["gauc"] == pytest.approx(1.0)
