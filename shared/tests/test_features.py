"""Tests of pkg_shared.features: vocabularies fit on train only, sequences, numeric scaling, persistence."""

import json
import time

import numpy as np
import pandas as pd
import pytest
import torch

from pkg_shared.errors import UserError
from pkg_shared.features import FeatureEncoder, FeatureError, FieldSpec, to_tensors


def encode(fields: list[FieldSpec], train: pd.DataFrame, test: pd.DataFrame | None = None) -> dict:
    encoder = FeatureEncoder(fields).fit(train)
    return encoder.transform(train if test is None else test)


def test_vocabulary_is_fit_on_train_only() -> None:
    train = pd.DataFrame({"item": ["a", "b", "a"]})
    test = pd.DataFrame({"item": ["b", "only_in_test", "a"]})
    encoder = FeatureEncoder([FieldSpec("item")]).fit(train)
    out = encoder.transform(test)["item"]
    assert out.dtype == np.int64
    assert out.tolist() == [3, 1, 2]
    assert encoder.vocab_size("item") == 4


def test_missing_values_map_to_padding_and_are_not_counted() -> None:
    train = pd.DataFrame({"item": ["a", None, np.nan, "", "a"]})
    encoder = FeatureEncoder([FieldSpec("item")]).fit(train)
    assert encoder.to_dict()["vocabularies"]["item"] == ["a"]
    assert encoder.transform(train)["item"].tolist() == [2, 0, 0, 0, 2]


def test_tokens_compare_as_strings() -> None:
    train = pd.DataFrame({"user": [3, 3, 7]})
    test = pd.DataFrame({"user": pd.Series(["3", 7, None, 8, "3.0"], dtype=object)})
    assert encode([FieldSpec("user")], train, test)["user"].tolist() == [2, 3, 0, 1, 1]
    # an integer column with a missing value becomes float64 in pandas: 3.0 stays the token "3"
    floats = pd.DataFrame({"user": [3.0, np.nan, 7.0, 2.5]})
    assert encode([FieldSpec("user")], train, floats)["user"].tolist() == [2, 0, 3, 1]
    numbers = pd.DataFrame({"user": pd.Series([7, 3.0, None], dtype=object)})
    assert encode([FieldSpec("user")], train, numbers)["user"].tolist() == [3, 2, 0]


def test_min_count_maps_rare_tokens_to_unknown() -> None:
    train = pd.DataFrame({"item": ["a", "a", "b", "c", "c", "c"]})
    encoder = FeatureEncoder([FieldSpec("item", min_count=2)]).fit(train)
    assert encoder.transform(train)["item"].tolist() == [3, 3, 1, 2, 2, 2]
    assert encoder.vocab_size("item") == 4


def test_vocabulary_order_is_deterministic() -> None:
    rows = ["b", "a", "c", "a", "b", "d", "c", "z"]
    vocabs = [
        FeatureEncoder([FieldSpec("item")]).fit(pd.DataFrame({"item": order})).to_dict()["vocabularies"]
        for order in (rows, rows[::-1], sorted(rows))
    ]
    # descending frequency, ties by token string
    assert vocabs[0]["item"] == ["a", "b", "c", "d", "z"]
    assert vocabs[0] == vocabs[1] == vocabs[2]


def test_sequence_padding_truncation_and_mask() -> None:
    train = pd.DataFrame({"hist": ["a^b^c^d", "a", None, "", "b^^c"]})
    encoder = FeatureEncoder([FieldSpec("hist", "sequence", max_len=3)]).fit(train)
    assert encoder.to_dict()["vocabularies"]["hist"] == ["a", "b", "c", "d"]
    test = pd.DataFrame({"hist": ["a^b^c^d", "d^new", ["c", "a"], np.array(["b"]), [], None, "a^b^c"]})
    out = encoder.transform(test)
    assert out["hist"].dtype == np.int64
    assert out["hist"].tolist() == [
        [3, 4, 5],  # longer than max_len: the last three tokens, in order
        [5, 1, 0],  # an unseen token is unknown, still a real position
        [4, 2, 0],  # list cells
        [3, 0, 0],  # array cells
        [0, 0, 0],
        [0, 0, 0],
        [2, 3, 4],
    ]
    assert out["hist_mask"].dtype == np.bool_
    assert (out["hist_mask"] == (out["hist"] != 0)).all()
    assert out["hist_mask"].sum(axis=1).tolist() == [3, 2, 2, 1, 0, 0, 3]


def test_sequence_separator_and_non_default_index() -> None:
    frame = pd.DataFrame({"tags": ["x|y", "y", "x|y|z"]}, index=[10, 5, 7])
    out = encode([FieldSpec("tags", "sequence", max_len=2, sep="|")], frame)
    assert out["tags"].tolist() == [[3, 2], [2, 0], [2, 4]]


def test_share_vocab_with_fits_on_the_union() -> None:
    train = pd.DataFrame({"item": ["a", "b", "a"], "hist": ["c^c^b", "c", ["c", "a"]]})
    fields = [FieldSpec("item"), FieldSpec("hist", "sequence", max_len=2, share_vocab_with="item")]
    encoder = FeatureEncoder(fields).fit(train)
    state = encoder.to_dict()
    # counts over both fields: c 4, a 3, b 2
    assert state["vocabularies"] == {"item": ["c", "a", "b"]}
    assert encoder.vocab_size("item") == encoder.vocab_size("hist") == 5
    out = encoder.transform(pd.DataFrame({"item": ["c", "b"], "hist": ["a^b", "x"]}))
    assert out["item"].tolist() == [2, 4]
    assert out["hist"].tolist() == [[3, 4], [1, 0]]


STD = np.sqrt(2 / 3)  # of the train prices below: mean 2, min 1, max 3


@pytest.mark.parametrize(
    ("normalize", "fill", "expected"),
    [
        (None, 3.0, [1.0, 5.0, 3.0, 10.0]),
        ("standard", None, [-1 / STD, 3 / STD, 0.0, 8 / STD]),  # missing: the train mean
        ("minmax", 2.0, [0.0, 2.0, 0.5, 4.5]),
    ],
)
def test_numeric_uses_train_statistics(
    normalize: str | None, fill: float | None, expected: list[float]
) -> None:
    train = pd.DataFrame({"price": [1.0, 3.0, np.nan, 2.0]})
    test = pd.DataFrame({"price": [1.0, 5.0, np.nan, 10.0]})
    out = encode([FieldSpec("price", "numeric", normalize=normalize, fill=fill)], train, test)["price"]
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_numeric_constant_column_and_nullable_integers() -> None:
    train = pd.DataFrame({"n": pd.array([4, 4, None], dtype="Int64")})
    out = encode([FieldSpec("n", "numeric", normalize="standard")], train)["n"]
    assert out.tolist() == [0.0, 0.0, 0.0]
    out = encode([FieldSpec("n", "numeric", normalize="minmax")], train)["n"]
    assert out.tolist() == [0.0, 0.0, 0.0]


def test_output_keys_and_to_tensors_share_memory() -> None:
    frame = pd.DataFrame({"item": ["a", "b"], "hist": ["a^b", "b"], "price": [1.0, 2.0]})
    fields = [FieldSpec("item"), FieldSpec("hist", "sequence", max_len=2), FieldSpec("price", "numeric")]
    encoder = FeatureEncoder(fields)
    arrays = encoder.fit_transform(frame)
    assert list(arrays) == ["item", "hist", "hist_mask", "price"]
    assert encoder.fields == tuple(fields)
    tensors = to_tensors(arrays)
    assert {name: t.dtype for name, t in tensors.items()} == {
        "item": torch.int64,
        "hist": torch.int64,
        "hist_mask": torch.bool,
        "price": torch.float32,
    }
    arrays["item"][0] = 99
    assert tensors["item"][0].item() == 99


def test_save_load_round_trip(tmp_path) -> None:
    rng = np.random.default_rng(0)
    train = pd.DataFrame(
        {
            "item": rng.choice(list("abcdefg"), 300),
            "hist": ["^".join(rng.choice(list("abcdefgh"), rng.integers(0, 6))) for _ in range(300)],
            "price": rng.normal(size=300),
        }
    )
    fields = [
        FieldSpec("item", min_count=3),
        FieldSpec("hist", "sequence", max_len=4, share_vocab_with="item", min_count=3),
        FieldSpec("price", "numeric", normalize="minmax", fill=0.5),
    ]
    encoder = FeatureEncoder(fields).fit(train)
    path = encoder.save(tmp_path / "encoder.json")
    assert [p.name for p in tmp_path.iterdir()] == ["encoder.json"]
    assert json.loads(path.read_text()) == encoder.to_dict()
    loaded = FeatureEncoder.load(path)
    assert loaded.fields == encoder.fields
    test = train.sample(frac=1.0, random_state=1)
    for name, array in encoder.transform(test).items():
        np.testing.assert_array_equal(loaded.transform(test)[name], array)
    assert FeatureEncoder.from_dict(encoder.to_dict()).to_dict() == encoder.to_dict()


def _state() -> dict:
    frame = pd.DataFrame({"item": ["a", "b"], "price": [1.0, 2.0]})
    return FeatureEncoder([FieldSpec("item"), FieldSpec("price", "numeric")]).fit(frame).to_dict()


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "not a saved FeatureEncoder"),
        (json.dumps({**_state(), "version": 99}), "version 99"),
        (json.dumps({**_state(), "format": "other"}), "not a saved FeatureEncoder"),
        (json.dumps({k: v for k, v in _state().items() if k != "numeric"}), "malformed"),
        (json.dumps({**_state(), "vocabularies": {"item": [1, 2]}}), "malformed"),
        (json.dumps({**_state(), "vocabularies": {"item": ["a", "a"]}}), "malformed"),
        (json.dumps({**_state(), "vocabularies": {}}), "malformed"),
        (json.dumps({**_state(), "numeric": {"price": {"mean": 1.0}}}), "malformed"),
        (json.dumps({**_state(), "fields": [{"name": "item", "colour": "red"}]}), "malformed"),
        (json.dumps({**_state(), "fields": [{"name": "item", "kind": "image"}]}), "kind='image'"),
    ],
)
def test_malformed_file_raises_with_path(tmp_path, content: str, match: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(FeatureError, match=match) as info:
        FeatureEncoder.load(path)
    assert str(path) in str(info.value)


def test_missing_file_raises_with_path(tmp_path) -> None:
    with pytest.raises(FeatureError, match="absent.json"):
        FeatureEncoder.load(tmp_path / "absent.json")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": ""}, "non-empty string"),
        ({"name": "f", "kind": "text"}, "'f': kind='text'"),
        ({"name": "f", "min_count": 0}, "'f': min_count=0"),
        ({"name": "f", "min_count": 2.5}, "'f': min_count=2.5"),
        ({"name": "f", "kind": "sequence"}, "'f': max_len=None"),
        ({"name": "f", "kind": "sequence", "max_len": 0}, "'f': max_len=0"),
        ({"name": "f", "kind": "sequence", "max_len": True}, "'f': max_len=True"),
        ({"name": "f", "kind": "sequence", "max_len": 3, "sep": ""}, "'f': sep=''"),
        ({"name": "f", "max_len": 3}, "'f': max_len=3 .*sequence fields only"),
        ({"name": "f", "sep": ","}, "'f': sep=','"),
        ({"name": "f", "share_vocab_with": "f"}, "'f': share_vocab_with='f'"),
        ({"name": "f", "normalize": "standard"}, "'f': normalize='standard'"),
        ({"name": "f", "fill": 0.0}, "'f': fill=0.0"),
        ({"name": "f", "kind": "numeric", "normalize": "zscore"}, "'f': normalize='zscore'"),
        ({"name": "f", "kind": "numeric", "fill": float("nan")}, "'f': fill=nan"),
        ({"name": "f", "kind": "numeric", "fill": "0"}, "'f': fill='0'"),
        ({"name": "f", "kind": "numeric", "min_count": 2}, "'f': min_count=2"),
        ({"name": "f", "kind": "numeric", "share_vocab_with": "g"}, "'f': share_vocab_with='g'"),
    ],
)
def test_bad_field_options(kwargs: dict, match: str) -> None:
    with pytest.raises(FeatureError, match=match):
        FieldSpec(**kwargs)


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ([], "at least one"),
        (["item"], "FieldSpec objects"),
        ([FieldSpec("a"), FieldSpec("a")], "unique"),
        ([FieldSpec("h", "sequence", max_len=2), FieldSpec("h_mask")], "clashes"),
        ([FieldSpec("h", share_vocab_with="x")], "'h': share_vocab_with='x'"),
        ([FieldSpec("p", "numeric"), FieldSpec("h", share_vocab_with="p")], "'h': share_vocab_with='p'"),
        (
            [FieldSpec("a"), FieldSpec("b", share_vocab_with="a"), FieldSpec("c", share_vocab_with="b")],
            "'c': share_vocab_with='b'",
        ),
        ([FieldSpec("a"), FieldSpec("b", share_vocab_with="a", min_count=2)], "'b': min_count=2"),
    ],
)
def test_bad_field_sets(fields: list, match: str) -> None:
    with pytest.raises(FeatureError, match=match):
        FeatureEncoder(fields)


def test_frame_errors() -> None:
    encoder = FeatureEncoder([FieldSpec("item"), FieldSpec("price", "numeric")])
    frame = pd.DataFrame({"item": ["a"], "price": [1.0]})
    with pytest.raises(FeatureError, match="before fit"):
        encoder.transform(frame)
    with pytest.raises(FeatureError, match="before fit"):
        encoder.vocab_size("item")
    with pytest.raises(FeatureError, match="before fit"):
        encoder.save("unused.json")
    with pytest.raises(FeatureError, match="DataFrame"):
        encoder.fit(frame.to_dict())
    with pytest.raises(FeatureError, match="'price' is numeric but its column holds"):
        encoder.fit(pd.DataFrame({"item": ["a"], "price": ["cheap"]}))
    with pytest.raises(FeatureError, match="'price' has no numeric value"):
        encoder.fit(pd.DataFrame({"item": ["a"], "price": [np.nan]}))
    encoder.fit(frame)
    assert encoder.is_fitted
    with pytest.raises(FeatureError, match="'price' missing from the frame"):
        encoder.transform(frame[["item"]])
    with pytest.raises(FeatureError, match="'price' is numeric but its column holds"):
        encoder.transform(pd.DataFrame({"item": ["a"], "price": ["1.0"]}))
    with pytest.raises(FeatureError, match="'price' is numeric"):
        encoder.vocab_size("price")
    with pytest.raises(FeatureError, match="no field named 'colour'"):
        encoder.vocab_size("colour")
    assert issubclass(FeatureError, UserError)


def test_transform_is_vectorised() -> None:
    rng = np.random.default_rng(0)
    n = 200_000
    tokens = np.array([f"t{i}" for i in range(5000)])
    pool_lengths = rng.integers(0, 12, 2000)
    pool = np.array(["^".join(tokens[rng.integers(0, tokens.size, k)]) for k in pool_lengths])
    picks = rng.integers(0, pool.size, n)
    frame = pd.DataFrame(
        {
            "user": rng.integers(0, 50_000, n),
            "item": tokens[rng.integers(0, tokens.size, n)],
            "hist": pool[picks],
            "price": rng.normal(size=n),
        }
    )
    fields = [
        FieldSpec("user"),
        FieldSpec("item", min_count=2),
        FieldSpec("hist", "sequence", max_len=10, share_vocab_with="item", min_count=2),
        FieldSpec("price", "numeric", normalize="standard"),
    ]
    encoder = FeatureEncoder(fields).fit(frame.iloc[:1000])
    start = time.process_time()  # CPU time: not inflated by other jobs on the machine
    out = encoder.transform(frame)
    elapsed = time.process_time() - start
    assert out["hist"].shape == (n, 10)
    assert (out["hist_mask"].sum(axis=1) == np.minimum(pool_lengths[picks], 10)).all()
    assert elapsed < 2.0, f"transform of {n} rows took {elapsed:.2f} s"
