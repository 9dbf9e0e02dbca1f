"""Side by side with DeepCTR-Torch (only where it is installed: a throwaway environment, never a dependency)."""

import pytest
import torch

from pkg_din.layers import LocalActivationUnit

deepctr = pytest.importorskip("deepctr_torch.layers.sequence")


def test_attention_matches_deepctr_for_copied_weights():
    torch.manual_seed(0)
    d, length = 8, 6
    ours = LocalActivationUnit(d, (36,), "prelu").double()
    theirs = deepctr.AttentionSequencePoolingLayer(
        att_hidden_units=(36,), att_activation="prelu", weight_normalization=False, embedding_dim=d
    ).double()
    first, last = ours.ffn[0], ours.ffn[2]
    w_e, w_v, w_diff, w_prod = first.weight.detach().split(d, dim=1)
    with torch.no_grad():  # theirs concatenates [query, key, query - key, query * key]
        theirs.local_att.dnn.linears[0].weight.copy_(torch.cat([w_v, w_e, -w_diff, w_prod], dim=1))
        theirs.local_att.dnn.linears[0].bias.copy_(first.bias)
        theirs.local_att.dnn.activation_layers[0].weight.fill_(0.25)  # ours: per unit, all 0.25 at init
        theirs.local_att.dense.weight.copy_(last.weight)
        theirs.local_att.dense.bias.copy_(last.bias)
    e = torch.randn(5, length, d, dtype=torch.float64)
    v = torch.randn(5, d, dtype=torch.float64)
    lengths = torch.tensor([6, 3, 0, 1, 5])
    mask = torch.arange(length) < lengths[:, None]
    expected = theirs(v.unsqueeze(1), e, lengths.unsqueeze(1)).squeeze(1)
    assert torch.allclose(ours(e, v, mask), expected, atol=1e-5)
