import json

import pytest
import torch

from pkg_hopfield.cli import main
from pkg_shared.testing import read_results, run_folder


def test_smoke_reproduce_writes_the_run_folder(run_cli, tmp_path):
    code, out, err = run_cli(main, "reproduce", "--scale", "smoke", "--out", tmp_path, "--quiet", "--device", "cpu",
                             "--data-dir", tmp_path)  # fmt: skip
    assert code == 0, err
    run = run_folder(tmp_path, "hopfield")
    results = read_results(tmp_path, "hopfield")
    claims = {c["id"]: c for c in results["claims"]}
    for cid in ("one-step-retrieval", "energy-monotone", "low-beta-global-average", "metastable-states"):
        assert claims[cid]["holds"] is True, cid
    assert claims["mil-tiger-auc"]["holds"] is None
    assert "tiger.npz" in results["measured"]["mil_tiger_auc"]["reason"]  # not run: the data are absent
    assert {c["kind"] for c in results["claims"]} == {"paper", "check"}
    for plot in ("retrieval_f8", "retrieval_f16", "fixed_points_random", "fixed_points_clustered"):
        assert (run / "plots" / f"{plot}.png").is_file()


def test_retrieval_command(run_cli, tmp_path):
    code, out, err = run_cli(main, "retrieval", "--scale", "smoke", "--out", tmp_path)
    assert code == 0, err
    assert "classical" in out and "16 bits flipped" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["reproduce", "--scale", "huge"],
        ["mil-classic", "--dataset", "musk"],
        ["mil-classic", "--model", "sum"],
        ["uci-small", "--dataset", "titanic"],
        ["bench", "--lengths", "x"],
        ["bench", "--lengths", "100000000000"],
        ["bench", "--embed", "6", "--heads", "4", "--lengths", "8"],
        ["bench", "--rounds", "0"],
        ["reference", "--hflayers", "/no/such/checkout"],
        ["reference", "--tol", "-1"],
    ],
)
def test_bad_input_exits_2_with_one_line(run_cli, argv, tmp_path):
    code, _, err = run_cli(main, *argv, "--out", str(tmp_path))
    assert code == 2 and len(err.strip().splitlines()) == 1, err


def test_missing_dataset_exits_2_and_names_the_file(run_cli, tmp_path):
    code, _, err = run_cli(main, "mil-classic", "--dataset", "fox", "--data-dir", tmp_path, "--out", tmp_path)
    assert code == 2 and "fox.npz" in err and len(err.strip().splitlines()) == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only error")
def test_cuda_absent_exits_2(run_cli, tmp_path):
    code, _, err = run_cli(main, "mil-bits", "--device", "cuda", "--out", tmp_path)
    assert code == 2 and "CUDA is not available" in err


def test_bench_runs(run_cli, tmp_path):
    code, out, err = run_cli(
        main,
        "bench",
        "--lengths",
        "16",
        "--min-run-time",
        "0.01",
        "--rounds",
        "1",
        "--cpu-clock",
        "--out",
        tmp_path,
    )
    assert code == 0, err
    assert "MHA" in out


@pytest.mark.data
def test_mil_classic_command_on_real_data(run_cli, tmp_path, data_dir):
    argv = [
        "mil-classic",
        "--dataset",
        "elephant",
        "--scale",
        "smoke",
        "--data-dir",
        data_dir,
        "--out",
        tmp_path,
    ]
    code, out, err = run_cli(main, *argv)
    assert code == 0, err
    assert 0.5 < json.loads(out.splitlines()[0])["auc"] <= 1.0


@pytest.mark.slow
@pytest.mark.data
def test_reproduce_small(run_cli, tmp_path, data_dir):
    """The whole small-scale run (about 5 CPU-minutes): every claim judged, the theory and MIL ones hold."""
    code, out, err = run_cli(main, "reproduce", "--scale", "small", "--out", tmp_path, "--quiet", "--device", "cpu",
                             "--data-dir", data_dir)  # fmt: skip
    assert code == 0, err
    claims = {c["id"]: c for c in read_results(tmp_path, "hopfield")["claims"]}
    assert all(c["holds"] is not None for c in claims.values())
    for cid in ("one-step-retrieval", "classical-collapse", "energy-monotone", "high-beta-single-patterns",
                "low-beta-global-average", "mil-bits-hopfield", "mil-bits-vs-mean"):  # fmt: skip
        assert claims[cid]["holds"], cid


def test_reference_without_hflayers_is_exit_2(run_cli, tmp_path, monkeypatch):
    import importlib.util

    if importlib.util.find_spec("hflayers"):
        pytest.skip("hflayers is installed here")
    monkeypatch.delenv("HFLAYERS_PATH", raising=False)
    code, _, err = run_cli(main, "reference", "--out", tmp_path)
    assert code == 2 and "hflayers" in err and len(err.strip().splitlines()) == 1


def test_unwritable_out_of_a_command_fails_before_work(run_cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run_cli(main, "energy", "--scale", "smoke", "--out", blocker / "runs")
    assert code == 2 and len(err.strip().splitlines()) == 1
