import numpy as np
import pytest

from pkg_din.experiment import bruteforce_gauc
from pkg_din.metrics import rela_impr
from pkg_shared.errors import UserError
from pkg_shared.metrics import gauc


def test_gauc_skips_single_class_users_and_matches_a_pair_count():
    rng = np.random.default_rng(0)
    group = np.repeat(np.arange(30), 7)
    label = (rng.random(len(group)) < 0.4).astype(float)
    label[group == 3] = 1.0  # one class only: skipped
    score = np.round(rng.random(len(group)), 1)  # ties count 1/2
    assert gauc(label, score, group) == pytest.approx(bruteforce_gauc(label, score, group), abs=1e-12)
    one_pair = np.array([1.0, 0.0, 1.0, 0.0]), np.array([0.9, 0.1, 0.2, 0.8]), np.array([0, 0, 1, 1])
    assert gauc(*one_pair) == 0.5  # the Amazon protocol: mean over users of 1[s_pos > s_neg]


def test_rela_impr_formula():
    assert rela_impr(0.7337, 0.7300) == pytest.approx(1.61, abs=0.01)  # Table 3, MovieLens DIN
    assert rela_impr(0.8871, 0.8624) == pytest.approx(6.82, abs=0.01)  # Table 3, Amazon DIN+Dice
    with pytest.raises(UserError):
        rela_impr(0.7, 0.5)
