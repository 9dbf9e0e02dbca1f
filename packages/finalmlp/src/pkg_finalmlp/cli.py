"""`pkg-finalmlp`: info, reproduce, train, evaluate, ablate, bench, reference.

Heavy libraries (torch, pandas) are imported inside the commands, so ``--help`` and ``info`` answer at once.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pkg_shared.cli import App, Paper, bounded
from pkg_shared.errors import UserError

from . import __version__
from .claims import CLAIMS
from .config import MODELS, PRESETS, ModelConfig, Preset, TrainConfig

if TYPE_CHECKING:
    from .data import CTRData

ML_FILES = [f"movielens-100k/ml-100k.{s}" for s in ("inter", "item", "user")]
WIDTH = bounded(int, 1, 65536)
RATE = bounded(float, 0.0, 0.99)

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
    reproduce="pkg_finalmlp.experiment:reproduce",
    report="pkg_finalmlp.experiment:report",
    datasets=("ml100k", "synthetic"),
    data_files={"ml100k": ML_FILES},
    examples=[
        "reproduce --scale smoke --seeds 1 --out /tmp/runs",
        "train --dataset ml100k --preset ml100k-ctr --save ckpt",
        "evaluate --checkpoint ckpt",
        "train --dataset csv:/data/Criteo_x1 --preset criteo --device cuda",
        "reference --source FuxiCTR/model_zoo/FinalMLP/src",
    ],
)
main = app.main


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dataset", default="synthetic", help="synthetic | ml100k | taobao-tiny | csv:<dir> (BARS layout)"
    )
    p.add_argument(
        "--preset", choices=sorted(PRESETS), default=None, help="tuned settings of the official logs"
    )
    p.add_argument(
        "--model", choices=MODELS, default=None, help="model (default: the preset's, else finalmlp)"
    )
    p.add_argument("--emb-dim", type=bounded(int, 1, 4096), default=None, help="embedding size k (paper: 10)")
    p.add_argument("--mlp1", type=WIDTH, nargs="+", default=None, help="stream 1 hidden widths")
    p.add_argument("--mlp2", type=WIDTH, nargs="+", default=None, help="stream 2 hidden widths")
    p.add_argument("--dropout1", type=RATE, default=None, help="stream 1 dropout")
    p.add_argument("--dropout2", type=RATE, default=None, help="stream 2 dropout")
    p.add_argument("--no-bn", action="store_true", help="no batch norm in the streams")
    p.add_argument("--fs-hidden", type=WIDTH, nargs="+", default=None, help="gate MLP hidden widths")
    p.add_argument(
        "--fs1-context", nargs="*", default=None, help="fields conditioning gate 1 (none: learnable vector)"
    )
    p.add_argument("--fs2-context", nargs="*", default=None, help="fields conditioning gate 2")
    p.add_argument(
        "--heads",
        type=bounded(int, 1, 4096),
        default=None,
        help="bilinear heads K (must divide both stream widths)",
    )
    p.add_argument("--no-fs", action="store_true", help="ablation: no feature gating")
    p.add_argument("--no-bilinear", action="store_true", help="ablation: no bilinear term")
    p.add_argument("--numeric", nargs="*", default=None,
                   help="numeric fields of a csv:<dir> (value x vector; default: the preset's, else I1..I13 where present)")  # fmt: skip
    p.add_argument(
        "--emb-reg", type=bounded(float, 0.0, 100.0), default=None, help="embedding L2 (whole tables)"
    )
    p.add_argument("--net-reg", type=bounded(float, 0.0, 100.0), default=None, help="L2 on the other weights")
    p.add_argument(
        "--batch", type=bounded(int, 1, 1_000_000), default=None, help="mini-batch size (paper: 4096)"
    )
    p.add_argument(
        "--lr", type=bounded(float, 1e-8, 10.0), default=None, help="Adam learning rate (paper: 1e-3)"
    )
    p.add_argument("--epochs", type=bounded(int, 1, 10_000), default=None, help="at most this many epochs")
    p.add_argument("--patience", type=bounded(int, 1, 10_000), default=None, help="early-stopping patience")
    p.add_argument("--n-synthetic", type=bounded(int, 100, 50_000_000), default=200_000,
                   help="rows of the synthetic data set")  # fmt: skip


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
    numeric = tuple(args.numeric) if args.numeric is not None else (base.numeric if args.preset else None)
    return Preset(model, train, numeric)  # type: ignore[arg-type]


def _data_settings(args: argparse.Namespace, preset: Preset) -> dict[str, Any]:
    """What rebuilds the data exactly (saved with a checkpoint; ``evaluate`` reads it back)."""
    return {
        "dataset": args.dataset,
        "n_synthetic": args.n_synthetic,
        "split_seed": 0,
        "numeric": preset.numeric,
    }


def _load(settings: dict[str, Any], data_dir: str | None, encoder: Any = None) -> CTRData:
    from pkg_shared.data import data_root

    from .data import load_dataset

    numeric = settings.get("numeric")
    return load_dataset(
        settings["dataset"], data_root(data_dir), n_synthetic=settings["n_synthetic"],
        seed=settings.get("split_seed", 0), encoder=encoder, numeric=None if numeric is None else tuple(numeric),
    )  # fmt: skip


def _train_args(p: argparse.ArgumentParser) -> None:
    _model_args(p)
    p.add_argument(
        "--save", default=None,
        help="checkpoint folder (model.safetensors, config.json, encoder.json); training resumes there under "
        "the same settings only",
    )  # fmt: skip


@app.command("train", "train FinalMLP / DualMLP / DNN with FuxiCTR's protocol", _train_args)
def train(args: argparse.Namespace) -> int:
    from pkg_shared.device import pinned_threads, resolve_device
    from pkg_shared.io import RunDir, prepare_output, save_checkpoint

    from .training import train_model

    if args.save:
        prepare_output(args.save, kind="dir", what="--save")
    run = RunDir.create(args.out, "finalmlp", args.seed)
    device = resolve_device(args.device)
    preset = preset_from_args(args)
    settings = _data_settings(args, preset)
    with pinned_threads(1 if device.type == "cpu" else None):
        data = _load(settings, args.data_dir)
        preset.model.validate(tuple(data.fields))
        print(data.describe())
        config = {
            **settings,
            "numeric": list(data.numeric),
            "seed": args.seed,
            "model": preset.model.to_dict(),
            "train": preset.train.__dict__,
        }
        run.write_config(config)
        model, res = train_model(
            data, preset.model, preset.train, seed=args.seed, device=device, quiet=args.quiet, log=run.log,
            checkpoint_dir=args.save, settings=config if args.save else None,
        )  # fmt: skip
    for row in res.history:
        print(
            f"epoch {int(row['epoch']):3d}  val AUC {row['val_auc']:.4f}  logloss {row['val_logloss']:.4f}  lr {row['lr']:.0e}"
        )
    run.write_results({"command": "train", **config, **res.summary()})
    if args.save:
        save_checkpoint(args.save, model.state_dict(), {**config, "fields": data.fields})
        data.encoder.save(Path(args.save) / "encoder.json")
    print(
        json.dumps({"test_auc": res.test_auc, "test_logloss": res.test_logloss, "best_epoch": res.best_epoch})
    )
    return 0


def _evaluate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="a folder written by `pkg-finalmlp train --save`")
    p.add_argument("--split", choices=("train", "valid", "test"), default="test", help="split to score")


@app.command(
    "evaluate",
    "AUC and log-loss of a saved checkpoint on a split (data rebuilt as at training: saved settings and encoder)",
    _evaluate_args,
)
def evaluate(args: argparse.Namespace) -> int:
    from pkg_shared.device import resolve_device
    from pkg_shared.features import FeatureEncoder
    from pkg_shared.io import load_checkpoint

    from .model import CTRModel
    from .training import evaluate_split

    device = resolve_device(args.device)
    _, config = load_checkpoint(args.checkpoint)
    try:
        model = CTRModel(config["fields"], ModelConfig.from_dict(config["model"]))
        settings = {k: config[k] for k in ("dataset", "n_synthetic", "split_seed", "numeric")}
    except (KeyError, TypeError) as e:
        raise UserError(f"{args.checkpoint}: config.json is not a pkg-finalmlp checkpoint ({e})") from None
    tensors, _ = load_checkpoint(args.checkpoint, expected=model)
    model.load_state_dict(tensors)
    data = _load(settings, args.data_dir, FeatureEncoder.load(Path(args.checkpoint) / "encoder.json"))
    if data.fields != config["fields"]:
        raise UserError(f"{args.checkpoint}: the rebuilt data's fields differ from the checkpoint's")
    scores = evaluate_split(model.to(device), data, args.split, device)
    print(json.dumps({"dataset": settings["dataset"], "split": args.split, **scores}))
    return 0


@app.command("ablate", "FinalMLP vs w/o feature gating, w/o bilinear fusion and one head", _model_args)
def ablate(args: argparse.Namespace) -> int:
    from pkg_shared.device import pinned_threads, resolve_device
    from pkg_shared.io import RunDir

    from .training import train_model

    run = RunDir.create(args.out, "finalmlp", args.seed)
    device = resolve_device(args.device)
    preset = preset_from_args(args)
    variants = {
        "FinalMLP": {},
        "w/o FS": {"use_fs": False},
        "w/o bilinear": {"bilinear": False},
        "K = 1": {"heads": 1},
    }
    rows = {}
    with pinned_threads(1 if device.type == "cpu" else None):
        data = _load(_data_settings(args, preset), args.data_dir)
        for name, change in variants.items():
            cfg = replace(preset.model, model="finalmlp", **change)
            _, res = train_model(
                data, cfg, preset.train, seed=args.seed, device=device, quiet=args.quiet, desc=name
            )
            rows[name] = res.summary()
            print(
                f"{name:>13}: test AUC {res.test_auc:.4f}  logloss {res.test_logloss:.4f}  ({res.epochs} epochs)"
            )
    run.write_results({"command": "ablate", "dataset": args.dataset, "rows": rows})
    return 0


def _bench_args(p: argparse.ArgumentParser) -> None:
    _model_args(p)
    p.add_argument("--steps", type=bounded(int, 1, 100_000), default=10, help="steps per timed block")


@app.command("bench", "training steps/s and inference rows/s at batch 4096", _bench_args)
def bench_cmd(args: argparse.Namespace) -> int:
    import torch

    from pkg_shared.device import resolve_device
    from pkg_shared.io import RunDir

    from .bench import BATCH, bench

    run = RunDir.create(args.out, "finalmlp", args.seed)
    device = resolve_device(args.device)
    preset = preset_from_args(args)
    data = _load(_data_settings(args, preset), args.data_dir)
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
    run.write_results({"command": "bench", "device": name, "rows": rows})
    return 0


def _reference_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--source", default=None,
        help="FuxiCTR's model_zoo/FinalMLP/src folder (a checkout of reczoo/FuxiCTR; default: "
        "$FUXICTR_FINALMLP_SRC); the fuxictr package itself: pip install fuxictr",
    )  # fmt: skip


@app.command(
    "reference",
    "side by side with FuxiCTR's FinalMLP / DualMLP: outputs for copied weights (categorical and numeric fields)",
    _reference_args,
    run_options=False,
)
def reference(args: argparse.Namespace) -> int:
    from .reference import TOLERANCE, compare

    rows = compare(args.source)
    for name, diff in rows.items():
        print(f"{name}: max |p_ours - p_FuxiCTR| = {diff:.3g}")
    return 0 if all(d <= TOLERANCE for d in rows.values()) else 1


__all__ = ["app", "main"]
