import json

import pytest
import torch

from pkg_finalmlp.cli import main
from pkg_shared.testing import read_results, run_folder

TINY = ["--dataset", "synthetic", "--n-synthetic", "3000", "--mlp1", "16", "--mlp2", "8", "--fs-hidden", "8",
        "--heads", "2", "--batch", "256", "--epochs", "2", "--quiet"]  # fmt: skip


def test_smoke_reproduce_writes_the_run_folder(run_cli, tmp_path):
    code, out, err = run_cli(
        main, "reproduce", "--scale", "smoke", "--out", tmp_path, "--quiet", "--device", "cpu"
    )
    assert code == 0, err
    run = run_folder(tmp_path, "finalmlp")
    results = read_results(tmp_path, "finalmlp")
    claims = {c["id"]: c for c in results["claims"]}
    assert claims["gate-identity-at-init"]["holds"] is True
    assert claims["finalmlp-vs-dualmlp"]["holds"] is None and claims["criteo-finalmlp-auc"]["holds"] is None
    assert {"synthetic_full_auc", "synthetic_wo_fs_auc", "synthetic_wo_bilinear_auc"} <= set(
        results["measured"]
    )
    assert (run / "plots" / "ablations.png").is_file()


def test_train_evaluate_round_trip(run_cli, tmp_path):
    ckpt = tmp_path / "ckpt"
    code, out, err = run_cli(main, "train", *TINY, "--save", ckpt, "--out", tmp_path)
    assert code == 0, err
    trained = json.loads(out.strip().splitlines()[-1])
    code, out, err = run_cli(main, "evaluate", "--checkpoint", ckpt)
    assert code == 0, err
    assert json.loads(out)["auc"] == pytest.approx(trained["test_auc"], abs=1e-9)
    code, _, err = run_cli(main, "train", *TINY, "--lr", "0.01", "--save", ckpt, "--out", tmp_path)
    assert code == 2 and "other settings" in err  # resuming under other settings is refused
    blob = ckpt / "model.safetensors"
    blob.write_bytes(blob.read_bytes()[:-8])
    code, _, err = run_cli(main, "evaluate", "--checkpoint", ckpt)
    assert code == 2 and "corrupt" in err and len(err.strip().splitlines()) == 1


def test_ablate_and_bench(run_cli, tmp_path):
    code, out, err = run_cli(main, "ablate", *TINY, "--out", tmp_path)
    assert code == 0, err
    assert all(name in out for name in ("FinalMLP", "w/o FS", "w/o bilinear", "K = 1"))
    code, out, err = run_cli(main, "bench", *TINY, "--steps", "2", "--batch", "512", "--out", tmp_path)
    assert code == 0, err
    assert out.count("train steps/s") == 3


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", *TINY, "--heads", "3"], "must divide"),
        (["train", *TINY, "--fs1-context", "nope"], "context field"),
        (["train", "--dataset", "imagenet"], "unknown dataset"),
        (["train", "--dataset", "csv:/nonexistent"], "train.csv not found"),
        (["train", *TINY, "--epochs", "0"], "epochs"),
        (["reproduce", "--scale", "huge"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(run_cli, tmp_path, argv, message):
    code, _, err = run_cli(main, *argv, "--out", tmp_path)
    assert code == 2 and len(err.strip().splitlines()) == 1 and message in err, err


def test_csv_without_label_exits_2(run_cli, tmp_path):
    for split in ("train", "valid", "test"):
        (tmp_path / f"{split}.csv").write_text("clk,user\n0,a\n1,b\n")
    code, _, err = run_cli(main, "train", "--dataset", f"csv:{tmp_path}", "--out", tmp_path)
    assert code == 2 and "lacks column(s) ['label']" in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only error")
def test_cuda_absent_exits_2(run_cli, tmp_path):
    code, _, err = run_cli(main, "train", *TINY, "--device", "cuda", "--out", tmp_path)
    assert code == 2 and "CUDA is not available" in err


def test_missing_ml100k_leaves_claims_not_run(run_cli, tmp_path, monkeypatch):
    from pkg_finalmlp import experiment

    monkeypatch.setitem(experiment.SCALES, "small", experiment.SCALES["smoke"])
    argv = [
        "reproduce",
        "--scale",
        "small",
        "--seeds",
        "1",
        "--data-dir",
        tmp_path,
        "--out",
        tmp_path,
        "--quiet",
    ]
    code, out, err = run_cli(main, *argv)
    assert code == 0, err
    claims = {c["id"]: c for c in read_results(tmp_path, "finalmlp")["claims"]}
    assert claims["finalmlp-vs-dnn"]["holds"] is None and "ml-100k.inter" in claims["finalmlp-vs-dnn"]["note"]


@pytest.mark.slow
@pytest.mark.data
def test_reproduce_small_protocol_end_to_end_on_ml100k(run_cli, tmp_path, monkeypatch, data_dir):
    """The ml100k-ctr path of `reproduce` (grid of one configuration a model, 2 epochs, 2 seeds)."""
    from dataclasses import replace

    from pkg_finalmlp import experiment

    monkeypatch.setitem(experiment.SCALES, "small", replace(experiment.SCALES["smoke"], search="none"))
    argv = [
        "reproduce",
        "--scale",
        "small",
        "--seeds",
        "2",
        "--data-dir",
        data_dir,
        "--out",
        tmp_path,
        "--quiet",
    ]
    code, out, err = run_cli(main, *argv)
    assert code == 0, err
    results = read_results(tmp_path, "finalmlp")
    claims = {c["id"]: c for c in results["claims"]}
    assert claims["finalmlp-vs-dnn"]["holds"] is not None and claims["tuned-auc-min"]["measured"] is not None
    assert len(results["measured"]["grid_trials"]) == 3 and "ml100k_wo_fs_auc" in results["measured"]


@pytest.mark.slow
@pytest.mark.data
def test_small_reproduce_one_seed_judges_the_ml100k_claims(run_cli, tmp_path, data_dir):
    """The real `reproduce --scale small` (8-trial search, 8 epochs), one seed: about 200 CPU-seconds."""
    argv = [
        "reproduce",
        "--scale",
        "small",
        "--seeds",
        "1",
        "--data-dir",
        data_dir,
        "--out",
        tmp_path,
        "--quiet",
    ]
    code, out, err = run_cli(main, *argv)
    assert code == 0, err
    results = read_results(tmp_path, "finalmlp")
    claims = {c["id"]: c for c in results["claims"]}
    assert claims["gate-identity-at-init"]["holds"] is True
    assert all(claims[c]["holds"] is not None for c in ("finalmlp-vs-dualmlp", "finalmlp-vs-dnn"))
    assert claims["tuned-auc-min"]["measured"] is not None and claims["tuned-auc-max"]["measured"] is not None
    assert len(results["measured"]["grid_trials"]) == 8
    for model in ("dnn", "dualmlp", "finalmlp"):
        assert 0.74 < results["measured"][f"{model}_test_auc"] < 0.80  # a working model on ml100k-ctr
