"""Side-by-side checks against the reference library, ``dhg`` (DeepHypergraph, the official code's base).

``dhg`` is a dependency of this package (the teachers are its convolutions), so these checks always run:
``reproduce`` reports :func:`dhg_conv_max_abs_diff` on every dataset's hypergraph as the claim
``dhg-conv-equals-operator``, and the tests compare split sizes with ``dhg.utils.split_by_num`` and the
graph-to-hypergraph construction with ``dhg.Hypergraph.from_graph`` + ``add_hyperedges_from_graph_kHop``.
"""

from __future__ import annotations

import dhg
import numpy as np
import torch
from dhg.nn import HGNNConv, HGNNPConv

from .hypergraph import hgnn_operator, hgnnp_operator, hyperedges_of

PAIRS = {"hgnn": (HGNNConv, hgnn_operator), "hgnnp": (HGNNPConv, hgnnp_operator)}


@torch.no_grad()
def dhg_conv_max_abs_diff(hg: dhg.Hypergraph, dim: int = 8, seed: int = 0) -> dict[str, float]:
    """``max |conv(X) - op @ theta(X)|`` for dhg's ``HGNNConv`` / ``HGNNPConv`` and our scipy operators.

    ``X`` and the layers' weights are random (drawn from a generator seeded with ``seed``; the global
    random state is left alone), and the operators are built from ``hg``'s own hyperedge list (after dhg merged duplicates), in float64.
    """
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(hg.num_v, dim, generator=gen)
    edges = hyperedges_of(hg)
    hg_cpu = dhg.Hypergraph(hg.num_v, edges)
    out = {}
    for name, (conv, operator) in PAIRS.items():
        layer = conv(dim, dim, is_last=True).eval()
        for p in layer.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
        theirs = layer(x, hg_cpu).double().numpy()
        ours = operator(hg.num_v, edges) @ layer.theta(x).double().numpy()
        out[name] = float(np.abs(theirs - ours).max())
    return out
