import json

import numpy as np
import pytest
import torch

from pkg_quantization.cli import main
from pkg_shared.testing import read_results, run_folder


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    ckpt = tmp_path_factory.mktemp("ckpt") / "lenet"
    assert main(["train", "--epochs", "1", "--save", str(ckpt), "--quiet", "--out", str(ckpt.parent)]) == 0
    return ckpt


def test_smoke_reproduce_writes_the_run_folder(run_cli, tmp_path):
    code, out, err = run_cli(
        main, "reproduce", "--scale", "smoke", "--out", tmp_path, "--quiet", "--device", "cpu"
    )
    assert code == 0, err
    run = run_folder(tmp_path, "quantization")
    results = read_results(tmp_path, "quantization")
    claims = {c["id"]: c for c in results["claims"]}
    assert claims["fakequant-bit-exact"]["holds"] is True and claims["integer-only-linear"]["holds"] is True
    assert claims["2-per-channel"]["holds"] is None  # judged from --scale small
    measured = results["measured"]
    assert {"fp32", "ptq_w8a8_per-channel_minmax", "qat_w2a4", "mixed_hessian", "mixed_uniform_bits"} <= set(
        measured
    )
    assert measured["mixed_hessian_avg_bits"] <= 3.0
    assert (run / "plots" / "ptq_grid.png").is_file()


def test_train_evaluate_ptq_qat_mixed(run_cli, checkpoint):
    code, out, err = run_cli(main, "evaluate", "--checkpoint", checkpoint)
    assert code == 0, err
    fp32 = json.loads(out)["test_accuracy"]
    code, out, err = run_cli(
        main, "ptq", "--checkpoint", checkpoint, "--wbits", "8", "--calib", "mse", "--calib-size", "64"
    )
    assert code == 0, err
    assert json.loads(out)["fp32"] == pytest.approx(fp32)
    saved = checkpoint.parent / "qat"
    argv = [
        "qat",
        "--checkpoint",
        checkpoint,
        "--weights",
        "ternary",
        "--epochs",
        "1",
        "--quiet",
        "--save",
        saved,
    ]
    code, out, err = run_cli(main, *argv)
    assert code == 0, err
    res = json.loads(out)
    assert res["weights"] == "ternary" and 0.0 <= res["qat"] <= 100.0
    assert run_cli(main, "evaluate", "--checkpoint", saved)[0] == 0
    code, out, err = run_cli(
        main, "mixed", "--checkpoint", checkpoint, "--avg-bits", "4", "--probes", "2", "--calib-size", "32"
    )
    assert code == 0, err
    assert json.loads(out)["avg_bits"] <= 4.0


def test_torchao_and_bench(run_cli, checkpoint):
    code, out, err = run_cli(main, "torchao", "--checkpoint", checkpoint, "--calib-size", "64")
    assert code == 0, err
    res = json.loads(out)
    assert abs(res["ours_w8a8"] - res["torch_ao_w8a8"]) <= 2.0
    code, out, err = run_cli(main, "bench", "--checkpoint", checkpoint, "--batch", "32", "--repeats", "2")
    assert code == 0, err
    assert json.loads(out)["fp32_ms"] > 0


@pytest.mark.parametrize(
    "argv",
    [
        ["ptq", "--wbits", "9"],
        ["ptq", "--abits", "0"],
        ["ptq", "--calib", "percentile", "--percentile", "0"],
        ["ptq", "--granularity", "per-group", "--group-size", "3"],
        ["mixed", "--avg-bits", "1.5", "--probes", "1"],
        ["mixed", "--avg-bits", "1e9", "--probes", "1"],
        ["mixed", "--bits", "1", "2", "--probes", "1"],
        ["mixed", "--probes", "100000000000"],
        ["qat", "--bn-freeze-epoch", "-1"],
        ["qat", "--lr", "nan"],
        ["bench", "--batch", "0"],
        ["ptq", "--calib-size", "0"],
    ],
)
def test_bad_quantisation_options_exit_2(run_cli, checkpoint, argv):
    code, _, err = run_cli(main, *argv[:1], "--checkpoint", checkpoint, *argv[1:])
    assert code == 2 and len(err.strip().splitlines()) == 1, err


def test_impossible_numbers_name_the_limit(run_cli, checkpoint):
    code, _, err = run_cli(main, "mixed", "--checkpoint", checkpoint, "--avg-bits", "1e9")
    assert code == 2 and "<= 8" in err
    code, _, err = run_cli(main, "mixed", "--checkpoint", checkpoint, "--bits", "1", "2")
    assert code == 2 and ">= 2" in err


def test_train_refuses_to_resume_under_other_settings(run_cli, checkpoint):
    code, _, err = run_cli(main, "train", "--epochs", "1", "--lr", "0.01", "--save", checkpoint, "--quiet")
    assert code == 2 and "lr" in err and len(err.strip().splitlines()) == 1, err


def test_unwritable_save_fails_before_training(run_cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run_cli(main, "train", "--save", blocker / "ckpt", "--quiet")
    assert code == 2 and "--save" in err


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"y_test": np.full(20, 10)}, "label 10"),
        ({"x_train": np.zeros((30, 27, 28), dtype=np.uint8)}, "shape"),
        ({"y_train": np.zeros(29, dtype=np.int64)}, "one label per image"),
        ({"x_test": np.full((20, 28, 28), np.nan, dtype=np.float32)}, "not finite"),
        ({"x_test": np.zeros((0, 28, 28), dtype=np.uint8), "y_test": np.zeros(0, dtype=np.int64)}, "empty"),
    ],
)
def test_bad_dataset_file_is_one_line_naming_it(run_cli, tmp_path, change, expected):
    arrays = {
        "x_train": np.zeros((30, 28, 28), dtype=np.uint8),
        "y_train": np.arange(30) % 10,
        "x_test": np.zeros((20, 28, 28), dtype=np.uint8),
        "y_test": np.arange(20) % 10,
        **change,
    }
    (tmp_path / "mnist-t10k").mkdir()
    np.savez(tmp_path / "mnist-t10k" / "mnist_t10k.npz", **arrays)
    argv = ["reproduce", "--scale", "smoke", "--dataset", "mnist-t10k", "--data-dir", tmp_path, "--quiet"]
    code, _, err = run_cli(main, *argv, "--out", tmp_path / "runs", "--device", "cpu")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "mnist_t10k.npz" in err and expected in err, err


def test_per_dataset_thresholds_judge_only_their_dataset():
    from pkg_quantization.experiment import per_dataset
    from pkg_shared.claims import NotRun

    measured = {
        "w2a8_perchannel_minus_pertensor": 3.0,
        "a4_best_clip_minus_minmax": 0.1,
        "qat_minus_ptq_w2a4": 9.0,
    }
    got = per_dataset(measured, "digits")
    assert got["w2a8_perchannel_minus_pertensor@digits"] == 3.0
    assert isinstance(got["w2a8_perchannel_minus_pertensor@fashion-mnist-subset"], NotRun)
    assert all(isinstance(v, NotRun) for v in per_dataset(measured, "mnist-t10k").values())


def test_corrupt_and_missing_checkpoint_exit_2(run_cli, checkpoint, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in checkpoint.iterdir():
        if f.is_file():  # the checkpoint, not the training state folder
            (bad / f.name).write_bytes(f.read_bytes())
    blob = bad / "model.safetensors"
    blob.write_bytes(blob.read_bytes()[:-8])
    code, _, err = run_cli(main, "evaluate", "--checkpoint", bad)
    assert code == 2 and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(main, "evaluate", "--checkpoint", tmp_path / "nowhere")
    assert code == 2


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only error")
def test_cuda_absent_exits_2(run_cli, tmp_path):
    code, _, err = run_cli(main, "reproduce", "--scale", "smoke", "--device", "cuda", "--out", tmp_path)
    assert code == 2 and "CUDA" in err


def test_missing_dataset_is_named_and_claims_not_run(run_cli, tmp_path):
    code, _, err = run_cli(
        main, "train", "--dataset", "fashion-mnist-subset", "--data-dir", tmp_path, "--save", tmp_path / "c"
    )
    assert code == 2 and "fashion_mnist_subset.npz" in err
    argv = ["reproduce", "--scale", "smoke", "--dataset", "fashion-mnist-subset", "--data-dir", tmp_path]
    code, out, err = run_cli(main, *argv, "--out", tmp_path, "--quiet")
    assert code == 0, err
    claims = {c["id"]: c for c in read_results(tmp_path, "quantization")["claims"]}
    assert claims["1-int8-ptq"]["holds"] is None and claims["fakequant-bit-exact"]["holds"] is True


def test_brevitas_command_without_brevitas_exits_2(run_cli):
    from pkg_quantization.brevitas_ref import brevitas_available

    if brevitas_available()[0]:
        pytest.skip("brevitas is installed here")
    code, _, err = run_cli(main, "brevitas", "--seeds", "1")
    assert code == 2 and "brevitas is not installed" in err and len(err.strip().splitlines()) == 1


def test_cifar_small_is_the_cpu_resnet20_preset():
    from pkg_quantization.config import PRESETS, preset

    assert preset("small", "fashion-mnist-subset") is PRESETS["small"]
    cpu_resnet = preset("small", "cifar10-subset")
    assert cpu_resnet.model == "resnet20" and cpu_resnet.epochs < PRESETS["full"].epochs
    assert any(a == 4 for _, a in cpu_resnet.grid_bits) and "minmax" in cpu_resnet.calibrators


@pytest.mark.data
def test_real_datasets(data_dir):
    from pkg_quantization.data import load_split

    for name, shape in (
        ("fashion-mnist-subset", (12000, 1, 28, 28)),
        ("mnist-t10k", (8000, 1, 28, 28)),
        ("cifar10-subset", (5000, 3, 32, 32)),
    ):
        split = load_split(name, data_dir)
        assert split.x_train.shape == shape and len(split.x_test) == 2000


@pytest.mark.slow
@pytest.mark.data
def test_small_reproduce_on_fashion(run_cli, tmp_path, data_dir):
    argv = [
        "reproduce",
        "--scale",
        "small",
        "--seeds",
        "1",
        "--dataset",
        "fashion-mnist-subset",
        "--data-dir",
        data_dir,
    ]
    code, out, err = run_cli(main, *argv, "--out", tmp_path, "--quiet")
    assert code == 0, err
    measured = read_results(tmp_path, "quantization")["measured"]
    assert measured["fp32"] > 80.0
