import numpy as np
import pytest
import torch

from pkg_hopfield.config import BitsConfig
from pkg_hopfield.data import Bags, bit_pattern_bags, load_mil_classic, mnist_bags, pad_bags
from pkg_hopfield.experiment import mil_bits
from pkg_hopfield.mil import MODELS, cross_validate, grid_points, make_mil_model
from pkg_shared.data import DatasetMissing


def test_pad_bags_groups_instances():
    inst = np.arange(12, dtype=np.float32).reshape(6, 2)
    bags = pad_bags(inst, np.array([1, 0, 1, 2, 1, 0]), np.array([0, 1, 0]))
    assert bags.x.shape == (3, 3, 2) and bags.pad.sum() == 3
    torch.testing.assert_close(bags.x[1, :3], torch.tensor(inst[[0, 2, 4]]))
    assert bags.pad[0].tolist() == [False, False, True]


def test_bit_pattern_bags_structure():
    bags = bit_pattern_bags(num_bags=256, seed=1)
    codes = (bags.x.long() * 2 ** torch.arange(8)).sum(-1)
    counts = torch.bincount(codes.flatten(), minlength=256)
    signals = torch.nonzero((codes[bags.y == 1][:, :, None] == codes[bags.y == 1][:, None, :]).any(-1).all(0))
    assert bags.y.float().mean() == 0.5 and signals.numel() > 0 and counts.sum() == 256 * 16
    neg, pos = codes[bags.y == 0], codes[bags.y == 1]
    signal_codes = torch.tensor([c for c in pos.unique().tolist() if c not in neg.unique().tolist()])
    assert len(signal_codes) <= 8 and torch.isin(pos, signal_codes).sum(1).eq(1).all()


@pytest.mark.parametrize("kind", MODELS)
def test_models_ignore_padding(kind):
    torch.manual_seed(0)
    model = make_mil_model(kind, 5, 8, 0.0).eval()
    x = torch.randn(2, 6, 5)
    pad = torch.zeros(2, 6, dtype=torch.bool)
    pad[:, 4:] = True
    y = x.clone()
    y[:, 4:] = 100.0
    torch.testing.assert_close(model(x, pad), model(y, pad))
    torch.testing.assert_close(model(x, pad), model(x[:, :4], pad[:, :4]))


def test_missing_mil_data_is_named(tmp_path):
    with pytest.raises(DatasetMissing, match="tiger.npz"):
        load_mil_classic("tiger", tmp_path)


@pytest.mark.data
def test_real_mil_data(data_dir):
    bags, masks = load_mil_classic("elephant", data_dir)
    assert bags.x.shape[0] == 200 and (~bags.pad).sum() == 1391 and masks.shape == (5, 10, 200)
    train, test = mnist_bags(data_dir, 20, 10)
    assert train.x.shape[-1] == 784 and len(test.y) == 10


@pytest.mark.slow
def test_bit_pattern_mil_regression():
    res = mil_bits(BitsConfig(), seed=0, device=torch.device("cpu"))
    assert res["bits_hopfield_accuracy"] >= 0.95 and res["bits_mean_accuracy"] < 0.8


def test_grid_points():
    assert grid_points({}) == [{}]
    assert grid_points({"a": (1, 2), "b": (3,)}) == [{"a": 1, "b": 3}, {"a": 2, "b": 3}]


def test_nested_cv_picks_the_learning_rate_that_learns():
    """Positive bags hold one instance with a large first feature; lr 1e-9 cannot learn it in 8 epochs."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(60, 4, 3, generator=g)
    y = (torch.arange(60) % 2).long()
    x[y == 1, 0, 0] += 4.0
    bags = Bags(x, torch.zeros(60, 4, dtype=torch.bool), y)
    mask = torch.ones(3, 60, dtype=torch.bool)
    for k in range(3):
        mask[k, k::3] = False  # three outer folds

    def build(point):
        return make_mil_model("mean", 3, 8, 0.0)

    res = cross_validate(build, bags, mask, epochs=8, grid={"lr": (1e-9, 3e-2)}, inner_folds=2,
                         batch_size=10)  # fmt: skip
    assert [c["lr"] for c in res["chosen"]] == [3e-2] * 3 and res["auc"] > 0.9


@pytest.mark.parametrize(("kind", "steps"), [*((k, 0) for k in MODELS), ("hopfield", 3)])
def test_empty_bag_pools_to_zero_with_finite_gradients(kind, steps):
    """A bag whose instances are all padding: the pooled vector is 0 (logit = the head's bias), no NaN in
    the output or the gradients, and the other bags of the batch are unaffected."""
    torch.manual_seed(0)
    extra = {"update_steps_max": steps} if kind == "hopfield" else {}
    model = make_mil_model(kind, 5, 8, 0.0, **extra).eval()
    x = torch.randn(2, 4, 5, requires_grad=True)
    pad = torch.tensor([[True] * 4, [False, False, True, True]])
    out = model(x, pad)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out[0], model.head.bias[0] if kind != "hopfield" else model.head(
        model.pool.hopfield.out_proj.bias.repeat(model.pool.pooling_weights.shape[0]))[0])  # fmt: skip
    torch.testing.assert_close(out[1:], model(x[1:, :2], pad[1:, :2]))
    out.sum().backward()
    assert torch.isfinite(x.grad).all() and all(torch.isfinite(p.grad).all() for p in model.parameters()
                                                if p.grad is not None)  # fmt: skip
