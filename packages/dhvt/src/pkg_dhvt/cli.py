"""`pkg-dhvt`: info, reproduce, train, evaluate, bench, params.

Nothing heavy is imported at module level (``--help`` and ``info`` answer without torch or timm): each
command imports what it uses.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from pkg_shared.cli import App, Paper, bounded, positive
from pkg_shared.dataroot import data_root
from pkg_shared.errors import UserError
from pkg_shared.io import prepare_output, to_jsonable

from . import __version__
from .claims import CLAIMS
from .config import (
    DATA_FILES,
    MICRO_RECIPE,
    MODELS,
    PARAMS_EXACT,
    PARAMS_PAPER_M,
    SAME_SIZE_VIT,
    VARIANTS,
    Recipe,
)

PAPER = Paper(
    title="Bridging the Gap Between Vision Transformers and Convolutional Neural Networks on Small Datasets",
    authors="Zhiying Lu, Hongtao Xie, Chuanbin Liu, Yongdong Zhang",
    venue="NeurIPS 2022",
    arxiv="2210.05958",
    bibtex="""@inproceedings{lu2022bridging,
  title     = {Bridging the Gap Between Vision Transformers and Convolutional Neural Networks on Small Datasets},
  author    = {Lu, Zhiying and Xie, Hongtao and Liu, Chuanbin and Zhang, Yongdong},
  booktitle = {Advances in Neural Information Processing Systems (NeurIPS)},
  year      = {2022}
}""",
    implemented=[
        "SOPE: Conv3x3(s2)-BN stack with GELU between, two per-channel affines, no position embedding (Eq. 2)",
        "DAFF: 1x1 - depth-wise 3x3 (inner shortcut) - 1x1 convs over patch tokens + class-token SE (Eqs. 3-4)",
        "HI-MHSA: head tokens from channel-group means, attention over N+1+h tokens, merged into cls (Eqs. 5-7)",
        "DHVT registered with timm: dhvt_{tiny,small}_{cifar_patch4,cifar_patch2,domain_patch16,imagenet_patch16}",
        "ablation switches (--no-sope/--no-daff/--no-head-token/--abs-pe); timm ViT/DeiT and ResNet baselines",
        "recipe via timm: AdamW, warm-up+cosine, label smoothing, RandAugment, Mixup/CutMix, erasing, EMA",
    ],
    datasets=[
        "digits (scikit-learn, offline)",
        "cifar10-subset",
        "fashion-mnist-subset",
        "cifar100 (data root cifar-100-python/)",
        "CIFAR-10/100 or ImageFolder folders (train/evaluate)",
    ],
)

app = App(
    slug="dhvt",
    version=__version__,
    paper=PAPER,
    claims=CLAIMS,
    reproduce="pkg_dhvt.experiment:reproduce",
    report="pkg_dhvt.experiment:report",
    datasets=("auto", "digits", "cifar10-subset", "fashion-mnist-subset", "cifar100"),
    data_files=DATA_FILES,
    examples=[
        "reproduce --scale small --data-dir DATA",
        "train --model dhvt_micro --dataset cifar10-subset --epochs 8 --data-dir DATA",
        "evaluate --ckpt runs/dhvt/train-dhvt_micro-cifar10-subset-...",
        "params",
        "bench --model dhvt_tiny_p4 --device cuda",
    ],
)
main = app.main


# ------------------------------------------------------------------------------------------------ train
def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", choices=tuple(MODELS), default="dhvt_micro", help="architecture to train")
    p.add_argument(
        "--dataset",
        "--data",
        dest="dataset",
        default="digits",
        help="digits, cifar10-subset, fashion-mnist-subset, cifar100 (from the data root), or a folder "
        "holding cifar-10-batches-py/, cifar-100-python/ or an ImageFolder train/ + test/ tree",
    )
    p.add_argument("--epochs", type=bounded(int, 1, 10_000), default=8, help="training epochs")
    p.add_argument(
        "--batch-size", type=bounded(int, 2, 65_536), default=64, help="images per step (>= 2: BatchNorm)"
    )
    p.add_argument("--lr", type=bounded(float, 1e-8, 10.0), default=1e-3, help="peak AdamW learning rate")
    p.add_argument("--weight-decay", type=bounded(float, 0.0, 10.0), default=0.05, help="AdamW weight decay")
    p.add_argument("--aug", choices=("light", "deit"), default="light", help="light: crop+flip; deit: paper")
    p.add_argument(
        "--warmup",
        type=bounded(float, 0.0, 10_000.0),
        default=None,
        help="epochs if >= 1, else a fraction of steps (unset: 5 with deit, 0.1 with light)",
    )
    p.add_argument(
        "--drop-path",
        type=bounded(float, 0.0, 0.99),
        default=None,
        help="stochastic depth rate (unset: 0.1 with deit, 0 with light)",
    )
    p.add_argument(
        "--ema", type=bounded(float, 0.0, 0.999999), default=None, help="model EMA decay (unset: off)"
    )
    p.add_argument(
        "--img-size", type=bounded(int, 2, 1024), default=None, help="input size (unset: the model's)"
    )
    p.add_argument("--max-train", type=positive, default=None, help="use only the first N training images")
    p.add_argument("--no-sope", action="store_true", help="ablation: ViT patchify instead of SOPE")
    p.add_argument("--no-daff", action="store_true", help="ablation: plain MLP instead of DAFF")
    p.add_argument("--no-head-token", action="store_true", help="ablation: plain MHSA, no head tokens")
    p.add_argument(
        "--abs-pe", action="store_true", help="ablation: add a learnable absolute position embedding"
    )
    p.add_argument(
        "--save",
        default=None,
        help="checkpoint folder, resumed when it holds a training state made with the same settings "
        "(unset: <out>/dhvt/train-<model>-<dataset>-<settings>-s<seed>-<fingerprint>)",
    )


def _recipe(args: argparse.Namespace) -> Recipe:
    deit = args.aug == "deit"
    base = Recipe() if deit else MICRO_RECIPE
    drop_path = args.drop_path if args.drop_path is not None else base.drop_path
    return replace(
        base,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        warmup=args.warmup if args.warmup is not None else base.warmup,
        drop_path=drop_path,
        ema_decay=args.ema,
        max_train=args.max_train,
    )


def _flags(args: argparse.Namespace) -> dict[str, bool]:
    """The ablation switches of the command line as DHVTConfig fields (DHVT models only)."""
    switches = {"sope": args.no_sope, "daff": args.no_daff, "head_tokens": args.no_head_token}
    flags = {k: False for k, on in switches.items() if on}
    if args.abs_pe:
        flags["abs_pe"] = True
    if flags and MODELS[args.model][2] != "dhvt":
        raise UserError(f"the ablation switches apply to DHVT models, not to the baseline {args.model}")
    return flags


def train_settings(args: argparse.Namespace, desc: dict[str, Any], recipe: Recipe) -> dict[str, Any]:
    """Everything that changes the trained weights: recorded in the checkpoint folder, checked on resume."""
    data = args.dataset
    if Path(data).expanduser().is_dir():
        data = str(Path(data).expanduser().resolve())
    return {"model": desc, "recipe": asdict(recipe), "dataset": data, "seed": args.seed}


def default_folder(out: str, settings: dict[str, Any]) -> Path:
    """``<out>/dhvt/train-<model>-<dataset>-<ablations>-e<epochs>-b<batch>-lr<lr>-<aug>-s<seed>-<fingerprint>``.

    The readable part names the settings one usually changes; the fingerprint (SHA-256 of every setting)
    makes two runs that differ in any other setting land in different folders.
    """
    r, arch = settings["recipe"], settings["model"]["arch"]
    off = "".join(f"-no_{k}" for k in ("sope", "daff", "head_tokens") if not arch[k])
    pe = "-abs_pe" if arch["abs_pe"] else ""
    data = Path(settings["dataset"]).name
    blob = json.dumps(to_jsonable(settings), sort_keys=True).encode()
    tag = hashlib.sha256(blob).hexdigest()[:8]
    name = (
        f"train-{settings['model']['name']}-{data}{off}{pe}-e{r['epochs']}-b{r['batch_size']}-lr{r['lr']:g}"
        f"-{r['aug']}-s{settings['seed']}-{tag}"
    )
    return Path(out) / "dhvt" / name


@app.command("train", "train DHVT, an ablation or a timm baseline; checkpoint + metrics.json", _train_args)
def train(args: argparse.Namespace) -> int:
    from pkg_shared.device import pinned_threads, resolve_device
    from pkg_shared.io import atomic_write_json, save_checkpoint
    from pkg_shared.seed import seed_everything

    from .data import load_images
    from .model import build_model, count_params, model_config
    from .train import train_model

    flags = _flags(args)
    desc = model_config(args.model, **flags)
    size = args.img_size or desc["arch"]["img_size"]
    recipe = _recipe(args)
    save_arg = Path(args.save) if args.save else None
    if save_arg is not None:
        prepare_output(save_arg, kind="dir", what="--save")
    else:
        prepare_output(args.out, kind="dir", what="--out")
    device = resolve_device(args.device)
    split = load_images(args.dataset, data_root(args.data_dir), size=size)
    desc = model_config(args.model, **flags, img_size=size, num_classes=split.num_classes)
    settings = train_settings(args, desc, recipe)
    save = save_arg or prepare_output(
        default_folder(args.out, settings), kind="dir", what="checkpoint folder"
    )
    seed_everything(args.seed)
    model = build_model(desc)
    print(
        f"{args.model}: {count_params(model):,} parameters; {split.name}: {len(split.y_train)} train, "
        f"{len(split.y_test)} test; checkpoint folder {save}"
    )
    with pinned_threads(1 if device.type == "cpu" else None):
        res = train_model(
            model,
            split,
            recipe,
            device=device,
            seed=args.seed,
            checkpoint_dir=save,
            quiet=args.quiet,
            desc=args.model,
            log=lambda **row: print(json.dumps({k: row[k] for k in row if k != "model"})),
            settings=settings,
        )
    final = res["ema"] if res["ema"] is not None else model
    meta = {
        "model": desc,
        "data": settings["dataset"],
        "dataset": split.name,
        "stats": res["stats"],
        "recipe": asdict(recipe),
        "seed": args.seed,
    }
    save_checkpoint(save, final.state_dict(), meta)
    atomic_write_json(save / "metrics.json", {"history": res["history"], "test_acc": res["test_acc"], **meta})
    print(f"test accuracy {res['test_acc']:.2f}% after {recipe.epochs} epochs; checkpoint: {save}")
    return 0


def _evaluate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ckpt", required=True, help="a folder written by `pkg-dhvt train`")
    p.add_argument(
        "--dataset", "--data", dest="dataset", default=None, help="dataset (unset: the one it was trained on)"
    )


@app.command("evaluate", "test accuracy of a checkpoint", _evaluate_args)
def evaluate_cmd(args: argparse.Namespace) -> int:
    import torch

    from pkg_shared.device import pinned_threads, resolve_device
    from pkg_shared.io import load_checkpoint

    from .data import load_images
    from .model import build_model
    from .train import evaluate

    device = resolve_device(args.device)
    _, meta = load_checkpoint(args.ckpt)
    if "model" not in meta or "stats" not in meta:
        raise UserError(f"{args.ckpt} was not written by `pkg-dhvt train` (no model description)")
    model = build_model(meta["model"])
    tensors, _ = load_checkpoint(args.ckpt, expected=model)
    model.load_state_dict(tensors)
    data = args.dataset or meta["data"]
    split = load_images(data, data_root(args.data_dir), size=meta["model"]["arch"]["img_size"])
    classes = meta["model"]["arch"]["num_classes"]
    if split.num_classes != classes:
        raise UserError(f"{data} has {split.num_classes} classes but the checkpoint's head has {classes}")
    stats = tuple(torch.tensor(s) for s in meta["stats"])  # the train split's normaliser, never re-fitted
    model.to(device)
    with pinned_threads(1 if device.type == "cpu" else None):
        res = evaluate(model, split.x_test, split.y_test, stats, device)
    print(json.dumps({"model": meta["model"]["name"], "dataset": split.name, **res}))
    return 0


# ------------------------------------------------------------------------------------------ bench/params
def _bench_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", choices=tuple(MODELS), default="dhvt_tiny_p4", help="the model to time")
    p.add_argument(
        "--against",
        choices=tuple(MODELS),
        default=None,
        help="the reference (unset: timm ViT of the same size)",
    )
    p.add_argument("--batch-size", type=bounded(int, 2, 65_536), default=64, help="images per step")
    p.add_argument("--steps", type=bounded(int, 1, 100_000), default=5, help="timed steps (after 1 warm-up)")
    p.add_argument(
        "--threads", type=bounded(int, 1, 1024), default=None, help="CPU threads (unset: torch's default)"
    )


@app.command("bench", "images/s and memory, training and inference, DHVT vs timm's ViT", _bench_args)
def bench_cmd(args: argparse.Namespace) -> int:
    from pkg_shared.device import env_info, pinned_threads, resolve_device
    from pkg_shared.io import RunDir

    from .bench import bench, format_rows

    run = RunDir.create(args.out, "dhvt", args.seed)  # before any work: a bad --out fails at once
    device = resolve_device(args.device)
    against = args.against or SAME_SIZE_VIT.get(args.model, "timm_vit_micro")
    with pinned_threads(args.threads):
        rows = [bench(name, device, args.batch_size, args.steps) for name in (args.model, against)]
        print(format_rows(rows, device))
    run.write_env(env_info(device))
    run.write_results({"command": "bench", "device": str(device), "rows": rows})
    print(f"run folder: {run.path}")
    return 0


@app.command("params", "parameter counts of the paper's configurations vs the paper", run_options=False)
def params_cmd(args: argparse.Namespace) -> int:
    from . import experiment

    counts = experiment.param_counts()
    print(
        f"{'variant':<28} | {'D':>3} | {'h':>2} | {'P':>2} | {'img':>3} | {'classes':>7} | {'params':>11} "
        f"| paper | dev % | spec exact"
    )
    for name, n in counts.items():
        c = VARIANTS[name]
        classes = experiment._classes(name).get("num_classes", c.num_classes)
        exact = PARAMS_EXACT.get(name)
        dev = 100 * abs(n / 1e6 - PARAMS_PAPER_M[name]) / PARAMS_PAPER_M[name]
        ok = "-" if exact is None else ("equal" if exact == n else f"DIFFERS ({exact:,})")
        print(
            f"{name:<28} | {c.embed_dim:>3} | {c.num_heads:>2} | {c.patch_size:>2} | {c.img_size:>3} | "
            f"{classes:>7} | {n:>11,} | {PARAMS_PAPER_M[name]:>4}M | {dev:5.2f} | {ok}"
        )
    return 0
