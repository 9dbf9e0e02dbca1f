"""The robustness contract (CONVENTIONS.md "Command-line contract"), held against every package: bad input
is exit 2 with one line, before any work; a damaged copy of each real dataset a package reads is exit 2."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SLUGS = sorted(p.parent.name for p in ROOT.glob("packages/*/pyproject.toml"))


def cli(slug: str):
    return importlib.import_module("pkg_" + slug.replace("-", "_") + ".cli")


def one_line_exit_2(run_cli, main, *argv) -> str:
    code, _, err = run_cli(main, *argv)
    assert code == 2, f"{argv}: exit {code}, stderr {err!r}"
    assert len(err.strip().splitlines()) == 1, f"{argv}: stderr should be one line, got {err!r}"
    return err


@pytest.mark.parametrize("slug", SLUGS)
def test_unwritable_out_fails_before_work(slug, run_cli, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    t0 = time.perf_counter()
    one_line_exit_2(
        run_cli, cli(slug).main, "reproduce", "--out", blocker / "runs", "--device", "cpu", "--quiet"
    )
    assert time.perf_counter() - t0 < 10, "the output check must come before any work"


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize(
    "argv",
    [
        ("--seeds", "0"),
        ("--seed", "-1"),
        ("--dataset", "no-such-dataset"),
        ("--data-dir", "/no/such/folder"),
        ("--scale", "huge"),
    ],
    ids=["seeds-0", "seed-negative", "unknown-dataset", "missing-data-root", "unknown-scale"],
)
def test_bad_reproduce_options(slug, argv, run_cli, tmp_path):
    one_line_exit_2(
        run_cli, cli(slug).main, "reproduce", *argv, "--out", tmp_path, "--quiet", "--device", "cpu"
    )
    assert not any(tmp_path.rglob("results.json"))


@pytest.mark.parametrize("slug", SLUGS)
def test_cuda_without_gpu(slug, run_cli, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    one_line_exit_2(run_cli, cli(slug).main, "reproduce", "--device", "cuda", "--out", tmp_path, "--quiet")


def truncated_datasets():
    """(slug, dataset, files) for every ``App.data_files`` entry whose files the data root holds."""
    root = os.environ.get("PKG_DATA_DIR")
    out = []
    for slug in SLUGS:
        try:
            declared = cli(slug).app.data_files
        except Exception as e:  # collection must not break on one package: the test itself fails
            out.append(pytest.param(slug, None, [f"import failed: {e}"], id=f"{slug}-import-error"))
            continue
        for dataset, files in declared.items():
            present = root and all((Path(root) / f).is_file() for f in files)
            out.append(
                pytest.param(slug, dataset, files, marks=[] if present else pytest.mark.skip("data absent"))
            )
    return out or [pytest.param(None, None, None, marks=pytest.mark.skip("no package declares data files"))]


@pytest.mark.data
@pytest.mark.parametrize(("slug", "dataset", "files"), truncated_datasets())
def test_truncated_dataset_is_exit_2(slug, dataset, files, run_cli, tmp_path):
    """Each real file the package reads, cut to half its bytes, one at a time: exit 2 naming it."""
    assert dataset is not None, files[0]
    source = Path(os.environ["PKG_DATA_DIR"])
    for damaged in files:
        root = tmp_path / f"root-{Path(damaged).name}"
        for f in files:
            (root / f).parent.mkdir(parents=True, exist_ok=True)
            if f == damaged:
                data = (source / f).read_bytes()
                (root / f).write_bytes(data[: len(data) // 2])
            else:
                shutil.copyfile(source / f, root / f)
        err = one_line_exit_2(
            run_cli,
            cli(slug).main,
            "reproduce",
            "--scale",
            "smoke",
            "--seeds",
            "1",
            "--dataset",
            dataset,
            "--data-dir",
            root,
            "--out",
            tmp_path / "runs",
            "--quiet",
            "--device",
            "cpu",
        )
        assert Path(damaged).name in err, f"the error should name {damaged}: {err!r}"


@pytest.mark.parametrize("slug", SLUGS)
def test_cli_imports_no_heavy_library(slug):
    """``pkg-<slug> --help`` answers without importing torch, pandas, scikit-learn, matplotlib, scipy or numpy."""
    module = "pkg_" + slug.replace("-", "_")
    code = (
        f"import sys, {module}.cli as c\n"
        "heavy = [m for m in ('torch', 'pandas', 'sklearn', 'matplotlib', 'scipy', 'numpy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "c.app.parser().parse_args(['info'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-600:]


@pytest.mark.parametrize("slug", SLUGS)
def test_python_dash_m(slug):
    module = "pkg_" + slug.replace("-", "_")
    out = subprocess.run(
        [sys.executable, "-m", module, "--version"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and f"pkg-{slug}" in out.stdout, out.stderr[-400:]
