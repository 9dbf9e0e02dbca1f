"""Side by side with DeepCTR-Torch and FuxiCTR (pkg_din.reference; skipped where they are not installed)."""

import pytest

from pkg_din import reference


def test_attention_matches_deepctr_for_copied_weights():
    pytest.importorskip("deepctr_torch.layers.sequence")
    assert reference.attention_vs_deepctr() <= 1e-5


@pytest.mark.parametrize("act", ["prelu", "dice"])
def test_attention_matches_fuxictr_for_copied_weights(act):
    pytest.importorskip("fuxictr.pytorch.layers")
    assert reference.attention_vs_fuxictr(act) <= 1e-5


def test_dice_matches_fuxictr():
    pytest.importorskip("fuxictr.pytorch.layers")
    assert reference.dice_vs_fuxictr() <= 1e-10


def test_reference_command_without_the_libraries_is_exit_2(run_cli):
    pytest.importorskip("pkg_din.cli")
    try:
        import deepctr_torch  # noqa: F401
        import fuxictr  # noqa: F401

        pytest.skip("the reference libraries are installed")
    except ImportError:
        pass
    from pkg_din.cli import main

    code, _, err = run_cli(main, "reference")
    assert code == 2 and "not installed" in err and len(err.strip().splitlines()) == 1
