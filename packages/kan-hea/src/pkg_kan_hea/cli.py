"""`pkg-kan-hea`: info, reproduce, carbide, strength, hea-class, bulk-modulus, train, evaluate, explain,
screen, bench."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

from pkg_shared.cli import App, Paper, positive
from pkg_shared.data import data_root
from pkg_shared.errors import UserError
from pkg_shared.io import RunDir, load_checkpoint, save_checkpoint

from . import __version__, experiment
from .claims import CLAIMS
from .config import EXAMPLE_MODELS, EXAMPLES, MODELS, REFERENCE, ModelConfig
from .data import Table, read_csv_table
from .explain import formulas, importance_ranking, plot_edges, symbolic_fit
from .kan import KAN, from_pykan
from .pipeline import (
    ExtrapolationWarning,
    Scaler,
    build,
    cross_validate,
    fit,
    out_dim,
    predict,
    score,
    single_thread,
)
from .train import OPTIMIZERS, TrainConfig

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
        "EfficientKANLinear (efficient-kan formulation) and torch / scikit-learn MLP baselines",
        "examples 1-3 on the data root: carbide phase, YS/UTS, HEA class + bulk modulus + screening",
    ],
    datasets=["hea-carbide-phase", "hea-mpea-mechanical", "hea-elastic-dft (data root)", "synthetic"],
)


app = App(
    slug="kan-hea",
    version=__version__,
    paper=PAPER,
    claims=CLAIMS,
    reproduce=experiment.reproduce,
    default_seeds={"smoke": 1, "small": 3, "full": 10},
    report=experiment.report,
    reproduce_arguments=experiment.add_reproduce_arguments,
)
main = app.main


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--width", default=None, help="KAN widths, e.g. 17,4,2 (first = features, last = outputs)")
    p.add_argument("--grid", type=int, default=5, help="grid intervals G (default 5)")
    p.add_argument("--k", type=int, default=3, help="spline order (default 3, cubic)")
    p.add_argument("--steps", type=positive, default=500, help="full-batch training steps (default 500)")
    p.add_argument("--opt", choices=OPTIMIZERS, default="adam")
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--lamb", type=float, default=0.0, help="sparsity regulariser weight (default 0)")


def model_config(args: argparse.Namespace, example: str, table: Table) -> ModelConfig:
    """The example's architecture, with ``--width`` / ``--grid`` / ``--k`` applied and checked."""
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
    return TrainConfig(steps=args.steps, opt=args.opt, lr=args.lr, lamb=args.lamb)


def load_table(args: argparse.Namespace, example: str | None) -> Table:
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
    p.add_argument("--folds", type=positive, default=5)
    p.add_argument("--seeds", type=positive, default=3)
    p.add_argument(
        "--shuffled", action="store_true", help="plain shuffled KFold, ignoring formula groups (optimistic)"
    )
    p.add_argument("--plot-edges", default=None, help="folder for phi plots of a KAN trained on all rows")
    p.add_argument("--symbolic", action="store_true", help="print symbolic fits of a KAN trained on all rows")
    _model_args(p)


def run_example(example: str, args: argparse.Namespace) -> int:
    table = load_table(args, example)
    cfg, train = model_config(args, example, table), train_config(args)
    seeds = [args.seed + i for i in range(args.seeds)]
    with single_thread():
        per_seed = [
            cross_validate(table, tuple(args.model), cfg, train, args.folds, s, not args.shuffled)
            for s in seeds
        ]
    summary = {
        m: {k: float(np.mean([r[m][k] for r in per_seed])) for k in per_seed[0][m]} for m in args.model
    }
    spread = {m: {k: float(np.std([r[m][k] for r in per_seed])) for k in per_seed[0][m]} for m in args.model}
    print(f"{table.name}: {len(table)} rows, {args.folds}-fold x {len(seeds)} seed(s), mean ± std over seeds")
    for m in args.model:
        print(f"  {m:>13}: " + ", ".join(f"{k} {summary[m][k]:.4f}±{spread[m][k]:.4f}" for k in summary[m]))
    run = RunDir.create(args.out, "kan-hea", args.seed)
    run.write_results(
        {"command": example, "seeds": seeds, "mean": summary, "std": spread, "per_seed": per_seed}
    )
    if args.plot_edges or args.symbolic:
        with single_thread():
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
    p.add_argument("--example", choices=EXAMPLES, default="carbide")
    p.add_argument("--csv", default=None, help="train on your own CSV instead of an example")
    p.add_argument("--features", default=None, help="with --csv: comma-separated feature columns")
    p.add_argument("--target", default=None, help="with --csv: comma-separated target column(s)")
    p.add_argument("--task", choices=("classification", "regression"), default="regression")
    p.add_argument(
        "--strict", action="store_true", help="refuse rows with NaN targets instead of dropping them"
    )
    p.add_argument("--model", choices=("kan", "efficient-kan", "mlp", REFERENCE), default="kan",
                   help="pykan: trained by pykan 0.2.8, saved as our KAN (same function, tested)")  # fmt: skip
    p.add_argument("--save", required=True, help="checkpoint folder")
    p.add_argument("--prune", action="store_true",
                   help="KAN: prune weak edges and nodes after training, then rebuild a smaller network")  # fmt: skip
    _model_args(p)


@app.command(
    "train", "train one model on all rows of an example (or a CSV) and save a checkpoint", _train_args
)
def train(args: argparse.Namespace) -> int:
    table = load_table(args, args.example)
    cfg = model_config(args, args.example, table)
    with single_thread():
        model, scaler = fit(args.model, table, np.arange(len(table)), cfg, train_config(args), args.seed)
    kind = args.model
    if kind == REFERENCE:  # stored as our KAN: the same function, readable without pykan
        model, kind = from_pykan(model), "kan"
    if args.prune:
        if not isinstance(model, KAN):
            raise UserError(f"--prune needs a KAN (--model kan or pykan), got {args.model}")
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
    _, config = load_checkpoint(path)
    try:
        cfg = ModelConfig(
            tuple(config["kan_hidden"]), tuple(config["mlp_hidden"]), config["grid_size"], config["k"]
        )
        model = build(config["model"], config["d_in"], config["d_out"], cfg)
        scaler = Scaler.from_state(config["scaler"])
    except (KeyError, TypeError) as e:
        raise UserError(f"checkpoint {path} has an incomplete config ({e})") from None
    tensors, _ = load_checkpoint(path, expected=model)
    model.load_state_dict(tensors)
    return model.eval(), scaler, config


def _evaluate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--csv", default=None, help="evaluate on this CSV (same feature/target columns)")
    p.add_argument("--strict", action="store_true")


@app.command("evaluate", "metrics of a checkpoint on a CSV or on its example's rows", _evaluate_args)
def evaluate(args: argparse.Namespace) -> int:
    model, scaler, config = load_model(args.checkpoint)
    if args.csv:
        table = read_csv_table(
            args.csv, config["features"], config["targets"], config["task"], strict=args.strict
        )
    elif config.get("example"):
        table = experiment.LOADERS[config["example"]](data_root(args.data_dir))
    else:
        raise UserError("this checkpoint was trained on a CSV: pass --csv")
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
    model, scaler, config = load_model(args.checkpoint)
    if not isinstance(model, KAN):
        raise UserError(f"explain needs a KAN checkpoint, this one holds a {config['model']}")
    if args.csv:
        table = read_csv_table(args.csv, config["features"], config["targets"], config["task"])
    elif config.get("example"):
        table = experiment.LOADERS[config["example"]](data_root(args.data_dir))
    else:
        raise UserError("this checkpoint was trained on a CSV: pass --csv")
    explain_model(model, scaler.x(table.x), config["features"], args.plot_edges, args.symbolic)
    return 0


# ------------------------------------------------------------------------------------ screen / bench
def _screen_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=positive, default=5000, help="random candidate compositions")
    p.add_argument("--top", type=positive, default=10)
    p.add_argument("--steps", type=positive, default=500)


@app.command(
    "screen", "example 3: classify HEA, predict bulk modulus, rank candidate compositions", _screen_args
)
def screen_cmd(args: argparse.Namespace) -> int:
    from .screen import screen

    with single_thread():
        ranked = screen(data_root(args.data_dir), args.n, TrainConfig(steps=args.steps), args.seed, args.top)
    print(f"{args.n} candidates, {ranked.attrs['kept_fraction']:.1%} classified HEA; top {len(ranked)} by K:")
    print(ranked.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


def _bench_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--steps", type=positive, default=20)
    p.add_argument("--batch", type=positive, default=1000)
    p.add_argument("--grid", type=int, default=5)


@app.command(
    "bench",
    "seconds per training step: ours vs efficient-kan formulation (vs pykan if installed)",
    _bench_args,
)
def bench_cmd(args: argparse.Namespace) -> int:
    from .bench import bench

    with single_thread():
        rows = [
            bench(w, args.batch, args.grid, args.steps, args.seed)
            for w in ([2, 5, 1], [17, 4, 2], [22, 5, 2], [100, 100, 10])
        ]
    print(f"torch {torch.__version__}, 1 thread, batch {args.batch}, G={args.grid}")
    for r in rows:
        pyk = (
            f"pykan {r['pykan_s'] * 1e3:.2f} ms (x{r['pykan_over_ours']:.1f}), max|diff| {r['pykan_max_abs_diff']:.1e}"
            if "pykan_s" in r
            else r["pykan"]
        )
        print(
            f"  {str(r['width']):>14}: ours {r['ours_s'] * 1e3:.2f} ms, efficient-kan {r['efficient_kan_s'] * 1e3:.2f} ms; {pyk}"
        )
    RunDir.create(args.out, "kan-hea", args.seed).write_results({"command": "bench", "rows": rows})
    return 0


__all__ = ["app", "main"]
