"""Side by side with FuxiCTR's FinalMLP / DualMLP (``pkg_finalmlp.reference``).

The comparison runs where ``fuxictr`` is importable and ``FUXICTR_FINALMLP_SRC`` names a checkout's
``model_zoo/FinalMLP/src``; otherwise only the command's clean refusal (exit 2) is tested.
"""

import os

import pytest

from pkg_finalmlp import reference
from pkg_finalmlp.cli import main


def _available() -> bool:
    try:
        import fuxictr  # noqa: F401
    except ImportError:
        return False
    return bool(os.environ.get(reference.ENV))


@pytest.mark.parametrize("case", list(reference.CASES))
def test_same_output_as_fuxictr_for_copied_weights(case):
    if not _available():
        pytest.skip(f"fuxictr and ${reference.ENV} are needed")
    classes = reference.load_reference()
    assert reference.forward_difference(classes, **reference.CASES[case]) <= reference.TOLERANCE


def test_reference_command_without_fuxictr_is_exit_2(run_cli, monkeypatch, tmp_path):
    if _available():
        pytest.skip("the reference is available")
    monkeypatch.setenv(reference.ENV, str(tmp_path))  # an empty folder: no FinalMLP.py there either
    code, _, err = run_cli(main, "reference")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "fuxictr" in err.lower() or "FinalMLP.py" in err
