import json

import pytest

from pkg_kan_hea.cli import main
from pkg_kan_hea.pipeline import pykan_available
from pkg_shared.testing import read_results


def test_smoke_reproduce_end_to_end(run_cli, tmp_path):
    (tmp_path / "empty").mkdir()
    code, out, err = run_cli(main, "reproduce", "--scale", "smoke", "--out", tmp_path, "--device", "cpu",
                             "--data-dir", tmp_path / "empty", "--with-pykan")  # fmt: skip
    assert code == 0, err
    assert ("--with-pykan skipped: pykan is not installed" in err) != pykan_available()
    assert "[seed 0] closed-form fit" in err  # progress is shown without --quiet
    results = read_results(tmp_path, "kan-hea")
    claims = {c["id"]: c for c in results["claims"]}
    assert claims["carbide-f1"]["holds"] is None and "grid-update-preserves" in claims
    assert claims["closed-form-fit"]["kind"] == "check" and claims["carbide-f1"]["kind"] == "paper"
    grid = claims["grid-update-preserves"]  # smoke trains 5 steps per grid: only the first update falls in
    assert grid["holds"] is None and "no scheduled grid update after the first" in grid["note"]
    assert claims["closed-form-fit"]["holds"] is True  # the spec's 1,000 points, 5 LBFGS steps per grid
    (run,) = (tmp_path / "kan-hea").iterdir()
    assert (run / "plots" / "expsin_edges_s0.png").is_file()


@pytest.mark.data
def test_reproduce_one_dataset_runs_its_examples_and_plots(run_cli, tmp_path, data_dir):
    argv = ["reproduce", "--scale", "smoke", "--dataset", "hea-elastic-dft", "--quiet", "--device", "cpu"]
    code, out, err = run_cli(main, *argv, "--data-dir", data_dir, "--out", tmp_path)
    assert code == 0, err
    measured = read_results(tmp_path, "kan-hea")["measured"]
    assert isinstance(measured["bulk_modulus_r2_kan_minus_mlp"], float)
    assert "carbide_f1_kan_mlp" not in measured and "carbide_r2_kan_minus_mlp" not in measured
    (run,) = (tmp_path / "kan-hea").iterdir()
    assert (run / "plots" / "kan_vs_mlp.png").is_file()


@pytest.mark.data
def test_truncated_carbide_file_is_exit_2_before_training(run_cli, tmp_path, data_dir):
    source = data_dir / "hea-carbide-phase" / "hec_382_descriptors.csv"
    target = tmp_path / "root" / "hea-carbide-phase" / source.name
    target.parent.mkdir(parents=True)
    target.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    argv = ["reproduce", "--scale", "smoke", "--dataset", "hea-carbide-phase", "--quiet", "--device", "cpu"]
    code, _, err = run_cli(main, *argv, "--data-dir", tmp_path / "root", "--out", tmp_path)
    assert code == 2 and source.name in err and "382 are expected" in err, err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.data
def test_train_evaluate_explain_round_trip(run_cli, tmp_path, data_dir):
    ckpt = tmp_path / "ckpt"
    base = ["--data-dir", data_dir, "--out", tmp_path]
    code, out, err = run_cli(main, "train", "--example", "carbide", "--steps", "30", "--save", ckpt, *base)
    assert code == 0, err
    code, out, err = run_cli(main, "evaluate", "--checkpoint", ckpt, *base)
    assert code == 0, err
    assert json.loads(out)["rows"] == 116
    code, out, err = run_cli(main, "explain", "--checkpoint", ckpt, "--plot-edges", tmp_path, *base)
    assert code == 0, err
    assert "feature importance" in out and (tmp_path / "edges.png").is_file()


def test_train_on_csv_and_corrupt_checkpoint(run_cli, tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("a,b,y\n" + "\n".join(f"{i / 10},{(i * 7 % 10) / 10},{i / 5}" for i in range(20)) + "\n")
    ckpt = tmp_path / "ckpt"
    argv = ["train", "--csv", csv, "--features", "a,b", "--target", "y", "--steps", "5", "--save", ckpt]
    assert run_cli(main, *argv, "--out", tmp_path)[0] == 0
    blob = ckpt / "model.safetensors"
    blob.write_bytes(blob.read_bytes()[:-8])
    code, _, err = run_cli(main, "evaluate", "--checkpoint", ckpt, "--csv", csv)
    assert code == 2 and "corrupt" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["carbide", "--grid", "0"],
        ["carbide", "--k", "42"],
        ["carbide", "--width", "3,2"],
        ["train", "--csv", "nowhere.csv", "--features", "a", "--target", "y", "--save", "x"],
        ["train", "--csv", "bad.csv", "--features", "a,zz", "--target", "y", "--save", "x"],
        ["carbide", "--model", "transformer"],
        ["reproduce", "--scale", "smoke", "--device", "cuda:99"],
        ["carbide", "--folds", "1"],
        ["carbide", "--steps", "100000000000"],
        ["screen", "--n", "0"],
        ["bench", "--batch", "1e12"],
        ["bench", "--device", "cuda"],
        [
            "train",
            "--csv",
            "three.csv",
            "--features",
            "a",
            "--target",
            "y",
            "--task",
            "classification",
            "--save",
            "x",
        ],
        ["train", "--csv", "bad.csv", "--features", "a", "--target", "y", "--save", "bad.csv"],
    ],
)
def test_bad_input_exits_2_with_one_line(run_cli, tmp_path, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.csv").write_text("a,y\n1,2\n")
    (tmp_path / "three.csv").write_text("a,y\n1,p\n2,q\n3,r\n")
    (tmp_path / "data" / "hea-carbide-phase").mkdir(parents=True)
    code, _, err = run_cli(main, *argv, "--data-dir", tmp_path / "data", "--out", tmp_path)
    assert code == 2 and len(err.strip().splitlines()) == 1, err


@pytest.mark.data
def test_too_many_folds_for_the_data_is_exit_2(run_cli, tmp_path, data_dir):
    code, _, err = run_cli(main, "carbide", "--folds", "40", "--seeds", "1", "--steps", "1",
                           "--data-dir", data_dir, "--out", tmp_path)  # fmt: skip
    assert code == 2 and "cannot be split into 40 folds" in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.skipif(pykan_available(), reason="pykan is installed here")
def test_model_pykan_without_pykan_is_a_clear_error(run_cli, tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("a,y\n1,2\n2,3\n")
    argv = [
        "train",
        "--model",
        "pykan",
        "--csv",
        csv,
        "--features",
        "a",
        "--target",
        "y",
        "--save",
        tmp_path / "c",
    ]
    code, _, err = run_cli(main, *argv, "--out", tmp_path)
    assert code == 2 and "pip install 'pkg-kan-hea[pykan]'" in err and len(err.strip().splitlines()) == 1


def test_missing_dataset_is_named(run_cli, tmp_path):
    code, _, err = run_cli(main, "carbide", "--data-dir", tmp_path, "--out", tmp_path)
    assert code == 2 and "hec_382_descriptors.csv" in err and "wylu-github" in err


def test_bench_runs(run_cli, tmp_path):
    code, out, err = run_cli(main, "bench", "--steps", "1", "--batch", "8", "--out", tmp_path, "--quiet")
    assert code == 0, err
    assert "efficient-kan" in out and "load average" in out
    rows = read_results(tmp_path, "kan-hea")["rows"]
    assert [r["width"] for r in rows][0] == [2, 5, 1] and all(r["efficient_kan_over_ours"] > 0 for r in rows)


@pytest.mark.skipif(pykan_available(), reason="pykan is installed here")
def test_bench_reference_without_pykan_is_exit_2(run_cli, tmp_path):
    code, _, err = run_cli(main, "bench", "--reference", "--out", tmp_path)
    assert code == 2 and "pip install 'pkg-kan-hea[pykan]'" in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
@pytest.mark.data
def test_small_reproduce_judges_every_claim(run_cli, tmp_path, data_dir):
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
    claims = read_results(tmp_path, "kan-hea")["claims"]
    assert len(claims) == 6 and all(c["holds"] is not None for c in claims)
    assert not any(c["post_hoc"] for c in claims)


@pytest.mark.data
def test_example_command_compares_models_on_the_same_folds(run_cli, tmp_path, data_dir):
    argv = [
        "bulk-modulus",
        "--model",
        "kan",
        "efficient-kan",
        "mlp",
        "sklearn-mlp",
        "--folds",
        "2",
        "--seeds",
        "1",
    ]
    code, out, err = run_cli(main, *argv, "--steps", "10", "--data-dir", data_dir, "--out", tmp_path)
    assert code == 0, err
    mean = json.loads(out.strip().splitlines()[-1])["mean"]
    assert set(mean) == {"kan", "efficient-kan", "mlp", "sklearn-mlp"} and "r2_K_GPa" in mean["kan"]
