"""The committed results: every package's ``results/small.json`` agrees with its declared claims and the
rules of CONVENTIONS.md ("Claims"), and the README tables are generated from it."""

from __future__ import annotations

import importlib
import json
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import catalogue  # noqa: E402

SLUGS = sorted(p.parent.name for p in ROOT.glob("packages/*/pyproject.toml"))


def declared(slug: str):
    return importlib.import_module("pkg_" + slug.replace("-", "_") + ".cli").app


def committed(slug: str) -> dict:
    """The committed small run; a package still being built (status other than complete) may have none."""
    path = ROOT / "packages" / slug / catalogue.RESULTS_FILE
    if not path.is_file():
        status = tomllib.loads((ROOT / "packages" / slug / "pyproject.toml").read_text())["tool"]["pkg-zoo"][
            "status"
        ]
        assert status != "complete", f"packages/{slug}/results/small.json is missing: run nox -s claims"
        pytest.skip(f"pkg-{slug} ({status}) has no committed results yet")
    return catalogue.load_results(path)


@pytest.mark.parametrize("slug", SLUGS)
def test_claims_have_kinds_and_basis(slug):
    for claim in declared(slug).claims:
        assert claim.kind in ("paper", "check", "expect")
        if claim.kind == "paper":
            assert claim.basis, (
                f"pkg-{slug} paper claim {claim.id}: say its basis (paper number / direction / calibrated on seeds ...)"
            )


@pytest.mark.parametrize("slug", SLUGS)
def test_committed_results_match_declared_claims(slug):
    results, app = committed(slug), declared(slug)
    assert results["scale"] == "small" and results["device"].startswith("cpu")
    assert {"python", "torch", "platform"} <= set(results.get("env", {})), (
        "results must record versions and machine"
    )
    assert results.get("dataset"), "results must name the dataset"
    by_id = {c["id"]: c for c in results["claims"]}
    assert set(by_id) == {c.id for c in app.claims}, (
        "claim ids differ from the declared ones: rerun nox -s claims"
    )
    for claim in app.claims:
        got = by_id[claim.id]
        for key in ("kind", "rule", "text", "post_hoc"):
            assert got.get(key, "") == getattr(claim, key), (
                f"{claim.id}.{key} changed since the committed run: rerun it"
            )


@pytest.mark.parametrize("slug", SLUGS)
def test_method_comparisons_use_three_seeds(slug):
    results, app = committed(slug), declared(slug)
    judged = [
        c for c in app.claims if c.kind == "paper" and c.scale in ("smoke", "small") and not c.deterministic
    ]
    if judged:
        assert len(results["seeds"]) >= 3, (
            f"pkg-{slug}: paper claims {[c.id for c in judged][:4]} are judged at small on "
            f"{len(results['seeds'])} seed(s); use >= 3 or mark them deterministic"
        )


@pytest.mark.parametrize("slug", SLUGS)
def test_readme_has_results_markers(slug):
    text = (ROOT / "packages" / slug / "README.md").read_text()
    results = text.split("## Results", 1)[-1].split("\n## ", 1)[0]
    assert catalogue.RESULTS_START in results and catalogue.RESULTS_END in results, (
        f"packages/{slug}/README.md: its Results section needs {catalogue.RESULTS_START} ... {catalogue.RESULTS_END}"
    )


def test_readmes_and_catalogue_are_generated_from_results():
    assert not catalogue.stale(), "README tables are stale: run python tools/catalogue.py"


def test_no_results_yet_is_not_passing(tmp_path):
    text = catalogue.results_block(None, "demo")
    assert "No results yet" in text
    assert catalogue.result_cell({"results": None}) == "no results yet"


def test_bad_results_file_is_one_line(tmp_path):
    bad = tmp_path / "small.json"
    bad.write_text("{not json")
    with pytest.raises(catalogue.ResultsError, match="small.json"):
        catalogue.load_results(bad)
    bad.write_text(json.dumps({"package": "x"}))
    with pytest.raises(catalogue.ResultsError, match="lacks"):
        catalogue.load_results(bad)
