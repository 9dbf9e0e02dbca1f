"""Architecture: parameter counts, timm registration, shapes, gradients, and agreement with timm's ViT."""

import pytest
import timm
import torch
from timm.models.vision_transformer import VisionTransformer

import pkg_dhvt  # noqa: F401  (registers the DHVT variants with timm)
from pkg_dhvt.config import PARAMS_EXACT, VANILLA, VARIANTS, DHVTConfig
from pkg_dhvt.experiment import param_counts
from pkg_dhvt.layers import SOPE
from pkg_dhvt.model import DHVT, count_params, timm_vit
from pkg_shared.errors import UserError

TINY = DHVTConfig(img_size=16, patch_size=4, embed_dim=16, depth=2, num_heads=2, num_classes=5)


def test_cifar_param_counts_are_exact():
    counts = param_counts()
    for name, expected in PARAMS_EXACT.items():
        assert counts[name] == expected, name


def test_224_param_counts_within_2_percent_of_paper():
    counts = param_counts()
    paper = {
        "dhvt_tiny_domain_patch16": 6.1,
        "dhvt_small_domain_patch16": 23.8,
        "dhvt_tiny_imagenet_patch16": 6.2,
        "dhvt_small_imagenet_patch16": 24.0,
    }
    for name, millions in paper.items():
        assert abs(counts[name] / 1e6 - millions) / millions < 0.02, name


def test_registered_with_timm():
    names = set(timm.list_models("dhvt_*"))
    assert set(VARIANTS) <= names
    model = timm.create_model("dhvt_tiny_cifar_patch4", num_classes=7, drop_path_rate=0.0)
    assert isinstance(model, DHVT) and model.cfg.num_classes == 7
    with pytest.raises(UserError):
        timm.create_model("dhvt_tiny_cifar_patch4", pretrained=True)


def test_deit_tiny_baseline_matches_timm_count():
    """Spec: timm's VisionTransformer(32, P4, 192, depth 12, 4 heads) is the paper's 5.4M DeiT-T."""
    with torch.device("meta"):
        ref = VisionTransformer(
            img_size=32, patch_size=4, embed_dim=192, depth=12, num_heads=4, num_classes=100
        )
        ours = DHVT(VARIANTS["dhvt_tiny_cifar_patch4"].ablate(**VANILLA))
    assert count_params(ref) == count_params(ours)
    assert round(count_params(ref) / 1e6, 1) == 5.4


def test_vanilla_arm_equals_timm_vit():
    """All components off + abs. PE = timm's ViT, module for module: same keys, same outputs."""
    cfg = TINY.ablate(**VANILLA, drop_path_rate=0.0)
    torch.manual_seed(0)
    ref = timm_vit(cfg).eval()
    ours = DHVT(cfg).eval()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(3, 3, 16, 16)
    torch.testing.assert_close(ours(x), ref(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("patch", "gelus"), [(2, 1), (4, 1), (16, 3)])
def test_sope_shapes_and_gelu_placement(patch, gelus):
    sope = SOPE(patch, 3, 32)
    x = torch.randn(2, 3, 32, 32)
    assert sope(x).shape == (2, (32 // patch) ** 2, 32)
    assert sum(isinstance(m, torch.nn.GELU) for m in sope.proj) == gelus
    convs = [m for m in sope.proj.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs][-1] == 32 and all(c.stride == (2, 2) for c in convs)
    assert sope.pre_affine.alpha.shape == (1, 3, 1, 1) and sope.post_affine.beta.shape == (1, 32, 1, 1)


def test_shapes_and_gradients(device):
    torch.manual_seed(0)
    model = DHVT(TINY).to(device)
    x = torch.randn(4, 3, 16, 16, device=device)
    out = model(x)
    assert out.shape == (4, 5)
    assert model.forward_features(x).shape == (4, 17, 16)
    out.sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert model.pos_embed is None  # no absolute position embedding in DHVT


def test_stochastic_depth_rises_linearly():
    model = DHVT(TINY.ablate(depth=3, drop_path_rate=0.1))
    rates = [getattr(b.drop_path, "drop_prob", 0.0) for b in model.blocks]
    assert rates == pytest.approx([0.0, 0.05, 0.1])


def _patch_permutation(x: torch.Tensor, p: int, perm: torch.Tensor) -> torch.Tensor:
    B, C, H, W = x.shape
    g = H // p
    blocks = x.reshape(B, C, g, p, g, p).permute(0, 2, 4, 1, 3, 5).reshape(B, g * g, C, p, p)
    blocks = blocks[:, perm].reshape(B, g, g, C, p, p).permute(0, 3, 1, 4, 2, 5)
    return blocks.reshape(B, C, H, W)


def test_permutation_check_of_the_inductive_bias():
    """Vanilla patchify + no PE + MLP ignores where patches are; SOPE + DAFF does not."""
    torch.manual_seed(0)
    x = torch.randn(2, 3, 16, 16)
    perm = torch.randperm(16)
    xp = _patch_permutation(x, 4, perm)
    plain = DHVT(TINY.ablate(sope=False, daff=False, head_tokens=False, abs_pe=False)).eval()
    torch.testing.assert_close(plain(xp), plain(x), rtol=1e-5, atol=1e-5)
    dhvt = DHVT(TINY).eval()
    assert (dhvt(xp) - dhvt(x)).abs().max() > 1e-3
    with_pe = DHVT(TINY.ablate(**VANILLA)).eval()
    assert (with_pe(xp) - with_pe(x)).abs().max() > 1e-4


@pytest.mark.parametrize(
    ("cfg", "shape"),
    [
        (TINY, (1, 3, 16, 12)),  # not square
        (TINY, (1, 3, 18, 18)),  # not divisible by the patch size
        (TINY, (1, 1, 16, 16)),  # wrong channel count
        (TINY.ablate(**VANILLA), (1, 3, 32, 32)),  # abs. PE fixes the size
    ],
)
def test_bad_input_shapes(cfg, shape):
    with pytest.raises(UserError):
        DHVT(cfg)(torch.randn(*shape))


def test_bad_configs():
    with pytest.raises(UserError, match="divisible by the patch size"):
        DHVT(TINY.ablate(img_size=18))
    with pytest.raises(UserError, match="power of two"):
        DHVT(TINY.ablate(patch_size=3, img_size=15))
    with pytest.raises(UserError):
        timm.create_model("dhvt_tiny_cifar_patch4", no_such_option=1)
