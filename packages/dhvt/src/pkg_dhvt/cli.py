"""`pkg-dhvt`: info, reproduce, train, evaluate, bench, params."""

from __future__ import annotations

import argparse
import json
from contextlib import nullcontext
from dataclasses import asdict, replace
from pathlib import Path

import torch

from pkg_shared.cli import App, Paper, positive
from pkg_shared.data import data_root
from pkg_shared.device import env_info, resolve_device, torch_threads
from pkg_shared.errors import UserError
from pkg_shared.io import RunDir, atomic_write_json, load_checkpoint, save_checkpoint
from pkg_shared.seed import seed_everything

from . import __version__, experiment
from .claims import CLAIMS
from .config import MICRO_RECIPE, PARAMS_EXACT, PARAMS_PAPER_M, VARIANTS, Recipe
from .data import load_images
from .model import MODELS, SAME_SIZE_VIT, build_model, count_params, model_config
from .train import evaluate, train_model

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
        "CIFAR-10/100 folders",
    ],
)

app = App(
    slug="dhvt",
    version=__version__,
    paper=PAPER,
    claims=CLAIMS,
    reproduce=experiment.reproduce,
    datasets=("auto", "digits", "cifar10-subset", "fashion-mnist-subset"),
    report=experiment.report,
)
main = app.main


# ------------------------------------------------------------------------------------------------ train
def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", choices=tuple(MODELS), default="dhvt_micro")
    p.add_argument(
        "--data", default="digits", help="digits, cifar10-subset, fashion-mnist-subset or a folder"
    )
    p.add_argument("--epochs", type=positive, default=8)
    p.add_argument("--batch-size", type=positive, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--aug", choices=("light", "deit"), default="light", help="light: crop+flip; deit: paper")
    p.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="epochs if >= 1, else a fraction of steps (default 5 / 0.1)",
    )
    p.add_argument("--drop-path", type=float, default=None, help="stochastic depth (default: 0.1 with deit)")
    p.add_argument("--ema", type=float, default=None, help="model EMA decay, e.g. 0.99996 (default: off)")
    p.add_argument("--img-size", type=positive, default=None, help="input size (default: the model's)")
    p.add_argument("--max-train", type=positive, default=None, help="use only the first N training images")
    p.add_argument("--no-sope", action="store_true", help="ablation: ViT patchify instead of SOPE")
    p.add_argument("--no-daff", action="store_true", help="ablation: plain MLP instead of DAFF")
    p.add_argument("--no-head-token", action="store_true", help="ablation: plain MHSA, no head tokens")
    p.add_argument(
        "--abs-pe", action="store_true", help="ablation: add a learnable absolute position embedding"
    )
    p.add_argument("--save", default=None, help="checkpoint folder, resumed when it holds a training state")


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


@app.command("train", "train DHVT, an ablation or a timm baseline; checkpoint + metrics.json", _train_args)
def train(args: argparse.Namespace) -> int:
    device = resolve_device(args.device)
    seed_everything(args.seed)
    flags = {}
    if MODELS[args.model][2] == "dhvt":
        flags = {k: False for k, on in (("sope", args.no_sope), ("daff", args.no_daff)) if on}
        if args.no_head_token:
            flags["head_tokens"] = False
        if args.abs_pe:
            flags["abs_pe"] = True
    elif args.no_sope or args.no_daff or args.no_head_token or args.abs_pe:
        raise UserError(f"the ablation switches apply to DHVT models, not to the baseline {args.model}")
    desc = model_config(args.model, **flags)
    size = args.img_size or desc["arch"]["img_size"]
    split = load_images(args.data, data_root(args.data_dir), size=size)
    desc = model_config(args.model, **flags, img_size=size, num_classes=split.num_classes)
    model = build_model(desc)
    recipe = _recipe(args)
    save = (
        Path(args.save)
        if args.save
        else Path(args.out) / "dhvt" / f"train-{args.model}-{split.name}-s{args.seed}"
    )
    print(
        f"{args.model}: {count_params(model):,} parameters; {split.name}: {len(split.y_train)} train, "
        f"{len(split.y_test)} test; checkpoint folder {save}"
    )
    with torch_threads(1) if device.type == "cpu" else nullcontext():
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
        )
    final = res["ema"] if res["ema"] is not None else model
    meta = {
        "model": desc,
        "data": args.data,
        "dataset": split.name,
        "stats": res["stats"],
        "recipe": asdict(recipe),
    }
    save_checkpoint(save, final.state_dict(), meta)
    atomic_write_json(save / "metrics.json", {"history": res["history"], "test_acc": res["test_acc"], **meta})
    print(f"test accuracy {res['test_acc']:.2f}% after {recipe.epochs} epochs; checkpoint: {save}")
    return 0


def _evaluate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ckpt", required=True, help="a folder written by `pkg-dhvt train`")
    p.add_argument("--data", default=None, help="dataset (default: the one it was trained on)")


@app.command("evaluate", "test accuracy of a checkpoint", _evaluate_args)
def evaluate_cmd(args: argparse.Namespace) -> int:
    device = resolve_device(args.device)
    _, meta = load_checkpoint(args.ckpt)
    if "model" not in meta:
        raise UserError(f"{args.ckpt} was not written by `pkg-dhvt train` (no model description)")
    model = build_model(meta["model"])
    tensors, _ = load_checkpoint(args.ckpt, expected=model)
    model.load_state_dict(tensors)
    data = args.data or meta["data"]
    split = load_images(data, data_root(args.data_dir), size=meta["model"]["arch"]["img_size"])
    classes = meta["model"]["arch"]["num_classes"]
    if split.num_classes != classes:
        raise UserError(f"{data} has {split.num_classes} classes but the checkpoint's head has {classes}")
    stats = tuple(torch.tensor(s) for s in meta["stats"])
    model.to(device)
    with torch_threads(1) if device.type == "cpu" else nullcontext():
        res = evaluate(model, split.x_test, split.y_test, stats, device)
    print(json.dumps({"model": meta["model"]["name"], "dataset": split.name, **res}))
    return 0


# ------------------------------------------------------------------------------------------ bench/params
def _bench_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", choices=tuple(MODELS), default="dhvt_tiny_p4")
    p.add_argument(
        "--against", choices=tuple(MODELS), default=None, help="default: timm ViT of the same size"
    )
    p.add_argument("--batch-size", type=positive, default=64)
    p.add_argument("--steps", type=positive, default=5)
    p.add_argument("--threads", type=positive, default=None, help="CPU threads (default: torch's)")


@app.command("bench", "images/s and memory, training and inference, DHVT vs timm's ViT", _bench_args)
def bench_cmd(args: argparse.Namespace) -> int:
    from .bench import bench, format_rows

    device = resolve_device(args.device)
    against = args.against or SAME_SIZE_VIT.get(args.model, "timm_vit_micro")
    threads = torch_threads(args.threads) if args.threads else nullcontext()
    with threads:
        rows = [bench(name, device, args.batch_size, args.steps) for name in (args.model, against)]
        print(format_rows(rows, device))
    run = RunDir.create(args.out, "dhvt", args.seed)
    run.write_env(env_info(device))
    run.write_results({"command": "bench", "device": str(device), "rows": rows})
    print(f"run folder: {run.path}")
    return 0


@app.command("params", "parameter counts of the paper's configurations vs the paper", run_options=False)
def params_cmd(args: argparse.Namespace) -> int:
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
