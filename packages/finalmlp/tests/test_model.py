from dataclasses import replace

import pytest
import torch
from torch import nn

from pkg_finalmlp import CTRModel, InteractionAggregation, ModelConfig
from pkg_finalmlp.experiment import gate_identity_error
from pkg_shared.errors import UserError

FIELDS = {"user": 7, "item": 9, "a": 3, "b": 4}
SMALL = ModelConfig(mlp1=(12, 8), mlp2=(6,), fs_hidden=(5,), heads=2, dropout1=0.1, dropout2=0.1)


def batch(n=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.stack([torch.randint(0, v, (n,), generator=g) for v in FIELDS.values()], 1)


def test_bilinear_equals_a_loop_over_heads():
    torch.manual_seed(0)
    agg = InteractionAggregation(12, 6, heads=3).double()
    agg.init_weights()
    nn.init.normal_(agg.w1.bias)
    nn.init.normal_(agg.w2.bias)
    o1, o2 = torch.randn(5, 12, dtype=torch.double), torch.randn(5, 6, dtype=torch.double)
    expected = agg.w1.bias + agg.w2.bias + o1 @ agg.w1.weight[0] + o2 @ agg.w2.weight[0]
    for j in range(3):
        a, b = o1[:, 4 * j : 4 * j + 4], o2[:, 2 * j : 2 * j + 2]
        expected = expected + torch.einsum("bx,xy,by->b", a, agg.w3[j], b)
    torch.testing.assert_close(agg(o1, o2), expected, rtol=1e-12, atol=1e-12)


def test_bilinear_matches_fuxictr_layout():
    """FuxiCTR keeps W_3 as a (K*dx*dy, 1) tensor viewed (K, dx, dy); same numbers, same init scale."""
    torch.manual_seed(0)
    agg = InteractionAggregation(400, 100, heads=5)
    agg.init_weights()
    fan = 5 * 80 * 20
    assert agg.w3.std().item() == pytest.approx((2 / (fan + 1)) ** 0.5, rel=0.05)


@pytest.mark.parametrize("d1, d2, heads", [(12, 6, 4), (10, 5, 3), (8, 8, 0)])
def test_heads_must_divide_both_widths(d1, d2, heads):
    with pytest.raises(UserError, match="must divide"):
        InteractionAggregation(d1, d2, heads)
    with pytest.raises(UserError, match="must divide"):
        CTRModel(FIELDS, replace(SMALL, mlp1=(d1,), mlp2=(d2,), heads=heads))


def test_gate_is_identity_at_init_with_empty_contexts():
    assert gate_identity_error(FIELDS, SMALL) == 0.0
    model = CTRModel(FIELDS, SMALL)  # with contexts the gate is 2*sigmoid(MLP(c)): not 1 in general
    ctx = CTRModel(FIELDS, replace(SMALL, fs1_context=("user",), fs2_context=("item", "a")))
    x = batch()
    e = ctx.embedding(x).flatten(1)
    assert torch.equal(model.streams_input(x)[0], model.embedding(x).flatten(1))
    assert not torch.equal(ctx.streams_input(x)[0], e)
    assert ctx.gates[1].context_embedding.table is not ctx.embedding.table  # own context tables


def test_half_gates_and_zero_bilinear_give_two_linear_readouts():
    torch.manual_seed(0)
    model = CTRModel(FIELDS, replace(SMALL, fs1_context=("user",))).eval()
    for gate in model.gates:
        nn.init.zeros_(gate.mlp[-1].weight)
        nn.init.zeros_(gate.mlp[-1].bias)  # sigmoid(0) = 0.5 -> factor 1 whatever the context
    nn.init.zeros_(model.fusion.w3)
    x = batch()
    e = model.embedding(x).flatten(1)
    expected = (model.fusion.w1(model.mlp1(e)) + model.fusion.w2(model.mlp2(e))).squeeze(-1)
    torch.testing.assert_close(model(x), expected)


def test_embedding_regulariser_is_half_lambda_squared_tables():
    torch.manual_seed(0)
    model = CTRModel(FIELDS, replace(SMALL, fs1_context=("user",), fs2_context=("item",)))
    tables = [model.embedding.field_table(f) for f in range(len(FIELDS))]
    tables += [
        model.gates[0].context_embedding.field_table(0),
        model.gates[1].context_embedding.field_table(0),
    ]
    with torch.no_grad():
        manual = sum(float((t.double() ** 2).sum()) for t in tables) / 2
        value = float(model.embedding_l2())
    assert value == pytest.approx(manual, rel=1e-6) and value > 0


def test_one_gather_equals_per_field_tables():
    model = CTRModel(FIELDS, SMALL)
    x = batch()
    out = model.embedding(x)
    for f in range(len(FIELDS)):
        torch.testing.assert_close(out[:, f], model.embedding.field_table(f)[x[:, f]])
    assert torch.all(model.embedding.table.weight[0] == 0)  # shared padding row


@pytest.mark.parametrize("kind", ["finalmlp", "dualmlp", "dnn"])
def test_shapes_and_gradients(kind, device):
    model = CTRModel(FIELDS, replace(SMALL, model=kind, fs1_context=("a",), fs2_context=("user",))).to(device)
    z = model(batch().to(device))
    assert z.shape == (32,)
    z.sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, missing
    if kind != "finalmlp":
        assert model.gates is None and model.fusion is None
        assert model.mlp1[-1].out_features == 1


def test_ablations_remove_components():
    assert CTRModel(FIELDS, replace(SMALL, use_fs=False)).gates is None
    assert CTRModel(FIELDS, replace(SMALL, bilinear=False)).fusion.w3 is None
    with pytest.raises(UserError, match="context field"):
        CTRModel(FIELDS, replace(SMALL, fs1_context=("nope",)))


def test_empty_context_gate_trains_only_its_output_bias_at_init():
    """b_i = 0 and zero Linear biases give ReLU(0) = 0 inside the gate MLP: at initialisation only the
    gate's last bias receives a gradient (as in FuxiCTR, whose init is the same)."""
    model = CTRModel(FIELDS, SMALL)
    model(batch()).sum().backward()
    gate = model.gates[0]
    assert gate.context_bias.grad.abs().sum() == 0 and gate.mlp[0].weight.grad.abs().sum() == 0
    assert gate.mlp[-1].bias.grad.abs().sum() > 0
