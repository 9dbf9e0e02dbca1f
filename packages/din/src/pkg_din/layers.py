"""The building blocks of DIN (Zhou et al., KDD 2018): Dice, the MLP and the local activation unit."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from pkg_shared.errors import UserError

from .config import UNIT_INPUTS


class Dice(nn.Module):
    r"""Data-adaptive activation (Sec. 5.2, eq. (9)).

    .. math:: f(s) = p(s)\, s + (1 - p(s))\, \alpha s, \quad
              p(s) = \sigma\!\left(\frac{s - E[s]}{\sqrt{Var[s] + \epsilon}}\right)

    ``E[s]`` and ``Var[s]`` are per-unit statistics of the mini-batch in training and running averages
    (momentum ``momentum``, i.e. a BatchNorm without affine parameters) at inference; ``alpha`` is
    learnable per unit and starts at 0. PReLU is the special case ``p(s) = 1[s > 0]``. Inputs are
    ``(..., units)``: every leading position (batch, and sequence positions) counts as one sample.
    """

    def __init__(self, units: int, eps: float = 1e-8, momentum: float = 0.01) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(units, eps=eps, momentum=momentum, affine=False)
        self.alpha = nn.Parameter(torch.zeros(units))

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        flat = s.reshape(-1, s.shape[-1])
        p = torch.sigmoid(self.norm(flat)).reshape(s.shape)
        return p * s + (1 - p) * self.alpha * s


class PReLU(nn.Module):
    """PReLU over the LAST dimension (``nn.PReLU`` uses dim 1): ``f(s) = s if s > 0 else alpha * s``.

    It is Dice with ``p(s) = 1[s > 0]`` (Sec. 5.2); ``alpha`` is per unit, initialised to 0.1 as in the
    official code (``tf.constant_initializer(0.1)``) and FuxiCTR (torch's own default would be 0.25).
    """

    def __init__(self, units: int, init: float = 0.1) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.full((units,), init))

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        # torch's kernel takes the channel at dim 1: flatten the leading dimensions (about 2x faster than where)
        return F.prelu(s.reshape(-1, s.shape[-1]), self.alpha).reshape(s.shape)


def activation(name: str, units: int, eps: float = 1e-8, momentum: float = 0.01) -> nn.Module:
    """``prelu`` (per unit, initial slope 0.1 as the official code) or ``dice``."""
    if name == "prelu":
        return PReLU(units)
    if name == "dice":
        return Dice(units, eps=eps, momentum=momentum)
    raise UserError(f"unknown activation {name!r} (prelu or dice)")


class MLP(nn.Sequential):
    """``Linear -> activation`` for every hidden size, then ``Linear(-> out)`` (Fig. 2's MLP)."""

    def __init__(self, d_in: int, hidden: tuple[int, ...], out: int, act: str, **act_kwargs: float) -> None:
        layers: list[nn.Module] = []
        for h in hidden:
            layers += [nn.Linear(d_in, h), activation(act, h, **act_kwargs)]
            d_in = h
        layers.append(nn.Linear(d_in, out))
        super().__init__(*layers)


class LocalActivationUnit(nn.Module):
    r"""Target attention over the behaviour sequence (Sec. 4.3, eq. (3), Fig. 2).

    .. math:: v_U(A) = \sum_{j=1}^{H} a(e_j, v_A)\, e_j, \quad
              a(e_j, v_A) = \mathrm{FFN}([e_j, v_A, e_j - v_A, e_j \odot v_A])

    ``unit_input="concat"`` (default) is that four-part input of the official code, DeepCTR and FuxiCTR;
    ``unit_input="outer"`` is the paper's Fig. 2 reading, "the out product of them":
    ``[e_j, v_A, vec(e_j v_A^T)]`` (2D + D^2 inputs). The FFN is ``Linear(. -> 36) -> PReLU/Dice ->
    Linear(36 -> 1)`` by default. The weights are NOT
    normalised over j (no softmax), so ``sum_j a_j`` keeps the intensity of the user's interest in A;
    padded behaviours get weight exactly 0. ``softmax=True`` is the official demo's deviation (a masked
    softmax of the scores divided by sqrt(D)); a user with no behaviour then gets the zero vector.
    """

    def __init__(
        self,
        dim: int,
        units: tuple[int, ...] = (36,),
        act: str = "prelu",
        softmax: bool = False,
        unit_input: str = "concat",
        **kw: float,
    ) -> None:
        super().__init__()
        if unit_input not in UNIT_INPUTS:
            raise UserError(f"unknown unit input {unit_input!r} (one of {', '.join(UNIT_INPUTS)})")
        self.ffn = MLP(4 * dim if unit_input == "concat" else 2 * dim + dim * dim, units, 1, act, **kw)
        self.softmax, self.unit_input, self.dim = softmax, unit_input, dim

    def _first_layer(self, behaviours: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``W [e_j, v, e_j - v, e_j * v] + b`` computed as ``(W1 + W3) e_j + W4 (e_j * v) + ((W2 - W3) v + b)``.

        The same linear map as on the four-part concatenation (tested equal), without materialising the
        ``(B, L, 4D)`` input: the candidate's part is computed once per row instead of once per behaviour.
        For ``outer`` the map ``W [e_j, v, vec(e_j v^T)] + b`` is ``W1 e_j + e_j^T M_u v + (W2 v + b)`` per
        unit ``u`` (``M_u`` the unit's ``D x D`` block), again without the ``(B, L, D^2)`` input.
        """
        if self.unit_input == "outer":
            d = self.dim
            w1, w2, w_outer = self.ffn[0].weight.split([d, d, d * d], dim=1)
            m_v = torch.einsum("ude,be->bud", w_outer.reshape(-1, d, d), target)  # (B, units, D)
            per_row = target @ w2.T + self.ffn[0].bias
            return behaviours @ w1.T + torch.einsum("bld,bud->blu", behaviours, m_v) + per_row.unsqueeze(1)
        w1, w2, w3, w4 = self.ffn[0].weight.split(self.dim, dim=1)
        per_row = target @ (w2 - w3).T + self.ffn[0].bias
        per_behaviour = behaviours @ (w1 + w3).T + (behaviours * target.unsqueeze(1)) @ w4.T
        return per_behaviour + per_row.unsqueeze(1)

    def weights(self, behaviours: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``a_j`` of every behaviour: ``behaviours (B, L, D)``, ``target (B, D)``, ``mask (B, L)`` -> ``(B, L)``."""
        hidden = self._first_layer(behaviours, target)
        for layer in list(self.ffn)[1:]:
            hidden = layer(hidden)
        scores = hidden.squeeze(-1)
        if self.softmax:
            scores = scores.masked_fill(~mask, float("-inf")) / math.sqrt(self.dim)
            return torch.softmax(scores, dim=-1).nan_to_num(0.0)  # all-padding rows -> weight 0
        return scores * mask

    def forward(self, behaviours: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The user vector ``v_U(A) = sum_j a_j e_j``, ``(B, D)``."""
        return torch.einsum("bl,bld->bd", self.weights(behaviours, target, mask), behaviours)
