"""`pkg-din`: info, reproduce, train, evaluate, attention, bench, build-data, reference.

Heavy libraries (torch, pandas) are imported inside the commands, so ``--help`` and ``info`` answer at once.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pkg_shared.cli import App, Paper, bounded, positive
from pkg_shared.errors import UserError

from . import __version__
from .claims import CLAIMS
from .config import (
    DATASETS,
    EMB_INITS,
    MODELS,
    OPTIMISERS,
    REGULARISERS,
    UNIT_INPUTS,
    ModelConfig,
    TrainConfig,
)

if TYPE_CHECKING:
    import torch

    from .protocols import CTRData

ML_FILES = [f"movielens-100k/ml-100k.{s}" for s in ("inter", "item", "user")]

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
    reproduce="pkg_din.experiment:reproduce",
    report="pkg_din.experiment:report",
    datasets=("synthetic",),
    # the default run reads MovieLens-100K too (the ml100k-seq claims and the regulariser study)
    data_files={"synthetic": ML_FILES},
    examples=[
        "reproduce --scale smoke --seeds 1 --out /tmp/runs",
        "train --dataset ml100k-seq --model din --optim adam --lr 1e-3 --batch 256 --emb 16 --save ckpt",
        "evaluate --checkpoint ckpt",
        "reference",
    ],
)
main = app.main


def _data(config: dict, data_dir: str | None, encoder: Any = None) -> CTRData:
    from .data import load_dataset

    return load_dataset(
        config["dataset"],
        data_dir,
        max_hist=config["max_hist"],
        eval_negatives=config["negatives"],
        max_users=config.get("max_users"),
        encoder=encoder,
    )


# ------------------------------------------------------------------------------------------------ train
def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", choices=DATASETS, default="synthetic", help="data to train on")
    p.add_argument("--model", choices=MODELS, default="din", help="base (sum pooling), din, din-dice")
    p.add_argument(
        "--emb", type=bounded(int, 1, 4096), default=64, help="goods, category and profile embedding size"
    )
    p.add_argument("--emb-init", choices=EMB_INITS, default="glorot", help="glorot: the official code's")
    p.add_argument(
        "--emb-std", type=bounded(float, 1e-8, 10.0), default=1.0, help="with --emb-init normal: N(0, std^2)"
    )
    p.add_argument(
        "--att-units",
        type=bounded(int, 1, 65536),
        nargs="+",
        default=[36],
        help="activation unit hidden sizes",
    )
    p.add_argument(
        "--mlp", type=bounded(int, 1, 65536), nargs="+", default=[200, 80], help="MLP hidden sizes"
    )
    p.add_argument("--attention-softmax", action="store_true", help="official demo's deviation (off: paper)")
    p.add_argument("--unit-input", choices=UNIT_INPUTS, default="concat",
                   help="activation unit input: concat = [e, v, e-v, e*v] (official code), outer = [e, v, vec(e v^T)] "
                   "(the paper's Fig. 2 out product)")  # fmt: skip
    p.add_argument("--reg", choices=REGULARISERS, default="none", help="regulariser (Sec. 6.5)")
    p.add_argument("--reg-lambda", type=bounded(float, 0.0, 1e3), default=0.01, help="strength of l2 / mba")
    p.add_argument("--optim", choices=OPTIMISERS, default="sgd", help="optimiser (paper: sgd)")
    p.add_argument(
        "--lr", type=bounded(float, 1e-8, 100.0), default=1.0, help="learning rate (paper: 1.0 with sgd)"
    )
    p.add_argument("--batch", type=bounded(int, 1, 1_000_000), default=32, help="mini-batch size (paper: 32)")
    p.add_argument(
        "--epochs", type=bounded(int, 1, 10_000), default=3, help="epochs (at most, with --patience)"
    )
    p.add_argument("--patience", type=bounded(int, 1, 10_000), default=None,
                   help="stop after this many epochs without a better validation GAUC (unset: never)")  # fmt: skip
    p.add_argument(
        "--max-hist", type=bounded(int, 1, 10_000), default=50, help="longer histories keep their last items"
    )
    p.add_argument(
        "--negatives", type=bounded(int, 1, 1000), default=20, help="sampled negatives per held-out positive"
    )
    p.add_argument("--max-users", type=positive, default=None, help="first users only (quick runs)")
    p.add_argument("--save", default=None,
                   help="checkpoint folder (model.safetensors, config.json, encoder.json); training resumes there "
                   "under the same settings only")  # fmt: skip


@app.command("train", "train BaseModel / DIN / DIN+Dice; GAUC, AUC, log-loss per epoch as JSON", _train_args)
def train(args: argparse.Namespace) -> int:
    from pkg_shared.device import pinned_threads, resolve_device
    from pkg_shared.io import RunDir, prepare_output, save_checkpoint

    from .training import train_model

    if args.save:
        prepare_output(args.save, kind="dir", what="--save")
    run = RunDir.create(args.out, "din", args.seed)
    device = resolve_device(args.device)
    model_cfg = ModelConfig(
        model=args.model, item_dim=args.emb, cate_dim=args.emb, profile_dim=args.emb, emb_init=args.emb_init,
        emb_std=args.emb_std,
        att_units=tuple(args.att_units), mlp=tuple(args.mlp), attention_softmax=args.attention_softmax,
        unit_input=args.unit_input,
    )  # fmt: skip
    train_cfg = TrainConfig(
        optim=args.optim, lr=args.lr, batch_size=args.batch, epochs=args.epochs, reg=args.reg,
        reg_lambda=args.reg_lambda, patience=args.patience,
    )  # fmt: skip
    config: dict[str, Any] = {
        "dataset": args.dataset,
        "max_hist": args.max_hist,
        "negatives": args.negatives,
        "max_users": args.max_users,
    }
    settings = {**config, "model": asdict(model_cfg), "train": asdict(train_cfg), "seed": args.seed}
    with pinned_threads(1 if device.type == "cpu" else None):
        data = _data(config, args.data_dir)
        model, res = train_model(
            data, model_cfg, train_cfg, seed=args.seed, device=device, quiet=args.quiet, log=run.log,
            checkpoint_dir=args.save, settings=settings if args.save else None,
        )  # fmt: skip
    config.update(
        model=asdict(model_cfg), train=asdict(train_cfg), schema=data.schema.as_dict(), seed=args.seed
    )
    run.write_config(config)
    run.write_results(res)
    if args.save:
        save_checkpoint(args.save, model.state_dict(), config)
        data.encoder.save(Path(args.save) / "encoder.json")
    summary = {k: round(v, 5) for k, v in res.items() if k.startswith(("test_", "val_"))}
    print(
        json.dumps({"dataset": args.dataset, "model": args.model, "best_epoch": res["best_epoch"], **summary})
    )
    return 0


def load_trained(checkpoint: str, data_dir: str | None) -> tuple[torch.nn.Module, CTRData, dict]:
    """Rebuild the model and the data of a ``train --save`` checkpoint, exactly as at training.

    The data are encoded with the SAVED encoder (``encoder.json``: the training vocabularies, never
    re-fitted); the model is rebuilt from the saved schema and its weights, ``cate_list`` included, loaded.
    """
    import torch

    from pkg_shared.features import FeatureEncoder
    from pkg_shared.io import load_checkpoint

    from .model import CTRModel, Schema

    _, config = load_checkpoint(checkpoint)
    try:
        layers = {"att_units": tuple(config["model"]["att_units"]), "mlp": tuple(config["model"]["mlp"])}
        model_cfg = ModelConfig(**{**config["model"], **layers})
        train_cfg = TrainConfig(**config["train"])
        schema = Schema(**config["schema"])
        missing = {"dataset", "max_hist", "negatives"} - set(config)
        if missing:
            raise KeyError(f"data settings {sorted(missing)}")
    except (KeyError, TypeError) as e:
        raise UserError(f"{checkpoint}: not a pkg-din checkpoint ({e})") from None
    encoder = FeatureEncoder.load(Path(checkpoint) / "encoder.json")
    data = _data(config, data_dir, encoder)
    if train_cfg.reg == "dropout":
        model_cfg = ModelConfig(**{**asdict(model_cfg), "dropout": train_cfg.dropout})
    cate_list = torch.zeros(schema.n_items, dtype=torch.long) if schema.n_cates else None
    keep = torch.ones(schema.n_items, dtype=torch.bool) if train_cfg.reg == "filter" else None
    model = CTRModel(schema, model_cfg, cate_list, keep)
    tensors, _ = load_checkpoint(checkpoint, expected=model)
    model.load_state_dict(tensors)
    return model.eval(), data, config


def _checkpoint_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="a folder written by `pkg-din train --save`")


@app.command(
    "evaluate", "test GAUC, AUC and log-loss of a saved checkpoint (its saved encoder)", _checkpoint_args
)
def evaluate(args: argparse.Namespace) -> int:
    from pkg_shared.device import resolve_device

    from .metrics import evaluate as evaluate_split

    model, data, config = load_trained(args.checkpoint, args.data_dir)
    model.to(resolve_device(args.device))
    print(json.dumps({"dataset": config["dataset"], **evaluate_split(model, data.splits["test"], "test_")}))
    return 0


# -------------------------------------------------------------------------------------------- attention
def _attention_args(p: argparse.ArgumentParser) -> None:
    _checkpoint_args(p)
    p.add_argument("--user", type=bounded(int, 0), default=0, help="the n-th test user")
    p.add_argument(
        "--items", nargs="+", default=None, help="raw candidate item ids (default: the user's test rows)"
    )
    p.add_argument("--top", type=bounded(int, 1, 1000), default=12, help="history items shown (most recent)")


@app.command(
    "attention", "print and plot a DIN's attention weights over one user's history (Fig. 5)", _attention_args
)
def attention(args: argparse.Namespace) -> int:
    from pkg_shared.io import RunDir

    from .attention import attention_table

    run = RunDir.create(args.out, "din", args.seed)
    model, data, _ = load_trained(args.checkpoint, args.data_dir)
    print(
        attention_table(
            model, data, user=args.user, items=args.items, top=args.top, plot=run.plots / "attention"
        )
    )
    print(f"plot: {run.plots / 'attention.png'}")
    return 0


# ------------------------------------------------------------------------------------------------ bench
def _bench_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", choices=DATASETS, default="synthetic", help="data whose batches are timed")
    p.add_argument("--batch", type=bounded(int, 1, 1_000_000), default=256, help="mini-batch size")
    p.add_argument("--steps", type=bounded(int, 1, 100_000), default=20, help="timed steps per model")
    p.add_argument("--max-hist", type=bounded(int, 1, 10_000), default=50, help="history length cap")
    p.add_argument("--max-users", type=positive, default=None, help="first users only (quick runs)")


@app.command("bench", "milliseconds per training step of BaseModel / DIN / DIN+Dice", _bench_args)
def bench(args: argparse.Namespace) -> int:
    import torch

    from pkg_shared.device import pinned_threads, resolve_device
    from pkg_shared.io import RunDir

    from .bench import step_times
    from .data import load_dataset

    run = RunDir.create(args.out, "din", args.seed)
    device = resolve_device(args.device)
    with pinned_threads(1 if device.type == "cpu" else None):
        data = load_dataset(args.dataset, args.data_dir, max_hist=args.max_hist, max_users=args.max_users)
        rows = step_times(data, batch_size=args.batch, steps=args.steps, device=device)
        threads = torch.get_num_threads()
    print(
        f"{args.dataset}, batch {args.batch}, device {device}, {threads} thread(s), torch {torch.__version__}"
    )
    for model, ms in rows.items():
        print(f"{model:>9}: {ms:8.2f} ms / training step (median)")
    run.write_results({"command": "bench", "device": str(device), "threads": threads, "ms": rows})
    return 0


# ------------------------------------------------------------------------------------------- build-data
def _build_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", choices=DATASETS, help="the dataset whose samples are written")
    p.add_argument("--max-hist", type=bounded(int, 1, 10_000), default=50, help="history length cap")
    p.add_argument(
        "--negatives", type=bounded(int, 1, 1000), default=20, help="negatives per held-out positive"
    )
    p.add_argument("--max-users", type=positive, default=None, help="first users only (quick runs)")


@app.command(
    "build-data", "write a dataset's derived samples (train/valid/test CSV) under --out", _build_args
)
def build_data(args: argparse.Namespace) -> int:
    from pkg_shared.io import prepare_output

    from .data import load_dataset

    folder = prepare_output(Path(args.out) / "din" / args.name, kind="dir", what="--out")
    data = load_dataset(
        args.name,
        args.data_dir,
        max_hist=args.max_hist,
        eval_negatives=args.negatives,
        max_users=args.max_users,
    )
    for split, frame in data.frames.items():
        frame.to_csv(folder / f"{split}.csv", index=False)
        print(f"{split}: {len(frame)} samples -> {folder / f'{split}.csv'}")
    return 0


# ------------------------------------------------------------------------------------------- reference
def _reference_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--library", choices=("fuxictr", "deepctr-torch", "all"), default="all",
        help="reference implementation to compare with (installed separately: pip install fuxictr deepctr-torch)",
    )  # fmt: skip


@app.command(
    "reference",
    "side by side with FuxiCTR / DeepCTR-Torch: attention and Dice outputs for copied weights",
    _reference_args,
    run_options=False,
)
def reference(args: argparse.Namespace) -> int:
    from .reference import compare

    rows = compare(args.library)
    for name, diff in rows.items():
        print(f"{name}: max |ours - theirs| = {diff:.3g}")
    return 0 if all(d <= 1e-5 for d in rows.values()) else 1


__all__ = ["app", "main"]
