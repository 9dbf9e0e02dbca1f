import json

import numpy as np
import pytest
import torch

from pkg_shared.io import (
    CheckpointError,
    RunDir,
    atomic_write_json,
    flatten_state,
    load_checkpoint,
    save_checkpoint,
    unflatten_state,
)


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 2))


def test_checkpoint_round_trip(tmp_path):
    m = _model()
    save_checkpoint(tmp_path, m.state_dict(), {"hidden": 8, "norm": "bn"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "model.safetensors"]
    tensors, config = load_checkpoint(tmp_path, expected=m)
    assert config == {"hidden": 8, "norm": "bn"}
    for k, v in m.state_dict().items():
        assert torch.equal(tensors[k], v) and tensors[k].dtype == v.dtype


def test_truncated_checkpoint_is_refused(tmp_path):
    save_checkpoint(tmp_path, _model().state_dict(), {})
    f = tmp_path / "model.safetensors"
    f.write_bytes(f.read_bytes()[:-20])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(tmp_path)


def test_tampered_checkpoint_is_refused(tmp_path):
    save_checkpoint(tmp_path, _model().state_dict(), {})
    f = tmp_path / "model.safetensors"
    data = bytearray(f.read_bytes())
    data[-3] ^= 0xFF  # one weight changed, header intact: only the checksum sees it
    f.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum"):
        load_checkpoint(tmp_path)


def test_truncated_metadata_and_missing_files(tmp_path):
    save_checkpoint(tmp_path, _model().state_dict(), {})
    meta = tmp_path / "config.json"
    meta.write_text(meta.read_text()[:30])
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="missing"):
        load_checkpoint(tmp_path / "nowhere")


def test_mismatched_model_is_named(tmp_path):
    save_checkpoint(tmp_path, _model().state_dict(), {})
    other = torch.nn.Sequential(torch.nn.Linear(4, 9), torch.nn.BatchNorm1d(9), torch.nn.Linear(9, 2))
    with pytest.raises(CheckpointError, match=r"mismatched.*0\.weight"):
        load_checkpoint(tmp_path, expected=other)
    with pytest.raises(CheckpointError, match="missing"):
        load_checkpoint(tmp_path, expected={**other.state_dict(), "extra": torch.zeros(1)})


def test_no_temp_files_left(tmp_path):
    save_checkpoint(tmp_path, {"w": torch.ones(3)}, {"a": 1})
    atomic_write_json(tmp_path / "x.json", {"v": float("nan"), "t": torch.tensor([1.5])})
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert json.loads((tmp_path / "x.json").read_text()) == {"v": None, "t": [1.5]}


def test_flatten_state_round_trip():
    opt_state = {
        "state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.randn(2, 2)}},
        "param_groups": [{"lr": 0.1, "params": [0], "betas": (0.9, 0.999)}],
        "np": np.arange(3),
        "rng": (3, tuple(range(5)), None),
    }
    tensors, skeleton = flatten_state(opt_state)
    json.dumps(skeleton)  # the skeleton is plain JSON
    back = unflatten_state(tensors, json.loads(json.dumps(skeleton)))
    assert list(back["state"]) == [0]
    assert torch.equal(back["state"][0]["exp_avg"], opt_state["state"][0]["exp_avg"])
    assert back["param_groups"][0]["betas"] == (0.9, 0.999)
    assert back["rng"] == (3, (0, 1, 2, 3, 4), None)
    assert np.array_equal(back["np"], np.arange(3))
    with pytest.raises(TypeError, match="cannot checkpoint"):
        flatten_state({"f": object()})


def test_run_dir_layout(tmp_path):
    a = RunDir.create(tmp_path, "demo", 3)
    b = RunDir.create(tmp_path, "demo", 3)
    assert a.path != b.path and a.path.parent == tmp_path / "demo" and a.path.name.endswith("-s3")
    a.write_config({"x": 1})
    a.log(epoch=1, loss=0.5)
    a.log(epoch=2, loss=0.25)
    rows = [json.loads(line) for line in (a.path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2] and a.plots.is_dir()
