"""Layer normalisation (eqs. 3-4) and the MLP baselines of Section 6.6, checked against torch and the paper."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from pkg_layernorm.data import digits_split
from pkg_layernorm.layers import (
    MLP,
    NORMS,
    BatchNormLinear,
    LayerNorm,
    LNLinear,
    WeightNormLinear,
    layer_norm,
)
from pkg_shared.errors import UserError

EPS = 1e-5


def _randn(*shape: int, seed: int = 0, device: torch.device | str = "cpu") -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=gen, dtype=torch.float64).to(device)


@pytest.mark.parametrize("shape", [(4, 6), (3, 5, 6)], ids=["B,H", "B,T,H"])
def test_layer_norm_matches_torch_forward_and_gradients(shape, device):
    hidden = shape[-1]
    x = _randn(*shape, seed=0, device=device).requires_grad_()
    gain = _randn(hidden, seed=1, device=device).requires_grad_()
    bias = _randn(hidden, seed=2, device=device).requires_grad_()
    ours = layer_norm(x, gain, bias, EPS)
    reference = F.layer_norm(x, (hidden,), gain, bias, EPS)
    torch.testing.assert_close(ours, reference, atol=1e-6, rtol=0)

    upstream = _randn(*shape, seed=3, device=device)
    grads = torch.autograd.grad(ours, (x, gain, bias), upstream)
    reference_grads = torch.autograd.grad(reference, (x, gain, bias), upstream)
    for grad, reference_grad in zip(grads, reference_grads):
        torch.testing.assert_close(grad, reference_grad, atol=1e-6, rtol=0)
    assert torch.autograd.gradcheck(layer_norm, (x, gain, bias))


def test_layer_norm_without_affine_matches_torch():
    x = _randn(5, 7)
    torch.testing.assert_close(layer_norm(x), F.layer_norm(x, (7,), eps=EPS), atol=1e-12, rtol=0)
    assert list(LayerNorm(7, elementwise_affine=False).parameters()) == []


def test_layer_norm_module_matches_torch_module(device):
    ours = LayerNorm(6).double().to(device)
    reference = nn.LayerNorm(6, eps=EPS).double().to(device)
    assert torch.equal(ours.gain, torch.ones_like(ours.gain))
    assert torch.equal(ours.bias, torch.zeros_like(ours.bias))
    with torch.no_grad():
        for seed, (p, q) in enumerate(((ours.gain, reference.weight), (ours.bias, reference.bias))):
            p.copy_(_randn(6, seed=seed, device=device))
            q.copy_(p)
    x = _randn(3, 4, 6, device=device)
    torch.testing.assert_close(ours(x), reference(x), atol=1e-12, rtol=0)


def test_per_sample_mean_zero_and_biased_variance_one():
    x = 3.0 * _randn(8, 32) + 5.0
    y = LayerNorm(32).double()(x)
    var_x = x.var(dim=-1, unbiased=False)
    var_y = y.var(dim=-1, unbiased=False)
    assert y.mean(dim=-1).abs().max() < 1e-12
    torch.testing.assert_close(var_y, var_x / (var_x + EPS), atol=1e-12, rtol=0)
    assert ((1 - var_y) >= 0).all() and ((1 - var_y) < 10 * EPS).all()


@pytest.mark.parametrize(("norm", "independent"), [("ln", True), ("none", True), ("bn", False)])
def test_output_of_one_case_does_not_depend_on_the_rest_of_the_batch(norm, independent):
    model = MLP((10, 12, 12, 3), norm).double().train()
    x = _randn(16, 10)
    others = x[1:][torch.randperm(15, generator=torch.Generator().manual_seed(0))]
    perturbed = torch.cat([x[:1], 3.0 * others + 1.0])
    with torch.no_grad():
        same = torch.allclose(model(x)[0], model(perturbed)[0], atol=1e-12, rtol=0)
    assert same is independent


def test_layer_norm_works_with_a_batch_of_one():
    model = MLP((10, 12, 3), "ln").double().train()
    x = _randn(4, 10)
    with torch.no_grad():
        torch.testing.assert_close(model(x[2:3]), model(x)[2:3], atol=1e-12, rtol=0)


@pytest.mark.parametrize(("norm", "identical"), [("ln", True), ("none", True), ("bn", False)])
def test_train_and_eval_outputs(norm, identical, device):
    model = MLP((10, 12, 12, 3), norm).double().to(device)
    x = _randn(16, 10, device=device)
    with torch.no_grad():
        y_train = model.train()(x)
        y_eval = model.eval()(x)
    assert torch.equal(y_train, y_eval) is identical


def test_ln_linear_is_layer_norm_of_the_summed_inputs():
    layer = LNLinear(5, 4).double()
    assert {name for name, _ in layer.named_parameters()} == {"linear.weight", "norm.gain", "norm.bias"}
    with torch.no_grad():
        layer.norm.gain.copy_(_randn(4, seed=1))
        layer.norm.bias.copy_(_randn(4, seed=2))
    x = _randn(3, 5)
    expected = F.layer_norm(x @ layer.linear.weight.T, (4,), layer.norm.gain, layer.norm.bias, EPS)
    torch.testing.assert_close(layer(x), expected, atol=1e-12, rtol=0)


def test_batch_norm_linear_has_no_linear_bias():
    layer = BatchNormLinear(5, 4)
    assert layer.linear.bias is None
    assert isinstance(layer.norm, nn.BatchNorm1d)


def test_weight_norm_linear_normalises_each_row():
    layer = WeightNormLinear(5, 4).double()
    with torch.no_grad():
        layer.magnitude.copy_(_randn(4, 1, seed=1))
    v = layer.direction
    expected = layer.magnitude * v / v.norm(dim=1, keepdim=True)
    torch.testing.assert_close(layer.linear.weight, expected, atol=1e-12, rtol=0)
    x = _randn(3, 5)
    torch.testing.assert_close(layer(x), x @ expected.T + layer.linear.bias, atol=1e-12, rtol=0)


@pytest.mark.parametrize("norm", NORMS)
def test_mlp_structure_shapes_and_gradients(norm, device):
    split = digits_split()
    model = MLP((64, 20, 20, 10), norm).to(device)
    hidden_type = {"none": nn.Linear, "bn": BatchNormLinear, "ln": LNLinear}[norm]
    assert [type(m) for m in model] == [hidden_type, nn.ReLU, hidden_type, nn.ReLU, nn.Linear]
    assert model[-1].bias is not None
    logits = model(split.x_train[:8].to(device))
    assert logits.shape == (8, 10)
    F.cross_entropy(logits, split.y_train[:8].to(device)).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name


def test_mlp_activation_and_bad_options():
    assert isinstance(MLP((4, 5, 2), "ln", activation=nn.Tanh)[1], nn.Tanh)
    assert len(MLP((4, 2), "bn")) == 1
    with pytest.raises(UserError, match="'layer'"):
        MLP((4, 5, 2), "layer")
    with pytest.raises(UserError, match="sizes"):
        MLP((4,), "ln")


def test_digits_split():
    split = digits_split()
    assert split.x_train.shape == (1257, 64) and split.x_test.shape == (540, 64)
    assert split.x_train.dtype == torch.float32 and split.y_train.dtype == torch.int64
    assert split.x_train.min() >= 0 and split.x_train.max() == 1
    test_share = torch.bincount(split.y_test) / (torch.bincount(split.y_train) + torch.bincount(split.y_test))
    assert (test_share - 0.3).abs().max() < 0.01
    assert all(torch.equal(a, b) for a, b in zip(split, digits_split()))


@pytest.mark.parametrize("shape", [(6, 10), (3, 4, 10)])
def test_fused_and_explicit_modules_agree_forward_and_backward(shape):
    torch.manual_seed(0)
    fused, explicit = LayerNorm(10).double(), LayerNorm(10, impl="explicit").double()
    with torch.no_grad():
        for p in (*fused.parameters(), *explicit.parameters()):
            p.copy_(torch.linspace(-1, 2, 10, dtype=torch.float64))
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    y_f, y_e = fused(x), explicit(x)
    torch.testing.assert_close(y_f, y_e, rtol=0, atol=1e-12)
    g = torch.randn_like(y_f)
    grads_f = torch.autograd.grad(y_f, (x, fused.gain, fused.bias), g)
    grads_e = torch.autograd.grad(y_e, (x, explicit.gain, explicit.bias), g)
    for a, b in zip(grads_f, grads_e):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-10)
    with pytest.raises(UserError, match="impl"):
        LayerNorm(10, impl="triton")
