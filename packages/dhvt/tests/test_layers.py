"""HI-MHSA and DAFF against hand-written computations of the paper's equations, and their invariants."""

import math

import torch
import torch.nn.functional as F
from timm.layers import Attention

from pkg_dhvt.layers import DAFF, HIAttention


def _randomise(module: torch.nn.Module, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)


def test_hi_mhsa_equals_step_by_step_computation():
    """Spec step 4 on B=1, N+1=5 tokens, D=8, h=2, written out without the module's code paths."""
    torch.manual_seed(0)
    B, n, D, h = 1, 5, 8, 2
    d = D // h
    attn = HIAttention(D, h).double()
    _randomise(attn)
    x = torch.randn(B, n, D, dtype=torch.float64)
    # a. head tokens: per-head channel-group mean over all n tokens, Linear(d->D), LN over d, GELU, + E_head
    heads = []
    for i in range(h):
        mean = x[0, :, i * d : (i + 1) * d].mean(dim=0)
        z = attn.ht_proj.weight @ mean + attn.ht_proj.bias
        chunks = []
        for j in range(h):
            c = z[j * d : (j + 1) * d]
            c = (c - c.mean()) / torch.sqrt(c.var(unbiased=False) + attn.ht_norm.eps)
            chunks.append(F.gelu(c * attn.ht_norm.weight + attn.ht_norm.bias))
        heads.append(torch.cat(chunks) + attn.head_embed[0, i])
    seq = torch.cat([x[0], torch.stack(heads)])  # (n + h) x D
    # b. MHSA over the n + h tokens
    qkv = seq @ attn.qkv.weight.T + attn.qkv.bias
    q, k, v = qkv[:, :D], qkv[:, D : 2 * D], qkv[:, 2 * D :]
    outs = []
    for i in range(h):
        s = slice(i * d, (i + 1) * d)
        a = torch.softmax(q[:, s] @ k[:, s].T / math.sqrt(d), dim=-1)
        outs.append(a @ v[:, s])
    o = torch.cat(outs, dim=1) @ attn.proj.weight.T + attn.proj.bias
    # c. cls += mean of head-token outputs; drop head tokens
    expected = torch.cat([o[:1] + o[n:].mean(dim=0, keepdim=True), o[1:n]])
    torch.testing.assert_close(attn(x)[0], expected, rtol=1e-9, atol=1e-6)


def test_attention_sees_head_tokens():
    attn = HIAttention(16, 4)
    seen = []
    attn.qkv.register_forward_hook(lambda m, inp, out: seen.append(inp[0].shape[1]))
    out = attn(torch.randn(2, 10, 16))
    assert seen == [10 + 4] and out.shape == (2, 10, 16)


def test_without_head_tokens_the_attention_is_timms():
    """HI-MHSA = timm's Attention on [X; head tokens]: with the same qkv/proj weights the patch outputs of
    plain timm Attention on the concatenation agree, and the cls output differs by the head-token mean."""
    torch.manual_seed(0)
    hi = HIAttention(16, 4)
    ref = Attention(16, num_heads=4, qkv_bias=True)
    ref.load_state_dict({k: v for k, v in hi.state_dict().items() if k.startswith(("qkv", "proj"))})
    x = torch.randn(2, 10, 16)
    full = ref(torch.cat([x, hi.head_tokens(x)], dim=1))
    out = hi(x)
    torch.testing.assert_close(out[:, 1:], full[:, 1:10])
    torch.testing.assert_close(out[:, :1], full[:, :1] + full[:, 10:].mean(dim=1, keepdim=True))


def test_head_token_layernorm_is_over_d():
    attn = HIAttention(16, 4)
    assert attn.ht_norm.normalized_shape == (4,) and attn.head_embed.shape == (1, 4, 16)


def _daff(dim: int = 8) -> DAFF:
    torch.manual_seed(0)
    daff = DAFF(dim, 4 * dim)
    _randomise(daff, 1)
    return daff.eval()


def test_daff_class_token_is_reweighted_exactly():
    daff = _daff()
    x = torch.randn(2, 1 + 16, 8)
    out = daff(x)
    t = out[:, 1:].transpose(1, 2).reshape(2, 8, 4, 4)
    w = daff.excitation(F.gelu(daff.compress(t.mean(dim=(2, 3)))))  # Eq. 4, no sigmoid
    assert torch.equal(out[:, 0], x[:, 0] * w)


def test_daff_patches_ignore_the_class_token():
    daff = _daff()
    x = torch.randn(2, 17, 8)
    y = x.clone()
    y[:, 0] += 10.0
    assert torch.equal(daff(x)[:, 1:], daff(y)[:, 1:])


def test_daff_locality_is_the_3x3_neighbourhood():
    daff = _daff()
    x = torch.randn(1, 1 + 36, 8)
    i, j = 2, 3
    y = x.clone()
    y[0, 1 + i * 6 + j] += 1.0
    diff = (daff(y) - daff(x))[0, 1:].abs().amax(dim=-1).reshape(6, 6)
    changed = diff > 0
    expected = torch.zeros(6, 6, dtype=torch.bool)
    expected[i - 1 : i + 2, j - 1 : j + 2] = True
    assert torch.equal(changed, expected)


def test_daff_needs_a_square_grid():
    import pytest

    from pkg_shared.errors import UserError

    with pytest.raises(UserError, match="square"):
        _daff()(torch.randn(1, 1 + 12, 8))
