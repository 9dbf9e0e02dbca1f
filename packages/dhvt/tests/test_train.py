"""The training recipe on timm's utilities: resume (and its refusals), the DeiT pipeline, regression values."""

from dataclasses import replace

import pytest
import torch

from pkg_dhvt.config import MICRO_RECIPE, PRESETS, VARIANTS, Recipe
from pkg_dhvt.data import digits, load_images
from pkg_dhvt.model import DHVT
from pkg_dhvt.train import set_drop_path, train_model
from pkg_shared.device import pinned_threads
from pkg_shared.io import CheckpointError

SMOKE = PRESETS["smoke"].model


class Stop(Exception):
    pass


def _run(split, recipe, ckpt=None, log=None, settings=None):
    torch.manual_seed(0)
    model = DHVT(SMOKE)
    with pinned_threads(1):
        res = train_model(
            model, split, recipe, device=torch.device("cpu"), checkpoint_dir=ckpt, log=log, settings=settings
        )
    return model, res


def test_resume_gives_the_uninterrupted_weights(tmp_path):
    split = digits().subset(max_train=128, max_test=64)
    recipe = replace(MICRO_RECIPE, epochs=2, batch_size=32)
    ref, _ = _run(split, recipe)

    def interrupt(**row):
        if row["epoch"] == 1:
            raise Stop

    with pytest.raises(Stop):
        _run(split, recipe, tmp_path, log=interrupt)
    resumed, res = _run(split, recipe, tmp_path)
    assert [r["epoch"] for r in res["history"]] == [1, 2]
    for (k, a), b in zip(ref.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), k


def test_deit_recipe_runs_with_mixup_randaugment_erasing_ema():
    split = digits().subset(max_train=32, max_test=16)
    recipe = replace(Recipe(), epochs=1, batch_size=16, warmup=0.5)
    model, res = _run(split, recipe)
    assert torch.isfinite(torch.tensor(res["train_loss"])) and res["ema"] is not None
    deep = DHVT(SMOKE.ablate(depth=3))
    set_drop_path(deep, 0.1)
    assert [getattr(b.drop_path, "drop_prob", 0.0) for b in deep.blocks] == pytest.approx([0, 0.05, 0.1])


def test_optimizer_excludes_norms_and_tokens_from_weight_decay():
    from timm.optim import create_optimizer_v2

    opt = create_optimizer_v2(DHVT(SMOKE), "adamw", lr=1e-3, weight_decay=0.05)
    no_decay = next(g for g in opt.param_groups if g["weight_decay"] == 0.0)
    assert any(p.ndim == 3 and p.shape[1] == 1 for p in no_decay["params"])  # the class token


def test_resume_under_other_settings_is_refused(tmp_path):
    """A finished run resumed under a new learning rate is refused, naming the key (never reported as new)."""
    split = digits().subset(max_train=64, max_test=32)
    recipe = replace(MICRO_RECIPE, epochs=1, batch_size=32)
    _run(split, recipe, tmp_path, settings={"recipe": recipe, "seed": 0})
    with pytest.raises(CheckpointError, match="lr"):
        _run(
            split,
            replace(recipe, lr=5e-4),
            tmp_path,
            settings={"recipe": replace(recipe, lr=5e-4), "seed": 0},
        )
    _, res = _run(split, recipe, tmp_path, settings={"recipe": recipe, "seed": 0})  # same settings: resumes
    assert [r["epoch"] for r in res["history"]] == [1]
    (tmp_path / "settings.json").unlink()  # a training state with no record of what made it
    with pytest.raises(CheckpointError, match="without a record"):
        _run(split, recipe, tmp_path, settings={"recipe": recipe, "seed": 0})


def test_regression_logits_at_init():
    """The smoke DHVT (seed 0) on a fixed input: stored logits. Removing the head-token merge (cls += mean
    of the head-token outputs) moves the sum from 2.486 to 2.808, far outside the tolerance."""
    torch.manual_seed(0)
    model = DHVT(SMOKE).eval()
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        logits = model(x).double()
    assert logits.sum().item() == pytest.approx(2.48610, abs=1e-3)
    assert logits[0, :3].tolist() == pytest.approx([-0.014533, 0.086962, -0.092033], abs=1e-4)


def test_regression_smoke_training_learns():
    """Seed 0, the smoke model, 256 digits, 4 epochs at lr 3e-3: a stored train-loss curve that falls well
    below chance (ln 10 = 2.303). Without the head-token merge the last value is 2.112 (7x the tolerance)."""
    split = digits().subset(max_train=256, max_test=128)
    _, res = _run(split, replace(MICRO_RECIPE, epochs=4, batch_size=32, lr=3e-3))
    losses = [r["train_loss"] for r in res["history"]]
    assert losses == sorted(losses, reverse=True) and losses[-1] < 2.2
    assert losses == pytest.approx([2.3059, 2.2035, 2.1296, 2.0915], abs=3e-3)


@pytest.mark.slow
@pytest.mark.data
def test_regression_micro_cifar_subset(data_dir):
    """Spec: the micro DHVT, one epoch on 512 CIFAR-subset images, seed 0: a stored train loss."""
    split = load_images("cifar10-subset", data_dir).subset(max_train=512, max_test=100)
    torch.manual_seed(0)
    model = DHVT(VARIANTS["dhvt_micro_cifar_patch4"])
    with pinned_threads(1):
        res = train_model(model, split, replace(MICRO_RECIPE, epochs=1), device=torch.device("cpu"))
    assert res["train_loss"] == pytest.approx(2.2041, abs=2e-3)
