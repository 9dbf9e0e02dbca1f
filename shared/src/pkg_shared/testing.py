"""A pytest plugin (loaded automatically where pkg-shared is installed) for every package's tests.

- Markers ``cuda``, ``slow`` and ``data`` are registered here, so ``--strict-markers`` works anywhere.
- ``cuda`` tests skip without a GPU, except with ``PKG_REQUIRE_CUDA=1`` (the CUDA session), where a
  missing GPU fails them.
- ``slow`` tests are skipped unless ``--slow`` is given or ``-m`` names ``slow``.
- ``data`` tests skip when the data root (``$PKG_DATA_DIR``) is not a folder.
- Fixtures: ``device`` (``"cpu"``, and ``"cuda"`` marked ``cuda``), ``data_dir`` (the data root),
  ``run_cli`` (calls a package's ``main`` and captures exit code, stdout and stderr).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from .data import ENV_VAR

MARKERS = {
    "cuda": "needs a CUDA GPU (skipped without one, fails in the CUDA session)",
    "slow": "longer than the default test budget (run with --slow or -m slow)",
    "data": "needs the data root ($PKG_DATA_DIR); skipped when absent",
}


def cuda_required() -> bool:
    return os.environ.get("PKG_REQUIRE_CUDA") == "1"


def data_root_present() -> Path | None:
    value = os.environ.get(ENV_VAR)
    return Path(value) if value and Path(value).is_dir() else None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", default=False, help="also run tests marked slow")


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run_slow = config.getoption("--slow") or "slow" in (config.getoption("-m") or "")
    import torch

    has_cuda = torch.cuda.is_available()
    has_data = data_root_present() is not None
    for item in items:
        if "slow" in item.keywords and not run_slow:
            item.add_marker(pytest.mark.skip(reason="slow: run with --slow"))
        if "cuda" in item.keywords and not has_cuda and not cuda_required():
            item.add_marker(pytest.mark.skip(reason="no CUDA GPU here"))
        if "data" in item.keywords and not has_data:
            item.add_marker(pytest.mark.skip(reason=f"no data root (set ${ENV_VAR})"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    if "cuda" in item.keywords and cuda_required():
        import torch

        if not torch.cuda.is_available():
            pytest.fail("PKG_REQUIRE_CUDA=1 but CUDA is not available", pytrace=False)


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request: pytest.FixtureRequest) -> str:
    """Run the test on the CPU and, marked ``cuda``, on the GPU."""
    return request.param


@pytest.fixture
def data_dir() -> Path:
    """The data root; tests using it should also be marked ``data``."""
    root = data_root_present()
    if root is None:
        pytest.skip(f"no data root (set ${ENV_VAR})")
    return root


def run_folder(out: str | Path, slug: str) -> Path:
    """The one run folder that ``reproduce --out <out>`` wrote under ``<out>/<slug>/``."""
    runs = sorted(Path(out, slug).glob("*/results.json"))
    assert len(runs) == 1, f"expected one run with results.json under {Path(out, slug)}, found {len(runs)}"
    return runs[0].parent


def read_results(out: str | Path, slug: str) -> dict[str, Any]:
    """The ``results.json`` of that run (see :func:`run_folder`)."""
    return json.loads((run_folder(out, slug) / "results.json").read_text())


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """``run_cli(main, *argv) -> (exit code, stdout, stderr)`` for a package's ``cli.main``."""

    def call(main: Callable[[Sequence[str]], int], *argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return call
