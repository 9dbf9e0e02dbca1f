"""The small-scale reproduction (spec "Small-scale reproduction"): the micro ablation of Tables 5-6.

Arms, all trained from scratch with one recipe and budget (``config.ARMS``): ``vit`` (patchify + abs.
PE + MLP, module for module timm's ViT), ``vit+head_tokens`` (Table 6's head token alone), and ``dhvt``
(SOPE + DAFF + head tokens, no PE); ``full`` adds ``dhvt-no-head_tokens``. Also measured: the parameter
counts of the paper's eight configurations (Tables 2-4), built on the meta device.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from functools import lru_cache
from typing import Any

import timm
import torch

from pkg_shared.claims import NotRun
from pkg_shared.cli import RunContext
from pkg_shared.data import DatasetMissing
from pkg_shared.device import torch_threads
from pkg_shared.plots import bar_plot
from pkg_shared.seed import seed_everything

from .config import ARMS, PARAMS_CLASSES, PARAMS_EXACT, PARAMS_PAPER_M, PRESETS
from .data import load_images
from .model import DHVT, count_params
from .train import train_model

CIFAR100_NOT_RUN = NotRun(
    "needs CIFAR-100 (not shipped) and 300 epochs on a GPU: "
    "pkg-dhvt train --model dhvt_small_p2 --data PATH/cifar-100-python --aug deit --epochs 300 --batch-size 256"
)


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
    """Train each arm (same seed, recipe and data) and return its test accuracy and history."""
    preset = PRESETS[ctx.scale]
    split = load_images(dataset, ctx.data_dir)
    if preset.eval_max is not None:
        split = split.subset(max_test=preset.eval_max)
    results = {}
    for arm in arms:
        seed_everything(ctx.seed)
        cfg = preset.model.ablate(**ARMS[arm])
        model = DHVT(cfg.ablate(num_classes=split.num_classes))
        with torch_threads(1) if ctx.device.type == "cpu" else nullcontext():
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


def reproduce(ctx: RunContext) -> dict[str, Any]:
    """The micro ablation for one seed plus the parameter counts; the values the claims judge."""
    preset = PRESETS[ctx.scale]
    measured: dict[str, Any] = {**param_measures(), "cifar100_dhvt_s_p2": CIFAR100_NOT_RUN}
    dataset = preset.dataset if ctx.dataset in (None, "auto") else ctx.dataset
    measured["dataset"] = dataset
    keys = ("gain_dhvt_over_vit", "head_token_gain_on_vit", "head_token_gain_on_dhvt")
    try:
        arms = run_arms(ctx, dataset, preset.arms)
    except DatasetMissing as e:
        measured.update(dict.fromkeys(keys, NotRun(str(e))))
        return measured
    for arm, r in arms.items():
        measured[f"acc_{arm}"] = r["test_acc"]
        measured[f"params_{arm}"] = r["params"]
        measured[f"seconds_{arm}"] = r["train_seconds"]
    measured["gain_dhvt_over_vit"] = arms["dhvt"]["test_acc"] - arms["vit"]["test_acc"]
    measured["head_token_gain_on_vit"] = arms["vit+head_tokens"]["test_acc"] - arms["vit"]["test_acc"]
    if "dhvt-no-head_tokens" in arms:
        measured["head_token_gain_on_dhvt"] = (
            arms["dhvt"]["test_acc"] - arms["dhvt-no-head_tokens"]["test_acc"]
        )
    else:
        measured["head_token_gain_on_dhvt"] = NotRun("arm dhvt-no-head_tokens runs at --scale full only")
    return measured


def report(per_seed: Sequence[Mapping[str, Any]], measured: Mapping[str, Any], run: Any) -> None:
    """A bar plot of the arms' test accuracy (mean over seeds)."""
    arms = [a for a in ARMS if isinstance(measured.get(f"acc_{a}"), float)]
    if arms:
        bar_plot(
            run.plots / "ablation",
            arms,
            {"test accuracy (%)": [measured[f"acc_{a}"] for a in arms]},
            ylabel="test accuracy (%)",
            title=f"micro ablation on {measured.get('dataset')}",
        )
