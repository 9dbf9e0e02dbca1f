"""The Embedding&MLP BaseModel and the Deep Interest Network (Sec. 4.2-4.3, Fig. 2).

Feature groups (Sec. 4.1): the candidate ad (goods id, its category), the user's behaviours (goods ids of
the history, their categories), and one-hot profile/context fields. An item's representation is
``e = [goods_emb(id), cate_emb(cate_list[id])]`` (official code: 64 + 64); behaviours and candidate share
the tables, and the category comes from a lookup, not an input (spec Pitfalls). Index 0 is padding and
index 1 an unknown id (``pkg_shared.features``).

- ``base``: ``v_U = sum_j e_j`` (sum pooling, Sec. 4.2), MLP input ``[profile, v_U, v_A]``.
- ``din`` / ``din-dice``: ``v_U(A) = sum_j a(e_j, v_A) e_j`` (eq. (3)); ``din-dice`` uses Dice (eq. (9))
  instead of PReLU.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import torch
from torch import nn

from pkg_shared.errors import UserError
from pkg_shared.features import UNKNOWN

from .config import ModelConfig
from .layers import MLP, LocalActivationUnit

Batch = Mapping[str, torch.Tensor]


@dataclass(frozen=True)
class Schema:
    """Table sizes of one dataset: goods ids, categories (0: none) and the one-hot profile/context fields."""

    n_items: int
    n_cates: int
    profile: dict[str, int]

    def as_dict(self) -> dict:
        return asdict(self)


class CTRModel(nn.Module):
    """BaseModel or DIN over a :class:`Schema`; ``forward(batch) -> logits (B,)`` (sigmoid = pCTR).

    ``batch`` holds ``item (B,)``, ``hist (B, L)``, ``hist_mask (B, L)`` (True at real behaviours) and one
    ``(B,)`` id tensor per profile field. ``cate_list`` maps goods ids to category ids (length
    ``n_items``); ``item_keep`` (optional, the "filter" regulariser) marks the goods ids kept, the others
    become the unknown id.
    """

    def __init__(
        self,
        schema: Schema,
        cfg: ModelConfig,
        cate_list: torch.Tensor | None = None,
        item_keep: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.schema, self.cfg = schema, cfg
        self.item_emb = nn.Embedding(schema.n_items, cfg.item_dim, padding_idx=0)
        self.cate_emb = nn.Embedding(schema.n_cates, cfg.cate_dim, padding_idx=0) if schema.n_cates else None
        self.profile_emb = nn.ModuleDict(
            {name: nn.Embedding(n, cfg.profile_dim, padding_idx=0) for name, n in schema.profile.items()}
        )
        if schema.n_cates and (cate_list is None or cate_list.shape != (schema.n_items,)):
            raise UserError(f"cate_list must map each of the {schema.n_items} goods ids to a category")
        self.register_buffer("cate_list", cate_list.long() if cate_list is not None else None)
        self.register_buffer("item_keep", item_keep.bool() if item_keep is not None else None)
        dim = cfg.item_dim + (cfg.cate_dim if schema.n_cates else 0)
        kw = {"eps": cfg.dice_eps, "momentum": cfg.dice_momentum} if cfg.activation == "dice" else {}
        self.attention = (
            None
            if cfg.model == "base"
            else LocalActivationUnit(
                dim, cfg.att_units, cfg.activation, cfg.attention_softmax, cfg.unit_input, **kw
            )
        )
        d_in = 2 * dim + cfg.profile_dim * len(schema.profile)
        self.mlp = MLP(d_in, cfg.mlp, 1, cfg.activation, **kw)
        self.dim = dim
        for emb in (self.item_emb, self.cate_emb, *self.profile_emb.values()):
            if emb is None:
                continue
            if cfg.emb_init == "glorot":  # official code (TF1 default): U(+-sqrt(6 / (rows + dim)))
                nn.init.xavier_uniform_(emb.weight)
            else:
                nn.init.normal_(emb.weight, std=cfg.emb_std)
            emb.weight.data[0] = 0.0

    def tables(self) -> dict[str, nn.Embedding]:
        """Every embedding table by the batch key whose ids index it (for mini-batch aware regularisation)."""
        out = {"item": self.item_emb, **{f"profile:{k}": v for k, v in self.profile_emb.items()}}
        if self.cate_emb is not None:
            out["cate"] = self.cate_emb
        return out

    def check(self, batch: Batch) -> None:
        """Bad input raises :class:`UserError`: missing keys, mismatched shapes, ids outside a table."""
        missing = [k for k in ("item", "hist", "hist_mask", *self.schema.profile) if k not in batch]
        if missing:
            raise UserError(f"batch lacks {missing}")
        item, hist, mask = batch["item"], batch["hist"], batch["hist_mask"]
        if item.dim() != 1 or hist.dim() != 2 or hist.shape != mask.shape or hist.shape[0] != item.shape[0]:
            raise UserError(
                f"candidate (B,) and history (B, L) with its mask must agree: got item {tuple(item.shape)}, "
                f"hist {tuple(hist.shape)}, hist_mask {tuple(mask.shape)}"
            )
        for key, n in (("item", self.schema.n_items), ("hist", self.schema.n_items), *self._profile()):
            ids = batch[key]
            if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= n):
                raise UserError(f"'{key}' holds ids outside [0, {n}): encode raw ids with the FeatureEncoder")

    def _profile(self) -> list[tuple[str, int]]:
        return list(self.schema.profile.items())

    def embed_items(self, ids: torch.Tensor) -> torch.Tensor:
        """``e = [goods_emb(id), cate_emb(cate_list[id])]`` for ids of any shape -> ``(..., D)``."""
        goods = ids
        if self.item_keep is not None:
            goods = torch.where(self.item_keep[ids], ids, torch.full_like(ids, UNKNOWN))
        e = self.item_emb(goods)
        if self.training and self.cfg.dropout > 0:  # feature-id dropout: discard whole goods ids
            keep = torch.rand(goods.shape, device=e.device) >= self.cfg.dropout
            e = e * keep.unsqueeze(-1) / (1 - self.cfg.dropout)
        if self.cate_emb is None:
            return e
        return torch.cat([e, self.cate_emb(self.cate_list[ids])], dim=-1)

    def user_vector(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """``(v_U, v_A)``: pooled (base) or attended (DIN) behaviours, and the candidate's embedding."""
        mask = batch["hist_mask"].bool()
        behaviours, target = self.embed_items(batch["hist"]), self.embed_items(batch["item"])
        if self.attention is not None:
            return self.attention(behaviours, target, mask), target
        pooled = (behaviours * mask.unsqueeze(-1)).sum(1)
        if self.cfg.pooling == "mean":
            pooled = pooled / mask.sum(1, keepdim=True).clamp(min=1)
        return pooled, target

    def forward(self, batch: Batch) -> torch.Tensor:
        v_u, v_a = self.user_vector(batch)
        profile = [emb(batch[name]) for name, emb in self.profile_emb.items()]
        return self.mlp(torch.cat([*profile, v_u, v_a], dim=-1)).squeeze(-1)

    @torch.no_grad()
    def attention_weights(self, batch: Batch) -> torch.Tensor:
        """The activation unit's ``a_j`` ``(B, L)`` (0 at padding); only for DIN models."""
        if self.attention is None:
            raise UserError("the BaseModel has no attention weights: use a din or din-dice model")
        mask = batch["hist_mask"].bool()
        return self.attention.weights(self.embed_items(batch["hist"]), self.embed_items(batch["item"]), mask)
