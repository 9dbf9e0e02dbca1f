import pytest
import torch
from torch import nn

from pkg_hopfield import Hopfield, HopfieldLayer, HopfieldPooling
from pkg_shared.errors import UserError


@pytest.mark.parametrize("batch_first", [True, False])
def test_one_step_equals_multihead_attention(device, batch_first):
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(16, 4, batch_first=batch_first, kdim=12, vdim=10).to(device)
    hop = Hopfield(
        16, num_heads=4, stored_pattern_size=12, pattern_projection_size=10, batch_first=batch_first,
        normalize_state_pattern=False, normalize_stored_pattern=False, normalize_pattern_projection=False,
    ).to(device)  # fmt: skip
    assert hop.scaling == 0.5  # beta = 1/sqrt(head_dim), head_dim = 16 / 4
    with torch.no_grad():  # shared weights
        for proj, w, b in zip(
            (hop.q_proj, hop.k_proj, hop.v_proj),
            (mha.q_proj_weight, mha.k_proj_weight, mha.v_proj_weight),
            mha.in_proj_bias.chunk(3),
        ):
            proj.weight.copy_(w)
            proj.bias.copy_(b)
        hop.out_proj.load_state_dict(mha.out_proj.state_dict())
    shape = (lambda L: (3, L)) if batch_first else (lambda L: (L, 3))
    q, k, v = (torch.randn(*shape(L), d, device=device) for L, d in ((5, 16), (7, 12), (7, 10)))
    pad = torch.zeros(3, 7, dtype=torch.bool, device=device)
    pad[0, 4:] = True
    attn = torch.rand(5, 7, device=device) > 0.8
    ref, ref_w = mha(q, k, v, key_padding_mask=pad, attn_mask=attn, average_attn_weights=False)
    out, assoc = hop(q, k, v, stored_pattern_padding_mask=pad, association_mask=attn, return_association=True)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(assoc, ref_w, atol=1e-5, rtol=1e-5)
    fused = hop(q, k, v, stored_pattern_padding_mask=pad, association_mask=attn)
    torch.testing.assert_close(fused, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(
        Hopfield.from_multihead_attention(mha)(q, k, v), mha(q, k, v)[0], atol=1e-5, rtol=1e-5
    )


def test_permutation_invariance_and_equivariance():
    torch.manual_seed(0)
    y, perm = torch.randn(2, 9, 8), torch.randperm(9)
    pool = HopfieldPooling(8, num_heads=2, quantity=3).eval()
    torch.testing.assert_close(pool(y), pool(y[:, perm]))
    hop = Hopfield(8, num_heads=2, update_steps_max=2).eval()
    torch.testing.assert_close(hop(y)[:, perm], hop(y[:, perm]))


def test_gradcheck_double():
    torch.manual_seed(0)
    x = torch.randn(1, 3, 4, dtype=torch.float64, requires_grad=True)
    for layer in (
        Hopfield(4, num_heads=2, update_steps_max=2),
        HopfieldPooling(4, num_heads=2, quantity=2),
        HopfieldLayer(4, quantity=3, num_heads=2, lookup_weights_as_separated=True),
    ):
        assert torch.autograd.gradcheck(layer.double(), (x,), eps=1e-6, atol=1e-5)


def test_update_steps():
    torch.manual_seed(0)
    x = torch.randn(2, 6, 8)
    base = Hopfield(8, scaling=2.0, update_steps_max=0)
    iterated = Hopfield(8, scaling=2.0, update_steps_max=50, update_steps_eps=1e-7)
    iterated.load_state_dict(base.state_dict())
    _, p0 = base(x, return_association=True)
    out, p = iterated(x, return_association=True)
    assert not torch.allclose(p, p0)  # extra steps move the state
    k = iterated._heads(iterated.k_proj(iterated.norm_stored(x)), iterated.head_dim)
    torch.testing.assert_close(torch.softmax(2.0 * (p @ k) @ k.transpose(-2, -1), -1), p, atol=1e-5, rtol=0)
    stopped = Hopfield(8, scaling=2.0, update_steps_max=50, update_steps_eps=1e9)
    stopped.load_state_dict(base.state_dict())
    torch.testing.assert_close(stopped(x), base(x))  # converged at once: a single association


def test_dropout_acts_in_training_only():
    torch.manual_seed(0)
    hop, x = Hopfield(8, dropout=0.5), torch.randn(2, 5, 8)
    assert not torch.allclose(hop.train()(x), hop(x))
    torch.testing.assert_close(hop.eval()(x), hop(x))


def test_padding_is_ignored():
    torch.manual_seed(0)
    pool = HopfieldPooling(4).eval()
    y = torch.randn(1, 6, 4)
    pad = torch.tensor([[False, False, False, True, True, True]])
    torch.testing.assert_close(pool(y, stored_pattern_padding_mask=pad), pool(y[:, :3]))


@pytest.mark.parametrize(
    "call",
    [
        lambda: Hopfield(8)(torch.randn(2, 3, 7)),
        lambda: Hopfield(8)(torch.randn(2, 3, 8), torch.randn(3, 4, 8)),
        lambda: Hopfield(8)(
            torch.randn(2, 3, 8), stored_pattern_padding_mask=torch.zeros(2, 4, dtype=torch.bool)
        ),
        lambda: Hopfield(8)(torch.randn(2, 3, 8), association_mask=torch.zeros(3, 4, dtype=torch.bool)),
        lambda: Hopfield(8, scaling=0.0),
        lambda: Hopfield(8, num_heads=3),
        lambda: Hopfield(8, state_pattern_as_static=True, hidden_size=3),
        lambda: HopfieldPooling(8, quantity=0),
        lambda: Hopfield(8)(torch.randn(2, 3, 8), torch.randn(2, 0, 8)),
        lambda: HopfieldLayer(8, quantity=4)(torch.randn(2, 3, 8), association_mask=torch.zeros(3, 5) > 0),
    ],
)
def test_bad_input_raises_user_error(call):
    with pytest.raises(UserError):
        call()


@pytest.mark.parametrize("batch_first", [True, False])
def test_lookup_runs_the_memory_once_with_the_same_result(batch_first):
    torch.manual_seed(0)
    layer = HopfieldLayer(
        8, quantity=5, num_heads=2, lookup_weights_as_separated=True, batch_first=batch_first
    )
    layer.eval()
    r = torch.randn(3, 4, 8) if batch_first else torch.randn(4, 3, 8)
    mask = torch.rand(2 * 3, 4, 5) > 0.7
    memory = [w[:, None].expand(-1, 3, -1) for w in (layer.lookup_weights, layer.target_weights)]
    if batch_first:
        memory = [m.transpose(0, 1) for m in memory]
    expanded, p = layer.hopfield(r, *memory, association_mask=mask, return_association=True)
    out, q = layer(r, association_mask=mask, return_association=True)
    torch.testing.assert_close(out, expanded)
    torch.testing.assert_close(q, p)


def test_static_pooling_and_lookup():
    torch.manual_seed(0)
    pool = HopfieldPooling(6, hidden_size=4, num_heads=2, quantity=3, state_pattern_as_static=True)
    assert pool.pooling_weights.shape == (3, 8) and pool(torch.randn(2, 7, 6)).shape == (2, 18)
    lookup = HopfieldLayer(6, quantity=5, hidden_size=4, num_heads=2, stored_pattern_as_static=True)
    assert lookup.lookup_weights.shape == (5, 8) and lookup(torch.randn(2, 3, 6)).shape == (2, 3, 6)


def test_float_padding_mask_is_added_like_multihead_attention():
    """A float stored_pattern_padding_mask is added to the scores, as MHA's float key_padding_mask is."""
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    hop = Hopfield.from_multihead_attention(mha)
    x = torch.randn(3, 5, 8)
    bias = torch.randn(3, 5)  # finite additive mask: a bool reading would mask every nonzero entry
    bias[0, 1] = float("-inf")
    ref, ref_w = mha(x, x, x, key_padding_mask=bias, average_attn_weights=False)
    out, w = hop(x, stored_pattern_padding_mask=bias, return_association=True)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(w, ref_w, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(hop(x, stored_pattern_padding_mask=bias), ref, atol=1e-5, rtol=1e-5)
    hop.update_steps_max = 2  # the explicit path adds the same mask
    assert torch.isfinite(hop(x, stored_pattern_padding_mask=bias)).all()


@pytest.mark.parametrize("option", ["add_bias_kv", "add_zero_attn"])
def test_from_multihead_attention_refuses_what_it_cannot_copy(option):
    mha = nn.MultiheadAttention(8, 2, batch_first=True, **{option: True})
    with pytest.raises(UserError, match=option):
        Hopfield.from_multihead_attention(mha)


@pytest.mark.parametrize("steps", [0, 3])
@pytest.mark.parametrize("mask_kind", ["bool", "float"])
def test_fully_masked_state_retrieves_zero(steps, mask_kind):
    """Every stored pattern of a set masked: zero association row, output = the output bias, finite
    gradients; one step and extra steps agree (nn.MultiheadAttention gives NaN here)."""
    torch.manual_seed(0)
    hop = Hopfield(4, num_heads=2, update_steps_max=steps)
    nn.init.normal_(hop.out_proj.bias)
    x = torch.randn(2, 3, 4, requires_grad=True)
    pad = torch.tensor([[True] * 3, [False, True, False]])
    mask = pad if mask_kind == "bool" else torch.zeros(2, 3).masked_fill(pad, float("-inf"))
    out, p = hop(x, stored_pattern_padding_mask=mask, return_association=True)
    assert (p[0] == 0).all() and torch.isfinite(p).all()
    torch.testing.assert_close(out[0], hop.out_proj.bias.expand(3, -1))
    torch.testing.assert_close(hop(x, stored_pattern_padding_mask=mask), out)  # fused path agrees
    out.sum().backward()
    assert torch.isfinite(x.grad).all()


def test_reference_check_against_hflayers():
    """The side-by-side check with hflayers (``pkg-hopfield reference``): runs where hflayers is available
    (``HFLAYERS_PATH`` or installed), skipped otherwise."""
    from pkg_hopfield.reference import compare_with_hflayers, load_hflayers

    try:
        hf = load_hflayers()
    except UserError:
        pytest.skip("hflayers not available: set HFLAYERS_PATH to a checkout of ml-jku/hopfield-layers")
    rows = compare_with_hflayers(hf)
    assert len(rows) == 6
    for r in rows:
        assert r["output_max_diff"] <= 1e-10 and r["grad_max_diff"] <= 1e-10, r
