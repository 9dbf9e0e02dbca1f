import numpy as np
import pytest
import torch

from pkg_kan_hea import b_splines
from pkg_kan_hea.data import load_bulk_modulus, load_carbide, load_hea_class, load_strength, read_csv_table
from pkg_kan_hea.explain import formulas, symbolic_fit
from pkg_kan_hea.kan import KAN
from pkg_kan_hea.pipeline import ExtrapolationWarning, Scaler, folds
from pkg_kan_hea.screen import candidates
from pkg_shared.data import DataError


@pytest.mark.data
def test_loaders_row_counts(data_dir):
    carbide = load_carbide(data_dir)
    assert carbide.x.shape == (116, 17) and carbide.y.sum() == 80
    strength = load_strength(data_dir)
    assert strength.x.shape == (276, 22) and strength.y.shape == (276, 2)
    assert load_bulk_modulus(data_dir).x.shape[0] == 170
    hea = load_hea_class(data_dir)
    assert set(np.unique(hea.y)) == {0, 1} and hea.groups is not None


@pytest.mark.data
def test_grouped_folds_keep_alloys_together(data_dir):
    table = load_strength(data_dir)
    for train, test in folds(table, 5, seed=0):
        assert not set(table.groups[train]) & set(table.groups[test])


def test_csv_errors_name_the_columns(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,y\n1,x,3\n2,3,\n")
    with pytest.raises(DataError, match=r"missing column\(s\) \['c'\]"):
        read_csv_table(path, ["a", "c"], ["y"], "regression")
    with pytest.raises(DataError, match=r"non-numeric value\(s\) in column\(s\) \['b'\]"):
        read_csv_table(path, ["a", "b"], ["y"], "regression")
    with pytest.warns(UserWarning, match="dropped 1 row"):
        table = read_csv_table(path, ["a"], ["y"], "regression")
    assert len(table) == 1 and table.dropped == 1
    with pytest.raises(DataError, match="--strict"):
        read_csv_table(path, ["a"], ["y"], "regression", strict=True)


def test_scaler_clips_and_warns_outside_the_grid():
    scaler = Scaler.fit(np.array([[0.0], [2.0]], dtype=np.float32))
    with pytest.warns(ExtrapolationWarning, match="1 input value"):
        z = scaler.x(np.array([[1.0], [5.0]], dtype=np.float32))
    assert z.tolist() == [[0.0], [1.0]]


def test_symbolic_fit_recovers_a_sine_edge():
    model = KAN([1, 1], grid_size=20)
    x = torch.linspace(-1, 1, 200)[:, None]
    with torch.no_grad():
        layer = model.layers[0]
        layer.scale_base.zero_()
        layer.scale_sp.fill_(1.0)
        layer.coef.copy_(
            torch.linalg.lstsq(b_splines(x, layer.grid, 3)[:, 0], torch.sin(3 * x)).solution.T[None]
        )
    (fit,) = symbolic_fit(model, x)
    assert fit["function"] == "sin" and fit["r2"] > 0.999 and abs(fit["a"]) == pytest.approx(3, abs=0.5)
    pytest.importorskip("sympy")
    assert "sin" in formulas(model, [fit], ["x"])[0]


def test_candidates_are_compositions():
    comp = candidates(100, seed=0)
    assert np.allclose(comp.sum(1), 1, atol=1e-5) and ((comp > 0).sum(1) >= 3).all()
