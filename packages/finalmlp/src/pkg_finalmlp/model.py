"""FinalMLP, DualMLP and the single-stream DNN (Mao et al., AAAI 2023, Section 3; spec "Method, exactly").

Notation: F fields, embedding size k, ``e = concat_f E_f[x_f]`` in R^{F k} (Sec. 3.1). FinalMLP feeds two
differently gated copies ``h_1, h_2`` of ``e`` to two MLP streams and fuses their last hidden layers
``o_1, o_2`` with a multi-head bilinear layer (Sec. 3.2-3.3, eqs. (4)-(7)). Initialisation follows
FuxiCTR's ``BaseModel.reset_parameters``: Linear weights xavier-normal and biases 0, embeddings
N(0, 1e-4^2) with a zero padding row, the bilinear tensor xavier-normal. At initialisation a gate with
an empty context therefore outputs exactly 0.5, and ``h_i = 2 * 0.5 * e = e``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from pkg_shared.errors import UserError

from .config import ModelConfig

EMBEDDING_STD = 1e-4


class FieldEmbedding(nn.Module):
    """One embedding table per categorical field, stored as a single table with row offsets.

    Field ``f`` has ``vocab_sizes[f]`` rows (index 0 = padding/missing, 1 = unknown, real tokens from 2,
    the layout of ``pkg_shared.features``). All fields share global row 0, the padding row, which is zero
    and never trained (``padding_idx=0``), so one gather embeds every field at once; field ``f``'s other
    rows are ``offsets[f] + 1 ... offsets[f] + vocab_sizes[f] - 1``.
    """

    def __init__(self, vocab_sizes: Sequence[int], dim: int) -> None:
        super().__init__()
        if not vocab_sizes or min(vocab_sizes) < 2:
            raise UserError(f"every field needs at least 2 rows (padding + unknown), got {list(vocab_sizes)}")
        sizes = torch.tensor([v - 1 for v in vocab_sizes])
        self.register_buffer("offsets", torch.cumsum(sizes, 0) - sizes, persistent=False)
        self.vocab_sizes = tuple(int(v) for v in vocab_sizes)
        self.table = nn.Embedding(1 + int(sizes.sum()), dim, padding_idx=0)

    def init_weights(self) -> None:
        nn.init.normal_(self.table.weight, std=EMBEDDING_STD)
        with torch.no_grad():
            self.table.weight[0].zero_()

    def forward(self, x: torch.Tensor, values: torch.Tensor | None = None) -> torch.Tensor:
        """``x``: ``(B, F)`` int64 field indices -> ``(B, F, k)``.

        ``values`` ``(B, F)`` (optional) scales each field's vector: a numeric field (FuxiCTR's ``type:
        numeric``) has one vector ``v_f`` (index 1) and embeds the value ``x_f`` as ``x_f * v_f``; a
        categorical field's value is 1.
        """
        e = self.table(torch.where(x > 0, x + self.offsets, 0))
        return e if values is None else e * values.unsqueeze(-1)

    def field_table(self, f: int) -> torch.Tensor:
        """Field ``f``'s table as ``(vocab_sizes[f], k)``, padding row first (a view, for copying weights)."""
        start = int(self.offsets[f]) + 1
        return torch.cat([self.table.weight[:1], self.table.weight[start : start + self.vocab_sizes[f] - 1]])


def mlp_block(
    in_dim: int, hidden: Sequence[int], dropout: float, batch_norm: bool, out_dim: int | None = None
) -> nn.Sequential:
    """``[Linear -> (BatchNorm) -> ReLU -> (Dropout)]`` per hidden layer, then an optional Linear to ``out_dim``.

    FuxiCTR's ``MLP_Block``; the FinalMLP streams have no output layer (``out_dim=None``, Sec. 3.3).
    """
    layers: list[nn.Module] = []
    dims = [in_dim, *hidden]
    for d_in, d_out in zip(dims[:-1], dims[1:], strict=True):
        layers.append(nn.Linear(d_in, d_out))
        if batch_norm:
            layers.append(nn.BatchNorm1d(d_out))
        layers.append(nn.ReLU())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    if out_dim is not None:
        layers.append(nn.Linear(dims[-1], out_dim))
    return nn.Sequential(*layers)


class FeatureGate(nn.Module):
    """Stream-specific feature gating (Sec. 3.2, eq. (4)): ``h = 2 * sigmoid(MLP(c)) * e``.

    The context ``c`` is the concatenation of the embeddings of ``context`` fields, looked up in this
    gate's own tables (separate from ``e``'s), or, when ``context`` is empty, a learnable vector
    ``b`` in R^k initialised to 0 and repeated over the batch. ``MLP = [Linear -> ReLU] x len(hidden) ->
    Linear to F*k``, no batch norm.
    """

    def __init__(
        self, vocab_sizes: Sequence[int], context: Sequence[int], dim: int, hidden: Sequence[int]
    ) -> None:
        super().__init__()
        self.register_buffer("context", torch.tensor(list(context), dtype=torch.long), persistent=False)
        if context:
            self.context_embedding = FieldEmbedding([vocab_sizes[f] for f in context], dim)
        else:
            self.context_bias = nn.Parameter(torch.zeros(1, dim))
        self.mlp = mlp_block(dim * max(1, len(context)), hidden, 0.0, False, out_dim=len(vocab_sizes) * dim)

    def gate(self, x: torch.Tensor, values: torch.Tensor | None = None) -> torch.Tensor:
        """``g = sigmoid(MLP(c))``, ``(B, F k)``, for the batch of field indices ``x`` ``(B, F)`` (and values)."""
        if self.context.numel():
            ctx_values = None if values is None else values[:, self.context]
            c = self.context_embedding(x[:, self.context], ctx_values).flatten(1)
        else:
            c = self.context_bias.expand(x.shape[0], -1)
        return torch.sigmoid(self.mlp(c))

    def forward(self, x: torch.Tensor, e: torch.Tensor, values: torch.Tensor | None = None) -> torch.Tensor:
        return 2.0 * self.gate(x, values) * e


class InteractionAggregation(nn.Module):
    """Multi-head bilinear fusion (Sec. 3.3, eqs. (6)-(7)).

    ``z = b + w_1^T o_1 + w_2^T o_2 + sum_{j=1..K} o_1j^T W_3j o_2j`` where ``o_i = [o_i1 .. o_iK]`` is split
    into K heads and ``W_3j`` is ``(d_1/K) x (d_2/K)``. ``b`` is the sum of the two linear maps' biases (as
    in FuxiCTR). ``W_3`` (``(K, d_1/K, d_2/K)``) is initialised like FuxiCTR's ``(K d_1/K d_2/K, 1)`` tensor
    with ``xavier_normal_``. With ``bilinear=False`` the last term is dropped (the "w/o bilinear" ablation).
    """

    def __init__(self, d1: int, d2: int, heads: int, bilinear: bool = True) -> None:
        super().__init__()
        if heads < 1 or d1 % heads or d2 % heads:
            raise UserError(f"the head count {heads} must divide both stream widths ({d1} and {d2})")
        self.heads, self.bilinear = heads, bilinear
        self.w1, self.w2 = nn.Linear(d1, 1), nn.Linear(d2, 1)
        self.w3 = nn.Parameter(torch.empty(heads, d1 // heads, d2 // heads)) if bilinear else None

    def init_weights(self) -> None:
        if self.w3 is not None:
            nn.init.xavier_normal_(self.w3.view(-1, 1))

    def forward(self, o1: torch.Tensor, o2: torch.Tensor) -> torch.Tensor:
        """``o1 (B, d_1)``, ``o2 (B, d_2)`` -> logits ``z (B,)``."""
        z = self.w1(o1) + self.w2(o2)
        if self.w3 is not None:
            heads1 = o1.view(o1.shape[0], self.heads, -1)
            heads2 = o2.view(o2.shape[0], self.heads, -1)
            z = z + torch.einsum("bhx,hxy,bhy->b", heads1, self.w3, heads2).unsqueeze(-1)
        return z.squeeze(-1)


class CTRModel(nn.Module):
    """FinalMLP, DualMLP or DNN over categorical fields; ``forward`` returns logits ``(B,)``.

    ``fields`` maps each field name to its table size (in column order of the input ``(B, F)``; a numeric
    field has 2 rows: padding and its one vector, scaled by the field's value).

    - ``finalmlp``: ``z = Agg(MLP1(h_1), MLP2(h_2))`` with ``h_i = Gate_i(e)`` (or ``h_i = e`` with
      ``use_fs=False``), Sec. 3.
    - ``dualmlp``: ``z = MLP1'(e) + MLP2'(e)``, each stream ending with a Linear to 1 (Sec. 2.2).
    - ``dnn``: ``z = MLP1'(e)``, one stream with a Linear to 1.

    ``y_hat = sigmoid(z)``; the loss uses the logits (``binary_cross_entropy_with_logits``).
    """

    def __init__(self, fields: Mapping[str, int], config: ModelConfig) -> None:
        super().__init__()
        names = tuple(fields)
        config.validate(names)
        self.config, self.fields = config, dict(fields)
        vocab_sizes = list(fields.values())
        n_fields, k = len(vocab_sizes), config.emb_dim
        self.embedding = FieldEmbedding(vocab_sizes, k)
        final = config.model == "finalmlp"
        out = None if final else 1
        self.mlp1 = mlp_block(n_fields * k, config.mlp1, config.dropout1, config.batch_norm, out)
        self.mlp2 = (
            mlp_block(n_fields * k, config.mlp2, config.dropout2, config.batch_norm, out)
            if config.model != "dnn"
            else None
        )
        self.gates = (
            nn.ModuleList(
                FeatureGate(vocab_sizes, [names.index(f) for f in ctx], k, config.fs_hidden)
                for ctx in (config.fs1_context, config.fs2_context)
            )
            if final and config.use_fs
            else None
        )
        self.fusion = (
            InteractionAggregation(config.mlp1[-1], config.mlp2[-1], config.heads, config.bilinear)
            if final
            else None
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """FuxiCTR's scheme: xavier-normal Linear weights, zero biases, then each module's ``init_weights``."""
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_normal_(module.weight)
                nn.init.zeros_(module.bias)
        for module in self.modules():
            if isinstance(module, (FieldEmbedding, InteractionAggregation)):
                module.init_weights()

    def streams_input(
        self, x: torch.Tensor, values: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(h_1, h_2)``: the gated (or raw) flat embeddings each stream reads."""
        e = self.embedding(x, values).flatten(1)
        if self.gates is None:
            return e, e
        return self.gates[0](x, e, values), self.gates[1](x, e, values)

    def forward(
        self, x: torch.Tensor | Mapping[str, torch.Tensor], values: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Logits ``(B,)`` for field indices ``x`` ``(B, F)`` (and numeric ``values``), or a batch dict
        ``{"x"[, "values"]}`` as :class:`pkg_shared.ctr.Batches` yields."""
        if isinstance(x, Mapping):
            x, values = x["x"], x.get("values")
        h1, h2 = self.streams_input(x, values)
        if self.fusion is not None:
            return self.fusion(self.mlp1(h1), self.mlp2(h2))
        z = self.mlp1(h1)
        if self.mlp2 is not None:
            z = z + self.mlp2(h2)
        return z.squeeze(-1)

    def embedding_tables(self) -> list[nn.Embedding]:
        """Every embedding table: the feature tables and the gates' context tables."""
        return [m for m in self.modules() if isinstance(m, nn.Embedding)]

    def embedding_l2(self) -> torch.Tensor:
        """``1/2 * sum of squared entries`` of all embedding tables, whole tables (FuxiCTR's convention)."""
        return 0.5 * sum(t.weight.pow(2).sum() for t in self.embedding_tables())

    def net_l2(self) -> torch.Tensor:
        """``1/2 * sum of squared entries`` of every other parameter (FuxiCTR's ``net_regularizer``)."""
        tables = {id(t.weight) for t in self.embedding_tables()}
        return 0.5 * sum(
            p.pow(2).sum()
            for name, p in self.named_parameters()
            if id(p) not in tables and name.rsplit(".", 1)[-1] in ("weight", "bias")
        )
