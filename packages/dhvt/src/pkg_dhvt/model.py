"""The DHVT network (paper Sec. 3, Fig. 2), the timm baselines, and DHVT's timm registration.

``DHVT`` is a plain, non-hierarchical ViT with a class token: SOPE (or ViT patchify) -> [cls; tokens]
(+ abs. PE only in the ablation) -> ``depth`` x Block(HI-MHSA or MHSA, DAFF or MLP) -> LN -> head on the
class token. With every component off and abs. PE on, it is timm's ``VisionTransformer`` module for
module (same state-dict keys), which is how the vanilla arm of the ablation is checked against timm.

After ``import pkg_dhvt``, ``timm.create_model("dhvt_tiny_cifar_patch4")`` (and every name of
``config.VARIANTS``) builds the paper's configurations.
"""

from __future__ import annotations

from dataclasses import asdict, fields

import timm
import torch
from timm.layers import PatchEmbed, trunc_normal_
from timm.models import register_model
from torch import nn

from pkg_shared.errors import UserError

from .config import MODELS, VANILLA, VARIANTS, DHVTConfig
from .layers import SOPE, Block


def check_config(cfg: DHVTConfig) -> None:
    """Raise :class:`UserError` for an architecture the paper's layers cannot build."""
    if cfg.img_size % cfg.patch_size:
        raise UserError(
            f"image size {cfg.img_size} is not divisible by the patch size {cfg.patch_size} "
            "(the patch embedding needs img_size = patch_size * grid)"
        )
    if cfg.embed_dim % cfg.num_heads:
        raise UserError(f"embed_dim {cfg.embed_dim} is not divisible by num_heads {cfg.num_heads}")
    if cfg.daff and cfg.embed_dim % 4:
        raise UserError(f"DAFF's squeeze-excitation needs embed_dim divisible by 4, got {cfg.embed_dim}")
    if cfg.num_classes < 1:
        raise UserError(f"num_classes must be >= 1, got {cfg.num_classes}")


class DHVT(nn.Module):
    """Dynamic Hybrid Vision Transformer (Sec. 3) with each component switchable (Tables 5-6)."""

    def __init__(self, cfg: DHVTConfig) -> None:
        super().__init__()
        check_config(cfg)
        self.cfg = cfg
        self.num_classes = cfg.num_classes
        self.num_features = self.embed_dim = D = cfg.embed_dim
        n = cfg.grid**2
        if cfg.sope:
            self.patch_embed: nn.Module = SOPE(cfg.patch_size, cfg.in_chans, D)
        else:
            self.patch_embed = PatchEmbed(cfg.img_size, cfg.patch_size, cfg.in_chans, D)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, D))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, D)) if cfg.abs_pe else None
        self.pos_drop = nn.Dropout(cfg.drop_rate)
        dpr = drop_path_rates(cfg.drop_path_rate, cfg.depth)
        self.blocks = nn.Sequential(
            *[
                Block(
                    D,
                    cfg.num_heads,
                    cfg.mlp_ratio,
                    cfg.qkv_bias,
                    cfg.drop_rate,
                    dpr[i],
                    cfg.head_tokens,
                    cfg.daff,
                )
                for i in range(cfg.depth)
            ]
        )
        self.norm = nn.LayerNorm(D, eps=1e-6)
        self.head = nn.Linear(D, cfg.num_classes)
        self.apply(_init_weights)
        trunc_normal_(self.cls_token, std=0.02)
        if self.pos_embed is not None:
            trunc_normal_(self.pos_embed, std=0.02)

    @torch.jit.ignore
    def no_weight_decay(self) -> set[str]:
        """Parameters timm's optimiser factory keeps out of weight decay (as DeiT)."""
        return {"pos_embed", "cls_token"}

    def check_input(self, x: torch.Tensor) -> None:
        """Raise :class:`UserError` for a batch this model was not built for."""
        c = self.cfg
        if x.ndim != 4 or x.shape[1] != c.in_chans:
            raise UserError(f"expected images of shape B x {c.in_chans} x H x W, got {tuple(x.shape)}")
        H, W = x.shape[-2:]
        if H != W:
            raise UserError(f"DHVT needs square images (DAFF reshapes a square token grid), got {H}x{W}")
        if H % c.patch_size:
            raise UserError(f"image size {H} is not divisible by the patch size {c.patch_size}")
        if self.pos_embed is not None and c.img_size != H:
            raise UserError(
                f"with an absolute position embedding the image size must be {c.img_size}, got {H}"
            )

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Tokens after the final LayerNorm, ``B x (N+1) x D``."""
        self.check_input(x)
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        if self.pos_embed is not None:
            x = x + self.pos_embed
        x = self.blocks(self.pos_drop(x))
        return self.norm(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x)[:, 0])


def drop_path_rates(rate: float, depth: int) -> list[float]:
    """Stochastic depth rising linearly from 0 (first block) to ``rate`` (last block), as DeiT."""
    return [rate * i / max(depth - 1, 1) for i in range(depth)]


def _init_weights(m: nn.Module) -> None:
    """Sec. 4.1 / official code: Linear trunc-normal(.02) with zero bias; LN weight 1 bias 0; convs default."""
    if isinstance(m, nn.Linear):
        trunc_normal_(m.weight, std=0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, (nn.LayerNorm, nn.BatchNorm2d)):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)


_FIELDS = {f.name for f in fields(DHVTConfig)}


def _build(base: DHVTConfig, **kwargs) -> DHVT:
    for k in ("pretrained_cfg", "pretrained_cfg_overlay", "cache_dir"):
        kwargs.pop(k, None)
    if "drop_path" in kwargs:
        kwargs["drop_path_rate"] = kwargs.pop("drop_path")
    unknown = sorted(set(kwargs) - _FIELDS)
    if unknown:
        raise UserError(f"unknown DHVT option(s) {unknown}; known: {sorted(_FIELDS)}")
    return DHVT(DHVTConfig(**{**asdict(base), **kwargs}))


def _register(name: str, base: DHVTConfig) -> None:
    def factory(pretrained: bool = False, **kwargs) -> DHVT:
        if pretrained:
            raise UserError("no pretrained DHVT weights are shipped; train with `pkg-dhvt train`")
        return _build(base, **kwargs)

    factory.__name__ = name
    factory.__qualname__ = name
    factory.__module__ = __name__
    factory.__doc__ = (
        f"DHVT {name}: D={base.embed_dim}, heads={base.num_heads}, P={base.patch_size}, img={base.img_size}."
    )
    if name not in timm.list_models(name):
        register_model(factory)


for _name, _cfg in VARIANTS.items():
    _register(_name, _cfg)


# ------------------------------------------------------------------------------------------- baselines
def timm_vit(cfg: DHVTConfig) -> nn.Module:
    """timm's ``VisionTransformer`` of the same size (the paper's DeiT re-run: P4/P2, 32 px, 4 heads)."""
    from timm.models.vision_transformer import VisionTransformer

    check_config(cfg.ablate(**VANILLA))
    return VisionTransformer(
        img_size=cfg.img_size,
        patch_size=cfg.patch_size,
        in_chans=cfg.in_chans,
        num_classes=cfg.num_classes,
        embed_dim=cfg.embed_dim,
        depth=cfg.depth,
        num_heads=cfg.num_heads,
        mlp_ratio=cfg.mlp_ratio,
        qkv_bias=cfg.qkv_bias,
        drop_path_rate=cfg.drop_path_rate,
    )


def timm_resnet(
    num_classes: int, in_chans: int = 3, widths: tuple[int, ...] = (64, 128, 256, 512)
) -> nn.Module:
    """A small ResNet (BasicBlock x [2,2,2,2] = ResNet-18 at the default widths) from timm, CIFAR stem.

    timm's ImageNet stem (7x7 s2 conv + max-pool) would shrink 32 px to 8 px before the first stage; as is
    usual for CIFAR it is replaced by one 3x3 stride-1 conv without pooling.
    """
    from timm.models.resnet import BasicBlock, ResNet

    model = ResNet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes, in_chans=in_chans, channels=widths)
    model.conv1 = nn.Conv2d(in_chans, widths[0], 3, stride=1, padding=1, bias=False)
    model.maxpool = nn.Identity()
    return model


def model_config(name: str, **overrides) -> dict:
    """The JSON-able description ``build_model`` rebuilds from (saved beside every checkpoint)."""
    if name not in MODELS:
        raise UserError(f"unknown model {name!r}; one of {', '.join(MODELS)}")
    variant, flags, builder = MODELS[name]
    unknown = sorted(set(overrides) - _FIELDS)
    if unknown:
        raise UserError(f"unknown option(s) {unknown}")
    arch = {**asdict(VARIANTS[variant].ablate(**flags)), **overrides}
    return {"name": name, "builder": builder, "arch": arch}


def build_model(desc: dict) -> nn.Module:
    """Build the model a ``model_config`` dict describes (DHVT/ablation, timm ViT or timm ResNet)."""
    try:
        cfg, builder = DHVTConfig(**desc["arch"]), desc["builder"]
    except (KeyError, TypeError) as e:
        raise UserError(f"model description is malformed ({e})") from None
    if builder == "dhvt":
        return DHVT(cfg)
    if builder == "timm_vit":
        return timm_vit(cfg)
    if builder == "resnet18":
        return timm_resnet(cfg.num_classes, cfg.in_chans)
    if builder == "resnet_micro":
        return timm_resnet(cfg.num_classes, cfg.in_chans, widths=(16, 32, 64, 128))
    raise UserError(f"unknown model builder {builder!r}")


def count_params(model: nn.Module) -> int:
    """Number of parameters (trainable or not) of ``model``."""
    return sum(p.numel() for p in model.parameters())
