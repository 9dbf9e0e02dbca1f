"""The small-scale reproduction (spec "Small-scale reproduction"): kernel, phase, vertex, ntk, correlation.

Each part returns the numbers its claims judge plus the curves its figure draws; ``reproduce`` runs
them for one seed and ``report`` has :mod:`pkg_pdlt.figures` draw ``plots/{kernel,phase,vertex,ntk,
correlation}.png`` once (from the first seed's curves). The deterministic parts (recursions, closed forms,
criticality) involve no random number: they are computed once per process and shared by every seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
import torch

from pkg_shared.claims import NotRun
from pkg_shared.cli import RunContext
from pkg_shared.data import DatasetMissing
from pkg_shared.progress import progress

from . import figures
from .config import (
    MNIST,
    PRESETS,
    CorrelationConfig,
    KernelConfig,
    MnistConfig,
    NTKConfig,
    PhaseConfig,
    VertexConfig,
)
from .criticality import find_criticality
from .data import mnist_inputs
from .gaussian import expect
from .montecarlo import correlation, empirical_ntk, ensemble, moments
from .theory import (
    correlation_recursion,
    exact_kurtosis,
    kernel_recursion,
    kurtosis_1n,
    multi_input_recursion,
    ntk_recursion,
    two_inputs,
    vertex_recursion,
)

CRITICAL = {"linear": (0.0, 1.0), "relu": (0.0, 2.0), "tanh": (0.0, 1.0)}
ACTIVATIONS = ("relu", "linear", "leaky_relu:0.1", "tanh", "sin", "swish", "gelu", "sigmoid", "softplus")

# The spec's headline table, recursion values only: name -> printed value (3 decimals unless SPEC_DECIMALS).
SPEC_VALUES = {
    "tanh lK(l=10)": 0.580,
    "tanh lK(l=50)": 0.522,
    "tanh lK(l=100)": 0.512,
    "tanh lK(l=200)": 0.507,
    "slope V/K^2 linear": 2.000,
    "slope V/K^2 relu": 5.000,
    "slope V/K^2 tanh": 0.665,
    "relu n=32 exact kappa(l=2)": 0.156,
    "relu n=32 exact kappa(l=6)": 1.067,
    "relu n=32 exact kappa(l=12)": 3.94,
    "linear n=32 exact kappa(l=12)": 0.948,
    "tanh n=32 1/n kappa(l=2)": 0.020,
    "tanh n=32 1/n kappa(l=6)": 0.094,
    "tanh n=32 1/n kappa(l=12)": 0.212,
    "tanh K(l=6)": 0.103,
    "tanh K(l=12)": 0.047,
}
SPEC_DECIMALS = {"relu n=32 exact kappa(l=12)": 2}


@cache
def vk2_slope(act: str, lo: int = 100, hi: int = 200) -> float:
    """Per-layer slope of V/K^2 between layers lo and hi at criticality, K^(1) = 1."""
    K, V = vertex_recursion(act, *CRITICAL[act], 1.0, hi)
    r = V / K**2
    return float((r[hi - 1] - r[lo - 1]) / (hi - lo))


@cache
def regressions() -> dict[str, Any]:
    """Recompute the spec's recursion values; the worst |ours - spec| / tolerance (<= 1 passes).

    Tolerance 1e-3, or half a unit of the last printed digit when that is coarser (3.94).
    """
    K = kernel_recursion("tanh", 0.0, 1.0, 1.0, 200)
    ours = {f"tanh lK(l={layer})": layer * K[layer - 1] for layer in (10, 50, 100, 200)}
    ours |= {f"slope V/K^2 {a}": vk2_slope(a) for a in ("linear", "relu", "tanh")}
    relu, lin = exact_kurtosis("relu", 32, 12), exact_kurtosis("linear", 32, 12)
    ours |= {f"relu n=32 exact kappa(l={layer})": relu[layer - 1] for layer in (2, 6, 12)}
    ours["linear n=32 exact kappa(l=12)"] = lin[11]
    Kt, Vt = vertex_recursion("tanh", 0.0, 1.0, 1.0, 12)
    kt = kurtosis_1n(Kt, Vt, 32)
    ours |= {f"tanh n=32 1/n kappa(l={layer})": kt[layer - 1] for layer in (2, 6, 12)}
    ours |= {f"tanh K(l={layer})": Kt[layer - 1] for layer in (6, 12)}
    ratio = {
        k: abs(ours[k] - v) / max(1e-3, 0.5 * 10.0 ** -SPEC_DECIMALS.get(k, 3))
        for k, v in SPEC_VALUES.items()
    }
    return {
        "regression_worst_ratio": max(ratio.values()),
        "regression_values": {k: float(v) for k, v in ours.items()},
    }


@cache
def kernel_part(cfg: KernelConfig) -> dict[str, Any]:
    """K^(l) around criticality; l K^(l) -> 1/2 for tanh; ReLU's K constant at C_W = 2."""
    curves = {f"tanh C_W={cw:g}": kernel_recursion("tanh", 0.0, cw, cfg.K1, cfg.depth) for cw in cfg.tanh_cw}
    curves |= {f"relu C_W={cw:g}": kernel_recursion("relu", 0.0, cw, cfg.K1, cfg.depth) for cw in cfg.relu_cw}
    tanh, relu = curves["tanh C_W=1"], curves["relu C_W=2"]
    return {
        "tanh_lK_at_depth": float(cfg.depth * tanh[-1]),
        "relu_K_max_rel_dev": float(np.max(np.abs(relu / relu[0] - 1))),
        "kernel_curves": {k: v.tolist() for k, v in curves.items()},
    }


@cache
def phase_part(cfg: PhaseConfig) -> dict[str, Any]:
    """tanh's (C_b, C_W) plane coloured by log chi_perp(K*); find_criticality for every activation.

    ``k0_critical_error`` compares the solver's numerically found K* -> 0 roots of tanh and sin with the
    closed form (0, 1/sigma_1^2) = (0, 1).
    """
    cb = np.linspace(0.0, cfg.cb_max, cfg.grid)
    cw = np.linspace(*cfg.cw_range, cfg.grid)
    CB, CW = np.meshgrid(cb, cw, indexing="ij")
    K = np.ones_like(CB)
    for _ in range(cfg.iterations):
        K = CB + CW * expect(lambda z: np.tanh(z) ** 2, K)
    log_chi = np.log(CW * expect(lambda z: (1 - np.tanh(z) ** 2) ** 2, K))
    table = {a: find_criticality(a) for a in ACTIVATIONS}
    relu = table["relu"]
    k0 = [table[a] for a in ("tanh", "sin")]
    return {
        "k0_critical_error": max(max(abs(c.C_b), abs(c.C_W - 1.0)) for c in k0)
        if all(c.klass == "K*=0" for c in k0)
        else float("nan"),
        "k0_critical_roots": {c.activation: [c.C_b, c.C_W] for c in k0},
        "relu_critical_cw": relu.C_W if relu.C_W else float("nan"),
        "criticality": {a: c.describe() for a, c in table.items()},
        "phase": {"C_b": cb.tolist(), "C_W": cw.tolist(), "log_chi_perp": log_chi.tolist()},
    }


def vertex_part(
    cfg: VertexConfig, generator: torch.Generator, device: torch.device, quiet: bool = True
) -> dict[str, Any]:
    """kappa^(l) from S networks vs the 1/n prediction and, for linear and ReLU, the exact result."""
    x = torch.ones(1, cfg.n0, dtype=torch.float64, device=device)
    curves: dict[str, Any] = {}
    exact_z, tanh_z, misses = [], [], []
    cases = [(act, n) for act in CRITICAL for n in cfg.widths]
    for act, n in progress(cases, quiet=quiet, desc=f"vertex ensembles of {cfg.samples} networks"):
        C_b, C_W = CRITICAL[act]
        L = min(2 * n, cfg.max_depth)
        ens = ensemble(act, C_b, C_W, x, [n] * L, cfg.samples, sampler=cfg.sampler, generator=generator)
        mc = moments(ens, generator=generator)
        K, V = vertex_recursion(act, C_b, C_W, C_b + C_W, L)
        one_n = kurtosis_1n(K, V, n)
        ratio = np.arange(1, L + 1) / n
        se = np.maximum(mc.kappa_se, 1e-12)
        row = {"l_over_n": ratio, "mc": mc.kappa, "se": mc.kappa_se, "one_n": one_n, "K_mc": mc.K, "K": K}
        if act == "tanh":
            tanh_z.append(
                np.abs(mc.kappa - one_n)[ratio <= cfg.tanh_fit_max_ratio]
                / se[ratio <= cfg.tanh_fit_max_ratio]
            )
        else:
            exact = exact_kurtosis(act, n, L)
            z = np.abs(mc.kappa - exact) / se
            exact_z.append(z)
            row |= {"exact": exact, "z": z}
            if act == "relu":
                far = ratio >= cfg.breakdown_ratio
                misses.append(np.abs(one_n[far] - mc.kappa[far]) / np.abs(mc.kappa[far]))
        curves[f"{act} n={n}"] = {k: np.asarray(v).tolist() for k, v in row.items()}
    all_exact = np.concatenate(exact_z)
    out = {
        "mc_exact_max_z": float(all_exact.max()),
        "mc_exact_fraction_within_3se": float(np.mean(all_exact <= 3)),
        "mc_tanh_1n_max_z": float(np.concatenate(tanh_z).max()),
        "relu_1n_min_miss": float(np.concatenate(misses).min())
        if any(len(m) for m in misses)
        else float("nan"),
        "vertex_curves": curves,
    }
    for act in ("linear", "relu"):
        bad = [
            (ratio, n)
            for n in cfg.widths
            for ratio, z in zip(curves[f"{act} n={n}"]["l_over_n"], curves[f"{act} n={n}"]["z"])
            if z > 3
        ]
        out[f"{act}_first_l_over_n_beyond_3se"] = min(bad)[0] if bad else float("nan")
    return out


def ntk_part(
    cfg: NTKConfig, generator: torch.Generator, device: torch.device, quiet: bool = True
) -> dict[str, Any]:
    """Empirical NTK over ``nets`` networks per width vs the recursion Theta^(L), ReLU and tanh critical."""
    x = torch.ones(cfg.n0, dtype=torch.float64, device=device)
    out: dict[str, Any] = {}
    curves = {}
    for act in progress(("relu", "tanh"), quiet=quiet, desc="empirical NTKs"):
        C_b, C_W = CRITICAL[act]
        theory = ntk_recursion(act, C_b, C_W, C_b + C_W, cfg.depth, cfg.lam_b, cfg.lam_W)[-1]
        thetas = [
            empirical_ntk(
                act,
                C_b,
                C_W,
                x,
                [n] * (cfg.depth - 1) + [1],
                cfg.nets,
                lam_b=cfg.lam_b,
                lam_W=cfg.lam_W,
                generator=generator,
            )
            for n in cfg.widths
        ]
        mean = np.array([t.mean() for t in thetas])
        std = np.array([t.std(ddof=1) for t in thetas])
        out[f"ntk_mean_rel_err_{act}"] = float(abs(mean[-1] / theory - 1))
        out[f"ntk_spread_slope_{act}"] = float(np.polyfit(np.log(cfg.widths), np.log(std), 1)[0])
        curves[act] = {
            "widths": list(cfg.widths),
            "mean": mean.tolist(),
            "std": std.tolist(),
            "theory": float(theory),
        }
    out["ntk_curves"] = curves
    return out


def correlation_part(
    cfg: CorrelationConfig, generator: torch.Generator, device: torch.device
) -> dict[str, Any]:
    """rho^(l) for input pairs with rho^(1) in ``rhos``: recursion vs S networks of width n."""
    X = np.concatenate([two_inputs(1.0, r, cfg.n0) for r in cfg.rhos])
    worst, curves = 0.0, {}
    for act in ("tanh", "relu"):
        C_b, C_W = CRITICAL[act]
        ens = ensemble(
            act,
            C_b,
            C_W,
            torch.as_tensor(X, device=device),
            [cfg.width] * cfg.depth,
            cfg.samples,
            generator=generator,
        )
        for k, r in enumerate(cfg.rhos):
            theory = correlation_recursion(act, C_b, C_W, C_b + C_W, r, cfg.depth)
            mc, se = correlation(ens, 2 * k, 2 * k + 1, generator=generator)
            worst = max(worst, float(np.max(np.abs(mc - theory))))
            curves[f"{act} rho1={r:g}"] = {"theory": theory.tolist(), "mc": mc.tolist(), "se": se.tolist()}
    return {"correlation_max_abs_dev": worst, "correlation_curves": curves}


def mnist_data(cfg: MnistConfig, ctx: RunContext) -> np.ndarray | NotRun:
    """The MNIST inputs of the optional part, or why it is not run (a damaged file is exit 2)."""
    if ctx.dataset != MNIST:
        return NotRun(f"optional: run with --dataset {MNIST} and a data root")
    try:
        return mnist_inputs(ctx.data_dir, cfg.images)
    except DatasetMissing as e:
        return NotRun(str(e))


def mnist_part(
    cfg: MnistConfig, X: np.ndarray | NotRun, device: torch.device, generator: torch.Generator
) -> dict[str, Any]:
    """Multi-input kernel K_ab on MNIST digits at the last layer: recursion vs S networks of width n.

    Judged by the largest |MC - recursion| / s.e. over the pairs (s.e.: std over networks / sqrt(S)).
    """
    if isinstance(X, NotRun):
        return {"mnist_kernel_max_z": X}
    C_b, C_W = CRITICAL["relu"]
    theory = multi_input_recursion("relu", C_b, C_W, X, cfg.depth).K
    ens = ensemble("relu", C_b, C_W, torch.as_tensor(X, device=device), [cfg.width] * cfg.depth,
                   cfg.samples, generator=generator)  # fmt: skip
    gram = ens.gram[-1].cpu().numpy()  # (S, m, m): the last layer's kernel in every network
    mc, se = gram.mean(0), gram.std(0, ddof=1) / np.sqrt(len(gram))
    return {
        "mnist_kernel_max_z": float(np.max(np.abs(mc - theory[-1]) / se)),
        "mnist_kernel_max_rel_dev": float(np.max(np.abs(mc / theory[-1] - 1))),
        "mnist_kernel": {"theory": theory[-1].tolist(), "mc": mc.tolist(), "se": se.tolist()},
    }


def reproduce(ctx: RunContext) -> dict[str, Any]:
    """All parts for one seed, plus the regression values (the deterministic parts computed once)."""
    preset = PRESETS[ctx.scale]
    X = mnist_data(preset.mnist, ctx)  # read the data first: a damaged file stops the run at once
    gen = torch.Generator(ctx.device).manual_seed(ctx.seed)
    measured: dict[str, Any] = dict(regressions())
    measured |= {"vk2_slope_" + a: vk2_slope(a) for a in CRITICAL}
    parts = (
        ("kernel recursions", lambda: kernel_part(preset.kernel)),
        ("phase plane and criticality", lambda: phase_part(preset.phase)),
        ("four-point vertex vs Monte Carlo", lambda: vertex_part(preset.vertex, gen, ctx.device, ctx.quiet)),
        ("empirical NTK", lambda: ntk_part(preset.ntk, gen, ctx.device, ctx.quiet)),
        ("two-input correlation", lambda: correlation_part(preset.correlation, gen, ctx.device)),
        ("MNIST kernel", lambda: mnist_part(preset.mnist, X, ctx.device, gen)),
    )
    for name, run in parts:
        ctx.status(name)
        result = run()
        ctx.log(part=name, **{k: v for k, v in result.items() if isinstance(v, float)})
        measured |= result
    return measured


def report(per_seed: Sequence[dict[str, Any]], measured: dict[str, Any], run: Any) -> None:
    """The five figures, once per run (curves of the first seed; the claims use the mean over seeds)."""
    figures.draw_all(per_seed[0], run.plots)
