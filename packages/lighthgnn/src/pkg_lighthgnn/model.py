"""Teacher HGNN / HGNN+ (dhg convolutions) and the student MLP (spec Method 2-3).

Teacher, as the official ``MyHGNN``: ``X1 = Dropout(ReLU(L X Theta1))``, ``Z = L X1 Theta2`` (linear layer
first, then smoothing; bias inside the linear layer; no input dropout, no batch norm), hidden 32. For
``hgnn`` the smoothing is dhg's ``HGNNConv`` (``L = D_v^-1/2 H D_e^-1 H^T D_v^-1/2``), for ``hgnnp`` dhg's
``HGNNPConv`` (vertex -> hyperedge mean, then hyperedge -> vertex mean). The first layer's ``theta`` is a
:class:`~pkg_lighthgnn.features.FeatureLinear`, so that it also takes sparse features.

Student (LightHGNN's MLP, official ``MyMLPs``): ``Linear(d, 128) -> ReLU -> BatchNorm1d -> Dropout(0.5) ->
Linear(128, C)``; it reads vertex features only, never the hypergraph.
"""

from __future__ import annotations

import dhg
import torch
from dhg.nn import HGNNConv, HGNNPConv
from torch import Tensor, nn

from pkg_shared.errors import UserError

from .features import FeatureLinear, Features

CONVS = {"hgnn": HGNNConv, "hgnnp": HGNNPConv}


class Dropout(nn.Dropout):
    """Inverted dropout with the mask from ``torch.rand`` (same distribution as ``nn.Dropout``).

    torch's CPU dropout draws its mask with ``bernoulli_``, which was measured 3x slower than a uniform
    draw on this project's machine and dominated the students' training time.
    """

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        if not self.training or self.p == 0:
            return x
        return x * (torch.rand_like(x) >= self.p) / (1.0 - self.p)


class Teacher(nn.Module):
    """Two-layer HGNN (``kind="hgnn"``) or HGNN+ (``kind="hgnnp"``) built from dhg's convolutions."""

    def __init__(self, in_dim: int, n_classes: int, hid: int = 32, kind: str = "hgnn", dropout: float = 0.5):
        super().__init__()
        if kind not in CONVS:
            raise UserError(f"unknown teacher {kind!r} (one of {', '.join(CONVS)})")
        conv = CONVS[kind]
        self.kind = kind
        self.layer1 = conv(in_dim, hid, drop_rate=dropout)
        self.layer1.theta = FeatureLinear(in_dim, hid)
        self.layer1.drop = Dropout(dropout)
        self.layer2 = conv(hid, n_classes, is_last=True)

    def embed(self, x: Features, hg: dhg.Hypergraph) -> Tensor:
        """Layer-1 output ``Dropout(ReLU(L X Theta1))`` (the topology score's teacher embedding)."""
        return self.layer1(x, hg)

    def forward(self, x: Features, hg: dhg.Hypergraph) -> Tensor:
        return self.layer2(self.embed(x, hg), hg)


class StudentMLP(nn.Module):
    """``Linear(d, hid) -> ReLU -> BatchNorm1d(hid) -> Dropout -> Linear(hid, C)``; hid = 128 in the paper."""

    def __init__(self, in_dim: int, n_classes: int, hid: int = 128, dropout: float = 0.5):
        super().__init__()
        self.hidden = nn.Sequential(
            FeatureLinear(in_dim, hid), nn.ReLU(), nn.BatchNorm1d(hid), Dropout(dropout)
        )
        self.out = nn.Linear(hid, n_classes)

    def embed(self, x: Features) -> Tensor:
        """The 128-d hidden representation (the topology score's student embedding)."""
        return self.hidden(x)

    def forward(self, x: Features) -> Tensor:
        return self.out(self.embed(x))
