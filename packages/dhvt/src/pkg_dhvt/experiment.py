"""The reproduction (spec "Small-scale reproduction"): the micro ablation of Tables 5-6, and Table 4.

Arms, all trained from scratch with one recipe and budget per seed (``config.ARMS``): ``vit`` (patchify +
abs. PE + MLP, module for module timm's ViT), ``vit+head_tokens`` (Table 6's head token alone),
``dhvt-no-head_tokens`` (SOPE + DAFF, no PE: Table 5) and ``dhvt`` (all three, no PE). Also measured: the
parameter counts of the paper's eight configurations (Tables 2-4), built on the meta device, and, at
``--scale full`` when the data root holds CIFAR-100 (``cifar-100-python/``), DHVT-S P2 trained with the
paper's recipe for 300 epochs (Table 4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import timm
import torch

from pkg_shared.claims import NotRun
from pkg_shared.cli import RunContext
from pkg_shared.data import DatasetMissing, has_dataset
from pkg_shared.plots import bar_plot
from pkg_shared.seed import seed_everything

from .config import (
    ARMS,
    CIFAR100_MODEL,
    CIFAR100_RECIPE,
    PARAMS_CLASSES,
    PARAMS_EXACT,
    PARAMS_PAPER_M,
    PRESETS,
)
from .data import cifar100, load_images
from .model import DHVT, build_model, count_params, model_config
from .train import train_model

CIFAR100_FILES = ("train", "test", "meta")


def param_counts() -> dict[str, int]:
    """Parameters of every paper configuration (100 classes for CIFAR, 345 DomainNet, 1000 ImageNet)."""
    return dict(_param_counts())


@lru_cache(maxsize=1)
def _param_counts() -> dict[str, int]:
    out = {}
    with torch.device("meta"):
        for name in PARAMS_PAPER_M:
            out[name] = count_params(timm.create_model(name, **_classes(name)))
    return out


def _classes(name: str) -> dict[str, int]:
    if name in PARAMS_CLASSES:
        return {"num_classes": PARAMS_CLASSES[name]}
    return {} if "imagenet" in name else {"num_classes": 100}


def param_measures() -> dict[str, Any]:
    counts = param_counts()
    dev = {n: 100 * abs(c / 1e6 - PARAMS_PAPER_M[n]) / PARAMS_PAPER_M[n] for n, c in counts.items()}
    return {
        "param_counts": counts,
        "params_max_dev_pct": max(dev.values()),
        "params_cifar_exact": all(counts[n] == v for n, v in PARAMS_EXACT.items()),
    }


def run_arms(ctx: RunContext, dataset: str, arms: Sequence[str]) -> dict[str, Any]:
    """Train each arm (same seed, recipe and data) and return its test accuracy and cost."""
    preset = PRESETS[ctx.scale]
    split = load_images(dataset, ctx.data_dir)
    if preset.eval_max is not None:
        split = split.subset(max_test=preset.eval_max)
    results = {}
    for i, arm in enumerate(arms, 1):
        seed_everything(ctx.seed)
        cfg = preset.model.ablate(**ARMS[arm])
        model = DHVT(cfg.ablate(num_classes=split.num_classes))
        ctx.status(f"arm {i}/{len(arms)}: {arm} ({count_params(model):,} parameters)")
        res = train_model(
            model,
            split,
            preset.recipe,
            device=ctx.device,
            seed=ctx.seed,
            log=ctx.log,
            quiet=ctx.quiet,
            desc=arm,
            eval_every=preset.recipe.epochs,
        )
        results[arm] = {
            "test_acc": res["test_acc"],
            "train_loss": res["train_loss"],
            "params": count_params(model),
            "train_seconds": sum(r["train_seconds"] for r in res["history"]),
        }
    return results


def cifar100_run(ctx: RunContext) -> float | NotRun:
    """Table 4: DHVT-S P2 on CIFAR-100 with the paper's recipe (``--scale full`` and the data present)."""
    if ctx.scale != "full":
        return NotRun("needs --scale full (300 epochs of DHVT-S P2 on CIFAR-100, a GPU)")
    if not has_dataset("cifar-100-python", CIFAR100_FILES, ctx.data_dir):
        return NotRun(
            f"needs CIFAR-100 under the data root: {ctx.data_dir}/cifar-100-python/{{train,test,meta}} "
            "(https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz, unpacked)"
        )
    split = cifar100(ctx.data_dir)
    desc = model_config(CIFAR100_MODEL, num_classes=100)
    seed_everything(ctx.seed)
    model = build_model(desc)
    folder = ctx.run.path / f"cifar100-{CIFAR100_MODEL}-s{ctx.seed}"
    ctx.status(f"CIFAR-100: {CIFAR100_MODEL}, {CIFAR100_RECIPE.epochs} epochs, checkpoints in {folder}")
    res = train_model(
        model,
        split,
        CIFAR100_RECIPE,
        device=ctx.device,
        seed=ctx.seed,
        checkpoint_dir=folder,
        log=ctx.log,
        quiet=ctx.quiet,
        desc=f"cifar100 {CIFAR100_MODEL}",
        eval_every=10,
        settings={"model": desc, "recipe": CIFAR100_RECIPE, "dataset": "cifar100", "seed": ctx.seed},
    )
    return float(res["test_acc"])


def reproduce(ctx: RunContext) -> dict[str, Any]:
    """The micro ablation for one seed, the parameter counts and (full) CIFAR-100: what the claims judge."""
    preset = PRESETS[ctx.scale]
    measured: dict[str, Any] = {**param_measures()}
    dataset = preset.dataset if ctx.dataset in (None, "auto") else ctx.dataset
    measured["dataset"] = dataset
    keys = (
        "gain_dhvt_over_vit",
        "gain_sope_daff_over_vit",
        "head_token_gain_on_vit",
        "head_token_gain_on_dhvt",
    )
    try:
        arms = run_arms(ctx, dataset, preset.arms)
    except DatasetMissing as e:
        measured.update(dict.fromkeys(keys, NotRun(str(e))))
    else:
        for arm, r in arms.items():
            measured[f"acc_{arm}"] = r["test_acc"]
            measured[f"params_{arm}"] = r["params"]
            measured[f"seconds_{arm}"] = r["train_seconds"]
        acc = {arm: r["test_acc"] for arm, r in arms.items()}
        measured["gain_dhvt_over_vit"] = acc["dhvt"] - acc["vit"]
        measured["gain_sope_daff_over_vit"] = acc["dhvt-no-head_tokens"] - acc["vit"]
        measured["head_token_gain_on_vit"] = acc["vit+head_tokens"] - acc["vit"]
        measured["head_token_gain_on_dhvt"] = acc["dhvt"] - acc["dhvt-no-head_tokens"]
    measured["cifar100_dhvt_s_p2"] = cifar100_run(ctx)
    return measured


def report(per_seed: Sequence[Mapping[str, Any]], measured: Mapping[str, Any], run: Any) -> None:
    """A bar plot of the arms' test accuracy, one bar per seed and the mean."""
    arms = [a for a in ARMS if isinstance(measured.get(f"acc_{a}"), float)]
    if not arms:
        return
    series = {
        f"run {i + 1}": [row[f"acc_{a}"] for a in arms] for i, row in enumerate(per_seed) if len(per_seed) > 1
    }
    series["mean"] = [measured[f"acc_{a}"] for a in arms]
    bar_plot(
        run.plots / "ablation",
        arms,
        series,
        ylabel="test accuracy (%)",
        title=f"micro ablation on {measured.get('dataset')}",
    )
