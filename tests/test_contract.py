"""The package contract of CONVENTIONS.md, checked for every package in packages/ (and pkg-shared)."""

from __future__ import annotations

import ast
import importlib
import json
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import catalogue  # noqa: E402

SLUGS = sorted(p.parent.name for p in ROOT.glob("packages/*/pyproject.toml"))
SLUG_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
README_SECTIONS = (
    "Install",
    "Usage",
    "What is implemented",
    "Results",
    "Reproduce",
    "Data",
    "Bad input",
    "Limits",
    "Citation",
)
SHARED_MODULES = (
    "device",
    "seed",
    "data",
    "features",
    "train",
    "metrics",
    "io",
    "claims",
    "cli",
    "plots",
    "progress",
    "package",
    "testing",
)


def module_of(slug: str) -> str:
    return "pkg_" + slug.replace("-", "_")


def pyproject(slug: str) -> dict:
    return tomllib.loads((ROOT / "packages" / slug / "pyproject.toml").read_text())


def test_there_are_packages():
    assert SLUGS, "no packages found"


def test_shared_core_modules():
    for name in SHARED_MODULES:
        importlib.import_module(f"pkg_shared.{name}")


@pytest.mark.parametrize("slug", SLUGS)
def test_names(slug):
    assert SLUG_RE.match(slug), f"bad slug {slug!r}"
    meta = pyproject(slug)
    module = module_of(slug)
    assert meta["project"]["name"] == f"pkg-{slug}"
    assert meta["project"]["scripts"] == {f"pkg-{slug}": f"{module}.cli:main"}
    assert (ROOT / "packages" / slug / "src" / module / "__init__.py").is_file()
    deps = {re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0] for d in meta["project"]["dependencies"]}
    assert {"pkg-shared", "torch"} <= deps, "declare pkg-shared and torch explicitly"
    assert meta["tool"]["uv"]["sources"]["pkg-shared"] == {"workspace": True}


@pytest.mark.parametrize("slug", SLUGS)
def test_imports_no_other_package(slug):
    own = module_of(slug)
    for path in (ROOT / "packages" / slug).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert not top.startswith("pkg_") or top in (own, "pkg_shared"), f"{path} imports {name}"


def readme(slug: str) -> str:
    return (ROOT / "packages" / slug / "README.md").read_text()


@pytest.mark.parametrize("slug", SLUGS)
def test_readme_sections(slug):
    headings = re.findall(r"^## (.+?)\s*$", readme(slug), flags=re.M)
    missing = [s for s in README_SECTIONS if not any(h.startswith(s) for h in headings)]
    assert not missing, f"packages/{slug}/README.md lacks sections {missing}"


@pytest.mark.parametrize("slug", SLUGS)
def test_readme_usage_snippet_runs(slug, tmp_path, monkeypatch):
    usage = readme(slug).split("## Usage", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", usage, flags=re.S)
    assert blocks, f"packages/{slug}/README.md: the Usage section needs a ```python snippet"
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks[0], f"{slug}/README.md:Usage", "exec"), {})


def app_of(slug: str):
    cli = importlib.import_module(f"{module_of(slug)}.cli")
    assert callable(cli.main)
    return cli


@pytest.mark.parametrize("slug", SLUGS)
def test_cli_help_and_info(slug, run_cli):
    cli = app_of(slug)
    code, out, _ = run_cli(cli.main, "--help")
    assert code == 0 and "reproduce" in out
    code, out, _ = run_cli(cli.main, "info")
    assert code == 0 and cli.app.paper.title in out and "claims checked" in out
    code, _, err = run_cli(cli.main, "no-such-command")
    assert code == 2 and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("slug", SLUGS)
def test_declares_claims(slug):
    claims = app_of(slug).app.claims
    assert claims, f"pkg-{slug} declares no claim"
    assert len({c.id for c in claims}) == len(claims), "claim ids must be unique"


@pytest.mark.parametrize("slug", SLUGS)
def test_smoke_reproduce(slug, run_cli, tmp_path):
    cli = app_of(slug)
    code, out, err = run_cli(
        cli.main, "reproduce", "--scale", "smoke", "--out", tmp_path, "--quiet", "--device", "cpu"
    )
    assert code == 0, err
    (run,) = (tmp_path / slug).iterdir()
    for name in ("config.json", "env.json", "results.json", "plots"):
        assert (run / name).exists(), name
    results = json.loads((run / "results.json").read_text())
    required = {"package", "paper", "scale", "seeds", "device", "wall_seconds", "claims"}
    assert required <= set(results) and results["scale"] == "smoke"
    for claim in results["claims"]:
        assert {"id", "text", "where", "paper_value", "measured", "holds"} <= set(claim)
    assert "paper claims hold" in out


def test_readme_catalogue_matches_packages():
    text = (ROOT / "README.md").read_text()
    assert catalogue.render(text) == text, "README.md catalogue is stale: run python tools/catalogue.py"
    for slug in SLUGS:
        assert f"(packages/{slug}/)" in text


@pytest.mark.parametrize("slug", SLUGS)
def test_one_version_source(slug):
    """The version lives in the package metadata only (``__version__`` reads it)."""
    init = (ROOT / "packages" / slug / "src" / module_of(slug) / "__init__.py").read_text()
    assert not re.search(r"__version__\s*=\s*['\"]", init), (
        "read the version with pkg_shared.package.version_of"
    )
    version = importlib.import_module(module_of(slug)).__version__
    if version == "0+unknown":
        pytest.skip("not installed (run from a source tree)")
    assert version == pyproject(slug)["project"]["version"]


@pytest.mark.parametrize("slug", SLUGS)
def test_pypi_page_ready(slug):
    """A package README is its PyPI page: no ../shared paths; LICENSE, classifiers, URLs, authors, py.typed."""
    text = readme(slug)
    assert "../shared" not in text, "the PyPI page cannot link ../shared: name the layout and public source"
    folder = ROOT / "packages" / slug
    assert (folder / "LICENSE").is_file()
    assert (folder / "src" / module_of(slug) / "py.typed").is_file()
    project = pyproject(slug)["project"]
    for key in ("classifiers", "urls", "authors"):
        assert project.get(key), f"[project] {key} missing"
