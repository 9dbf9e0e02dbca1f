import pytest
import torch

from pkg_din.layers import Dice, LocalActivationUnit, PReLU
from pkg_shared.errors import UserError


def _inputs(b=4, length=6, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    e = torch.randn(b, length, d, generator=g, dtype=torch.float64)
    v = torch.randn(b, d, generator=g, dtype=torch.float64)
    mask = torch.ones(b, length, dtype=torch.bool)
    mask[0, 3:] = False
    mask[1, :] = False  # an empty history
    return e, v, mask


def _unit(d=8, **kw):
    torch.manual_seed(0)
    return LocalActivationUnit(d, (36,), **kw).double()


def test_masked_positions_get_weight_exactly_zero_and_output_is_weighted_sum():
    unit = _unit()
    e, v, mask = _inputs()
    a = unit.weights(e, v, mask)
    assert torch.all(a[~mask] == 0)
    assert torch.allclose(unit(e, v, mask), torch.einsum("bl,bld->bd", a, e))
    assert torch.all(unit(e, v, mask)[1] == 0)  # empty history -> zero vector, no NaN


def test_first_layer_is_the_four_part_concatenation():
    unit = _unit()
    e, v, _ = _inputs()
    vv = v.unsqueeze(1).expand_as(e)
    expected = unit.ffn[0](torch.cat([e, vv, e - vv, e * vv], dim=-1))
    assert torch.allclose(unit._first_layer(e, v), expected, atol=1e-12)


def test_outer_unit_input_is_the_papers_out_product():
    unit = _unit(unit_input="outer")
    e, v, mask = _inputs()
    vv = v.unsqueeze(1).expand_as(e)
    outer = (e.unsqueeze(-1) * vv.unsqueeze(-2)).flatten(-2)  # vec(e_j v^T), row-major
    expected = unit.ffn[0](torch.cat([e, vv, outer], dim=-1))
    assert unit.ffn[0].in_features == 2 * 8 + 8 * 8
    assert torch.allclose(unit._first_layer(e, v), expected, atol=1e-12)
    assert torch.all(unit.weights(e, v, mask)[~mask] == 0)
    with pytest.raises(UserError, match="unit input"):
        LocalActivationUnit(8, unit_input="inner")


def test_identical_history_gives_sum_of_weights_times_item():
    unit = _unit()
    item = torch.randn(1, 1, 8, dtype=torch.float64)
    e = item.expand(2, 5, 8).clone()
    v = torch.randn(2, 8, dtype=torch.float64)
    mask = torch.ones(2, 5, dtype=torch.bool)
    a = unit.weights(e, v, mask)
    assert torch.allclose(unit(e, v, mask), a.sum(1, keepdim=True) * item[0])


def test_no_softmax_unless_asked():
    e, v, mask = _inputs()
    plain = _unit().weights(e, v, mask)
    assert not torch.allclose(plain[2].sum(), torch.tensor(1.0, dtype=torch.float64))
    soft = _unit(softmax=True)
    w = soft.weights(e, v, mask)
    assert torch.allclose(w[[0, 2, 3]].sum(1), torch.ones(3, dtype=torch.float64))
    assert torch.all(w[~mask] == 0) and torch.all(w[1] == 0) and torch.isfinite(soft(e, v, mask)).all()


def test_dice_closed_forms_in_eval_mode():
    dice = Dice(5).double().eval()  # running mean 0, var 1 at init
    s = torch.randn(7, 5, dtype=torch.float64)
    assert torch.allclose(dice(s), torch.sigmoid(s / (1 + 1e-8) ** 0.5) * s)
    assert torch.allclose(dice(s), torch.sigmoid(s) * s, atol=1e-7)
    with torch.no_grad():
        dice.alpha.fill_(1.0)
    assert torch.allclose(dice(s), s)


def test_dice_train_mode_uses_per_unit_batch_statistics():
    dice = Dice(3).double().train()
    s = torch.randn(4, 6, 3, dtype=torch.float64) * torch.tensor([1.0, 5.0, 0.1]) + torch.tensor(
        [2.0, -1.0, 0.0]
    )
    flat = s.reshape(-1, 3)
    z = (flat - flat.mean(0)) / (flat.var(0, unbiased=False) + 1e-8).sqrt()
    p = torch.sigmoid(z).reshape(s.shape)
    assert torch.allclose(dice(s), p * s)
    assert torch.allclose(dice.norm.running_mean, 0.01 * flat.mean(0))  # momentum 0.01


@pytest.mark.parametrize("alpha", [0.0, 0.25])
def test_prelu_is_dice_with_a_step_gate(alpha):
    prelu = PReLU(4, init=alpha)
    s = torch.randn(3, 2, 4)
    assert torch.allclose(prelu(s), torch.where(s > 0, s, alpha * s))


def test_prelu_starts_at_the_official_slope():
    from pkg_din.layers import PReLU

    assert torch.equal(PReLU(3).alpha, torch.full((3,), 0.1))  # official code and FuxiCTR: 0.1
