"""The small-scale mechanism numbers against the committed small run (results/small.json, seed 0, torch 2.15
CPU, one thread), within ±0.02."""

import pytest
import torch

from pkg_din.config import PRESETS
from pkg_din.experiment import mechanism
from pkg_shared.cli import RunContext
from pkg_shared.io import RunDir

FIRST_RUN = {"synthetic_base_auc": 0.7576, "synthetic_din_auc": 0.7115}


@pytest.mark.slow
def test_mechanism_numbers_match_the_first_run(tmp_path):
    run = RunDir.create(tmp_path, "din", 0)
    ctx = RunContext("small", 0, torch.device("cpu"), run, tmp_path, None, quiet=True)
    measured = mechanism(ctx, PRESETS["small"])
    for key, expected in FIRST_RUN.items():
        assert measured[key] == pytest.approx(expected, abs=0.02), key
