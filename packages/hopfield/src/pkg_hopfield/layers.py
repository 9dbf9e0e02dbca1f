"""The three Hopfield layers of Section 3 (after ``hflayers``, the authors' package; no code copied).

``Hopfield(R, Y)`` associates state patterns ``R`` (S x d_r) with stored patterns ``Y`` (N x d_y), eq. (9)-(10):

    Q = R W_Q,  K = Y W_K,  V = Y W_V,   Z = softmax(beta Q K^T) V,   output = Z W_O

per head, as in ``torch.nn.MultiheadAttention``. The value path uses its own projection ``W_V`` of the
pattern projections (hflayers' choice, and MHA's), not the paper's folded ``V = Y W_K W_V``; the paper's
form is the special case ``pattern projection = K`` of a static projection. Defaults are hflayers':
``beta = 1/sqrt(head_dim)``, LayerNorm (affine) on the stored patterns, the state patterns and the pattern
projections before projecting, one association (``update_steps_max = 0``), batch first. With extra update
steps the state is iterated in the head's key space, ``xi <- softmax(beta xi K^T) K`` (eq. (3) with
stored patterns K), until every state's softmax row changes by less than ``update_steps_eps`` or
``update_steps_max`` extra steps are done; the last softmax then retrieves ``V``.

``HopfieldPooling`` learns ``quantity`` state patterns (a query shared over the batch);
``HopfieldLayer`` learns stored patterns and pattern projections (a lookup / prototype memory). Like
hflayers, the learned patterns pass through LayerNorm and the projections by default; ``*_as_static``
uses them as they are. With the same weights, every layer matches hflayers (``bench --hflayers``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from pkg_shared.errors import UserError


def _norm(size: int, on: bool, affine: bool) -> nn.Module:
    return nn.LayerNorm(size, elementwise_affine=affine) if on else nn.Identity()


class Hopfield(nn.Module):
    """Associate state patterns with stored patterns (Section 3, layer ``Hopfield``).

    Sizes: ``input_size`` d_r of the state patterns; ``stored_pattern_size`` d_y (default d_r);
    ``pattern_projection_size`` (default d_y); ``hidden_size`` the association space per head (default
    d_r / num_heads); ``pattern_projection_hidden_size`` the value size per head (default hidden_size);
    ``output_size`` (default d_r). ``scaling`` is beta (default ``1/sqrt(hidden_size)``). A pattern kind
    ``*_as_static`` is used as it comes (no LayerNorm, no projection): its size must then be the head
    space's. ``dropout`` acts on the association (softmax) matrix.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int | None = None,
        output_size: int | None = None,
        num_heads: int = 1,
        scaling: float | None = None,
        update_steps_max: int = 0,
        update_steps_eps: float = 1e-4,
        stored_pattern_size: int | None = None,
        pattern_projection_size: int | None = None,
        pattern_projection_hidden_size: int | None = None,
        normalize_state_pattern: bool = True,
        normalize_state_pattern_affine: bool = True,
        normalize_stored_pattern: bool = True,
        normalize_stored_pattern_affine: bool = True,
        normalize_pattern_projection: bool = True,
        normalize_pattern_projection_affine: bool = True,
        state_pattern_as_static: bool = False,
        stored_pattern_as_static: bool = False,
        pattern_projection_as_static: bool = False,
        disable_out_projection: bool = False,
        dropout: float = 0.0,
        bias: bool = True,
        batch_first: bool = True,
    ) -> None:
        super().__init__()
        if num_heads < 1 or input_size < 1:
            raise UserError(f"num_heads and input_size must be >= 1 (got {num_heads}, {input_size})")
        if hidden_size is None and input_size % num_heads:
            raise UserError(f"input_size {input_size} is not divisible by num_heads {num_heads}")
        if scaling is not None and not scaling > 0:
            raise UserError(f"scaling (beta) must be > 0, got {scaling}")
        if update_steps_max < 0 or not update_steps_eps > 0 or not 0 <= dropout < 1:
            raise UserError("need update_steps_max >= 0, update_steps_eps > 0 and 0 <= dropout < 1")
        self.num_heads, self.batch_first = num_heads, batch_first
        self.head_dim = hidden_size or input_size // num_heads
        self.value_dim = pattern_projection_hidden_size or self.head_dim
        self.scaling = scaling if scaling is not None else 1.0 / math.sqrt(self.head_dim)
        self.update_steps_max, self.update_steps_eps, self.dropout = (
            update_steps_max,
            update_steps_eps,
            dropout,
        )
        stored_pattern_size = stored_pattern_size or input_size
        pattern_projection_size = pattern_projection_size or stored_pattern_size
        self.sizes = (input_size, stored_pattern_size, pattern_projection_size)
        qk, v = num_heads * self.head_dim, num_heads * self.value_dim
        for name, size, static, target in (
            ("state", input_size, state_pattern_as_static, qk),
            ("stored", stored_pattern_size, stored_pattern_as_static, qk),
            ("pattern projection", pattern_projection_size, pattern_projection_as_static, v),
        ):
            if static and size != target:
                raise UserError(f"a static {name} pattern must have size num_heads * head size = {target}")
        self.norm_state = _norm(input_size, normalize_state_pattern and not state_pattern_as_static,
                                normalize_state_pattern_affine)  # fmt: skip
        self.norm_stored = _norm(stored_pattern_size, normalize_stored_pattern and not stored_pattern_as_static,
                                 normalize_stored_pattern_affine)  # fmt: skip
        self.norm_projection = _norm(
            pattern_projection_size,
            normalize_pattern_projection and not pattern_projection_as_static,
            normalize_pattern_projection_affine,
        )
        self.q_proj = nn.Identity() if state_pattern_as_static else nn.Linear(input_size, qk, bias=bias)
        self.k_proj = (
            nn.Identity() if stored_pattern_as_static else nn.Linear(stored_pattern_size, qk, bias=bias)
        )
        self.v_proj = (
            nn.Identity()
            if pattern_projection_as_static
            else nn.Linear(pattern_projection_size, v, bias=bias)
        )
        self.output_size = v if disable_out_projection else (output_size or input_size)
        self.out_proj = nn.Identity() if disable_out_projection else nn.Linear(v, self.output_size, bias=bias)
        for proj in (self.q_proj, self.k_proj, self.v_proj):  # MultiheadAttention's initialisation
            if isinstance(proj, nn.Linear):
                nn.init.xavier_uniform_(proj.weight)
                if proj.bias is not None:
                    nn.init.zeros_(proj.bias)
        if isinstance(self.out_proj, nn.Linear) and self.out_proj.bias is not None:
            nn.init.zeros_(self.out_proj.bias)

    @classmethod
    def from_multihead_attention(cls, mha: nn.MultiheadAttention) -> Hopfield:
        """A Hopfield layer computing exactly what ``mha`` computes (one step, no normalisation, beta =
        1/sqrt(head_dim)), with ``mha``'s weights copied.

        ``add_bias_kv`` (a learned key/value appended to every stored set) and ``add_zero_attn`` (a zero
        key/value appended) have no counterpart in the Hopfield layer: such an ``mha`` is refused with a
        :class:`UserError` rather than converted to a layer that computes something else.
        """
        unsupported = [
            name
            for name, on in (("add_bias_kv", mha.bias_k is not None), ("add_zero_attn", mha.add_zero_attn))
            if on
        ]
        if unsupported:
            raise UserError(
                f"from_multihead_attention: {' and '.join(unsupported)}=True has no Hopfield counterpart "
                "(it appends an extra key/value to every stored set); build the MultiheadAttention without it"
            )
        layer = cls(
            mha.embed_dim, num_heads=mha.num_heads, stored_pattern_size=mha.kdim, pattern_projection_size=mha.vdim,
            normalize_state_pattern=False, normalize_stored_pattern=False, normalize_pattern_projection=False,
            dropout=mha.dropout, bias=mha.in_proj_bias is not None, batch_first=mha.batch_first,
        )  # fmt: skip
        with torch.no_grad():
            if mha._qkv_same_embed_dim:
                weights = mha.in_proj_weight.chunk(3)
            else:
                weights = (mha.q_proj_weight, mha.k_proj_weight, mha.v_proj_weight)
            biases = mha.in_proj_bias.chunk(3) if mha.in_proj_bias is not None else (None,) * 3
            for proj, w, b in zip((layer.q_proj, layer.k_proj, layer.v_proj), weights, biases):
                proj.weight.copy_(w)
                if b is not None:
                    proj.bias.copy_(b)
            layer.out_proj.weight.copy_(mha.out_proj.weight)
            if mha.out_proj.bias is not None:
                layer.out_proj.bias.copy_(mha.out_proj.bias)
        return layer.to(mha.out_proj.weight.device, mha.out_proj.weight.dtype)

    def _heads(self, x: torch.Tensor, size: int) -> torch.Tensor:
        B, L, _ = x.shape
        return x.reshape(B, L, self.num_heads, size).transpose(1, 2)

    def _mask(
        self,
        B: int,
        S: int,
        N: int,
        padding: torch.Tensor | None,
        association: torch.Tensor | None,
        like: torch.Tensor,
    ) -> torch.Tensor | None:
        """Both masks as one additive float mask broadcastable to (B, heads, S, N).

        As in ``nn.MultiheadAttention``: a bool mask forbids where True (-inf); a float mask is added to
        the scores ``beta Q K^T`` as it is (for either mask)."""
        if padding is None and association is None:
            return None
        mask = torch.zeros((), dtype=like.dtype, device=like.device)
        if association is not None:
            if association.shape == (S, N):
                association = association[None, None]
            elif association.shape == (B * self.num_heads, S, N):
                association = association.reshape(B, self.num_heads, S, N)
            else:
                raise UserError(
                    f"association_mask must have shape {(S, N)} or {(B * self.num_heads, S, N)}, "
                    f"got {tuple(association.shape)}"
                )
            mask = mask + (
                torch.zeros_like(association, dtype=like.dtype).masked_fill(association, float("-inf"))
                if association.dtype == torch.bool
                else association.to(like.dtype)
            )
        if padding is not None:
            if padding.shape != (B, N):
                raise UserError(
                    f"stored_pattern_padding_mask must have shape {(B, N)}, got {tuple(padding.shape)}"
                )
            mask = mask + (
                torch.zeros(B, 1, 1, N, dtype=like.dtype, device=like.device).masked_fill(
                    padding[:, None, None, :], float("-inf")
                )
                if padding.dtype == torch.bool
                else padding[:, None, None, :].to(like.dtype)
            )
        return mask

    def forward(
        self,
        state: torch.Tensor,
        stored: torch.Tensor | None = None,
        projection: torch.Tensor | None = None,
        *,
        stored_pattern_padding_mask: torch.Tensor | None = None,
        association_mask: torch.Tensor | None = None,
        return_association: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """``Hopfield(R, Y)``: state patterns R (B, S, d_r), stored patterns Y (B, N, d_y) (default R:
        self-association) and pattern projections (B, N, d_v) (default Y); (L, B, d) when not batch first.

        ``stored_pattern_padding_mask`` (B, N), bool (True = ignore that stored pattern) or float (added
        to the scores), as MHA's ``key_padding_mask``; ``association_mask`` (S, N) or (B * heads, S, N),
        bool (True = forbidden) or float (added). A state pattern for which every stored pattern is
        masked (an empty set: a bag whose instances are all padding) has an all-zero association row, so
        it retrieves the zero vector (output = the output projection's bias), with or without extra
        update steps; ``nn.MultiheadAttention`` returns NaN there.
        Returns (B, S, output_size), and the association matrix (B, heads, S, N) with
        ``return_association``.
        """
        stored = state if stored is None else stored
        projection = stored if projection is None else projection
        if not self.batch_first:
            state, stored, projection = (t.transpose(0, 1) for t in (state, stored, projection))
        for name, t, size in zip(
            ("state", "stored", "pattern projection"), (state, stored, projection), self.sizes
        ):
            if t.ndim != 3 or t.shape[-1] != size:
                raise UserError(f"{name} patterns must be 3-d with last size {size}, got {tuple(t.shape)}")
        B, S, N = state.shape[0], state.shape[1], stored.shape[1]
        if stored.shape[0] != B or projection.shape[:2] != stored.shape[:2] or N == 0:
            raise UserError(
                f"batch/set sizes do not match: state {tuple(state.shape)}, stored {tuple(stored.shape)}, "
                f"pattern projection {tuple(projection.shape)} (need a non-empty stored set)"
            )
        q = self._heads(self.q_proj(self.norm_state(state)), self.head_dim)
        k = self._heads(self.k_proj(self.norm_stored(stored)), self.head_dim)
        v = self._heads(self.v_proj(self.norm_projection(projection)), self.value_dim)
        mask = self._mask(B, S, N, stored_pattern_padding_mask, association_mask, q)
        dropout = self.dropout if self.training else 0.0
        empty_rows = mask is not None and bool(torch.isneginf(mask).all(-1).any())
        if self.update_steps_max == 0 and not return_association and not empty_rows:
            z = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout, scale=self.scaling)
            association = None
        else:
            association = self.associate(q, k, mask)
            z = F.dropout(association, dropout, self.training) @ v
        out = self.out_proj(z.transpose(1, 2).reshape(B, S, -1))
        if not self.batch_first:
            out = out.transpose(0, 1)
        return (out, association) if return_association else out

    def associate(self, q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """``softmax(beta xi K^T)`` after up to ``update_steps_max`` extra updates ``xi <- softmax(.) K``.

        Each state (row) stops once its softmax row changes by less than ``update_steps_eps`` (L2). A row
        whose stored patterns are all masked is all zeros (see :meth:`forward`).
        """
        beta = self.scaling
        # rows with every stored pattern masked: softmax of all -inf is NaN; they get all-zero weights
        empty = None if mask is None else torch.isneginf(mask).all(-1, keepdim=True)

        def weights(xi: torch.Tensor) -> torch.Tensor:
            logits = beta * xi @ k.transpose(-2, -1)
            if mask is None:
                return torch.softmax(logits, dim=-1)
            logits = (logits + mask).masked_fill(empty, 0.0)
            return torch.softmax(logits, dim=-1).masked_fill(empty, 0.0)

        p = weights(q)
        active = torch.ones(p.shape[:-1], dtype=torch.bool, device=p.device)
        for _ in range(self.update_steps_max):
            new = weights(p @ k)
            active = active & ((new - p).norm(dim=-1) >= self.update_steps_eps)
            p = torch.where(active[..., None], new, p)
            if not active.any():
                break
        return p


class HopfieldPooling(nn.Module):
    """Pooling over a set (Section 3, ``HopfieldPooling``): ``quantity`` learned state patterns (init
    N(0, 0.02), shared over the batch) retrieve from the stored set Y; output (B, quantity * output_size).

    As in hflayers (default ``state_pattern_as_static=False``) the learned patterns have size
    ``input_size`` and pass through the state LayerNorm and ``W_Q`` like any state pattern. With
    ``state_pattern_as_static=True`` they are used as the queries directly: size ``num_heads *
    hidden_size``, one slice per head (hflayers instead repeats one ``hidden_size`` query over the
    heads). Other keyword arguments go to :class:`Hopfield`."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int | None = None,
        output_size: int | None = None,
        num_heads: int = 1,
        quantity: int = 1,
        state_pattern_as_static: bool = False,
        **kwargs: object,
    ) -> None:
        super().__init__()
        if quantity < 1:
            raise UserError(f"quantity must be >= 1, got {quantity}")
        head_dim = hidden_size or input_size // num_heads
        state_size = num_heads * head_dim if state_pattern_as_static else input_size
        self.hopfield = Hopfield(
            state_size, hidden_size=head_dim, output_size=output_size or input_size, num_heads=num_heads,
            stored_pattern_size=input_size, state_pattern_as_static=state_pattern_as_static, **kwargs,
        )  # fmt: skip
        self.pooling_weights = nn.Parameter(torch.empty(quantity, state_size))
        nn.init.normal_(self.pooling_weights, mean=0.0, std=0.02)

    @property
    def output_size(self) -> int:
        return self.pooling_weights.shape[0] * self.hopfield.output_size

    def forward(
        self,
        stored: torch.Tensor,
        *,
        stored_pattern_padding_mask: torch.Tensor | None = None,
        return_association: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Pool the set ``stored`` (B, N, input_size) ((N, B, .) when not batch first)."""
        if stored.ndim != 3:
            raise UserError(f"HopfieldPooling expects a 3-d set of patterns, got shape {tuple(stored.shape)}")
        B = stored.shape[0] if self.hopfield.batch_first else stored.shape[1]
        state = self.pooling_weights.unsqueeze(0).expand(B, -1, -1)
        if not self.hopfield.batch_first:
            state = state.transpose(0, 1)
        out = self.hopfield(
            state, stored, stored_pattern_padding_mask=stored_pattern_padding_mask,
            return_association=return_association,
        )  # fmt: skip
        z, association = out if return_association else (out, None)
        z = (z if self.hopfield.batch_first else z.transpose(0, 1)).reshape(B, -1)
        return (z, association) if return_association else z


class HopfieldLayer(nn.Module):
    """A learned memory (Section 3, ``HopfieldLayer``): the input R queries ``quantity`` learned stored
    patterns (keys) whose learned pattern projections (values) are retrieved; with
    ``lookup_weights_as_separated=False`` keys and values are tied. Output (B, S, output_size).

    As in hflayers (default ``stored_pattern_as_static=False``) the learned patterns have size
    ``input_size`` and pass through LayerNorm and ``W_K`` (keys) / ``W_V`` (values). With
    ``stored_pattern_as_static=True`` they are the keys and values themselves (size ``num_heads *
    hidden_size``, one slice per head). Other keyword arguments go to :class:`Hopfield`."""

    def __init__(
        self,
        input_size: int,
        quantity: int,
        hidden_size: int | None = None,
        output_size: int | None = None,
        num_heads: int = 1,
        lookup_weights_as_separated: bool = False,
        stored_pattern_as_static: bool = False,
        **kwargs: object,
    ) -> None:
        super().__init__()
        if quantity < 1:
            raise UserError(f"quantity must be >= 1, got {quantity}")
        head_dim = hidden_size or input_size // num_heads
        size = num_heads * head_dim if stored_pattern_as_static else input_size
        self.hopfield = Hopfield(
            input_size, hidden_size=head_dim, output_size=output_size, num_heads=num_heads,
            stored_pattern_size=size, pattern_projection_size=size,
            stored_pattern_as_static=stored_pattern_as_static,
            pattern_projection_as_static=stored_pattern_as_static, **kwargs,
        )  # fmt: skip
        self.lookup_weights = nn.Parameter(torch.empty(quantity, size))
        nn.init.normal_(self.lookup_weights, mean=0.0, std=0.02)
        self.target_weights = None
        if lookup_weights_as_separated:
            self.target_weights = nn.Parameter(torch.empty(quantity, size))
            nn.init.normal_(self.target_weights, mean=0.0, std=0.02)

    def forward(
        self,
        state: torch.Tensor,
        *,
        association_mask: torch.Tensor | None = None,
        return_association: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Look up ``state`` (B, S, input_size) ((S, B, .) when not batch first) in the learned memory.

        Every state pattern queries the same memory, so all B * S of them run as one set against one copy
        of it: the memory's LayerNorm and projections are computed once, not once per sample (hflayers
        expands the memory over the batch; the result is the same). ``association_mask`` (S, quantity)
        or (B * heads, S, quantity) as in :class:`Hopfield`.
        """
        if state.ndim != 3:
            raise UserError(f"HopfieldLayer expects 3-d state patterns, got shape {tuple(state.shape)}")
        first = self.hopfield.batch_first
        x = state if first else state.transpose(0, 1)
        B, S, H, N = x.shape[0], x.shape[1], self.hopfield.num_heads, len(self.lookup_weights)
        mask = association_mask
        if mask is not None:
            if mask.shape == (S, N):
                mask = mask.repeat(B, 1)
            elif mask.shape == (B * H, S, N):
                mask = mask.reshape(B, H, S, N).transpose(0, 1).reshape(H, B * S, N)
            else:
                raise UserError(
                    f"association_mask must have shape {(S, N)} or {(B * H, S, N)}, got {tuple(mask.shape)}"
                )
        targets = self.lookup_weights if self.target_weights is None else self.target_weights
        queries, stored, projection = x.reshape(1, B * S, -1), self.lookup_weights[None], targets[None]
        if not first:
            queries, stored, projection = (t.transpose(0, 1) for t in (queries, stored, projection))
        out = self.hopfield(
            queries, stored, projection, association_mask=mask, return_association=return_association
        )
        z, association = out if return_association else (out, None)
        z = z.reshape(B, S, -1) if first else z.reshape(B, S, -1).transpose(0, 1)
        return (z, association[0].reshape(H, B, S, N).transpose(0, 1)) if return_association else z
