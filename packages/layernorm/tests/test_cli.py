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


def test_train_resumes_an_interrupted_run_to_the_same_weights(run_cli, tmp_path, monkeypatch):
    """Ctrl-C after epoch 1 of 2, then the same command again: it resumes and ends where an
    uninterrupted run ends (same weights), and says that it resumed."""
    from pkg_layernorm import experiment
    from pkg_shared.io import load_checkpoint

    argv = ["train", "--epochs", "2", "--hidden", "16", "--quiet", "--out", tmp_path]
    assert run_cli(main, *argv, "--save", tmp_path / "whole")[0] == 0
    original = experiment.train_and_track

    def interrupted(*args, **kwargs):
        def log(**row):
            if row["epoch"] == 2:
                raise KeyboardInterrupt

        return original(*args, **kwargs, log=log)

    monkeypatch.setattr(experiment, "train_and_track", interrupted)
    code, _, err = run_cli(main, *argv, "--save", tmp_path / "cut")
    assert code == 130 and "interrupted" in err
    monkeypatch.setattr(experiment, "train_and_track", original)
    code, out, err = run_cli(main, *argv, "--save", tmp_path / "cut")
    assert code == 0 and "resumed after epoch 1" in out, err
    whole, _ = load_checkpoint(tmp_path / "whole")
    cut, _ = load_checkpoint(tmp_path / "cut")
    assert all(torch.equal(whole[k], cut[k]) for k in whole)


def test_train_refuses_to_resume_under_other_settings(run_cli, tmp_path):
    ckpt = tmp_path / "ckpt"
    argv = ["train", "--epochs", "1", "--hidden", "8", "--quiet", "--save", ckpt, "--out", tmp_path]
    assert run_cli(main, *argv)[0] == 0
    code, _, err = run_cli(main, *argv, "--lr", "0.01", "--norm", "bn")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "lr" in err and "norm" in err


def test_unwritable_save_fails_before_training(run_cli, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code, _, err = run_cli(main, "train", "--save", blocker / "ckpt", "--quiet", "--out", tmp_path)
    assert code == 2 and "--save" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--save", "x", "--epochs", "100000000"],
        ["train", "--save", "x", "--lr", "-1"],
        ["train", "--save", "x", "--batch-size", "1"],
        ["rnn", "--hidden", "0"],
        ["bench", "--min-run-time", "1e9"],
        ["invariance", "--tol", "nan"],
    ],
)
def test_impossible_numbers_name_the_limit(run_cli, argv):
    code, _, err = run_cli(main, *argv)
    assert code == 2 and "must be" in err and len(err.strip().splitlines()) == 1, err


def test_cli_names_match_the_modules():
    from pkg_layernorm import cells, layers
    from pkg_layernorm.config import CELLS, NORMS

    assert tuple(layers._HIDDEN_LAYERS) == NORMS and tuple(cells._CELLS) == CELLS


@pytest.mark.data
def test_damaged_image_files_are_exit_2(run_cli, tmp_path, data_dir):
    import numpy as np

    arrays = dict(np.load(data_dir / "mnist-t10k" / "mnist_t10k.npz"))
    cases = {
        "labels": {**arrays, "y_test": np.where(arrays["y_test"] == 3, 11, arrays["y_test"])},
        "shape": {**arrays, "x_train": arrays["x_train"][:, :27]},
        "count": {**arrays, "y_train": arrays["y_train"][:-1]},
        "empty": {**arrays, "x_test": arrays["x_test"][:0], "y_test": arrays["y_test"][:0]},
    }
    for name, content in cases.items():
        root = tmp_path / name
        (root / "mnist-t10k").mkdir(parents=True)
        np.savez(root / "mnist-t10k" / "mnist_t10k.npz", **content)
        code, _, err = run_cli(
            main, "batchsize", "--dataset", "mnist-t10k", "--data-dir", root, "--out", tmp_path, "--quiet"
        )
        assert code == 2 and "mnist_t10k.npz" in err and len(err.strip().splitlines()) == 1, (name, err)
