"""The command line: reproduce, train/evaluate/resume, params, bench, and bad input (exit 2, one line)."""

import json

import pytest

from pkg_dhvt.cli import main
from pkg_shared.testing import read_results

ARMS = ("vit", "vit+head_tokens", "dhvt-no-head_tokens", "dhvt")


def test_smoke_reproduce(run_cli, tmp_path):
    code, out, err = run_cli(
        main, "reproduce", "--scale", "smoke", "--out", tmp_path, "--quiet", "--device", "cpu"
    )
    assert code == 0, err
    results = read_results(tmp_path, "dhvt")
    by_id = {c["id"]: c for c in results["claims"]}
    assert by_id["params_match_paper"]["holds"] is True and by_id["params_cifar_exact"]["holds"] is True
    assert by_id["params_match_paper"]["kind"] == "check"
    for claim in ("dhvt_beats_vit", "sope_daff_beat_vit", "cifar100_dhvt_s_p2"):
        assert by_id[claim]["holds"] is None and by_id[claim]["kind"] == "paper"
    assert by_id["head_tokens_on_dhvt"]["kind"] == "expect"
    measured = results["measured"]
    assert {f"acc_{a}" for a in ARMS} <= set(measured)
    assert measured["head_token_gain_on_dhvt"] == pytest.approx(
        measured["acc_dhvt"] - measured["acc_dhvt-no-head_tokens"]
    )


TRAIN = ["train", "--model", "dhvt_micro", "--dataset", "digits", "--epochs", "1", "--max-train", "128"]


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


def test_resume_under_a_new_learning_rate_is_refused(run_cli, trained):
    """Issue 16: a finished run resumed under a new lr used to be reported as the new run."""
    before = (trained / "metrics.json").read_text()
    code, out, err = _train(run_cli, trained, "--lr", "5e-4")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "lr" in err and "0.001" in err and "0.0005" in err and "other settings" in err
    assert (trained / "metrics.json").read_text() == before


def test_default_checkpoint_folder_names_the_settings(run_cli, tmp_path):
    import argparse

    from pkg_dhvt.cli import _recipe, default_folder, train_settings
    from pkg_dhvt.model import model_config

    argv = [*TRAIN, "--device", "cpu", "--quiet", "--out", tmp_path, "--max-train", "64", "--img-size", "16"]
    assert run_cli(main, *argv)[0] == 0
    (folder,) = (tmp_path / "dhvt").iterdir()
    assert folder.name.startswith("train-dhvt_micro-digits-e1-b64-lr0.001-light-s0-")
    assert (folder / "settings.json").is_file() and (folder / "model.safetensors").is_file()

    def name(**changes):
        args = argparse.Namespace(
            dataset="digits", seed=0, epochs=1, batch_size=64, lr=1e-3, weight_decay=0.05, aug="light",
            warmup=None, drop_path=None, ema=None, max_train=64,
        )  # fmt: skip
        vars(args).update(changes)
        desc = model_config("dhvt_micro", img_size=16, num_classes=10)
        return default_folder(tmp_path, train_settings(args, desc, _recipe(args))).name

    assert name() == folder.name
    assert "-lr0.0005-" in name(lr=5e-4) and name(weight_decay=0.1) != folder.name  # every setting counts


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--img-size", "30"], "not divisible by the patch size"),
        (["--dataset", "/nonexistent/folder"], "unknown dataset"),
        (["--model", "resnet_micro", "--no-daff"], "ablation switches"),
    ],
)
def test_bad_input_exits_2(run_cli, tmp_path, argv, message):
    code, _, err = _train(run_cli, tmp_path / "c", *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_wrong_layout_exits_2(run_cli, tmp_path):
    (tmp_path / "junk").mkdir()
    code, _, err = _train(run_cli, tmp_path / "c", "--dataset", tmp_path / "junk")
    assert code == 2 and "expected one of" in err


@pytest.mark.parametrize(
    "argv",
    [
        ("train", "--epochs", "0"),
        ("train", "--epochs", "100000000000"),
        ("train", "--lr", "1e9"),
        ("train", "--lr", "nan"),
        ("train", "--batch-size", "1"),
        ("train", "--drop-path", "1.5"),
        ("train", "--img-size", "100000000"),
        ("bench", "--steps", "-1"),
        ("bench", "--threads", "0"),
    ],
)
def test_impossible_numbers_exit_2(run_cli, argv):
    code, _, err = run_cli(main, *argv)
    assert code == 2 and len(err.strip().splitlines()) == 1, err


def test_unwritable_save_fails_before_work(run_cli, tmp_path):
    (tmp_path / "file").write_text("")
    code, _, err = _train(run_cli, tmp_path / "file" / "ckpt")
    assert code == 2 and "--save" in err and len(err.strip().splitlines()) == 1


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


def test_bench_times_inference_on_a_fresh_model(monkeypatch):
    """Issue 18: inference is measured before any gradient or optimiser state exists."""
    import torch

    from pkg_dhvt import bench

    seen = []
    real_build = bench.build_model

    def build(desc):
        model = real_build(desc)
        model.register_forward_hook(
            lambda m, i, o: seen.append(
                (m.training, torch.is_grad_enabled(), any(p.grad is not None for p in m.parameters()))
            )
        )
        return model

    monkeypatch.setattr(bench, "build_model", build)
    row = bench.bench("dhvt_micro", torch.device("cpu"), batch_size=4, steps=1)
    assert row["infer_img_s"] > 0 and row["train_img_s"] > 0
    assert seen[:2] == [(False, False, False)] * 2  # warm-up + timed inference: eval, no_grad, no .grad
    assert seen[2][0] is True  # then training


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
    for c in results["claims"]:
        if c["id"] != "cifar100_dhvt_s_p2":  # needs --scale full and CIFAR-100
            assert (c["in_range"] if c["kind"] == "expect" else c["holds"]) is not None, c["id"]
    assert len(results["seeds"]) == 3
