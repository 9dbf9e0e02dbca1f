"""The command line: reproduce, train/evaluate/resume, params, bench, and bad input (exit 2, one line)."""

import json

import pytest
from PIL import Image

from pkg_dhvt.cli import main
from pkg_shared.testing import read_results


def test_smoke_reproduce(run_cli, tmp_path):
    code, out, err = run_cli(
        main, "reproduce", "--scale", "smoke", "--out", tmp_path, "--quiet", "--device", "cpu"
    )
    assert code == 0, err
    results = read_results(tmp_path, "dhvt")
    holds = {c["id"]: c["holds"] for c in results["claims"]}
    assert holds["params_match_paper"] is True and holds["params_cifar_exact"] is True
    assert holds["dhvt_beats_vit"] is None and holds["cifar100_dhvt_s_p2"] is None
    assert set(results["measured"]) >= {"acc_vit", "acc_dhvt", "acc_vit+head_tokens", "gain_dhvt_over_vit"}


TRAIN = ["train", "--model", "dhvt_micro", "--data", "digits", "--epochs", "1", "--max-train", "128"]


def _train(run_cli, save, *extra):
    return run_cli(main, *TRAIN, "--save", save, "--device", "cpu", "--quiet", *extra)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One micro DHVT trained for a few steps on digits, shared by the checkpoint tests."""
    save = tmp_path_factory.mktemp("ckpt")
    assert main([*TRAIN, "--save", str(save), "--device", "cpu", "--quiet"]) == 0
    return save


def test_train_evaluate_resume(run_cli, trained):
    assert (trained / "model.safetensors").is_file() and (trained / "metrics.json").is_file()
    code, out, err = run_cli(main, "evaluate", "--ckpt", trained, "--device", "cpu")
    assert code == 0, err
    res = json.loads(out)
    assert res["test_acc"] == pytest.approx(json.loads((trained / "metrics.json").read_text())["test_acc"])
    code, out, _ = _train(run_cli, trained)  # the state says the run is done: nothing is retrained
    assert code == 0 and '"epoch"' not in out


def test_evaluate_class_count_mismatch(run_cli, trained, tmp_path):
    for split in ("train", "test"):
        for c in ("a", "b"):
            (tmp_path / "imgs" / split / c).mkdir(parents=True)
            Image.new("RGB", (32, 32)).save(tmp_path / "imgs" / split / c / "0.png")
    code, _, err = run_cli(
        main, "evaluate", "--ckpt", trained, "--data", tmp_path / "imgs", "--device", "cpu"
    )
    assert code == 2 and "2 classes" in err and "head has 10" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--img-size", "30"], "not divisible by the patch size"),
        (["--data", "/nonexistent/folder"], "unknown dataset"),
        (["--model", "resnet_micro", "--no-daff"], "ablation switches"),
    ],
)
def test_bad_input_exits_2(run_cli, tmp_path, argv, message):
    code, _, err = _train(run_cli, tmp_path / "c", *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_wrong_layout_exits_2(run_cli, tmp_path):
    (tmp_path / "junk").mkdir()
    code, _, err = _train(run_cli, tmp_path / "c", "--data", tmp_path / "junk")
    assert code == 2 and "expected one of" in err


def test_bad_option_exits_2(run_cli):
    code, _, err = run_cli(main, "train", "--epochs", "0")
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_params_table(run_cli):
    code, out, _ = run_cli(main, "params")
    assert code == 0 and out.count("equal") == 4 and "DIFFERS" not in out


def test_bench_runs(run_cli, tmp_path):
    code, out, err = run_cli(
        main, "bench", "--model", "dhvt_micro", "--batch-size", "4", "--steps", "1", "--threads", "1",
        "--device", "cpu", "--out", tmp_path,
    )  # fmt: skip
    assert code == 0, err
    assert "dhvt_micro" in out and "timm_vit_micro" in out


@pytest.mark.slow
@pytest.mark.data
def test_small_reproduce(run_cli, tmp_path, data_dir):
    code, out, err = run_cli(
        main,
        "reproduce",
        "--scale",
        "small",
        "--data-dir",
        data_dir,
        "--out",
        tmp_path,
        "--quiet",
        "--device",
        "cpu",
    )
    assert code == 0, err
    results = read_results(tmp_path, "dhvt")
    assert all(c["holds"] is not None for c in results["claims"] if c["id"] != "cifar100_dhvt_s_p2")
