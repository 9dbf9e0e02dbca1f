"""The invariance table (paper Table 1, Section 5.1) and the implicit learning-rate decay of Section 5.2."""

import copy

import pytest

from pkg_layernorm.invariance import (
    NORMALISERS,
    PAPER_TABLE,
    TRANSFORMATIONS,
    gradient_scaling,
    invariance_table,
    matches_paper,
)
from pkg_shared.errors import UserError

CELLS = [(transformation, name) for transformation in TRANSFORMATIONS for name in NORMALISERS]


@pytest.fixture(scope="module")
def table():
    return invariance_table()


def test_paper_table_has_six_transformations_by_three_normalisers():
    assert len(PAPER_TABLE) == 6
    assert all(set(row) == set(NORMALISERS) for row in PAPER_TABLE.values())
    assert sum(invariant for row in PAPER_TABLE.values() for invariant in row.values()) == 10


@pytest.mark.parametrize(("transformation", "name"), CELLS, ids=[f"{t}-{n}" for t, n in CELLS])
def test_each_cell_matches_the_paper(table, transformation, name):
    assert table[transformation][name]["invariant"] == PAPER_TABLE[transformation][name]


def test_invariant_and_broken_cells_are_far_apart(table):
    deviations = {True: [], False: []}
    for transformation, name in CELLS:
        deviations[PAPER_TABLE[transformation][name]].append(table[transformation][name]["deviation"])
    assert max(deviations[True]) < 1e-6
    assert min(deviations[False]) > 1e-2


@pytest.mark.parametrize("seed", [1, 2])
def test_table_matches_for_other_seeds(seed):
    assert matches_paper(invariance_table(seed=seed))


def test_matches_paper_detects_a_wrong_cell(table):
    assert matches_paper(table)
    wrong = copy.deepcopy(table)
    wrong["dataset re-centering"]["layer"]["invariant"] = True
    assert not matches_paper(wrong)


@pytest.mark.parametrize("d", [0.5, 2.0, 10.0])
def test_scaling_weights_keeps_ln_output_and_divides_gradient(d):
    measured = gradient_scaling(d)
    assert measured["output_deviation"] < 1e-5
    assert measured["gradient_ratio"] == pytest.approx(1 / d, rel=1e-5)
    assert measured["gradient_deviation"] < 1e-5


@pytest.mark.parametrize("d", [0.1, 3.0])
def test_gradient_scaling_is_exact_without_eps(d):
    measured = gradient_scaling(d, eps=0.0)
    assert measured["output_deviation"] < 1e-12
    assert measured["gradient_ratio"] == pytest.approx(1 / d, rel=1e-12)
    assert measured["gradient_deviation"] < 1e-12


def test_gradient_scaling_rejects_non_positive_d():
    with pytest.raises(UserError, match="positive"):
        gradient_scaling(0.0)
