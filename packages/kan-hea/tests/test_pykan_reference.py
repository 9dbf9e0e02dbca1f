"""Side by side with pykan 0.2.8 (skipped unless `kan` is importable; never a runtime dependency)."""

import json

import pytest
import torch

from pkg_kan_hea import KAN, b_splines, coef2curve, uniform_grid
from pkg_kan_hea.kan import from_pykan, load_pykan_weights
from pkg_kan_hea.train import TrainConfig, train_model
from pkg_shared.device import pinned_threads

kan = pytest.importorskip("kan")


def test_basis_and_curve_equal_pykan():
    from kan.spline import B_batch
    from kan.spline import coef2curve as pk_coef2curve

    grid = uniform_grid(4, 5, 3)
    x = torch.rand(100, 4) * 2 - 1
    assert torch.allclose(b_splines(x, grid, 3), B_batch(x, grid, 3), atol=1e-6)
    coef = torch.randn(4, 3, 8)
    assert torch.allclose(coef2curve(x, grid, coef, 3), pk_coef2curve(x, grid, coef, 3), atol=1e-6)


def test_network_and_grid_update_equal_pykan():
    ref = kan.KAN(width=[3, 4, 2], grid=5, k=3, seed=0, auto_save=False)
    ours = KAN([3, 4, 2], 5, 3)
    load_pykan_weights(ours, ref)
    x = torch.rand(200, 3) * 2 - 1
    assert torch.allclose(ours(x), ref(x), atol=1e-5)
    ref.act_fun[0].update_grid_from_samples(x)
    ours.layers[0].update_grid(x)
    assert torch.allclose(ours.layers[0].grid, ref.act_fun[0].grid, atol=1e-6)
    assert torch.allclose(ours.layers[0](x), ref.act_fun[0](x)[0], atol=1e-5)


def test_same_seed_trains_the_same_network_as_pykan():
    """pykan's initialisation draws the same random numbers as ours: one seed, one network, one result."""
    from pkg_kan_hea.config import ModelConfig
    from pkg_kan_hea.data import synthetic_phase
    from pkg_kan_hea.pipeline import cross_validate

    table = synthetic_phase(80, seed=0)
    cfg = ModelConfig(kan_hidden=(3,))
    with pinned_threads(1):
        result = cross_validate(table, ("kan", "pykan"), cfg, TrainConfig(steps=15), n_folds=2, seed=0)
    for metric, value in result["kan"].items():
        assert result["pykan"][metric] == pytest.approx(value, abs=1e-3), metric


def test_trained_pykan_converts_to_our_kan_and_prunes_alike():
    torch.manual_seed(0)
    x = torch.rand(120, 3) * 2 - 1
    y = torch.sin(torch.pi * x[:, :1]) + x[:, 1:2] ** 2
    ref = kan.KAN(
        width=[3, 4, 1], grid=5, k=3, seed=1, auto_save=False, save_act=False, symbolic_enabled=False
    )
    with pinned_threads(1):
        train_model(ref, x, y, "regression", TrainConfig(steps=25))  # grid updates included
    ours = from_pykan(ref)
    with torch.no_grad():
        assert torch.allclose(ours(x), ref(x), atol=1e-5)
    ours.prune(x)
    assert torch.allclose(ours.compact()(x), ours(x), atol=1e-6)


def test_model_pykan_in_the_example_commands(run_cli, tmp_path):
    from pkg_kan_hea.cli import main

    csv = tmp_path / "t.csv"
    csv.write_text("a,b,y\n" + "\n".join(f"{i / 10},{(i * 7 % 10) / 10},{i / 5}" for i in range(30)) + "\n")
    ckpt = tmp_path / "ckpt"
    argv = ["train", "--model", "pykan", "--csv", csv, "--features", "a,b", "--target", "y", "--steps", "5"]
    code, out, err = run_cli(main, *argv, "--save", ckpt, "--prune", "--out", tmp_path)
    assert code == 0, err
    code, out, err = run_cli(main, "evaluate", "--checkpoint", ckpt, "--csv", csv)
    assert code == 0, err
    assert json.loads(out)["rows"] == 30
