"""`pkg-hopfield`: info, reproduce, retrieval, fixed-points, energy, mil-bits, mil-classic, uci-small, bench."""

from __future__ import annotations

import argparse
import contextlib
import json
import time
import timeit
from dataclasses import replace

from pkg_shared.cli import App, Paper
from pkg_shared.device import resolve_device, torch_threads
from pkg_shared.errors import UserError
from pkg_shared.io import RunDir

from . import __version__, experiment
from .claims import CLAIMS
from .config import PRESETS
from .data import MIL_CLASSIC, TABULAR
from .mil import MODELS

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
    reproduce=experiment.reproduce,
    report=experiment.report,
)
main = app.main


def _scale(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scale", choices=tuple(PRESETS), default="small", help="settings preset (default small)")


def _save(args: argparse.Namespace, command: str, results: dict) -> None:
    run = RunDir.create(args.out, "hopfield", args.seed)
    run.write_results({"command": command, **vars(args), "results": results})
    print(f"run folder: {run.path}")


@app.command("retrieval", "exact recovery vs N and beta, modern vs classical (spec table)", _scale)
def retrieval_cmd(args: argparse.Namespace) -> int:
    with torch_threads(1):
        table = experiment.retrieval(PRESETS[args.scale].retrieval, args.seed)
    cfg = PRESETS[args.scale].retrieval
    for flips in cfg.flips:
        print(f"{flips} bits flipped: exact recovery (%)")
        print(f"{'N':>6} | " + " | ".join(f"beta={b:<5}" for b in cfg.betas) + " | classical")
        for n in cfg.n_patterns:
            cells = [f"{table[f'modern_b{b}_f{flips}_n{n}']:10.1f}" for b in cfg.betas]
            print(f"{n:>6} | " + " | ".join(cells) + f" | {table[f'classical_f{flips}_n{n}']:9.1f}")
    _save(args, "retrieval", table)
    return 0


@app.command("fixed-points", "fraction of global / metastable / single fixed points vs beta", _scale)
def fixed_points_cmd(args: argparse.Namespace) -> int:
    with torch_threads(1):
        fp = experiment.fixed_points(PRESETS[args.scale].fixed_points, args.seed)
    print(f"{'patterns, beta':>20} | global | metastable | single | n_eff")
    for key, r in fp.items():
        print(
            f"{key:>20} | {r['global']:6.2f} | {r['metastable']:10.2f} | {r['single']:6.2f} | {r['n_eff_mean']:.2f}"
        )
    _save(args, "fixed-points", fp)
    return 0


@app.command("energy", "E is non-increasing along the updates on random instances", _scale)
def energy_cmd(args: argparse.Namespace) -> int:
    with torch_threads(1):
        res = experiment.energy_monotonicity(PRESETS[args.scale].energy, args.seed)
    print(json.dumps(res))
    _save(args, "energy", res)
    return 0 if res["energy_increases"] == 0 else 1


@app.command("mil-bits", "HopfieldPooling vs mean pooling on the bit-pattern MIL set", _scale)
def mil_bits_cmd(args: argparse.Namespace) -> int:
    with torch_threads(1):
        res = experiment.mil_bits(
            PRESETS[args.scale].bits, args.seed, resolve_device(args.device), args.quiet
        )
    print(json.dumps(res))
    _save(args, "mil-bits", res)
    return 0


def _classic_args(p: argparse.ArgumentParser) -> None:
    _scale(p)
    p.add_argument("--dataset", choices=(*MIL_CLASSIC, "mnist-bags"), default="tiger")
    p.add_argument("--model", choices=MODELS, default="hopfield", help="pooling of the MIL model")


@app.command(
    "mil-classic", "10-fold CV ROC-AUC on Tiger/Fox/Elephant, or MNIST-bags (data root)", _classic_args
)
def mil_classic_cmd(args: argparse.Namespace) -> int:
    cfg, device = PRESETS[args.scale].classic, resolve_device(args.device)
    with torch_threads(1):
        if args.dataset == "mnist-bags":
            res = experiment.mnist_bags_experiment(cfg, args.seed, device, args.data_dir, args.model)
        else:
            res = experiment.mil_classic(args.dataset, cfg, args.seed, device, args.data_dir, args.model)
    print(json.dumps({"dataset": args.dataset, "model": args.model, **res}))
    _save(args, "mil-classic", res)
    return 0


def _uci_args(p: argparse.ArgumentParser) -> None:
    _scale(p)
    p.add_argument("--dataset", choices=TABULAR, nargs="+", default=list(TABULAR))


@app.command("uci-small", "HopfieldLayer classifier vs SVC / RF / MLP, stratified 5-fold CV", _uci_args)
def uci_cmd(args: argparse.Namespace) -> int:
    cfg = replace(PRESETS[args.scale].tabular, datasets=tuple(args.dataset))
    with torch_threads(1):
        res = experiment.uci_small(cfg, args.seed)
    for name in cfg.datasets:
        cells = " ".join(f"{k}={res[f'uci_{name}_{k}']:.1f}" for k in ("hopfield", "svc", "rf", "mlp"))
        print(f"{name:>14}: {cells} (gap to best baseline {res[f'uci_{name}_gap']:+.1f} points)")
    _save(args, "uci-small", res)
    return 0


def _bench_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lengths", type=int, nargs="+", default=[128, 256, 512, 1024, 2048, 4096])
    p.add_argument("--embed", type=int, default=64)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--min-run-time", type=float, default=0.2)
    p.add_argument("--rounds", type=int, default=3, help="timing rounds; the fastest median is kept")
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
    from .bench import bench
    from .reference import load_hflayers

    device = resolve_device(args.device)
    hflayers = load_hflayers(args.hflayers) if args.hflayers else None
    if args.cpu_clock and device.type != "cpu":
        raise UserError("--cpu-clock measures CPU time: use it with --device cpu")
    with torch_threads(1) if args.cpu_clock else contextlib.nullcontext():
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
    _save(args, "bench", {"device": str(device), "rows": rows})
    return 0


__all__ = ["app", "main"]
