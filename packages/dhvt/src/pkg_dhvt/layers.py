"""DHVT's three components on timm's building blocks (paper Sec. 3.2-3.4).

Notation: ``B`` batch, ``D`` embed dim, ``h`` heads, ``d = D/h``, ``P = 2^k`` patch size, ``N`` patch tokens
on a square ``sqrt(N) x sqrt(N)`` grid, one class token in front (sequence length ``N+1``).
"""

from __future__ import annotations

import math

import torch
from timm.layers import Attention, DropPath, Mlp, trunc_normal_
from torch import nn

from pkg_shared.errors import UserError


class Affine(nn.Module):
    """Per-channel affine ``alpha * x + beta`` on ``B x C x H x W`` (alpha init 1, beta init 0), Eq. 2."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.alpha + self.beta


def _conv_bn(c_in: int, c_out: int) -> nn.Sequential:
    """Conv3x3 (stride 2, pad 1, no bias) -> BatchNorm: one SOPE down-sampling step."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c_out))


class SOPE(nn.Module):
    """Sequential Overlapping Patch Embedding (Sec. 3.2, Eq. 2).

    ``x <- Affine_0(x)``; ``k = log2 P`` blocks Conv3x3(s2)-BN with GELU between them, channels doubling
    up to ``D`` (P=4: 3 -> D/2 -> D; P=16: 3 -> D/8 -> D/4 -> D/2 -> D; P=2: 3 -> D); ``Affine_1``; flatten
    to ``B x N x D``. As in the official code there is no GELU after the last Conv-BN for P=4/16, but there
    is one after the single Conv-BN for P=2. Official code uses SyncBatchNorm; this is BatchNorm2d.
    """

    def __init__(self, patch_size: int, in_chans: int, embed_dim: int) -> None:
        super().__init__()
        k = int(math.log2(patch_size)) if patch_size > 0 else 0
        if patch_size < 2 or 2**k != patch_size:
            raise UserError(f"SOPE needs a patch size that is a power of two >= 2, got {patch_size}")
        if embed_dim % 2 ** (k - 1):
            raise UserError(f"SOPE with patch {patch_size} needs embed_dim divisible by {2 ** (k - 1)}")
        widths = [in_chans] + [embed_dim // 2 ** (k - 1 - i) for i in range(k)]
        layers: list[nn.Module] = []
        for i in range(k):
            layers.append(_conv_bn(widths[i], widths[i + 1]))
            if i < k - 1 or k == 1:
                layers.append(nn.GELU())
        self.pre_affine = Affine(in_chans)
        self.proj = nn.Sequential(*layers)
        self.post_affine = Affine(embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.post_affine(self.proj(self.pre_affine(x)))
        return x.flatten(2).transpose(1, 2)


class DAFF(nn.Module):
    """Dynamic Aggregation Feed-Forward (Sec. 3.3, Eqs. 3-4), hidden width ``4D``.

    Patch tokens, as a ``D x sqrt(N) x sqrt(N)`` map: ``t = GELU(BN(Conv1x1(x)))``;
    ``t = t + GELU(BN(DWConv3x3(t)))`` (inner shortcut); ``t = BN(Conv1x1(t))``. Class token:
    ``cls * W_2 GELU(W_1 GAP(t))`` (squeeze-excitation with reduction 4 and, as in Eq. 4 and the code,
    no sigmoid). The class token never passes through the convolutions.
    """

    def __init__(self, dim: int, hidden: int, act_layer: type[nn.Module] = nn.GELU) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(dim, hidden, 1)
        self.bn1 = nn.BatchNorm2d(hidden)
        self.conv2 = nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden)
        self.bn2 = nn.BatchNorm2d(hidden)
        self.conv3 = nn.Conv2d(hidden, dim, 1)
        self.bn3 = nn.BatchNorm2d(dim)
        self.act = act_layer()
        self.compress = nn.Linear(dim, dim // 4)
        self.excitation = nn.Linear(dim // 4, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, n, D = x.shape
        side = math.isqrt(n - 1)
        if side * side != n - 1:
            raise UserError(f"DAFF needs a square grid of patch tokens, got {n - 1}")
        cls, tokens = x[:, :1], x[:, 1:]
        t = tokens.transpose(1, 2).reshape(B, D, side, side)
        t = self.act(self.bn1(self.conv1(t)))
        t = t + self.act(self.bn2(self.conv2(t)))
        t = self.bn3(self.conv3(t))
        w = self.excitation(self.act(self.compress(t.mean(dim=(2, 3)))))
        return torch.cat([cls * w[:, None], t.flatten(2).transpose(1, 2)], dim=1)


class HIAttention(Attention):
    """Head-Interacted MHSA (Sec. 3.4, Eqs. 5-7): timm's ``Attention`` over ``[X; head tokens]``.

    Head tokens: split ``X`` (``B x (N+1) x D``) into ``h`` channel groups of width ``d``, average each
    over all ``N+1`` tokens (class token included), project ``Linear(d -> D)``, LayerNorm over ``d``-sized
    chunks (official code, not in Eq. 6), GELU, add the learnable head embedding ``E_head``
    (``1 x h x D``). After attention over the ``N+1+h`` tokens the ``h`` head-token outputs are averaged
    into the class token and dropped: they are rebuilt from each layer's input.
    """

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True, proj_drop: float = 0.0) -> None:
        super().__init__(dim, num_heads=num_heads, qkv_bias=qkv_bias, proj_drop=proj_drop)
        d = dim // num_heads
        self.ht_proj = nn.Linear(d, dim)
        self.ht_norm = nn.LayerNorm(d)
        self.ht_act = nn.GELU()
        self.head_embed = nn.Parameter(torch.zeros(1, num_heads, dim))
        trunc_normal_(self.head_embed, std=0.02)

    def head_tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Eq. 6: the ``B x h x D`` head tokens of the (normed) layer input ``x``."""
        B, _, D = x.shape
        h, d = self.num_heads, D // self.num_heads
        g = x.reshape(B, -1, h, d).mean(dim=1)  # B x h x d
        g = self.ht_norm(self.ht_proj(g).reshape(B, h, h, d))
        return self.ht_act(g).reshape(B, h, D) + self.head_embed

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        n = x.shape[1]
        out = super().forward(torch.cat([x, self.head_tokens(x)], dim=1), **kwargs)
        tokens, heads = out[:, :n], out[:, n:]
        return torch.cat([tokens[:, :1] + heads.mean(dim=1, keepdim=True), tokens[:, 1:]], dim=1)


class Block(nn.Module):
    """Pre-norm encoder block (Eq. 1): ``x + DropPath(MHSA(LN x))``, then ``x + DropPath(FFN(LN x))``.

    ``head_tokens`` picks HI-MHSA over timm's ``Attention``; ``daff`` picks DAFF over timm's ``Mlp``.
    Module names follow timm's ``vision_transformer.Block`` so the vanilla arm loads timm weights.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop: float = 0.0,
        drop_path: float = 0.0,
        head_tokens: bool = True,
        daff: bool = True,
    ) -> None:
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        if head_tokens:
            self.attn: nn.Module = HIAttention(dim, num_heads, qkv_bias=qkv_bias, proj_drop=drop)
        else:
            self.attn = Attention(dim, num_heads=num_heads, qkv_bias=qkv_bias, proj_drop=drop)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp: nn.Module = DAFF(dim, hidden) if daff else Mlp(dim, hidden, drop=drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))
