"""`pkg-lighthgnn`: info, reproduce, train, bench (alias speed)."""

from __future__ import annotations

import argparse
import contextlib

import numpy as np
import torch

from pkg_shared.cli import App, Paper, positive
from pkg_shared.data import data_root
from pkg_shared.device import resolve_device, torch_threads
from pkg_shared.errors import UserError
from pkg_shared.io import RunDir, save_checkpoint

from . import __version__, experiment
from .claims import CLAIMS
from .config import (
    KD_VARIANTS,
    PRESETS,
    SETTINGS,
    STUDENTS,
    TEACHERS,
    SpeedConfig,
    SplitConfig,
    StudentConfig,
    TeacherConfig,
)
from .data import DATASETS, load_dataset

PAPER = Paper(
    title="LightHGNN: Distilling Hypergraph Neural Networks into MLPs for 100x Faster Inference",
    authors="Yifan Feng, Yihe Luo, Shihui Ying, Yue Gao",
    venue="ICLR 2024",
    arxiv="2402.04296",
    bibtex="""@inproceedings{feng2024lighthgnn,
  title     = {Light{HGNN}: Distilling Hypergraph Neural Networks into {MLP}s for 100x Faster Inference},
  author    = {Feng, Yifan and Luo, Yihe and Ying, Shihui and Gao, Yue},
  booktitle = {The Twelfth International Conference on Learning Representations (ICLR)},
  year      = {2024}
}""",
    implemented=[
        "dhg hypergraphs with the singleton fix; graphs -> edges + closed 1-hop neighbourhoods",
        "HGNN / HGNN+ teachers from dhg's HGNNConv / HGNNPConv, checked against hand-computed operators",
        "student MLP (Linear-ReLU-BN-Dropout-Linear, hidden 128)",
        "LightHGNN: soft-label KD over all vertices; LightHGNN+: entropy-change reliability, Bernoulli "
        "hyperedge sampling per epoch, hyperedge-level soft-label KD",
        "KD variants: paper (KL as written) and official (log_target=True quirk)",
        "topology-aware score; transductive and production (inductive + transductive) settings",
        "inference-speed benchmark: warm / cold HGNN vs student, 5k..55k (200k at full) vertices",
    ],
    datasets=[
        "CC-Cora, CC-Citeseer (hypergraph-cocitation), Cora-CA (hypergraph-coauthorship)",
        "Planetoid Cora, Citeseer (planetoid; PubMed if supplied)",
        "hypergraph_sbm synthetic stand-in (offline default)",
    ],
)

app = App(
    slug="lighthgnn",
    version=__version__,
    paper=PAPER,
    claims=CLAIMS,
    reproduce=experiment.reproduce,
    datasets=("paper", *DATASETS),
    default_seeds={"smoke": 1, "small": 3, "full": 5},
    report=experiment.report,
)
main = app.main


# ----------------------------------------------------------------------------------------------- train
def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", choices=DATASETS, default="synthetic")
    p.add_argument("--teacher", choices=TEACHERS, default="hgnn")
    p.add_argument("--student", choices=STUDENTS, default="light_hgnnp")
    p.add_argument("--setting", choices=SETTINGS, default="trans")
    p.add_argument("--seeds", type=int, nargs="+", default=[2023], help="one run per seed (paper: 0 1 2 3 4)")
    p.add_argument("--hid", type=positive, default=128, help="student hidden size")
    p.add_argument("--lamb", type=float, default=0.0, help="weight of the ground-truth CE term")
    p.add_argument("--tau", type=float, default=1.0, help="distillation temperature")
    p.add_argument("--noise", type=float, default=1.0, help="feature-noise level of the reliability score")
    p.add_argument("--kd-variant", choices=KD_VARIANTS, default="paper")
    p.add_argument("--epochs", type=positive, default=200)
    p.add_argument("--num-train", type=positive, default=20, help="training vertices per class")
    p.add_argument("--num-val", type=int, default=100, help="validation vertices per class")
    p.add_argument("--test-ind-ratio", type=float, default=0.9, help="production: unobserved share of test")
    p.add_argument(
        "--save", default=None, help="folder for the last seed's teacher and student (safetensors)"
    )


def _check_train_args(args: argparse.Namespace) -> None:
    if not 0.0 <= args.lamb <= 1.0:
        raise UserError(f"--lamb must lie in [0, 1], got {args.lamb}")
    if args.tau <= 0:
        raise UserError(f"--tau must be > 0, got {args.tau}")
    if args.noise < 0:
        raise UserError(f"--noise must be >= 0, got {args.noise}")
    if min(args.seeds) < 0:
        raise UserError("--seeds must be >= 0")
    if not 0.0 <= args.test_ind_ratio <= 1.0:
        raise UserError(f"--test-ind-ratio must lie in [0, 1], got {args.test_ind_ratio}")


@app.command(
    "train", "train a teacher and distil it into an MLP student (mean +- std over --seeds)", _train_args
)
def train(args: argparse.Namespace) -> int:
    from .training import run_production, run_transductive

    _check_train_args(args)
    device = resolve_device(args.device)
    data = load_dataset(args.dataset, data_root(args.data_dir), PRESETS["small"].synthetic, seed=0)
    teacher = TeacherConfig(kind=args.teacher, epochs=args.epochs)
    students = {args.student: StudentConfig(kind=args.student, hid=args.hid, epochs=args.epochs, lamb=args.lamb,
                                            tau=args.tau, noise=args.noise, kd_variant=args.kd_variant)}  # fmt: skip
    split = SplitConfig(args.num_train, args.num_val, args.test_ind_ratio)
    run_fn = run_transductive if args.setting == "trans" else run_production
    threads = torch_threads(1) if device.type == "cpu" else contextlib.nullcontext()
    results, models = [], None
    with threads:
        for seed in args.seeds:
            torch.manual_seed(seed)
            res = run_fn(data, teacher, students, split, seed, device, return_models=args.save is not None)
            models = res.pop("models", None)
            results.append(res)
    keys = ("accuracy", "macro_f1", "topology") if args.setting == "trans" else (
        "trans_accuracy", "ind_accuracy", "prod_accuracy", "prod_macro_f1")  # fmt: skip
    print(
        f"{args.dataset}, {args.setting}, teacher {args.teacher}, student {args.student}, seeds {args.seeds}, {device}"
    )
    summary = {}
    for model in ("teacher", args.student):
        summary[model] = {}
        for k in keys:
            vals = [r[model][k] for r in results if k in r[model]]
            if vals:
                summary[model][k] = {"mean": float(np.mean(vals)), "std": float(np.std(vals))}
        print(
            f"{model:>12}: "
            + ", ".join(f"{k} {v['mean']:.2f} +- {v['std']:.2f}" for k, v in summary[model].items())
        )
    run = RunDir.create(args.out, "lighthgnn", args.seeds[0])
    run.write_config({"command": "train", **vars(args)})
    run.write_results({"command": "train", "summary": summary, "per_seed": results})
    if models is not None:
        cfg = {"dataset": args.dataset, "teacher": args.teacher, "student": args.student, "hid": args.hid,
               "in_dim": data.X.shape[1], "n_classes": data.num_classes, "seed": args.seeds[-1]}  # fmt: skip
        save_checkpoint(args.save, models["student"].state_dict(), cfg)
        save_checkpoint(args.save, models["teacher"].state_dict(), cfg, name="teacher")
        print(f"checkpoint: {args.save}")
    print(f"run folder: {run.path}")
    return 0


# ----------------------------------------------------------------------------------------------- bench
def _bench_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--num-v", type=positive, nargs="+", default=None, help="vertex counts (default: 5k..55k)")
    p.add_argument("--scale", choices=("small", "full"), default="small", help="full adds 200k vertices")
    p.add_argument("--teacher", choices=TEACHERS, nargs="+", default=["hgnn", "hgnnp"])
    p.add_argument("--repeats", type=positive, default=5, help="timed warm forward passes (median)")
    p.add_argument("--cold-repeats", type=positive, default=2, help="timed cold passes (median)")
    p.add_argument("--threads", type=positive, default=1, help="CPU threads (default 1, as the claims)")


def bench(args: argparse.Namespace) -> int:
    from .bench import speed_curve, speed_plot

    device = resolve_device(args.device)
    cfg = SpeedConfig()
    num_v = args.num_v or [*cfg.num_v, *((200_000,) if args.scale == "full" else ())]
    with torch_threads(args.threads) if device.type == "cpu" else contextlib.nullcontext():
        rows = speed_curve(num_v, d=cfg.d, n_classes=cfg.n_classes, edge_size_range=cfg.edge_size_range,
                           teachers=args.teacher, repeats=args.repeats, cold_repeats=args.cold_repeats,
                           device=device, seed=args.seed)  # fmt: skip
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu, {args.threads} thread(s)"
    print(f"ms per forward pass ({name}; d={cfg.d}, C={cfg.n_classes}, N hyperedges of size "
          f"{cfg.edge_size_range[0]}..{cfg.edge_size_range[1]}; warm = operator prebuilt, cold = built from the list)")  # fmt: skip
    cols = [k for k in rows[0] if k != "num_v"]
    print(f"{'N':>8} | " + " | ".join(f"{c:>16}" for c in cols))
    for r in rows:
        print(f"{r['num_v']:>8} | " + " | ".join(f"{r[c]:16.3f}" for c in cols))
    run = RunDir.create(args.out, "lighthgnn", args.seed)
    run.write_results({"command": "bench", "device": str(device), "device_name": name, "rows": rows})
    speed_plot(rows, run.plots / "speed", title=name)
    print(f"run folder: {run.path}")
    return 0


app.command("bench", "inference time of HGNN / HGNN+ (warm and cold) vs the MLP student", _bench_args)(bench)
app.command("speed", "alias of bench (the spec's name)", _bench_args)(bench)

__all__ = ["app", "main"]
