import numpy as np
import pandas as pd
import pytest

from pkg_finalmlp.data import load_csv, load_dataset, log_bucket, movielens_frame, synthetic_ctr
from pkg_shared.data import DataError


def write_bars(folder, frames: dict[str, pd.DataFrame]):
    folder.mkdir(parents=True, exist_ok=True)
    for split, frame in frames.items():
        frame.to_csv(folder / f"{split}.csv", index=False)
    return folder


def bars_frames(n=40, seed=0):
    rng = np.random.default_rng(seed)
    make = lambda: pd.DataFrame(  # noqa: E731
        {
            "label": rng.integers(0, 2, n),
            "user": rng.integers(0, 5, n),
            "item": rng.choice(["a", "b", "c"], n),
        }
    )
    return {"train": make(), "valid": make(), "test": make()}


def test_csv_loader_encodes_and_maps_unseen_to_oov(tmp_path):
    frames = bars_frames()
    frames["test"].loc[0, "item"] = "never-seen"
    data = load_csv(write_bars(tmp_path / "d", frames))
    assert list(data.fields) == ["user", "item"] and data.x["test"].shape == (40, 2)
    assert int(data.x["test"][0, 1]) == 1  # the unknown index of pkg_shared.features
    assert data.x["train"].min() >= 2 and data.fields["item"] == 5  # pad + unknown + 3 items


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: f["train"].drop(columns="label"), "no 'label' column"),
        (lambda f: f["train"].assign(label=2), "labels must be 0 or 1"),
        (lambda f: f["train"].iloc[:0], "split is empty"),
    ],
)
def test_bad_csv_raises_a_clear_error(tmp_path, change, message):
    frames = bars_frames()
    frames["train"] = change(frames)
    with pytest.raises(DataError, match=message):
        load_csv(write_bars(tmp_path / "d", frames))


def test_log_bucket_is_fuxictr_convert_to_bucket():
    out = log_bucket(pd.Series(["0", "2", "3", "100", None]))
    assert out.tolist()[:4] == [0, 2, int(np.floor(np.log(3) ** 2)), int(np.floor(np.log(100) ** 2))]
    assert pd.isna(out.iloc[4])


def test_synthetic_ctr_structure():
    frame = synthetic_ctr(5000, vocab=20, seed=0)
    assert list(frame.columns) == ["u0", "u1", "u2", "i0", "i1", "i2", "label"]
    assert 0.2 <= frame["label"].mean() <= 0.35
    data = load_dataset("synthetic", n_synthetic=5000)
    sizes = [len(data.y[s]) for s in ("train", "valid", "test")]
    assert sum(sizes) == 5000 and abs(sizes[0] - 4000) <= 1


def test_grouplens_layout(tmp_path):
    folder = tmp_path / "movielens-100k"
    folder.mkdir()
    (folder / "u.data").write_text("1\t10\t5\t1\n2\t11\t3\t2\n")
    genres = "|".join(["0"] * 19)
    action = "|".join(["0", "1"] + ["0"] * 17)  # flags: unknown, Action, ...
    (folder / "u.item").write_text(
        f"10|Film A|01-Jan-1995||url|{action}\n11|Film B|01-Jan-1990||url|{genres}\n"
    )
    (folder / "u.user").write_text("1|24|M|technician|85711\n2|53|F|other|94043\n")
    frame = movielens_frame(tmp_path)
    assert frame["label"].tolist() == [1.0, 0.0]
    assert frame.loc[0, "zip"] == "85" and frame.loc[0, "genre"] == "Action"
    assert frame.loc[1, "release_year"] == 1990


@pytest.mark.data
def test_ml100k_ctr(data_dir):
    data = load_dataset("ml100k", data_dir)
    assert [len(data.y[s]) for s in ("train", "valid", "test")] == [80000, 10000, 10000]
    positive = float(np.mean(np.concatenate([data.y[s].numpy() for s in ("train", "valid", "test")])))
    assert positive == pytest.approx(0.554, abs=0.002)
    assert list(data.fields) == [
        "user_id",
        "item_id",
        "age",
        "gender",
        "occupation",
        "zip",
        "release_year",
        "genre",
    ]
    assert data.fields["gender"] == 4


@pytest.mark.data
def test_taobao_tiny(data_dir):
    data = load_dataset("taobao-tiny", data_dir)
    assert len(data.y["train"]) == 100 and "click_sequence" not in data.fields and "price" in data.fields
