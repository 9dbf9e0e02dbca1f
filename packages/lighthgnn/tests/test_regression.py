"""Seed-fixed runs against accuracies stored when this package was written (CPU, torch 2.15, one thread)."""

import pytest
import torch

from pkg_lighthgnn.config import STUDENTS, SplitConfig, StudentConfig, SyntheticConfig, TeacherConfig
from pkg_lighthgnn.data import load_dataset
from pkg_lighthgnn.training import run_transductive
from pkg_shared.device import pinned_threads

SYNTHETIC = {"teacher": 71.25, "mlp": 51.67, "light_hgnn": 63.75, "light_hgnnp": 64.58}  # 60 epochs
CC_CORA = {"teacher": 70.77, "mlp": 49.57, "light_hgnn": 70.72, "light_hgnnp": 71.04}  # paper defaults


def _run(data, epochs: int) -> dict:
    students = {k: StudentConfig(kind=k, epochs=epochs) for k in STUDENTS}
    with pinned_threads(1):
        return run_transductive(
            data, TeacherConfig(epochs=epochs), students, SplitConfig(), 2023, torch.device("cpu")
        )


def test_synthetic_seed_2023_regression():
    data = load_dataset("synthetic", synthetic=SyntheticConfig(n=600, n_classes=3, n_edges=300, d=90))
    result = _run(data, epochs=60)
    for model, expected in SYNTHETIC.items():
        assert result[model]["accuracy"] == pytest.approx(expected, abs=1.0), model


@pytest.mark.data
@pytest.mark.slow
def test_cc_cora_seed_2023_regression(data_dir):
    result = _run(load_dataset("cc-cora", data_dir), epochs=200)
    for model, expected in CC_CORA.items():
        assert result[model]["accuracy"] == pytest.approx(expected, abs=1.0), model


@pytest.mark.slow
def test_reproduce_small_end_to_end(run_cli, tmp_path):
    from pkg_lighthgnn.cli import main

    code, out, err = run_cli(
        main, "reproduce", "--scale", "small", "--seeds", "1", "--out", tmp_path, "--quiet"
    )
    assert code == 0, err
    assert "speed-warm-55k" in out
