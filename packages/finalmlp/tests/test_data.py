import numpy as np
import pandas as pd
import pytest

from pkg_finalmlp.data import load_csv, load_dataset, log_bucket, movielens_frame, synthetic_ctr
from pkg_shared.data import DataError, DatasetMissing


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
        (lambda f: f["train"].drop(columns="label"), r"train.csv lacks column\(s\) \['label'\]"),
        (lambda f: f["train"].assign(label=2), "column 'label': label '2' at row 0 is not 0 or 1"),
        (lambda f: f["train"].iloc[:0], "train.csv holds no rows"),
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
    frame = movielens_frame(tmp_path, sizes={})
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


def criteo_x1_frames(n=30, seed=0):
    """Rows in the public Criteo_x1 CSV layout: label, I1..I13 (scaled to [0, 1], some empty), C1..C26."""
    rng = np.random.default_rng(seed)

    def make():
        frame = {"label": rng.integers(0, 2, n)}
        for i in range(1, 14):
            values = np.round(rng.random(n), 6).astype(object)
            values[rng.random(n) < 0.2] = None  # missing numeric cells
            frame[f"I{i}"] = values
        for i in range(1, 27):
            frame[f"C{i}"] = rng.choice(["05db9164", "68fd1e64", "8cf07265", ""], n)
        return pd.DataFrame(frame)

    return {"train": make(), "valid": make(), "test": make()}


def test_criteo_x1_layout_reads_i1_to_i13_as_numeric_fields(tmp_path):
    frames = criteo_x1_frames()
    data = load_csv(write_bars(tmp_path / "Criteo_x1", frames))
    assert data.numeric == tuple(f"I{i}" for i in range(1, 14)) and len(data.fields) == 39
    assert all(data.fields[f"I{i}"] == 2 for i in range(1, 14))  # padding + one vector each
    assert (data.x["train"][:, :13] == 1).all()  # every numeric field points at its one vector
    values = data.values["train"]
    expected = pd.to_numeric(frames["train"]["I3"]).fillna(0).to_numpy(dtype=np.float32)
    np.testing.assert_allclose(values[:, 2].numpy(), expected, rtol=1e-6)  # the value itself, missing -> 0
    assert (values[:, 13:] == 1).all()  # categorical fields: value 1
    assert len(np.unique(values[:, 0].numpy())) > 10  # values in [0, 1] stay distinct (log buckets: 1)
    categorical = load_csv(tmp_path / "Criteo_x1", numeric=())
    assert categorical.values is None and categorical.fields["I1"] > 2


def test_numeric_field_embeds_value_times_vector(tmp_path):
    import torch

    from pkg_finalmlp.config import ModelConfig
    from pkg_finalmlp.model import CTRModel

    data = load_csv(write_bars(tmp_path / "Criteo_x1", criteo_x1_frames()))
    model = CTRModel(data.fields, ModelConfig(model="finalmlp", mlp1=(8,), mlp2=(8,), fs_hidden=(8,),
                                               fs1_context=("I1", "I2"), fs2_context=("C6",), heads=2))  # fmt: skip
    x, v = data.x["train"][:5], data.values["train"][:5]
    e = model.embedding(x, v)
    vector = model.embedding.field_table(0)[1]  # I1's one vector
    assert torch.allclose(e[:, 0], v[:, :1] * vector)
    assert model({"x": x, "values": v}).shape == (5,)


def test_bad_numeric_value_names_the_column(tmp_path):
    frames = criteo_x1_frames()
    frames["valid"]["I4"] = frames["valid"]["I4"].astype(object)
    frames["valid"].loc[3, "I4"] = "abc"
    with pytest.raises(DataError, match="valid, column 'I4': 'abc' at row 3"):
        load_csv(write_bars(tmp_path / "Criteo_x1", frames))


def test_missing_validation_split_is_an_error(tmp_path):
    frames = bars_frames()
    folder = write_bars(tmp_path / "d", {"train": frames["train"], "test": frames["test"]})
    with pytest.raises(DatasetMissing, match="valid.csv not found"):
        load_csv(folder)
