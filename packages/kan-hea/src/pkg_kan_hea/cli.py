"""`pkg-kan-hea`: info, reproduce, carbide, strength, hea-class, bulk-modulus, train, evaluate, explain,
screen, bench."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from pkg_shared.cli import App, Paper, bounded
from pkg_shared.dataroot import data_root
from pkg_shared.errors import UserError
from pkg_shared.io import RunDir, prepare_output

from . import __version__
from .claims import CLAIMS
from .config import DATA_FILES, DATASET_EXAMPLES, EXAMPLE_MODELS, EXAMPLES, MODELS, OPTIMIZERS, REFERENCE

if TYPE_CHECKING:  # the heavy modules (torch, pandas, scikit-learn) are imported inside the commands
    import torch

    from .config import ModelConfig, TrainConfig
    from .data import Table
    from .kan import KAN
    from .pipeline import Scaler

PAPER = Paper(
    title="Kolmogorov-Arnold Neural Networks for High-Entropy Alloys Design",
    authors="Yagnik Bandyopadhyay, Harshil Avlani, Houlong L. Zhuang",
    venue="arXiv preprint (2024); journal version 2025",
    arxiv="2410.08452",
    bibtex="""@article{bandyopadhyay2024kan,
  title   = {Kolmogorov-Arnold Neural Networks for High-Entropy Alloys Design},
  author  = {Bandyopadhyay, Yagnik and Avlani, Harshil and Zhuang, Houlong L.},
  journal = {arXiv preprint arXiv:2410.08452},
  year    = {2024}
}""",
    implemented=[
        "KANLayer/KAN: Cox-de Boor B-splines, residual SiLU with s_b and s_sp, pykan 0.2.x init, vectorised",
        "grid update (quantiles blended with a uniform grid) and grid extension, both refitting c",
        "LBFGS (strong Wolfe) and Adam full-batch training; pykan's sparsity regulariser (L1 + entropy)",
        "pruning (edge and node masks, then a rebuilt smaller network), feature importance, edge plots,"
        " symbolic edge fits (sympy optional)",
        "pykan 0.2.8 as an optional reference model (--model pykan, reproduce --with-pykan, bench)",
        "EfficientKANLinear (efficient-kan formulation, its own grid update) and torch / scikit-learn MLP"
        " baselines",
        "examples 1-3 on the data root: carbide phase, YS/UTS, HEA class + bulk modulus + screening",
    ],
    datasets=["hea-carbide-phase", "hea-mpea-mechanical", "hea-elastic-dft (data root)", "synthetic"],
)


def _reproduce_arguments(parser: argparse.ArgumentParser) -> None:
    """``reproduce --with-pykan`` (defined here so that ``--help`` imports no torch)."""
    parser.add_argument(
        "--with-pykan",
        action="store_true",
        help="also cross-validate pykan 0.2.8 itself on the same folds (optional extra: "
        "pip install 'pkg-kan-hea[pykan]'; skipped with a message when absent)",
    )


app = App(
    slug="kan-hea",
    version=__version__,
    paper=PAPER,
    claims=CLAIMS,
    reproduce="pkg_kan_hea.experiment:reproduce",
    report="pkg_kan_hea.experiment:report",
    datasets=tuple(DATASET_EXAMPLES),
    default_seeds={"smoke": 1, "small": 3, "full": 10},
    reproduce_arguments=_reproduce_arguments,
    data_files=DATA_FILES,
    examples=[
        "reproduce --scale small --data-dir DATA",
        "reproduce --dataset hea-carbide-phase --with-pykan",
        "carbide --model kan efficient-kan mlp --folds 5 --seeds 3",
        "train --example carbide --save ckpt && pkg-kan-hea explain --checkpoint ckpt --plot-edges plots",
        "bench --reference",
    ],
)
main = app.main

MAX_STEPS, MAX_ROWS = 100_000, 10_000_000


def pinned():
    """One torch and one BLAS thread for a subcommand (tiny networks; ``reproduce`` is pinned by App)."""
    from pkg_shared.device import pinned_threads

    return pinned_threads(1)


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--width", default=None,
                   help="KAN widths, e.g. 17,4,2 (first = features, last = outputs; unset: the example's)")  # fmt: skip
    p.add_argument("--grid", type=bounded(int, 1, 1000), default=5, help="grid intervals G")
    p.add_argument("--k", type=bounded(int, 0, 10), default=3, help="spline order (3: cubic)")
    p.add_argument("--steps", type=bounded(int, 1, MAX_STEPS), default=500, help="full-batch training steps")
    p.add_argument("--opt", choices=OPTIMIZERS, default="adam", help="optimiser (lbfgs: pykan's fit)")
    p.add_argument("--lr", type=bounded(float, 1e-8, 100.0), default=1e-2, help="learning rate")
    p.add_argument("--lamb", type=bounded(float, 0.0, 1e3), default=0.0, help="sparsity regulariser weight")


def model_config(args: argparse.Namespace, example: str, table: Table) -> ModelConfig:
    """The example's architecture, with ``--width`` / ``--grid`` / ``--k`` applied and checked."""
    from .config import ModelConfig
    from .pipeline import out_dim

    base = EXAMPLE_MODELS.get(example, ModelConfig())
    hidden = base.kan_hidden
    if args.width:
        try:
            width = [int(w) for w in args.width.split(",")]
        except ValueError:
            raise UserError(f"--width must be comma-separated integers, got {args.width!r}") from None
        if len(width) < 2 or width[0] != table.x.shape[1] or width[-1] != out_dim(table) or min(width) < 1:
            raise UserError(
                f"--width {args.width}: need [{table.x.shape[1]}, ..., {out_dim(table)}] for {table.name}"
            )
        hidden = tuple(width[1:-1])
    return ModelConfig(kan_hidden=hidden, mlp_hidden=base.mlp_hidden, grid_size=args.grid, k=args.k)


def train_config(args: argparse.Namespace) -> TrainConfig:
    from .config import TrainConfig

    return TrainConfig(steps=args.steps, opt=args.opt, lr=args.lr, lamb=args.lamb)


def load_table(args: argparse.Namespace, example: str | None) -> Table:
    from . import experiment
    from .data import read_csv_table

    if getattr(args, "csv", None):
        if not args.features or not args.target:
            raise UserError("--csv needs --features and --target (comma-separated column names)")
        return read_csv_table(
            args.csv, args.features.split(","), args.target.split(","), args.task, strict=args.strict
        )
    return experiment.LOADERS[example or "carbide"](data_root(args.data_dir))


# -------------------------------------------------------------------------------- examples (CV tables)
def _cv_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", choices=(*MODELS, REFERENCE), nargs="+", default=["kan", "mlp"],
                   help="models compared on the same folds (pykan: optional extra pkg-kan-hea[pykan])")  # fmt: skip
    p.add_argument("--folds", type=bounded(int, 2, 50), default=5, help="cross-validation folds")
    p.add_argument(
        "--seeds", type=bounded(int, 1, 100), default=3, help="seeds (fold splits and inits), from --seed on"
    )
    p.add_argument(
        "--shuffled", action="store_true", help="plain shuffled KFold, ignoring formula groups (optimistic)"
    )
    p.add_argument("--plot-edges", default=None, help="folder for phi plots of a KAN trained on all rows")
    p.add_argument("--symbolic", action="store_true", help="print symbolic fits of a KAN trained on all rows")
    _model_args(p)


def run_example(example: str, args: argparse.Namespace) -> int:
    import numpy as np

    from .pipeline import cross_validate, fit

    run = RunDir.create(args.out, "kan-hea", args.seed)  # before any work: a bad --out fails at once
    if args.plot_edges:
        prepare_output(args.plot_edges, kind="dir", what="--plot-edges folder")
    table = load_table(args, example)
    cfg, train = model_config(args, example, table), train_config(args)
    seeds = [args.seed + i for i in range(args.seeds)]
    per_seed = []
    with pinned():
        for s in seeds:
            desc = f"{table.name}, seed {s} ({len(per_seed) + 1} of {len(seeds)})"
            per_seed.append(
                cross_validate(
                    table,
                    tuple(args.model),
                    cfg,
                    train,
                    args.folds,
                    s,
                    not args.shuffled,
                    quiet=args.quiet,
                    desc=desc,
                )  # fmt: skip
            )
    summary = {
        m: {k: float(np.mean([r[m][k] for r in per_seed])) for k in per_seed[0][m]} for m in args.model
    }
    ddof = 1 if len(per_seed) > 1 else 0
    spread = {m: {k: float(np.std([r[m][k] for r in per_seed], ddof=ddof)) for k in per_seed[0][m]}
              for m in args.model}  # fmt: skip
    print(f"{table.name}: {len(table)} rows, {args.folds}-fold x {len(seeds)} seed(s), mean ± sd over seeds")
    for m in args.model:
        print(f"  {m:>13}: " + ", ".join(f"{k} {summary[m][k]:.4f}±{spread[m][k]:.4f}" for k in summary[m]))
    run.write_results(
        {"command": example, "seeds": seeds, "mean": summary, "std": spread, "per_seed": per_seed}
    )
    if args.plot_edges or args.symbolic:
        with pinned():
            model, scaler = fit("kan", table, np.arange(len(table)), cfg, train, args.seed)
        explain_model(model, scaler.x(table.x, warn=False), table.features, args.plot_edges, args.symbolic)
    print(json.dumps({"mean": summary}))
    return 0


for _example in EXAMPLES:
    app.command(
        _example, f"example '{_example}': cross-validated KAN vs baselines on the same folds", _cv_args
    )(lambda args, _e=_example: run_example(_e, args))


# ------------------------------------------------------------------------------- train / evaluate
def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--example", choices=EXAMPLES, default="carbide", help="the example's rows (data root)")
    p.add_argument("--csv", default=None, help="train on your own CSV instead of an example")
    p.add_argument("--features", default=None, help="with --csv: comma-separated feature columns")
    p.add_argument("--target", default=None, help="with --csv: comma-separated target column(s)")
    p.add_argument("--task", choices=("classification", "regression"), default="regression",
                   help="with --csv: binary classification (one target) or regression")  # fmt: skip
    p.add_argument(
        "--strict", action="store_true", help="refuse rows with NaN targets instead of dropping them"
    )
    p.add_argument("--model", choices=("kan", "efficient-kan", "mlp", REFERENCE), default="kan",
                   help="pykan: trained by pykan 0.2.8, saved as our KAN (same function, tested)")  # fmt: skip
    p.add_argument("--save", required=True, help="checkpoint folder (created; checked before training)")
    p.add_argument("--prune", action="store_true",
                   help="KAN: prune weak edges and nodes after training, then rebuild a smaller network")  # fmt: skip
    _model_args(p)


@app.command(
    "train", "train one model on all rows of an example (or a CSV) and save a checkpoint", _train_args
)
def train(args: argparse.Namespace) -> int:
    import numpy as np

    from pkg_shared.io import save_checkpoint

    from .kan import KAN, from_pykan
    from .pipeline import fit, out_dim, predict, score

    prepare_output(args.save, kind="dir", what="--save folder")
    if args.prune and args.model not in ("kan", REFERENCE):
        raise UserError(f"--prune needs a KAN (--model kan or pykan), got {args.model}")
    table = load_table(args, args.example)
    cfg = model_config(args, args.example, table)
    with pinned():
        model, scaler = fit(args.model, table, np.arange(len(table)), cfg, train_config(args), args.seed)
    kind = args.model
    if kind == REFERENCE:  # stored as our KAN: the same function, readable without pykan
        model, kind = from_pykan(model), "kan"
    if args.prune:
        assert isinstance(model, KAN)
        counts = model.prune(scaler.x(table.x, warn=False))
        model = model.compact()
        cfg.kan_hidden = tuple(model.width[1:-1])
        print(f"pruned {counts['edges']} edge(s) and {counts['nodes']} hidden node(s): widths {model.width}")
    config = {"model": kind, "trained_by": args.model, "d_in": table.x.shape[1], "d_out": out_dim(table), "kan_hidden": cfg.kan_hidden,
              "mlp_hidden": cfg.mlp_hidden, "grid_size": cfg.grid_size, "k": cfg.k, "task": table.task,
              "features": table.features, "targets": table.targets, "example": None if args.csv else args.example,
              "scaler": scaler.state()}  # fmt: skip
    save_checkpoint(args.save, model.state_dict(), config)
    metrics = score(table, np.arange(len(table)), predict(model, scaler, table.x, table.task))
    print(
        f"trained {args.model} on {len(table)} rows ({table.dropped} dropped); train metrics {json.dumps(metrics)}"
    )
    print(f"checkpoint: {args.save}")
    return 0


def load_model(path: str) -> tuple[torch.nn.Module, Scaler, dict]:
    from pkg_shared.io import load_checkpoint

    from .config import ModelConfig
    from .pipeline import Scaler, build

    _, config = load_checkpoint(path)
    try:
        cfg = ModelConfig(
            tuple(config["kan_hidden"]), tuple(config["mlp_hidden"]), config["grid_size"], config["k"]
        )
        model = build(config["model"], config["d_in"], config["d_out"], cfg)
        scaler = Scaler.from_state(config["scaler"])
    except (KeyError, TypeError, ValueError) as e:
        raise UserError(f"checkpoint {path} has an incomplete or invalid config ({e})") from None
    tensors, _ = load_checkpoint(path, expected=model)
    model.load_state_dict(tensors)
    return model.eval(), scaler, config


def checkpoint_table(args: argparse.Namespace, config: dict, strict: bool = False) -> Table:
    """The rows to evaluate or explain on: ``--csv`` (the checkpoint's columns) or its example's rows."""
    from . import experiment
    from .data import read_csv_table

    if args.csv:
        return read_csv_table(args.csv, config["features"], config["targets"], config["task"], strict=strict)
    if config.get("example") in experiment.LOADERS:
        return experiment.LOADERS[config["example"]](data_root(args.data_dir))
    raise UserError("this checkpoint was trained on a CSV: pass --csv")


def _evaluate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="a checkpoint folder written by `train`")
    p.add_argument("--csv", default=None, help="evaluate on this CSV (same feature/target columns)")
    p.add_argument(
        "--strict", action="store_true", help="refuse rows with NaN targets instead of dropping them"
    )


@app.command("evaluate", "metrics of a checkpoint on a CSV or on its example's rows", _evaluate_args)
def evaluate(args: argparse.Namespace) -> int:
    import numpy as np

    from .pipeline import ExtrapolationWarning, predict, score

    model, scaler, config = load_model(args.checkpoint)
    table = checkpoint_table(args, config, strict=args.strict)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ExtrapolationWarning)
        metrics = score(table, np.arange(len(table)), predict(model, scaler, table.x, config["task"]))
    for w in caught:
        print(
            f"warning: {w.message} (KAN splines are zero outside the grid: extrapolation)",
            file=sys.stderr,
        )
    print(json.dumps({"rows": len(table), **metrics}))
    return 0


# ------------------------------------------------------------------------------------------ explain
def explain_model(
    model: KAN, x: torch.Tensor, names: list[str], plot_dir: str | None, symbolic: bool
) -> None:
    from .explain import formulas, importance_ranking, plot_edges, symbolic_fit

    print("feature importance (propagated mean |phi|):")
    for name, value in importance_ranking(model, x, names):
        print(f"  {name:<24} {value:.4f}")
    if plot_dir:
        print(f"edge plots: {plot_edges(model, x, names, Path(plot_dir) / 'edges.png')}")
    if symbolic:
        fits = symbolic_fit(model, x)
        for f in fits:
            src = names[f["i"]] if f["layer"] == 0 else f"h{f['layer']}_{f['i']}"
            print(f"  layer {f['layer']} {src} -> {f['j']}: {f['c']:.3g}*{f['function']}({f['a']:.2g}*x+{f['b']:.2g})"
                  f"+{f['d']:.3g}  R2 {f['r2']:.3f}")  # fmt: skip
        for j, formula in enumerate(formulas(model, fits, names)):
            print(f"output {j} = {formula}")


def _explain_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="a KAN checkpoint written by `train --model kan`")
    p.add_argument("--csv", default=None, help="rows to explain on (default: the checkpoint's example)")
    p.add_argument("--plot-edges", default=None, help="folder for the phi plots")
    p.add_argument("--symbolic", action="store_true", help="symbolic edge fits (sympy formulas if installed)")


@app.command(
    "explain", "importance ranking, edge plots and symbolic formulas of a KAN checkpoint", _explain_args
)
def explain(args: argparse.Namespace) -> int:
    from .kan import KAN

    if args.plot_edges:
        prepare_output(args.plot_edges, kind="dir", what="--plot-edges folder")
    model, scaler, config = load_model(args.checkpoint)
    if not isinstance(model, KAN):
        raise UserError(f"explain needs a KAN checkpoint, this one holds a {config['model']}")
    table = checkpoint_table(args, config)
    explain_model(model, scaler.x(table.x), config["features"], args.plot_edges, args.symbolic)
    return 0


# ------------------------------------------------------------------------------------ screen / bench
def _screen_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=bounded(int, 1, MAX_ROWS), default=5000, help="random candidate compositions")
    p.add_argument("--top", type=bounded(int, 1, 1000), default=10, help="candidates printed")
    p.add_argument(
        "--steps", type=bounded(int, 1, MAX_STEPS), default=500, help="training steps of both KANs"
    )


@app.command(
    "screen", "example 3: classify HEA, predict bulk modulus, rank candidate compositions", _screen_args
)
def screen_cmd(args: argparse.Namespace) -> int:
    from .config import TrainConfig
    from .screen import screen

    with pinned():
        ranked = screen(data_root(args.data_dir), args.n, TrainConfig(steps=args.steps), args.seed, args.top)
    print(f"{args.n} candidates, {ranked.attrs['kept_fraction']:.1%} classified HEA; top {len(ranked)} by K:")
    print(ranked.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


def _bench_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--steps", type=bounded(int, 1, 10_000), default=20, help="timed steps per network")
    p.add_argument(
        "--batch", type=bounded(int, 1, 1_000_000), default=1000, help="rows per step (full batch)"
    )
    p.add_argument("--grid", type=bounded(int, 1, 1000), default=5, help="grid intervals G")
    p.add_argument("--reference", action="store_true",
                   help="require pykan 0.2.8 (extra pkg-kan-hea[pykan]) and time it beside ours: exit 2 without it")  # fmt: skip


@app.command(
    "bench",
    "seconds per training step: ours vs efficient-kan formulation (vs pykan if installed), one thread",
    _bench_args,
)
def bench_cmd(args: argparse.Namespace) -> int:
    import os

    import torch

    from .bench import WIDTHS, bench
    from .pipeline import PYKAN_MISSING, pykan_available

    if args.device not in ("auto", "cpu"):
        raise UserError(f"bench times the CPU (one thread) only; --device {args.device} is not supported")
    if args.reference and not pykan_available():
        raise UserError(f"bench --reference: {PYKAN_MISSING}")
    run = RunDir.create(args.out, "kan-hea", args.seed)
    load = os.getloadavg()
    rows = []
    with pinned():
        for w in WIDTHS:
            if not args.quiet:
                print(f"bench {w} ...", file=sys.stderr, flush=True)
            rows.append(bench(w, args.batch, args.grid, args.steps, args.seed))
    print(
        f"torch {torch.__version__}, 1 thread, batch {args.batch}, G={args.grid}; median s/step, the networks "
        f"timed in turn within each step; load average {load[0]:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    for r in rows:
        pyk = (
            f"pykan {r['pykan_s'] * 1e3:.2f} ms (pykan/ours x{r['pykan_over_ours']:.1f}), max|diff| {r['pykan_max_abs_diff']:.1e}"
            if "pykan_s" in r
            else r["pykan"]
        )
        print(
            f"  {str(r['width']):>14}: ours {r['ours_s'] * 1e3:.2f} ms, efficient-kan {r['efficient_kan_s'] * 1e3:.2f} ms "
            f"(x{r['efficient_kan_over_ours']:.2f}); {pyk}"
        )
    run.write_results({"command": "bench", "load_before": load, "load_after": os.getloadavg(), "rows": rows})
    return 0


__all__ = ["app", "main"]
