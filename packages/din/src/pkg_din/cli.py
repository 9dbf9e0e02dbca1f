"""`pkg-din`: info, reproduce, train, evaluate, attention, bench, build-data."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

import torch

from pkg_shared.cli import App, Paper, positive
from pkg_shared.device import resolve_device
from pkg_shared.errors import UserError
from pkg_shared.io import RunDir, load_checkpoint, save_checkpoint

from . import __version__, experiment
from .claims import CLAIMS
from .config import EMB_INITS, MODELS, OPTIMISERS, REGULARISERS, ModelConfig, TrainConfig
from .data import DATASETS, load_dataset
from .layers import UNIT_INPUTS
from .metrics import evaluate as evaluate_split
from .protocols import CTRData
from .training import build_model, train_model

PAPER = Paper(
    title="Deep Interest Network for Click-Through Rate Prediction",
    authors="Guorui Zhou, Chengru Song, Xiaoqiang Zhu, Ying Fan, Han Zhu, Xiao Ma, Yanghui Yan, Junqi Jin, "
    "Han Li, Kun Gai",
    venue="KDD 2018",
    arxiv="1706.06978",
    bibtex="""@inproceedings{zhou2018din,
  title     = {Deep Interest Network for Click-Through Rate Prediction},
  author    = {Zhou, Guorui and Zhu, Xiaoqiang and Song, Chenru and Fan, Ying and Zhu, Han and Ma, Xiao and
               Yan, Yanghui and Jin, Junqi and Li, Han and Gai, Kun},
  booktitle = {Proceedings of the 24th ACM SIGKDD International Conference on Knowledge Discovery \\& Data Mining},
  pages     = {1059--1068},
  year      = {2018},
  note      = {arXiv:1706.06978}
}""",
    implemented=[
        "BaseModel: embedding + sum (or mean) pooling + MLP 200-80 with PReLU (Sec. 4.2)",
        "DIN: local activation unit [e, v, e - v, e * v] -> 36 -> 1, no softmax, padding masked (eq. (3))",
        "Dice (eq. (9)): batch statistics in training, running ones at inference; DIN+Dice",
        "mini-batch aware L2 (eq. (4)-(5)) vs full L2, feature-id dropout, frequency filter (Sec. 6.5)",
        "GAUC (eq. (1)) and RelaImpr (eq. (10)), with AUC and log-loss (pkg_shared.metrics)",
        "Amazon protocol (official build_dataset.py), MovieLens rating protocol, synthetic interest data",
    ],
    datasets=[
        "synthetic (offline)",
        "ml100k-seq, ml100k-rating (movielens-100k in the data root)",
        "taobao-tiny (ctr-taobao-ad-tiny)",
        "amazon (user-supplied amazon-electronics/)",
    ],
)

app = App(
    slug="din",
    version=__version__,
    paper=PAPER,
    claims=CLAIMS,
    reproduce=experiment.reproduce,
    datasets=("synthetic",),
    report=experiment.report,
)
main = app.main


def _data(config: dict, data_dir: str | None) -> CTRData:
    return load_dataset(
        config["data"],
        data_dir,
        max_hist=config["max_hist"],
        eval_negatives=config["negatives"],
        max_users=config.get("max_users"),
    )


# ------------------------------------------------------------------------------------------------ train
def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", choices=DATASETS, default="synthetic")
    p.add_argument("--model", choices=MODELS, default="din")
    p.add_argument("--emb", type=positive, default=64, help="goods, category and profile embedding size")
    p.add_argument("--emb-init", choices=EMB_INITS, default="glorot", help="glorot: the official code's")
    p.add_argument("--emb-std", type=float, default=1.0, help="with --emb-init normal: N(0, std^2)")
    p.add_argument("--att-units", type=positive, nargs="+", default=[36])
    p.add_argument("--mlp", type=positive, nargs="+", default=[200, 80])
    p.add_argument("--attention-softmax", action="store_true", help="official demo's deviation (off: paper)")
    p.add_argument("--unit-input", choices=UNIT_INPUTS, default="concat",
                   help="activation unit input: concat = [e, v, e-v, e*v] (official code), outer = [e, v, vec(e v^T)] "
                   "(the paper's Fig. 2 out product)")  # fmt: skip
    p.add_argument("--reg", choices=REGULARISERS, default="none")
    p.add_argument("--reg-lambda", type=float, default=0.01)
    p.add_argument("--optim", choices=OPTIMISERS, default="sgd")
    p.add_argument("--lr", type=float, default=1.0)
    p.add_argument("--batch", type=positive, default=32)
    p.add_argument("--epochs", type=positive, default=3)
    p.add_argument("--max-hist", type=positive, default=50, help="longer histories keep their last items")
    p.add_argument("--negatives", type=positive, default=20, help="sampled negatives per held-out positive")
    p.add_argument("--max-users", type=positive, default=None, help="first users only (quick runs)")
    p.add_argument("--save", default=None, help="checkpoint folder (model.safetensors + config.json)")


@app.command("train", "train BaseModel / DIN / DIN+Dice; GAUC, AUC, log-loss per epoch as JSON", _train_args)
def train(args: argparse.Namespace) -> int:
    device = resolve_device(args.device)
    model_cfg = ModelConfig(
        model=args.model, item_dim=args.emb, cate_dim=args.emb, profile_dim=args.emb, emb_init=args.emb_init,
        emb_std=args.emb_std,
        att_units=tuple(args.att_units), mlp=tuple(args.mlp), attention_softmax=args.attention_softmax,
        unit_input=args.unit_input,
    )  # fmt: skip
    train_cfg = TrainConfig(
        optim=args.optim, lr=args.lr, batch_size=args.batch, epochs=args.epochs, reg=args.reg,
        reg_lambda=args.reg_lambda,
    )  # fmt: skip
    config = {
        "data": args.data,
        "max_hist": args.max_hist,
        "negatives": args.negatives,
        "max_users": args.max_users,
    }
    data = _data(config, args.data_dir)
    run = RunDir.create(args.out, "din", args.seed)
    model, res = train_model(
        data, model_cfg, train_cfg, seed=args.seed, device=device, quiet=args.quiet, log=run.log
    )
    config.update(
        model=asdict(model_cfg), train=asdict(train_cfg), schema=data.schema.as_dict(), seed=args.seed
    )
    run.write_config(config)
    run.write_results(res)
    if args.save:
        save_checkpoint(args.save, model.state_dict(), config)
        data.encoder.save(Path(args.save) / "encoder.json")
    summary = {k: round(v, 5) for k, v in res.items() if k.startswith(("test_", "val_"))}
    print(json.dumps({"data": args.data, "model": args.model, "best_epoch": res["best_epoch"], **summary}))
    return 0


def load_trained(checkpoint: str, data_dir: str | None) -> tuple[torch.nn.Module, CTRData, dict]:
    """Rebuild the dataset and model named in a checkpoint written by ``train --save``; load its weights."""
    _, config = load_checkpoint(checkpoint)
    try:
        data = _data(config, data_dir)
        layers = {"att_units": tuple(config["model"]["att_units"]), "mlp": tuple(config["model"]["mlp"])}
        model_cfg = ModelConfig(**{**config["model"], **layers})
        train_cfg = TrainConfig(**config["train"])
    except (KeyError, TypeError) as e:
        raise UserError(f"{checkpoint}: not a pkg-din checkpoint ({e})") from None
    if data.schema.as_dict() != config.get("schema"):
        raise UserError(
            f"{checkpoint}: the dataset's vocabularies differ from those the model was trained on"
        )
    model = build_model(data, model_cfg, train_cfg)
    tensors, _ = load_checkpoint(checkpoint, expected=model)
    model.load_state_dict(tensors)
    return model.eval(), data, config


def _checkpoint_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="a folder written by `pkg-din train --save`")


@app.command("evaluate", "test GAUC, AUC and log-loss of a saved checkpoint", _checkpoint_args)
def evaluate(args: argparse.Namespace) -> int:
    model, data, config = load_trained(args.checkpoint, args.data_dir)
    model.to(resolve_device(args.device))
    print(json.dumps({"data": config["data"], **evaluate_split(model, data.splits["test"], "test_")}))
    return 0


# -------------------------------------------------------------------------------------------- attention
def _attention_args(p: argparse.ArgumentParser) -> None:
    _checkpoint_args(p)
    p.add_argument("--user", type=int, default=0, help="the n-th test user (default 0)")
    p.add_argument(
        "--items", nargs="+", default=None, help="raw candidate item ids (default: the user's test rows)"
    )
    p.add_argument("--top", type=positive, default=12, help="history items shown (most recent)")


@app.command(
    "attention", "print and plot a DIN's attention weights over one user's history (Fig. 5)", _attention_args
)
def attention(args: argparse.Namespace) -> int:
    from .attention import attention_table

    model, data, _ = load_trained(args.checkpoint, args.data_dir)
    run = RunDir.create(args.out, "din", args.seed)
    print(
        attention_table(
            model, data, user=args.user, items=args.items, top=args.top, plot=run.plots / "attention"
        )
    )
    print(f"plot: {run.plots / 'attention.png'}")
    return 0


# ------------------------------------------------------------------------------------------------ bench
def _bench_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", choices=DATASETS, default="synthetic")
    p.add_argument("--batch", type=positive, default=256)
    p.add_argument("--steps", type=positive, default=20)
    p.add_argument("--max-hist", type=positive, default=50)
    p.add_argument("--max-users", type=positive, default=None, help="first users only (quick runs)")


@app.command("bench", "milliseconds per training step of BaseModel / DIN / DIN+Dice", _bench_args)
def bench(args: argparse.Namespace) -> int:
    from .bench import step_times

    device = resolve_device(args.device)
    data = load_dataset(args.data, args.data_dir, max_hist=args.max_hist, max_users=args.max_users)
    rows = step_times(data, batch_size=args.batch, steps=args.steps, device=device)
    print(
        f"{args.data}, batch {args.batch}, device {device}, {torch.get_num_threads()} threads, torch {torch.__version__}"
    )
    for model, ms in rows.items():
        print(f"{model:>9}: {ms:8.2f} ms / training step (median)")
    RunDir.create(args.out, "din", args.seed).write_results(
        {"command": "bench", "device": str(device), "ms": rows}
    )
    return 0


# ------------------------------------------------------------------------------------------- build-data
def _build_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", choices=DATASETS)
    p.add_argument("--max-hist", type=positive, default=50)
    p.add_argument("--negatives", type=positive, default=20)
    p.add_argument("--max-users", type=positive, default=None, help="first users only (quick runs)")


@app.command("build-data", "write a dataset's derived samples (train/val/test CSV) under --out", _build_args)
def build_data(args: argparse.Namespace) -> int:
    data = load_dataset(
        args.name,
        args.data_dir,
        max_hist=args.max_hist,
        eval_negatives=args.negatives,
        max_users=args.max_users,
    )
    folder = Path(args.out) / "din" / args.name
    folder.mkdir(parents=True, exist_ok=True)
    for split, frame in data.frames.items():
        frame.to_csv(folder / f"{split}.csv", index=False)
        print(f"{split}: {len(frame)} samples -> {folder / f'{split}.csv'}")
    return 0


__all__ = ["app", "main"]
