import pytest
import torch

from pkg_lighthgnn.cli import main
from pkg_shared.testing import read_results, run_folder


def test_smoke_reproduce_writes_the_run_folder_and_reports_progress(run_cli, tmp_path):
    code, out, err = run_cli(main, "reproduce", "--scale", "smoke", "--out", tmp_path, "--device", "cpu")
    assert code == 0, err
    for line in ("transductive setting", "teacher hgnn trained", "student light_hgnnp trained",
                 "production setting", "speed: 500 vertices"):  # fmt: skip
        assert line in err, line  # progress on stderr (silent with --quiet)
    run = run_folder(tmp_path, "lighthgnn")
    results = read_results(tmp_path, "lighthgnn")
    measured = results["measured"]
    for model in ("teacher", "mlp", "light_hgnn", "light_hgnnp"):
        assert 0 <= measured[f"synthetic/{model}/accuracy"] <= 100
        assert measured[f"synthetic/{model}/topology"] > 0
    assert "prod/synthetic/light_hgnnp/ind_accuracy" in measured
    assert "prod/synthetic/light_hgnnp_minus_teacher_ind" in measured
    assert measured["check/dhg_conv_max_abs_diff"] < 1e-5
    assert [r["num_v"] for r in measured["speed/rows"]] == [500, 1000]
    assert (run / "plots" / "speed.png").is_file() and (run / "plots" / "accuracy.png").is_file()
    claims = {c["id"]: c for c in results["claims"]}
    assert claims["cc-cora-light_hgnn-vs-teacher"]["holds"] is None  # judged from --scale small
    assert claims["dhg-conv-equals-operator"]["holds"] is True
    assert "topology score" in out


def test_missing_real_data_leaves_claims_not_run(run_cli, tmp_path):
    argv = [
        "reproduce",
        "--scale",
        "smoke",
        "--dataset",
        "cc-cora",
        "--data-dir",
        tmp_path,
        "--out",
        tmp_path,
    ]
    code, _, err = run_cli(main, *argv, "--quiet")
    assert code == 0, err
    measured = read_results(tmp_path, "lighthgnn")["measured"]
    assert "not found" in measured["cc-cora/light_hgnn_minus_teacher"]["reason"]


def test_train_prints_scores_and_saves_checkpoint(run_cli, tmp_path):
    ckpt = tmp_path / "ckpt"
    argv = ["train", "--epochs", "5", "--seeds", "0", "1", "--save", ckpt, "--out", tmp_path, "--quiet"]
    code, out, err = run_cli(main, *argv)
    assert code == 0, err
    assert "teacher: accuracy" in out and "light_hgnnp: accuracy" in out and "topology" in out
    assert (ckpt / "model.safetensors").is_file() and (ckpt / "teacher.safetensors").is_file()
    code, out, err = run_cli(main, "train", "--epochs", "3", "--setting", "prod", "--student", "light_hgnn",
                             "--out", tmp_path)  # fmt: skip
    assert code == 0 and "ind_accuracy" in out, err


def test_bench_prints_ratios(run_cli, tmp_path):
    code, out, err = run_cli(
        main, "bench", "--num-v", "500", "--repeats", "1", "--cold-repeats", "1", "--out", tmp_path
    )
    assert code == 0, err
    assert "hgnn_warm_ratio" in out and "hgnnp_cold_ratio" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--dataset", "news20"],
        ["train", "--lamb", "2"],
        ["train", "--tau", "0"],
        ["train", "--kd-variant", "exact"],
        ["train", "--dataset", "cc-cora", "--data-dir", "/nonexistent"],
        ["train", "--num-train", "500", "--epochs", "1"],
        ["bench", "--num-v", "0"],
        ["bench", "--num-v", "100000000000"],
        ["bench", "--repeats", "-1"],
        ["train", "--epochs", "0"],
        ["train", "--num-val", "0"],
        ["train", "--seeds", "-1"],
        ["train", "--test-ind-ratio", "1.5"],
        ["train", "--tau", "nan"],
        ["reproduce", "--scale", "huge"],
    ],
)
def test_bad_input_exits_2_with_one_line(run_cli, argv, tmp_path):
    code, _, err = run_cli(main, *argv, "--out", str(tmp_path))
    assert code == 2 and len(err.strip().splitlines()) == 1, err


def test_unwritable_save_fails_before_work(run_cli, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code, _, err = run_cli(main, "train", "--save", blocker / "ckpt", "--out", tmp_path)
    assert code == 2 and "--save folder" in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "lighthgnn").exists()


def test_missing_dataset_error_names_file_and_source(run_cli, tmp_path):
    code, _, err = run_cli(main, "train", "--dataset", "ca-cora", "--data-dir", tmp_path, "--out", tmp_path)
    assert code == 2 and "cora.npz" in err and "HyperGCN" in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only error")
def test_cuda_absent_exits_2(run_cli, tmp_path):
    code, _, err = run_cli(main, "bench", "--num-v", "100", "--device", "cuda", "--out", tmp_path)
    assert code == 2 and "CUDA is not available" in err


@pytest.mark.cuda
def test_bench_on_cuda(run_cli, tmp_path):
    code, out, err = run_cli(main, "bench", "--num-v", "2000", "--device", "cuda", "--out", tmp_path)
    assert code == 0 and "hgnn_warm_ratio" in out, err


@pytest.mark.parametrize(
    ("ptr", "idx", "n_labels", "message"),
    [
        ([0, 2, 4], [0, 1, 2, 9], 4, "column index 9 at position 3 is outside [0, 4)"),
        ([0, 2, 2], [0, 1], 4, "hyperedge 1 is empty"),
        ([0, 2], [0, 1], 5, "one label per vertex (4)"),
    ],
)
def test_malformed_dataset_files_exit_2(run_cli, tmp_path, ptr, idx, n_labels, message):
    import numpy as np
    import scipy.sparse as sp

    x = sp.csr_matrix(np.eye(4, dtype=np.float32))
    folder = tmp_path / "hypergraph-coauthorship"
    folder.mkdir()
    np.savez(folder / "cora.npz", x_data=x.data, x_indices=x.indices, x_indptr=x.indptr, x_shape=np.array(x.shape),
             y=np.arange(n_labels) % 2, hyperedge_ptr=np.array(ptr), hyperedge_idx=np.array(idx))  # fmt: skip
    code, _, err = run_cli(main, "train", "--dataset", "ca-cora", "--data-dir", tmp_path, "--out", tmp_path)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
