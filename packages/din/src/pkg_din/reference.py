"""Side by side with the reference implementations (``pkg-din reference``): FuxiCTR and DeepCTR-Torch.

Neither is a dependency: install them in a throwaway environment (``pip install fuxictr deepctr-torch``).
Both concatenate ``[query, key, query - key, query * key]`` where ours is ``[e, v, e - v, e * v]``, so the
first layer's blocks are reordered (and the difference block negated) when the weights are copied. Each
comparison returns the largest absolute difference of the outputs (float64; a match is below 1e-5).
"""

from __future__ import annotations

import importlib

import torch

from pkg_shared.errors import UserError

from .layers import Dice, LocalActivationUnit

D, LENGTH = 8, 6
INSTALL = {"fuxictr": "pip install fuxictr", "deepctr-torch": "pip install deepctr-torch"}


def _import(module: str, library: str):
    try:
        return importlib.import_module(module)
    except ImportError:
        raise UserError(
            f"{library} is not installed ({INSTALL[library]}); it is needed for this comparison"
        ) from None


def _inputs():
    g = torch.Generator().manual_seed(1)
    e = torch.randn(5, LENGTH, D, generator=g, dtype=torch.float64)
    v = torch.randn(5, D, generator=g, dtype=torch.float64)
    lengths = torch.tensor([6, 3, 0, 1, 5])
    return e, v, lengths, torch.arange(LENGTH) < lengths[:, None]


def _reordered_first_layer(ours: LocalActivationUnit) -> torch.Tensor:
    w_e, w_v, w_diff, w_prod = ours.ffn[0].weight.detach().split(D, dim=1)
    return torch.cat([w_v, w_e, -w_diff, w_prod], dim=1)


def attention_vs_deepctr() -> float:
    """Our activation unit (PReLU) vs DeepCTR-Torch's ``AttentionSequencePoolingLayer``, copied weights."""
    deepctr = _import("deepctr_torch.layers.sequence", "deepctr-torch")
    torch.manual_seed(0)
    ours = LocalActivationUnit(D, (36,), "prelu").double()
    theirs = deepctr.AttentionSequencePoolingLayer(
        att_hidden_units=(36,), att_activation="prelu", weight_normalization=False, embedding_dim=D
    ).double()
    first, last = ours.ffn[0], ours.ffn[2]
    with torch.no_grad():
        theirs.local_att.dnn.linears[0].weight.copy_(_reordered_first_layer(ours))
        theirs.local_att.dnn.linears[0].bias.copy_(first.bias)
        theirs.local_att.dnn.activation_layers[0].weight.copy_(
            ours.ffn[1].alpha
        )  # one slope (theirs: shared)
        theirs.local_att.dense.weight.copy_(last.weight)
        theirs.local_att.dense.bias.copy_(last.bias)
    e, v, lengths, mask = _inputs()
    expected = theirs(v.unsqueeze(1), e, lengths.unsqueeze(1)).squeeze(1)
    return float((ours(e, v, mask) - expected).abs().max())


def attention_vs_fuxictr(act: str) -> float:
    """Our activation unit vs FuxiCTR's ``DIN_Attention`` (``prelu`` or ``dice``), train and eval mode."""
    fuxictr = _import("fuxictr.pytorch.layers", "fuxictr")
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
    diff = 0.0
    for training in (True, False):  # Dice: batch statistics (padding included, as theirs), then running ones
        ours.train(training), theirs.train(training)
        diff = max(diff, float((ours(e, v, mask) - theirs(v, e, mask)).abs().max()))
    return diff


def dice_vs_fuxictr() -> float:
    """Our Dice vs FuxiCTR's ``Dice`` with the same ``alpha``, train and eval mode."""
    fuxictr = _import("fuxictr.pytorch.layers", "fuxictr")
    ours, theirs = Dice(7, eps=1e-9).double(), fuxictr.Dice(7).double()
    with torch.no_grad():
        ours.alpha.uniform_(-1, 1)
        theirs.alpha.copy_(ours.alpha)
    s = torch.randn(32, 7, dtype=torch.float64) * 3 + 1
    diff = 0.0
    for training in (True, False):
        ours.train(training), theirs.train(training)
        diff = max(diff, float((ours(s) - theirs(s)).abs().max()))
    return diff


def compare(library: str = "all") -> dict[str, float]:
    """Every comparison with ``library`` (``fuxictr``, ``deepctr-torch`` or ``all``): name -> max |diff|."""
    rows: dict[str, float] = {}
    if library in ("deepctr-torch", "all"):
        rows["attention vs deepctr-torch (prelu)"] = attention_vs_deepctr()
    if library in ("fuxictr", "all"):
        for act in ("prelu", "dice"):
            rows[f"attention vs fuxictr ({act})"] = attention_vs_fuxictr(act)
        rows["dice vs fuxictr"] = dice_vs_fuxictr()
    return rows
