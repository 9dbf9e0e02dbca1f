"""`pkg-finalmlp`: info, reproduce, train, evaluate, ablate, bench."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import torch

from pkg_shared.cli import App, Paper
from pkg_shared.data import data_root
from pkg_shared.device import resolve_device
from pkg_shared.errors import UserError
from pkg_shared.features import FeatureEncoder
from pkg_shared.io import RunDir, load_checkpoint, save_checkpoint

from . import __version__, experiment
from .claims import CLAIMS
from .config import MODELS, PRESETS, ModelConfig, Preset, TrainConfig
from .data import CTRData, load_dataset
from .model import CTRModel
from .training import evaluate_split, train_model

PAPER = Paper(
    title="FinalMLP: An Enhanced Two-Stream MLP Model for CTR Prediction",
    authors="Kelong Mao, Jieming Zhu, Liangcai Su, Guohao Cai, Yuru Li, Zhenhua Dong",
    venue="AAAI 2023",
    arxiv="2304.00902",
    bibtex="""@inproceedings{mao2023finalmlp,
  title     = {FinalMLP: An Enhanced Two-Stream MLP Model for CTR Prediction},
  author    = {Mao, Kelong and Zhu, Jieming and Su, Liangcai and Cai, Guohao and Li, Yuru and Dong, Zhenhua},
  booktitle = {Proceedings of the AAAI Conference on Artificial Intelligence},
  year      = {2023}
}""",
    implemented=[
        "stream-specific feature gating (Sec. 3.2): own context embeddings or a zero-initialised learnable vector, h = 2 sigmoid(MLP(c)) * e",
        "two MLP streams (Linear-BN-ReLU-Dropout) and multi-head bilinear interaction aggregation (Sec. 3.3)",
        "DualMLP and single-stream DNN baselines; ablations w/o FS, w/o bilinear, one head",
        "FuxiCTR protocol: whole-table embedding L2, val-AUC early stopping, lr x0.1 on plateau, best reload",
        "data: BARS/FuxiCTR CSV folders, ml100k-ctr, ctr-taobao-ad-tiny, synthetic_ctr; presets of the official logs",
    ],
    datasets=["synthetic (offline)", "ml100k-ctr (data root)", "taobao-tiny (data root)", "csv:<BARS dir>"],
)

app = App(
    slug="finalmlp",
    version=__version__,
    paper=PAPER,
    claims=CLAIMS,
    reproduce=experiment.reproduce,
    datasets=("ml100k", "synthetic"),
    default_seeds={"smoke": 1, "small": 3, "full": 3},
    report=experiment.report,
)
main = app.main


def _ints(p: argparse.ArgumentParser, name: str, help: str) -> None:
    p.add_argument(name, type=int, nargs="+", default=None, help=help)


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data", default="synthetic", help="synthetic | ml100k | taobao-tiny | csv:<dir> (BARS layout)"
    )
    p.add_argument(
        "--preset", choices=sorted(PRESETS), default=None, help="tuned settings of the official logs"
    )
    p.add_argument("--model", choices=MODELS, default=None)
    p.add_argument("--emb-dim", type=int, default=None)
    _ints(p, "--mlp1", "stream 1 hidden widths")
    _ints(p, "--mlp2", "stream 2 hidden widths")
    p.add_argument("--dropout1", type=float, default=None)
    p.add_argument("--dropout2", type=float, default=None)
    p.add_argument("--no-bn", action="store_true", help="no batch norm in the streams")
    _ints(p, "--fs-hidden", "gate MLP hidden widths")
    p.add_argument(
        "--fs1-context", nargs="*", default=None, help="fields conditioning gate 1 (none: learnable vector)"
    )
    p.add_argument("--fs2-context", nargs="*", default=None, help="fields conditioning gate 2")
    p.add_argument(
        "--heads", type=int, default=None, help="bilinear heads K (must divide both stream widths)"
    )
    p.add_argument("--no-fs", action="store_true", help="ablation: no feature gating")
    p.add_argument("--no-bilinear", action="store_true", help="ablation: no bilinear term")
    p.add_argument("--emb-reg", type=float, default=None)
    p.add_argument("--net-reg", type=float, default=None)
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--patience", type=int, default=None)
    p.add_argument("--n-synthetic", type=int, default=200_000, help="rows of the synthetic data set")


def preset_from_args(args: argparse.Namespace) -> Preset:
    """The ``--preset`` (default: the class defaults) with every option given on the command line applied."""
    base = PRESETS[args.preset] if args.preset else Preset(ModelConfig(), TrainConfig())
    m = {"model": args.model, "emb_dim": args.emb_dim, "dropout1": args.dropout1, "dropout2": args.dropout2,
         "heads": args.heads}  # fmt: skip
    for key, value in (("mlp1", args.mlp1), ("mlp2", args.mlp2), ("fs_hidden", args.fs_hidden),
                       ("fs1_context", args.fs1_context), ("fs2_context", args.fs2_context)):  # fmt: skip
        m[key] = tuple(value) if value is not None else None
    model = replace(base.model, **{k: v for k, v in m.items() if v is not None})
    model = replace(model, batch_norm=model.batch_norm and not args.no_bn, use_fs=model.use_fs and not args.no_fs,
                    bilinear=model.bilinear and not args.no_bilinear)  # fmt: skip
    t = {"emb_reg": args.emb_reg, "net_reg": args.net_reg, "batch_size": args.batch, "lr": args.lr,
         "epochs": args.epochs, "patience": args.patience}  # fmt: skip
    train = replace(base.train, **{k: v for k, v in t.items() if v is not None})
    train.validate()
    return Preset(model, train)


def _load(args: argparse.Namespace, encoder: FeatureEncoder | None = None) -> CTRData:
    return load_dataset(args.data, data_root(args.data_dir), n_synthetic=args.n_synthetic, encoder=encoder)


def _train_args(p: argparse.ArgumentParser) -> None:
    _model_args(p)
    p.add_argument(
        "--save", default=None, help="checkpoint folder (model.safetensors, config.json, encoder.json)"
    )


@app.command("train", "train FinalMLP / DualMLP / DNN with FuxiCTR's protocol", _train_args)
def train(args: argparse.Namespace) -> int:
    device = resolve_device(args.device)
    preset = preset_from_args(args)
    data = _load(args)
    preset.model.validate(tuple(data.fields))
    print(data.describe())
    run = RunDir.create(args.out, "finalmlp", args.seed)
    config = {
        "data": args.data,
        "seed": args.seed,
        "model": preset.model.to_dict(),
        "train": preset.train.__dict__,
    }
    run.write_config(config)
    model, res = train_model(
        data, preset.model, preset.train, seed=args.seed, device=device, quiet=args.quiet, log=run.log
    )
    for row in res.history:
        print(
            f"epoch {int(row['epoch']):3d}  val AUC {row['val_auc']:.4f}  logloss {row['val_logloss']:.4f}  lr {row['lr']:.0e}"
        )
    summary = res.summary()
    run.write_results({"command": "train", **config, **summary})
    if args.save:
        save_checkpoint(args.save, model.state_dict(), {**config, "fields": data.fields})
        data.encoder.save(Path(args.save) / "encoder.json")
    print(
        json.dumps({"test_auc": res.test_auc, "test_logloss": res.test_logloss, "best_epoch": res.best_epoch})
    )
    return 0


def _evaluate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="a folder written by `pkg-finalmlp train --save`")
    p.add_argument("--data", default=None, help="dataset (default: the one it was trained on)")
    p.add_argument("--split", choices=("train", "valid", "test"), default="test")
    p.add_argument("--n-synthetic", type=int, default=200_000)


@app.command("evaluate", "AUC and log-loss of a saved checkpoint on a split", _evaluate_args)
def evaluate(args: argparse.Namespace) -> int:
    device = resolve_device(args.device)
    _, config = load_checkpoint(args.checkpoint)
    try:
        model = CTRModel(config["fields"], ModelConfig.from_dict(config["model"]))
    except (KeyError, TypeError) as e:
        raise UserError(f"{args.checkpoint}: config.json is not a pkg-finalmlp checkpoint ({e})") from None
    tensors, _ = load_checkpoint(args.checkpoint, expected=model)
    model.load_state_dict(tensors)
    args.data = args.data or config["data"]
    data = _load(args, FeatureEncoder.load(Path(args.checkpoint) / "encoder.json"))
    scores = evaluate_split(model.to(device), data, args.split, device)
    print(json.dumps({"data": args.data, "split": args.split, **scores}))
    return 0


@app.command("ablate", "FinalMLP vs w/o feature gating, w/o bilinear fusion and one head", _model_args)
def ablate(args: argparse.Namespace) -> int:
    device = resolve_device(args.device)
    preset = preset_from_args(args)
    data = _load(args)
    variants = {
        "FinalMLP": {},
        "w/o FS": {"use_fs": False},
        "w/o bilinear": {"bilinear": False},
        "K = 1": {"heads": 1},
    }
    rows = {}
    for name, change in variants.items():
        cfg = replace(preset.model, model="finalmlp", **change)
        _, res = train_model(
            data, cfg, preset.train, seed=args.seed, device=device, quiet=args.quiet, desc=name
        )
        rows[name] = res.summary()
        print(
            f"{name:>13}: test AUC {res.test_auc:.4f}  logloss {res.test_logloss:.4f}  ({res.epochs} epochs)"
        )
    RunDir.create(args.out, "finalmlp", args.seed).write_results(
        {"command": "ablate", "data": args.data, "rows": rows}
    )
    return 0


def _bench_args(p: argparse.ArgumentParser) -> None:
    _model_args(p)
    p.add_argument("--steps", type=int, default=10, help="steps per timed block")


@app.command("bench", "training steps/s and inference rows/s at batch 4096", _bench_args)
def bench_cmd(args: argparse.Namespace) -> int:
    from .bench import BATCH, bench

    device = resolve_device(args.device)
    preset = preset_from_args(args)
    data = _load(args)
    models = (args.model,) if args.model else MODELS[::-1]
    rows = bench(
        data, preset.model, preset.train, device, models=models, steps=args.steps, batch=args.batch or BATCH
    )
    name = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"cpu, {torch.get_num_threads()} threads"
    )
    print(f"{data.name} on {name}, torch {torch.__version__}, batch {args.batch or BATCH}")
    for r in rows:
        print(
            f"{r['model']:>9}: {r['train_steps_per_s']:8.2f} train steps/s ({r['ms_per_step']:.1f} ms)  {r['infer_rows_per_s']:12,.0f} rows/s inference"
        )
    RunDir.create(args.out, "finalmlp", args.seed).write_results(
        {"command": "bench", "device": name, "rows": rows}
    )
    return 0


__all__ = ["app", "main"]
