"""The small-scale numbers against the spec's measurement (torch 2.13 CPU, 3 seeds), within ±1.5 points."""

import pytest
import torch

from pkg_layernorm.config import PRESETS
from pkg_layernorm.data import digits_split
from pkg_layernorm.experiment import batchsize_experiment

# spec "Small-scale reproduction", item 2: test accuracy (%) per (norm, batch size)
SPEC_ACCURACY = {
    "none_b128": 94.4, "bn_b128": 98.8, "ln_b128": 98.0,
    "none_b4": 95.1, "bn_b4": 97.8, "ln_b4": 98.8,
}  # fmt: skip


@pytest.mark.slow
def test_batchsize_numbers_match_the_spec():
    cfg = PRESETS["small"].batchsize
    runs = [batchsize_experiment(digits_split(0), cfg, seed=s, device=torch.device("cpu")) for s in range(3)]
    for key, expected in SPEC_ACCURACY.items():
        measured = sum(r[key]["accuracy"] for r in runs) / len(runs)
        assert measured == pytest.approx(expected, abs=1.5), key
