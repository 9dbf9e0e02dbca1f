"""`pkg-hopfield`: info, reproduce, retrieval, fixed-points, energy, mil-bits, mil-classic, uci-small, bench,
reference.

Heavy libraries (torch, scikit-learn, scipy) are imported inside the commands, so ``--help``, ``info``
and usage errors answer without them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from typing import Any

from pkg_shared.cli import App, Paper, bounded, nonnegative
from pkg_shared.errors import UserError
from pkg_shared.io import RunDir

from . import __version__
from .claims import CLAIMS, TABULAR_SETS

SCALES = ("smoke", "small", "full")
MIL_CLASSIC = ("tiger", "fox", "elephant")
MIL_MODELS = ("hopfield", "mean", "max", "attention")
DATA_FILES = [f"mil-tiger-fox-elephant/{name}.npz" for name in MIL_CLASSIC]

PAPER = Paper(
    title="Hopfield Networks is All You Need",
    authors="H. Ramsauer, B. Schäfl, J. Lehner, P. Seidl, M. Widrich, L. Gruber, M. Holzleitner, T. Adler, "
    "D. Kreil, M. Kopp, G. Klambauer, J. Brandstetter, S. Hochreiter",
    venue="ICLR 2021",
    arxiv="2008.02217",
    bibtex="""@inproceedings{ramsauer2021hopfield,
  title     = {Hopfield Networks is All You Need},
  author    = {Ramsauer, Hubert and Sch{\\"a}fl, Bernhard and Lehner, Johannes and Seidl, Philipp and
               Widrich, Michael and Gruber, Lukas and Holzleitner, Markus and Adler, Thomas and
               Kreil, David and Kopp, Michael K. and Klambauer, G{\\"u}nter and Brandstetter, Johannes
               and Hochreiter, Sepp},
  booktitle = {International Conference on Learning Representations},
  year      = {2021},
  note      = {arXiv:2008.02217}
}""",
    implemented=[
        "energy (eq. 2), update (eq. 3), iterate_until_converged (Thm. 1), separation, retrieval_error_bound "
        "(Thm. 4-5), storage_capacity (Thm. 3), fixed_point_regime; BinaryHopfield (Hebbian baseline)",
        "layers Hopfield, HopfieldPooling, HopfieldLayer: heads, beta, LayerNorm on patterns, masks, extra "
        "update steps with eps, dropout on the association, batch_first; Hopfield == nn.MultiheadAttention",
        "MIL: HopfieldPooling classifier, mean/max pooling, attention-MIL (Ilse et al. 2018)",
        "experiments: retrieval table, fixed-point regimes, energy monotonicity, bit-pattern MIL, "
        "Tiger/Fox/Elephant, MNIST-bags, small tabular vs SVC/RF/MLP; bench vs nn.MultiheadAttention",
    ],
    datasets=[
        "synthetic (retrieval, fixed points, bit-pattern MIL)",
        "mil-tiger-fox-elephant, mnist-t10k (data root)",
        "scikit-learn breast_cancer/wine/iris/digits (offline)",
    ],
)

app = App(
    slug="hopfield",
    version=__version__,
    paper=PAPER,
    claims=CLAIMS,
    reproduce="pkg_hopfield.experiment:reproduce",
    report="pkg_hopfield.experiment:report",
    datasets=("all",),
    data_files={"all": DATA_FILES},
    examples=[
        "reproduce --scale small --data-dir /path/to/data",
        "retrieval --scale small",
        "mil-classic --dataset fox --model attention --data-dir /path/to/data",
        "reference --hflayers /path/to/hopfield-layers",
    ],
)
main = app.main


def _scale(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scale", choices=SCALES, default="small", help="settings preset (config.PRESETS)")


def _run(args: argparse.Namespace) -> RunDir:
    """The run folder, created (and checked for writing) before any work."""
    from pkg_shared.io import prepare_output

    prepare_output(args.out, kind="dir", what="--out")
    return RunDir.create(args.out, "hopfield", args.seed)


def _save(run: RunDir, args: argparse.Namespace, command: str, results: Any) -> None:
    run.write_results({"command": command, **vars(args), "results": results})
    print(f"run folder: {run.path}")


@contextlib.contextmanager
def _one_thread(args: argparse.Namespace):
    """torch and BLAS on one thread (the tensors are small; on a shared CPU more threads only contend)."""
    from pkg_shared.device import pinned_threads

    with pinned_threads(1):
        yield


def _preset(args: argparse.Namespace) -> Any:
    from .config import PRESETS

    return PRESETS[args.scale]


@app.command("retrieval", "exact recovery vs N and beta, modern vs classical (spec table)", _scale)
def retrieval_cmd(args: argparse.Namespace) -> int:
    from . import experiment

    run, cfg = _run(args), _preset(args).retrieval
    with _one_thread(args):
        table = experiment.retrieval(cfg, args.seed)
    for flips in cfg.flips:
        print(f"{flips} bits flipped: exact recovery (%)")
        print(f"{'N':>6} | " + " | ".join(f"beta={b:<5}" for b in cfg.betas) + " | classical")
        for n in cfg.n_patterns:
            cells = [f"{table[f'modern_b{b}_f{flips}_n{n}']:10.1f}" for b in cfg.betas]
            print(f"{n:>6} | " + " | ".join(cells) + f" | {table[f'classical_f{flips}_n{n}']:9.1f}")
    _save(run, args, "retrieval", table)
    return 0


@app.command("fixed-points", "fraction of global / metastable / single fixed points vs beta", _scale)
def fixed_points_cmd(args: argparse.Namespace) -> int:
    from . import experiment

    run = _run(args)
    with _one_thread(args):
        fp = experiment.fixed_points(_preset(args).fixed_points, args.seed)
    print(f"{'patterns, beta':>20} | global | metastable | single | n_eff")
    for key, r in fp.items():
        print(
            f"{key:>20} | {r['global']:6.2f} | {r['metastable']:10.2f} | {r['single']:6.2f} | {r['n_eff_mean']:.2f}"
        )
    _save(run, args, "fixed-points", fp)
    return 0


@app.command("energy", "E is non-increasing along the updates on random instances (exit 1 if not)", _scale)
def energy_cmd(args: argparse.Namespace) -> int:
    from . import experiment

    run = _run(args)
    with _one_thread(args):
        res = experiment.energy_monotonicity(_preset(args).energy, args.seed)
    print(json.dumps(res))
    _save(run, args, "energy", res)
    return 0 if res["energy_increases"] == 0 else 1


@app.command("mil-bits", "HopfieldPooling vs mean pooling on the bit-pattern MIL set", _scale)
def mil_bits_cmd(args: argparse.Namespace) -> int:
    from pkg_shared.device import resolve_device

    from . import experiment

    device, run = resolve_device(args.device), _run(args)
    with _one_thread(args):
        res = experiment.mil_bits(_preset(args).bits, args.seed, device, args.quiet)
    print(json.dumps(res))
    _save(run, args, "mil-bits", res)
    return 0


def _classic_args(p: argparse.ArgumentParser) -> None:
    _scale(p)
    p.add_argument("--dataset", choices=(*MIL_CLASSIC, "mnist-bags"), default="tiger", help="MIL data set")
    p.add_argument("--model", choices=MIL_MODELS, default="hopfield", help="pooling of the MIL model")


@app.command(
    "mil-classic", "10-fold CV ROC-AUC on Tiger/Fox/Elephant, or MNIST-bags (data root)", _classic_args
)
def mil_classic_cmd(args: argparse.Namespace) -> int:
    from pkg_shared.data import data_root
    from pkg_shared.device import resolve_device

    from . import experiment

    cfg, device, run = _preset(args).classic, resolve_device(args.device), _run(args)
    root = data_root(args.data_dir)
    with _one_thread(args):
        if args.dataset == "mnist-bags":
            res = experiment.mnist_bags_experiment(cfg, args.seed, device, root, args.model)
        else:
            res = experiment.mil_classic(args.dataset, cfg, args.seed, device, root, args.model, args.quiet)
    print(json.dumps({"dataset": args.dataset, "model": args.model, **res}))
    _save(run, args, "mil-classic", res)
    return 0


def _uci_args(p: argparse.ArgumentParser) -> None:
    _scale(p)
    p.add_argument("--dataset", choices=TABULAR_SETS, nargs="+", default=list(TABULAR_SETS),
                   help="scikit-learn data sets to compare on")  # fmt: skip
    p.add_argument(
        "--calibrate",
        action="store_true",
        help="choose every method's settings per data set on seeds --seed .. --seed+2 (use 100: the "
        "frozen settings were chosen on 100-102) instead of comparing",
    )


@app.command("uci-small", "HopfieldLayer classifier vs SVC / RF / MLP, stratified 5-fold CV", _uci_args)
def uci_cmd(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from . import experiment
    from .tabular import calibrate

    run = _run(args)
    cfg = replace(_preset(args).tabular, datasets=tuple(args.dataset))
    with _one_thread(args):
        if args.calibrate:
            res = calibrate(cfg.datasets, cfg, seeds=range(args.seed, args.seed + 3), quiet=args.quiet)
            for name, r in res.items():
                print(f"{name:>14}: " + json.dumps(r["settings"]))
        else:
            res = experiment.uci_small(cfg, args.seed, args.quiet)
            for name in cfg.datasets:
                cells = " ".join(
                    f"{k}={res[f'uci_{name}_{k}']:.1f}" for k in ("hopfield", "svc", "rf", "mlp")
                )
                print(f"{name:>14}: {cells} (gap to best baseline {res[f'uci_{name}_gap']:+.1f} points)")
    _save(run, args, "uci-small", res)
    return 0


def _bench_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lengths", type=bounded(int, 1, 65536), nargs="+", default=[128, 256, 512, 1024, 2048, 4096],
                   help="sequence lengths (set sizes) to time")  # fmt: skip
    p.add_argument("--embed", type=bounded(int, 1, 8192), default=64, help="embedding size")
    p.add_argument("--heads", type=bounded(int, 1, 256), default=4, help="number of heads (divides --embed)")
    p.add_argument("--batch", type=bounded(int, 1, 4096), default=2, help="batch size")
    p.add_argument("--min-run-time", type=bounded(float, 0.001, 60.0), default=0.2,
                   help="seconds of timing per measurement")  # fmt: skip
    p.add_argument(
        "--rounds", type=bounded(int, 1, 100), default=3, help="timing rounds; the fastest median is kept"
    )
    p.add_argument(
        "--cpu-clock", action="store_true",
        help="one thread, CPU time instead of wall time (robust on a shared machine; CPU device only)",
    )  # fmt: skip
    p.add_argument(
        "--hflayers", metavar="PATH", default=None,
        help="a checkout of github.com/ml-jku/hopfield-layers: time its layers (same weights) side by side",
    )  # fmt: skip


@app.command(
    "bench", "Hopfield vs nn.MultiheadAttention, forward + backward, by sequence length", _bench_args
)
def bench_cmd(args: argparse.Namespace) -> int:
    import timeit

    from pkg_shared.device import resolve_device

    from .bench import bench
    from .reference import load_hflayers

    device = resolve_device(args.device)
    if args.cpu_clock and device.type != "cpu":
        raise UserError("--cpu-clock measures CPU time: use it with --device cpu")
    if args.embed % args.heads:
        raise UserError(f"--embed {args.embed} is not divisible by --heads {args.heads}")
    hflayers = load_hflayers(args.hflayers) if args.hflayers else None
    run = _run(args)
    with _one_thread(args) if args.cpu_clock else contextlib.nullcontext():
        rows = bench(args.lengths, args.embed, args.heads, args.batch, device, args.min_run_time, args.rounds,
                     hflayers, time.process_time if args.cpu_clock else timeit.default_timer)  # fmt: skip
    what = "CPU ms (1 thread)" if args.cpu_clock else "ms"
    print(f"device {device}; embed {args.embed}, {args.heads} heads, batch {args.batch}; {what} per fwd+bwd")
    extra = " | hflayers 1 step | hflayers +3 steps | max |ours - hflayers|" if hflayers else ""
    print(
        f"{'length':>7} | {'MHA':>9} | {'Hopfield 1 step':>15} | {'Hopfield +3 steps':>17} | 1-step / MHA{extra}"
    )
    for r in rows:
        cells = (f" | {r['hflayers_ms']:15.2f} | {r['hflayers_3_ms']:17.2f} | {r['hflayers_max_diff']:.1e}"
                 if hflayers else "")  # fmt: skip
        print(f"{r['length']:>7} | {r['mha_ms']:9.2f} | {r['hopfield_ms']:15.2f} | {r['hopfield_3_ms']:17.2f} | "
              f"{r['hopfield_ms'] / r['mha_ms']:12.2f}{cells}")  # fmt: skip
    _save(run, args, "bench", {"device": str(device), "rows": rows})
    return 0


def _reference_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--hflayers", metavar="PATH", default=None,
        help="a checkout of github.com/ml-jku/hopfield-layers (unset: $HFLAYERS_PATH, else an installed hflayers)",
    )  # fmt: skip
    p.add_argument("--tol", type=bounded(float, 0.0, 1.0), default=1e-10,
                   help="largest |ours - hflayers| (float64) that counts as equal")  # fmt: skip
    p.add_argument("--seed", type=nonnegative, default=0, help="random seed of inputs and weights")
    p.add_argument("--out", default="runs", help="folder for run folders")


@app.command(
    "reference",
    "side by side with hflayers (the authors' code): same outputs and gradients? exit 2 without hflayers",
    _reference_args,
    run_options=False,
)
def reference_cmd(args: argparse.Namespace) -> int:
    from .reference import compare_with_hflayers, load_hflayers

    hflayers = load_hflayers(args.hflayers)
    run = _run(args)
    with _one_thread(args):
        rows = compare_with_hflayers(hflayers, args.seed)
    print(f"{'layer':>16} | extra steps | max |output diff| | max |grad diff| | equal (tol {args.tol:g})")
    for r in rows:
        r["equal"] = r["output_max_diff"] <= args.tol and r["grad_max_diff"] <= args.tol
        print(f"{r['layer']:>16} | {r['update_steps_max']:11d} | {r['output_max_diff']:17.1e} | "
              f"{r['grad_max_diff']:15.1e} | {'yes' if r['equal'] else 'NO'}")  # fmt: skip
    _save(run, args, "reference", rows)
    return 0 if all(r["equal"] for r in rows) else 1


__all__ = ["app", "main"]
