"""`pkg-pdlt`: info, reproduce, kernel, criticality, montecarlo, ntk.

Only light modules are imported here (``--help``, ``info`` and usage errors answer without torch or
scipy); each command imports what it needs when it runs. Sizes are bounded at parse time (exit 2 naming
the limit) and the Monte Carlo commands check the memory their records need before drawing anything.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from typing import Any

from pkg_shared.cli import App, Paper, bounded
from pkg_shared.errors import UserError

from . import __version__
from .claims import CLAIMS
from .config import (
    ACTIVATION_HELP,
    MAX_DEPTH,
    MAX_MC_DEPTH,
    MAX_NTK_WIDTH,
    MAX_SAMPLES,
    MAX_WIDTH,
    MNIST,
    MNIST_FILES,
    SAMPLERS,
)

PAPER = Paper(
    title="The Principles of Deep Learning Theory",
    authors="Daniel A. Roberts, Sho Yaida, Boris Hanin",
    venue="Cambridge University Press 2022 (book)",
    arxiv="2106.10165",
    bibtex="""@book{roberts2022principles,
  title     = {The Principles of Deep Learning Theory: An Effective Theory Approach to Understanding Neural Networks},
  author    = {Roberts, Daniel A. and Yaida, Sho and Hanin, Boris},
  publisher = {Cambridge University Press},
  year      = {2022},
  note      = {arXiv:2106.10165}
}""",
    implemented=[
        "Gauss-Hermite Gaussian expectations, 1-D and 2-D (Cholesky of the 2x2 kernel)",
        "kernel recursion (one and several inputs), chi_par and chi_perp (Ch. 4-5)",
        "find_criticality: scipy root from several starts + the K* -> 0 boundary root found numerically; closed forms apart",
        "four-point vertex recursion (equal and unequal widths), 1/n kurtosis, exact scale-invariant kurtosis",
        "NTK mean recursion (one and several inputs) and the learning-rate equivalence rescaling (Ch. 9)",
        "two-input correlation recursion; Monte Carlo ensembles (batched float64) and empirical NTKs (torch.func)",
    ],
    datasets=["none needed (random networks)", "optional: mnist-t10k (data root) for multi-input kernels"],
)

app = App(
    slug="pdlt",
    version=__version__,
    paper=PAPER,
    claims=CLAIMS,
    reproduce="pkg_pdlt.experiment:reproduce",
    report="pkg_pdlt.experiment:report",
    datasets=("none", MNIST),
    examples=[
        "reproduce --scale smoke --seeds 1",
        f"reproduce --dataset {MNIST} --data-dir DATA",
        "kernel --act tanh --cw 1.0 --cb 0.0 --depth 200 > tanh.csv",
        "criticality --act leaky_relu:0.1",
        "montecarlo --act relu --width 32 --depth 12 --samples 20000",
        "ntk --act relu --widths 64,256,1024 --depth 6 --nets 50",
    ],
    data_files={MNIST: [f"{MNIST}/{f}" for f in MNIST_FILES]},
)
main = app.main

finite = bounded(float)
nonnegative_float = bounded(float, 0.0)


def width_list(text: str) -> list[int]:
    """``64,256,1024`` -> [64, 256, 1024], each in [1, MAX_NTK_WIDTH]."""
    parse = bounded(int, 1, MAX_NTK_WIDTH)
    return [parse(t) for t in text.split(",")]


def _critical_cw(act: str, cw: float | None) -> float:
    from .criticality import closed_form

    if cw is not None:
        return cw
    form = closed_form(act)
    if form is None:
        raise UserError(f"{act} has no closed-form critical C_W: pass --cw")
    return form[1]


def _print_csv(header: list[str], rows: list[list[Any]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[f"{v:.10g}" if isinstance(v, float) else v for v in row] for row in rows])
    sys.stdout.write(buf.getvalue())


def _pinned(device: Any) -> Any:
    from pkg_shared.device import pinned_threads

    return pinned_threads(1 if device.type == "cpu" else None)


def _kernel_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--act", default="tanh", help=f"activation: {ACTIVATION_HELP}")
    p.add_argument("--cw", type=finite, default=1.0, help="weight variance C_W (> 0)")
    p.add_argument("--cb", type=finite, default=0.0, help="bias variance C_b (>= 0)")
    p.add_argument("--depth", type=bounded(int, 1, MAX_DEPTH), default=200, help="number of layers L")
    p.add_argument("--k1", type=finite, default=1.0, help="first-layer kernel K^(1) (> C_b)")
    p.add_argument("--lam-b", type=nonnegative_float, default=1.0, help="bias learning rate lambda_b")
    p.add_argument("--lam-w", type=nonnegative_float, default=1.0, help="weight learning rate lambda_W")


@app.command(
    "kernel", "per-layer K, chi_par, chi_perp, V/K^2 and Theta as CSV", _kernel_args, run_options=False
)
def kernel(args: argparse.Namespace) -> int:
    from .activations import get_activation
    from .theory import chi_parallel, chi_perp, ntk_recursion, vertex_recursion

    act = get_activation(args.act)
    K, V = vertex_recursion(act, args.cb, args.cw, args.k1, args.depth)
    theta = ntk_recursion(act, args.cb, args.cw, args.k1, args.depth, args.lam_b, args.lam_w)
    cpar, cperp = chi_parallel(act, K, args.cw), chi_perp(act, K, args.cw)
    rows = [[i + 1, K[i], cpar[i], cperp[i], V[i] / K[i] ** 2, theta[i]] for i in range(args.depth)]
    _print_csv(["layer", "K", "chi_par", "chi_perp", "V_over_K2", "Theta"], rows)
    return 0


def _criticality_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--act", default="tanh", help=f"activation: {ACTIVATION_HELP}")


@app.command("criticality", "solve for (C_b, C_W, K*) or report none", _criticality_args, run_options=False)
def criticality(args: argparse.Namespace) -> int:
    from .criticality import closed_form, find_criticality

    result = find_criticality(args.act)
    print(result.describe())
    form = closed_form(args.act)
    print("closed form (C_b, C_W):", "none (not in a closed-form class)" if form is None else f"{form}")
    return 0


def _montecarlo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--act", default="relu", help=f"activation: {ACTIVATION_HELP}")
    p.add_argument("--width", type=bounded(int, 1, MAX_WIDTH), default=32, help="hidden width n")
    p.add_argument("--depth", type=bounded(int, 1, MAX_MC_DEPTH), default=12, help="number of layers L")
    p.add_argument(
        "--samples",
        type=bounded(int, 10, MAX_SAMPLES),
        default=20_000,
        help="number of independent networks S",
    )
    p.add_argument("--cw", type=finite, default=None, help="C_W (default: the closed-form critical value)")
    p.add_argument("--cb", type=finite, default=0.0, help="bias variance C_b (>= 0)")
    p.add_argument(
        "--sampler",
        choices=SAMPLERS,
        default="weights",
        help="weights: draw the weights; marginal: the exact conditional law of each layer (n times cheaper)",
    )


@app.command("montecarlo", "MC moments of S random networks vs theory, per layer (CSV)", _montecarlo_args)
def montecarlo(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from pkg_shared.device import resolve_device

    from .activations import get_activation
    from .montecarlo import ensemble, moments
    from .theory import exact_kurtosis, kurtosis_1n, vertex_recursion

    device = resolve_device(args.device)
    act = get_activation(args.act)
    cw = _critical_cw(args.act, args.cw)
    K, V = vertex_recursion(act, args.cb, cw, args.cb + cw, args.depth)  # checks C_b, C_W first
    gen = torch.Generator(device).manual_seed(args.seed)
    x = torch.ones(1, args.width, dtype=torch.float64, device=device)
    with _pinned(device):
        ens = ensemble(
            act, args.cb, cw, x, [args.width] * args.depth, args.samples, sampler=args.sampler,
            generator=gen, quiet=args.quiet,
        )  # fmt: skip
        mc = moments(ens, generator=gen)
    one_n = kurtosis_1n(K, V, args.width)
    exact = (
        exact_kurtosis(act, args.width, args.depth)
        if act.scale_invariant and args.cb == 0
        else np.full(args.depth, np.nan)
    )
    header = ["layer", "K", "K_mc", "K_mc_se", "kappa_1n", "kappa_exact", "kappa_mc", "kappa_mc_se"]
    cols = (K, mc.K, mc.K_se, one_n, exact, mc.kappa, mc.kappa_se)
    _print_csv(header, [[i + 1, *(float(c[i]) for c in cols)] for i in range(args.depth)])
    return 0


def _ntk_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--act", default="relu", help=f"activation: {ACTIVATION_HELP}")
    p.add_argument(
        "--widths",
        type=width_list,
        default=[64, 256, 1024],
        help=f"comma-separated hidden widths, each <= {MAX_NTK_WIDTH}, e.g. 64,256",
    )
    p.add_argument("--depth", type=bounded(int, 1, MAX_MC_DEPTH), default=6, help="number of layers L")
    p.add_argument("--nets", type=bounded(int, 10, MAX_SAMPLES), default=50, help="networks per width")
    p.add_argument("--cw", type=finite, default=None, help="C_W (default: the closed-form critical value)")
    p.add_argument("--cb", type=finite, default=0.0, help="bias variance C_b (>= 0)")
    p.add_argument("--lam-b", type=nonnegative_float, default=1.0, help="bias learning rate lambda_b")
    p.add_argument("--lam-w", type=nonnegative_float, default=1.0, help="weight learning rate lambda_W")
    p.add_argument(
        "--equivalence", action="store_true", help="rescale lambda_b, lambda_W by 1/depth (Sec. 9.4)"
    )


@app.command("ntk", "empirical NTK (torch.func) mean and spread vs the recursion", _ntk_args)
def ntk(args: argparse.Namespace) -> int:
    import torch

    from pkg_shared.device import resolve_device
    from pkg_shared.progress import progress

    from .montecarlo import empirical_ntk
    from .theory import equivalent_learning_rates, ntk_recursion

    device = resolve_device(args.device)
    cw = _critical_cw(args.act, args.cw)
    lam_b, lam_w = args.lam_b, args.lam_w
    if args.equivalence:
        lam_b, lam_w = equivalent_learning_rates(lam_b, lam_w, args.depth)
    gen = torch.Generator(device).manual_seed(args.seed)
    n0 = 16
    theory = ntk_recursion(args.act, args.cb, cw, args.cb + cw, args.depth, lam_b, lam_w)[-1]
    x = torch.ones(n0, dtype=torch.float64, device=device)
    print(f"recursion Theta^({args.depth}) = {theory:.6g} (lambda_b = {lam_b:g}, lambda_W = {lam_w:g})")
    rows = []
    with _pinned(device):
        for n in progress(args.widths, quiet=args.quiet, desc="widths"):
            t = empirical_ntk(args.act, args.cb, cw, x, [n] * (args.depth - 1) + [1], args.nets,
                              lam_b=lam_b, lam_W=lam_w, generator=gen)  # fmt: skip
            rows.append(
                [
                    n,
                    float(t.mean()),
                    float(t.std(ddof=1)),
                    float(t.std(ddof=1) / t.mean()),
                    float(t.mean() / theory - 1),
                ]
            )
    _print_csv(["width", "mean", "std", "std_over_mean", "mean_rel_err"], rows)
    return 0


__all__ = ["app", "main"]
