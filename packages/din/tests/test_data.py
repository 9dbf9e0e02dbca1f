import numpy as np
import pandas as pd
import pytest
import torch

from pkg_din.data import load_dataset, load_movielens, synthetic_interest
from pkg_din.protocols import amazon_protocol, encode, item_categories, rating_protocol
from pkg_shared.errors import UserError


def _events(seed=0, n_users=6, n_items=40):
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        n = 4 + u
        items = rng.choice(n_items, size=n, replace=False)
        rows += [(f"u{u}", f"i{it}", t * 10 + u) for t, it in enumerate(items)]
    return pd.DataFrame(rows, columns=["user", "item", "time"])


@pytest.mark.parametrize("holdout_val", [False, True])
def test_amazon_protocol_counts_negatives_and_no_leakage(holdout_val):
    events = _events()
    frames = amazon_protocol(events, max_hist=None, holdout_val=holdout_val, eval_negatives=1)
    per_user = events.groupby("user").size()
    reserved = 2 if holdout_val else 1
    train = frames["train"]
    assert (train.groupby("user").size() == 2 * (per_user - reserved - 1)).all()
    assert (frames["test"].groupby("user").size() == 2).all()
    assert ("valid" in frames) == holdout_val
    history_of = events.groupby("user")["item"].apply(set)
    order = events.sort_values("time").groupby("user")["item"].apply(list)
    for frame in frames.values():
        neg = frame[frame["label"] == 0]
        assert not any(i in history_of[u] for u, i in zip(neg["user"], neg["item"]))
        pos = frame[frame["label"] == 1]
        for u, item, hist in zip(pos["user"], pos["item"], pos["hist"]):
            seq = order[u]
            assert hist.split("^") == seq[: seq.index(item)]  # exactly the earlier behaviours
    last = frames["test"][frames["test"]["label"] == 1]
    assert all(order[u][-1] == i for u, i in zip(last["user"], last["item"]))


def test_history_truncation_keeps_the_last_items_and_empty_history_is_masked():
    frames = {
        "train": pd.DataFrame(
            {"user": [1, 2], "item": ["a", "b"], "hist": ["x^y^z^a", ""], "label": [1.0, 0.0]}
        ),
        "test": pd.DataFrame({"user": [1], "item": ["zzz"], "hist": ["q^x"], "label": [1.0]}),
    }
    frames["valid"] = frames["test"]
    lookup = item_categories(["a", "b", "x", "y", "z"], ["c1", "c1", "c2", "c2", "c3"])
    data = encode("t", frames, max_hist=2, item_cate=lookup)
    train = data.splits["train"]
    tokens = ["<pad>", "<unk>", *data.item_tokens]
    assert [tokens[i] for i in train["hist"][0]] == ["z", "a"]
    assert not train["hist_mask"][1].any()
    test = data.splits["test"]
    assert test["item"][0] == 1 and test["hist"][0, 0] == 1  # OOV -> unknown id
    assert data.cate_list[test["item"][0]] == 1  # unknown item -> unknown category


def test_mismatched_categories_are_rejected():
    with pytest.raises(UserError, match="mismatched candidate/history categories"):
        item_categories(["a", "a", "b"], ["c1", "c2", "c1"])
    frames = {
        split: pd.DataFrame({"user": [1], "item": ["a"], "hist": ["b"], "label": [1.0], "cate": ["c9"]})
        for split in ("train", "valid", "test")
    }
    with pytest.raises(UserError, match="mismatched"):
        encode("t", frames, max_hist=3, item_cate=item_categories(["a", "b"], ["c1", "c1"]))


def test_rating_protocol_labels_and_earlier_histories():
    events = _events().assign(rating=lambda d: np.arange(len(d)) % 5 + 1)
    frames = rating_protocol(events, None, max_hist=None)
    whole = pd.concat(frames.values())
    assert len(whole) == len(events) and set(whole["label"]) == {0.0, 1.0}
    users = [set(f["user"]) for f in frames.values()]
    assert not (users[0] & users[2]) and not (users[0] & users[1])  # split by user
    first = whole.groupby("user").head(1)
    assert (first["hist"] == "").all()


def test_synthetic_interest_structure():
    frames, lookup = synthetic_interest(n_users=200, n_items=100, n_cates=10, hist_len=12, per_user=5, seed=1)
    whole = pd.concat(frames.values())
    assert len(whole) == 1000 and whole["hist"].str.count(r"\^").eq(11).all()
    assert 0.2 < whole["label"].mean() < 0.6 and lookup.nunique() == 10
    with pytest.raises(UserError, match="interests"):
        synthetic_interest(n_users=10, n_items=50, n_cates=4)  # 6 interest categories cannot fit in 4


def test_grouplens_layout_is_accepted(tmp_path):
    folder = tmp_path / "movielens-100k"
    folder.mkdir()
    (folder / "u.data").write_text("1\t10\t5\t100\n1\t11\t2\t200\n2\t10\t4\t150\n")
    flags = ["0"] * 19
    rows = [
        f"{i}|Movie {i}|01-Jan-1995||http://x|" + "|".join(flags[:1] + ["1"] + flags[2:]) for i in (10, 11)
    ]
    (folder / "u.item").write_text("\n".join(rows) + "\n")
    (folder / "u.user").write_text("1|24|M|technician|85711\n2|53|F|other|94043\n")
    events, lookup, profile = load_movielens(tmp_path, sizes=None)
    assert (
        len(events) == 3
        and lookup["10"] == "Action"
        and list(profile.columns) == ["age", "gender", "occupation"]
    )


@pytest.mark.data
def test_taobao_tiny_and_movielens_atomic(data_dir):
    data = load_dataset("taobao-tiny", str(data_dir), max_hist=6)
    assert data.sizes() == {"train": 100, "valid": 100, "test": 100} and data.cate_list is None
    assert data.splits["train"]["label"].sum() == 4 and data.splits["train"]["hist_mask"].sum(1).max() <= 6
    events, lookup, _ = load_movielens(data_dir)
    assert len(events) == 100_000 and events["user"].nunique() == 943 and lookup.nunique() == 19


@pytest.mark.data
@pytest.mark.slow
def test_ml100k_seq_sizes(data_dir):
    data = load_dataset("ml100k-seq", str(data_dir), max_hist=30)
    assert data.sizes() == {"train": 194_342, "valid": 943 * 21, "test": 943 * 21}
    assert torch.equal(data.splits["train"]["label"][:2], torch.tensor([1.0, 0.0]))


def test_missing_validation_split_is_an_error():
    from pkg_din.config import ModelConfig, TrainConfig
    from pkg_din.training import train_model
    from pkg_shared.data import DataError

    data = load_dataset(
        "synthetic",
        max_hist=5,
        max_users=30,
        synthetic=(("n_items", 60), ("n_cates", 10), ("hist_len", 5), ("per_user", 4)),
    )
    data.splits = {k: v for k, v in data.splits.items() if k != "valid"}
    with pytest.raises(DataError, match="valid split is missing"):
        train_model(data, ModelConfig(item_dim=4, cate_dim=4, profile_dim=4, mlp=(4,)), TrainConfig(epochs=1))
