"""`pkg-lighthgnn`: info, reproduce, train, bench (alias speed).

Nothing heavy is imported at module level: torch, dhg, scipy and matplotlib load inside the commands, so
``--help``, ``info`` and usage errors answer at once.
"""

from __future__ import annotations

import argparse

from pkg_shared.cli import App, Paper, bounded, nonnegative
from pkg_shared.dataroot import data_root
from pkg_shared.io import RunDir, prepare_output, save_checkpoint
from pkg_shared.progress import progress

from . import __version__
from .claims import CLAIMS
from .config import (
    DATA_FILES,
    DATASETS,
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
    reproduce="pkg_lighthgnn.experiment:reproduce",
    report="pkg_lighthgnn.experiment:report",
    datasets=("paper", *DATASETS),
    default_seeds={"smoke": 1, "small": 3, "full": 5},
    examples=[
        "reproduce --scale small --data-dir DATA   # CC-Cora, CC-Citeseer, Cora-CA + synthetic, 3 seeds",
        "reproduce --dataset cc-cora --seeds 5 --data-dir DATA",
        "train --dataset cc-cora --student light_hgnnp --setting prod --seeds 0 1 2 --data-dir DATA",
        "bench --num-v 5000 20000 55000 --device cpu",
    ],
    data_files=DATA_FILES,
)
main = app.main


# ----------------------------------------------------------------------------------------------- train
def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", choices=DATASETS, default="synthetic", help="data to train on")
    p.add_argument("--teacher", choices=TEACHERS, default="hgnn", help="teacher HGNN or HGNN+")
    p.add_argument("--student", choices=STUDENTS, default="light_hgnnp", help="student (mlp: no teacher)")
    p.add_argument("--setting", choices=SETTINGS, default="trans", help="transductive or production")
    p.add_argument(
        "--seeds", type=nonnegative, nargs="+", default=[2023], help="one run per seed (paper: 0..4)"
    )
    p.add_argument("--hid", type=bounded(int, 1, 65536), default=128, help="student hidden size")
    p.add_argument("--lamb", type=bounded(float, 0.0, 1.0), default=0.0, help="weight of the label CE term")
    p.add_argument("--tau", type=bounded(float, 0.01, 100.0), default=1.0, help="distillation temperature")
    p.add_argument(
        "--noise", type=bounded(float, 0.0, 100.0), default=1.0, help="feature-noise level of rho_e"
    )
    p.add_argument(
        "--kd-variant", choices=KD_VARIANTS, default="paper", help="KL as written or official quirk"
    )
    p.add_argument(
        "--epochs", type=bounded(int, 1, 100_000), default=200, help="epochs of teacher and student"
    )
    p.add_argument(
        "--num-train", type=bounded(int, 1, 100_000), default=20, help="training vertices per class"
    )
    p.add_argument(
        "--num-val", type=bounded(int, 1, 100_000), default=100, help="validation vertices per class"
    )
    p.add_argument("--test-ind-ratio", type=bounded(float, 0.0, 1.0), default=0.9,
                   help="production: share of the test vertices left unobserved")  # fmt: skip
    p.add_argument(
        "--save", default=None, help="folder for the last seed's teacher and student (safetensors)"
    )


@app.command(
    "train", "train a teacher and distil it into an MLP student (mean +- std over --seeds)", _train_args
)
def train(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from pkg_shared.device import resolve_device

    from .data import load_dataset
    from .training import run_production, run_transductive

    if args.save is not None:
        prepare_output(args.save, kind="dir", what="--save folder")
    run = RunDir.create(args.out, "lighthgnn", args.seeds[0])  # before any work: a bad --out fails at once
    device = resolve_device(args.device)
    data = load_dataset(args.dataset, data_root(args.data_dir), PRESETS["small"].synthetic, seed=0)
    teacher = TeacherConfig(kind=args.teacher, epochs=args.epochs)
    students = {args.student: StudentConfig(kind=args.student, hid=args.hid, epochs=args.epochs, lamb=args.lamb,
                                            tau=args.tau, noise=args.noise, kd_variant=args.kd_variant)}  # fmt: skip
    split = SplitConfig(args.num_train, args.num_val, args.test_ind_ratio)
    run_fn = run_transductive if args.setting == "trans" else run_production
    status = _status(args.quiet)
    results, models = [], None
    for seed in progress(args.seeds, desc="seeds", quiet=args.quiet):
        torch.manual_seed(seed)
        res = run_fn(data, teacher, students, split, seed, device, return_models=args.save is not None,
                     status=status)  # fmt: skip
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
    run.write_config({"command": "train", **vars(args)})
    run.write_results({"command": "train", "summary": summary, "per_seed": results})
    if models is not None:
        cfg = {"dataset": args.dataset, "teacher": args.teacher, "student": args.student, "hid": args.hid,
               "in_dim": data.X.shape[1], "n_classes": data.num_classes, "seed": args.seeds[-1]}  # fmt: skip
        save_checkpoint(args.save, models[args.student].state_dict(), cfg)
        save_checkpoint(args.save, models["teacher"].state_dict(), cfg, name="teacher")
        print(f"checkpoint: {args.save}")
    print(f"run folder: {run.path}")
    return 0


def _status(quiet: bool):
    from pkg_shared.progress import status

    return lambda text: status(text, quiet=quiet)


# ----------------------------------------------------------------------------------------------- bench
def _bench_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--num-v", type=bounded(int, 10, 10_000_000), nargs="+", default=None,
                   help="vertex counts (default: 5k, 10k, 20k, 40k, 55k)")  # fmt: skip
    p.add_argument("--scale", choices=("small", "full"), default="small", help="full adds 200k vertices")
    p.add_argument(
        "--teacher", choices=TEACHERS, nargs="+", default=["hgnn", "hgnnp"], help="teachers to time"
    )
    p.add_argument(
        "--repeats", type=bounded(int, 1, 1000), default=5, help="timed warm forward passes (median)"
    )
    p.add_argument("--cold-repeats", type=bounded(int, 1, 1000), default=2, help="timed cold passes (median)")
    p.add_argument("--threads", type=bounded(int, 1, 1024), default=1, help="CPU threads (1, as the claims)")


def bench(args: argparse.Namespace) -> int:
    import torch

    from pkg_shared.device import pinned_threads, resolve_device

    from .bench import speed_curve, speed_plot

    run = RunDir.create(args.out, "lighthgnn", args.seed)  # before any work: a bad --out fails at once
    device = resolve_device(args.device)
    cfg = SpeedConfig()
    num_v = args.num_v or [*cfg.num_v, *((200_000,) if args.scale == "full" else ())]
    with pinned_threads(args.threads if device.type == "cpu" else None):
        rows = speed_curve(progress(num_v, desc="vertex counts", quiet=args.quiet), d=cfg.d,
                           n_classes=cfg.n_classes, edge_size_range=cfg.edge_size_range, teachers=args.teacher,
                           repeats=args.repeats, cold_repeats=args.cold_repeats, device=device,
                           seed=args.seed)  # fmt: skip
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu, {args.threads} thread(s)"
    print(f"ms per forward pass ({name}; d={cfg.d}, C={cfg.n_classes}, N hyperedges of size "
          f"{cfg.edge_size_range[0]}..{cfg.edge_size_range[1]}; warm = operator prebuilt, cold = built from the list)")  # fmt: skip
    cols = [k for k in rows[0] if k != "num_v"]
    print(f"{'N':>8} | " + " | ".join(f"{c:>16}" for c in cols))
    for r in rows:
        print(f"{r['num_v']:>8} | " + " | ".join(f"{r[c]:16.3f}" for c in cols))
    run.write_results({"command": "bench", "device": str(device), "device_name": name, "rows": rows})
    speed_plot(rows, run.plots / "speed", title=name)
    print(f"run folder: {run.path}")
    return 0


app.command("bench", "inference time of HGNN / HGNN+ (warm and cold) vs the MLP student", _bench_args)(bench)
app.command("speed", "alias of bench (the spec's name)", _bench_args)(bench)

__all__ = ["app", "main"]
