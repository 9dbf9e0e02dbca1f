"""The scaffold makes a package that keeps the contract, and refuses bad or existing slugs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "new_package.py"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True)


def copy_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("README.md", "pyproject.toml", "tools", "tests"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, repo / name)
    (repo / "packages").mkdir()
    return repo


def test_bad_and_existing_slugs(tmp_path):
    repo = copy_repo(tmp_path)
    for bad in ("Bad", "1abc", "a_b", "a--b", "-a", ""):
        r = run(bad, "--no-lock", cwd=repo)
        assert r.returncode == 2 and "slug" in r.stderr, bad
    assert run("demo-paper", "--no-lock", cwd=repo).returncode == 0
    r = run("demo-paper", "--no-lock", cwd=repo)
    assert r.returncode == 2 and "exists" in r.stderr


def test_scaffolded_package_keeps_the_contract(tmp_path):
    repo = copy_repo(tmp_path)
    assert run("demo-paper", "--no-lock", cwd=repo).returncode == 0
    pkg = repo / "packages" / "demo-paper"
    assert (pkg / "src" / "pkg_demo_paper" / "cli.py").is_file()
    assert "(packages/demo-paper/)" in (repo / "README.md").read_text()
    # The generated package's own tests and the repository contract tests pass on it unchanged.
    env_path = f"{pkg / 'src'}"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(pkg / "tests"),
            str(repo / "tests" / "test_contract.py"),
            str(repo / "tests" / "test_robust.py"),
            str(repo / "tests" / "test_results.py"),
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": env_path},
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
