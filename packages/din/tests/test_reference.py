"""Side by side with DeepCTR-Torch and FuxiCTR (only where installed: a throwaway environment, never a
dependency). Both concatenate ``[query, key, query - key, query * key]``; ours ``[e, v, e - v, e * v]``,
so the first layer's blocks are reordered (and the difference block negated) when copying."""

import pytest
import torch

from pkg_din.layers import Dice, LocalActivationUnit

D, LENGTH = 8, 6


def _inputs():
    g = torch.Generator().manual_seed(1)
    e = torch.randn(5, LENGTH, D, generator=g, dtype=torch.float64)
    v = torch.randn(5, D, generator=g, dtype=torch.float64)
    lengths = torch.tensor([6, 3, 0, 1, 5])
    return e, v, lengths, torch.arange(LENGTH) < lengths[:, None]


def _reordered_first_layer(ours: LocalActivationUnit) -> torch.Tensor:
    w_e, w_v, w_diff, w_prod = ours.ffn[0].weight.detach().split(D, dim=1)
    return torch.cat([w_v, w_e, -w_diff, w_prod], dim=1)


def test_attention_matches_deepctr_for_copied_weights():
    deepctr = pytest.importorskip("deepctr_torch.layers.sequence")
    torch.manual_seed(0)
    ours = LocalActivationUnit(D, (36,), "prelu").double()
    theirs = deepctr.AttentionSequencePoolingLayer(
        att_hidden_units=(36,), att_activation="prelu", weight_normalization=False, embedding_dim=D
    ).double()
    first, last = ours.ffn[0], ours.ffn[2]
    with torch.no_grad():
        theirs.local_att.dnn.linears[0].weight.copy_(_reordered_first_layer(ours))
        theirs.local_att.dnn.linears[0].bias.copy_(first.bias)
        theirs.local_att.dnn.activation_layers[0].weight.fill_(0.25)  # ours: per unit, all 0.25 at init
        theirs.local_att.dense.weight.copy_(last.weight)
        theirs.local_att.dense.bias.copy_(last.bias)
    e, v, lengths, mask = _inputs()
    expected = theirs(v.unsqueeze(1), e, lengths.unsqueeze(1)).squeeze(1)
    assert torch.allclose(ours(e, v, mask), expected, atol=1e-5)


@pytest.mark.parametrize("act", ["prelu", "dice"])
def test_attention_matches_fuxictr_for_copied_weights(act):
    fuxictr = pytest.importorskip("fuxictr.pytorch.layers")
    torch.manual_seed(0)
    ours = LocalActivationUnit(D, (36,), act, eps=1e-9).double()  # FuxiCTR's Dice eps is 1e-9
    theirs = fuxictr.DIN_Attention(
        D, attention_units=[36], hidden_activations=act, use_softmax=False
    ).double()
    lin = [m for m in theirs.attention_layer.mlp if isinstance(m, torch.nn.Linear)]
    (their_act,) = [m for m in theirs.attention_layer.mlp if not isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        lin[0].weight.copy_(_reordered_first_layer(ours))
        lin[0].bias.copy_(ours.ffn[0].bias)
        lin[1].weight.copy_(ours.ffn[2].weight)
        lin[1].bias.copy_(ours.ffn[2].bias)
        (their_act.weight if act == "prelu" else their_act.alpha).copy_(ours.ffn[1].alpha)
    e, v, _, mask = _inputs()
    for training in (True, False):  # Dice: batch statistics (padding included, as theirs), then running ones
        ours.train(training), theirs.train(training)
        assert torch.allclose(ours(e, v, mask), theirs(v, e, mask), atol=1e-5)


def test_dice_matches_fuxictr():
    fuxictr = pytest.importorskip("fuxictr.pytorch.layers")
    ours, theirs = Dice(7, eps=1e-9).double(), fuxictr.Dice(7).double()
    with torch.no_grad():
        ours.alpha.uniform_(-1, 1)
        theirs.alpha.copy_(ours.alpha)
    s = torch.randn(32, 7, dtype=torch.float64) * 3 + 1
    for training in (True, False):
        ours.train(training), theirs.train(training)
        assert torch.allclose(ours(s), theirs(s), atol=1e-10)
