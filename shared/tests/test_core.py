import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from pkg_shared.claims import Claim, NotRun, aggregate, format_table, judge_claims
from pkg_shared.data import (
    DataError,
    DatasetMissing,
    data_root,
    load_npz,
    read_table,
    require_files,
    sklearn_dataset,
    split_indices,
    train_val_test_split,
)
from pkg_shared.device import DeviceError, env_info, resolve_device
from pkg_shared.seed import seed_everything


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        resolve_device("tpu")
    with pytest.raises(DeviceError):
        resolve_device("cuda:x")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="CUDA is not available"):
            resolve_device("cuda")


@pytest.mark.cuda
def test_resolve_cuda_device():
    assert resolve_device("cuda").type == "cuda"
    with pytest.raises(DeviceError, match="visible"):
        resolve_device(f"cuda:{torch.cuda.device_count()}")
    assert env_info("cuda")["device_name"] == torch.cuda.get_device_name(0)


def test_env_info_fields():
    info = env_info("cpu")
    assert {"python", "torch", "cuda", "device", "device_name", "git_sha"} <= set(info)


def test_seed_everything_repeats():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    seed_everything(7)
    a = draw()
    seed_everything(7)
    assert draw() == a
    assert os.environ["PYTHONHASHSEED"] == "7"


def test_claims_judging_and_table():
    claims = [
        Claim("gap", "LN within 0.5 of BN", "Fig. 6", "gap", ">=", -0.5, paper_value=1.0),
        Claim("acc", "accuracy near 98", "Table 2", "acc", "within", 98.0, tol=1.0, paper_value=98.0),
        Claim("table", "table matches", "Table 1", "match", "==", True),
        Claim("big", "needs full", "Table 3", "acc", ">=", 0.0, scale="full"),
        Claim("real", "real data", "Fig. 1", "real", ">=", 0.0),
        Claim("none", "never measured", "Fig. 2", "nothing", ">=", 0.0),
    ]
    measured, spread = aggregate(
        [
            {"gap": -1.0, "acc": 98.4, "match": True, "real": NotRun("mnist absent")},
            {"gap": 0.0, "acc": 97.6, "match": True, "real": 1.0},
        ]
    )
    assert measured["gap"] == -0.5 and spread["gap"] == pytest.approx(0.5**0.5)  # sample sd, ddof=1
    assert isinstance(measured["real"], NotRun)
    results = {r.id: r for r in judge_claims(claims, measured, "small")}
    assert results["gap"].holds is True and results["acc"].holds is True and results["table"].holds is True
    assert results["big"].holds is None and "needs --scale full" in results["big"].note
    assert results["real"].holds is None and results["real"].note == "mnist absent"
    assert results["none"].holds is None
    assert judge_claims(claims[:1], {"gap": -0.6}, "smoke")[0].holds is False
    assert judge_claims(claims[:1], {"gap": float("nan")}, "smoke")[0].holds is False
    table = format_table(list(results.values()))
    assert (
        table.splitlines()[0].startswith("PAPER CLAIMS")
        and "3 of 6 paper claims hold (0 fail, 3 not run)" in table
    )
    with pytest.raises(ValueError, match="tol"):
        Claim("x", "x", "x", "x", "within", 1.0)
    with pytest.raises(ValueError, match="op"):
        Claim("x", "x", "x", "x", "~", 1.0)


def test_data_root_and_missing_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("PKG_DATA_DIR", str(tmp_path))
    assert data_root() == tmp_path and data_root("/x") == Path("/x")
    with pytest.raises(DatasetMissing) as e:
        require_files("mnist-t10k", ["mnist_t10k.npz"], source="http://yann.lecun.com/exdb/mnist/")
    msg = str(e.value)
    assert "mnist_t10k.npz" in msg and str(tmp_path / "mnist-t10k") in msg and "yann.lecun.com" in msg
    (tmp_path / "d").mkdir()
    np.savez(tmp_path / "d" / "a.npz", x=np.arange(3))
    assert require_files("d", ["a.npz"]) == tmp_path / "d"
    assert load_npz(tmp_path / "d" / "a.npz", ["x"])["x"].tolist() == [0, 1, 2]
    with pytest.raises(DataError, match="lacks"):
        load_npz(tmp_path / "d" / "a.npz", ["y"])
    (tmp_path / "d" / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable"):
        load_npz(tmp_path / "d" / "bad.npz")
    monkeypatch.delenv("PKG_DATA_DIR")
    assert data_root().parts[-2:] == ("pkg-zoo", "data")


def test_read_table(tmp_path):
    (tmp_path / "t.csv").write_text("a,b\n1,2\n3,4\n")
    assert read_table(tmp_path / "t.csv")["b"].tolist() == [2, 4]
    (tmp_path / "t.jsonl").write_text('{"a": 1}\n{"a": 2}\n')
    assert read_table(tmp_path / "t.jsonl")["a"].tolist() == [1, 2]
    (tmp_path / "t.xyz").touch()
    with pytest.raises(DataError, match="unsupported"):
        read_table(tmp_path / "t.xyz")
    with pytest.raises(DatasetMissing):
        read_table(tmp_path / "none.csv")


def test_splits_are_deterministic_and_stratified():
    X, y = sklearn_dataset("digits")
    assert X.shape == (1797, 64) and X.dtype == np.float32
    tr, te = split_indices(y, 0.3, seed=0)
    tr2, te2 = split_indices(y, 0.3, seed=0)
    assert np.array_equal(te, te2) and len(np.intersect1d(tr, te)) == 0 and len(tr) + len(te) == 1797
    assert np.allclose(np.bincount(y[te]) / len(te), np.bincount(y) / len(y), atol=0.01)
    a, b, c = train_val_test_split(1000, 0.1, 0.2, seed=1)
    assert (len(a), len(b), len(c)) == (700, 100, 200)
    assert len(np.unique(np.concatenate([a, b, c]))) == 1000
    with pytest.raises(DataError):
        sklearn_dataset("imagenet")


def test_pinned_threads_pins_torch_and_blas_and_restores():
    from threadpoolctl import threadpool_info

    from pkg_shared.device import pinned_threads

    before = torch.get_num_threads()
    with pinned_threads(1):
        assert torch.get_num_threads() == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    assert torch.get_num_threads() == before
    with pinned_threads(None):
        assert torch.get_num_threads() == before
    with pytest.raises(ValueError), pinned_threads(0):
        pass


def test_positive_argument_type():
    import argparse

    from pkg_shared.cli import positive

    assert positive("3") == 3
    for bad in ("0", "-2", "x", "1.5"):
        with pytest.raises(argparse.ArgumentTypeError):
            positive(bad)


def test_app_reproduce_runs_and_passes_package_options(tmp_path, capsys):
    import json

    from pkg_shared.cli import App, Paper
    from pkg_shared.testing import read_results, run_folder

    seen = []

    def reproduce(ctx):
        seen.append((ctx.seed, dict(ctx.options)))
        return {"acc": 0.5 + ctx.seed / 10, "ok": True}

    def arguments(parser):
        parser.add_argument("--with-extra", action="store_true")
        parser.add_argument("--steps", type=int, default=7)

    claims = [
        Claim("acc", "accuracy", "Tab. 1", "acc", ">=", 0.6),
        Claim("ok", "runs", "-", "ok", "==", True),
    ]
    paper = Paper(title="T", authors="A", venue="V", arxiv="0000.00000", bibtex="@misc{x}")
    app = App(slug="toy", version="0", paper=paper, claims=claims, reproduce=reproduce,
              reproduce_arguments=arguments)  # fmt: skip
    code = app.main(["reproduce", "--seeds", "2", "--with-extra", "--out", str(tmp_path), "--quiet"])
    assert code == 0
    assert seen == [(0, {"with_extra": True, "steps": 7}), (1, {"with_extra": True, "steps": 7})]
    data = read_results(tmp_path, "toy")
    assert data["measured"]["acc"] == pytest.approx(0.55) and data["claims"][0]["holds"] is False
    config = json.loads((run_folder(tmp_path, "toy") / "config.json").read_text())
    assert config["options"] == {"with_extra": True, "steps": 7}
    assert app.main(["reproduce", "--seeds", "2", "--out", str(tmp_path), "--strict", "--quiet"]) == 1
    assert app.main(["reproduce", "--no-such-option"]) == 2
    assert "unrecognized arguments" in capsys.readouterr().err
