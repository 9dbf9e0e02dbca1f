import json

import pytest
import torch

from pkg_layernorm.cli import main
from pkg_layernorm.data import image_split
from pkg_layernorm.invariance import PAPER_TABLE
from pkg_shared.testing import read_results, run_folder


def test_smoke_reproduce_writes_the_run_folder(run_cli, tmp_path):
    code, out, err = run_cli(
        main, "reproduce", "--scale", "smoke", "--out", tmp_path, "--quiet", "--device", "cpu"
    )
    assert code == 0, err
    run = run_folder(tmp_path, "layernorm")
    results = read_results(tmp_path, "layernorm")
    claims = {c["id"]: c for c in results["claims"]}
    assert claims["invariance-table"]["holds"] is True and claims["implicit-lr-decay"]["holds"] is True
    assert claims["ln-batch4-accuracy"]["holds"] is None  # judged from --scale small
    assert {"accuracy_ln_b4", "accuracy_bn_b128", "accuracy_ln-lstm"} <= set(results["measured"])
    assert (run / "plots" / "batchsize.png").is_file() and (run / "plots" / "rnn.png").is_file()
    assert (run / "metrics.jsonl").read_text().count("\n") > 10


def test_invariance_command(run_cli):
    code, out, _ = run_cli(main, "invariance")
    assert code == 0 and "matches the paper's Table 1" in out
    yes_cells = sum(v for row in PAPER_TABLE.values() for v in row.values())
    assert out.count(" yes ") == yes_cells and out.count(" no ") == 18 - yes_cells


def test_train_evaluate_round_trip(run_cli, tmp_path):
    ckpt = tmp_path / "ckpt"
    code, out, err = run_cli(
        main, "train", "--epochs", "2", "--save", ckpt, "--quiet", "--hidden", "32", "--out", tmp_path
    )
    assert code == 0, err
    trained = float(out.split("test accuracy ")[1].split("%")[0])
    code, out, err = run_cli(main, "evaluate", "--checkpoint", ckpt)
    assert code == 0, err
    assert json.loads(out)["test_accuracy"] == pytest.approx(trained, abs=0.005)  # printed to 2 decimals


def test_corrupt_checkpoint_exits_2(run_cli, tmp_path):
    ckpt = tmp_path / "ckpt"
    assert run_cli(main, "train", "--epochs", "1", "--save", ckpt, "--quiet", "--hidden", "8")[0] == 0
    blob = ckpt / "model.safetensors"
    blob.write_bytes(blob.read_bytes()[:-8])
    code, _, err = run_cli(main, "evaluate", "--checkpoint", ckpt)
    assert code == 2 and "corrupt" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(main, "evaluate", "--checkpoint", tmp_path / "nowhere")
    assert code == 2 and "missing" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["reproduce", "--scale", "huge"],
        ["reproduce", "--seeds", "0", "--scale", "smoke"],
        ["batchsize", "--norms", "gn"],
        ["batchsize", "--batch-sizes", "0"],
        ["train", "--save"],
        ["reproduce", "--device", "tpu", "--scale", "smoke"],
    ],
)
def test_bad_input_exits_2_with_one_line(run_cli, argv, tmp_path):
    code, _, err = run_cli(main, *argv, *(["--out", str(tmp_path)] if argv[0] == "reproduce" else []))
    assert code == 2 and len(err.strip().splitlines()) == 1, err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only error")
def test_cuda_absent_exits_2(run_cli, tmp_path):
    code, _, err = run_cli(main, "reproduce", "--scale", "smoke", "--device", "cuda", "--out", tmp_path)
    assert code == 2 and "CUDA is not available" in err


def test_missing_dataset_is_named(run_cli, tmp_path):
    code, _, err = run_cli(
        main, "batchsize", "--dataset", "mnist-t10k", "--data-dir", tmp_path, "--out", tmp_path
    )
    assert code == 2 and "mnist_t10k.npz" in err and "yann.lecun.com" in err


def test_missing_dataset_leaves_claims_not_run(run_cli, tmp_path):
    argv = ["reproduce", "--scale", "smoke", "--dataset", "fashion-mnist-subset", "--data-dir", tmp_path]
    code, out, err = run_cli(main, *argv, "--out", tmp_path, "--quiet")
    assert code == 0, err
    claims = {c["id"]: c for c in read_results(tmp_path, "layernorm")["claims"]}
    assert claims["ln-batch4-accuracy"]["holds"] is None


@pytest.mark.data
def test_real_image_datasets(data_dir):
    for name, n_train in (("mnist-t10k", 8000), ("fashion-mnist-subset", 12000)):
        split = image_split(name, data_dir)
        assert split.x_train.shape == (n_train, 784) and split.x_test.shape == (2000, 784)
        assert split.x_train.min() >= 0.0 and split.x_train.max() <= 1.0
        assert set(split.y_test.unique().tolist()) == set(range(10))


def test_bench_runs(run_cli, tmp_path):
    code, out, err = run_cli(main, "bench", "--min-run-time", "0.01", "--out", tmp_path)
    assert code == 0, err
    assert "nn.LayerNorm" in out


@pytest.mark.data
def test_smoke_reproduce_on_real_mnist(run_cli, tmp_path, data_dir):
    argv = ["reproduce", "--scale", "smoke", "--dataset", "mnist-t10k", "--data-dir", data_dir]
    code, _, err = run_cli(main, *argv, "--out", tmp_path, "--quiet")
    assert code == 0, err
    measured = read_results(tmp_path, "layernorm")["measured"]
    assert measured["accuracy_ln_b128"] > 50.0  # 784-100-100-10 after 2 epochs on 256 images
