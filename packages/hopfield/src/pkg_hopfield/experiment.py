"""The small-scale reproduction (spec "Small-scale reproduction"), one function per experiment.

1. :func:`retrieval`: one-step retrieval of +-1 patterns vs N and beta; the classical net collapses.
2. :func:`fixed_points`: the three kinds of fixed points under a beta sweep.
3. :func:`energy_monotonicity`: E never increases along the updates (Theorem 1), 0 <= E <= 2 M^2.
4. :func:`mil_bits`: HopfieldPooling vs mean pooling on the bit-pattern MIL set.
5. :func:`mil_classic`: Tiger / Fox / Elephant 10-fold CV ROC-AUC; MNIST-bags.
6. :func:`uci_small`: HopfieldLayer classifier vs SVC / RF / MLP on scikit-learn's small sets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from pkg_shared.claims import NotRun
from pkg_shared.cli import RunContext
from pkg_shared.data import DatasetMissing
from pkg_shared.io import RunDir
from pkg_shared.plots import line_plot
from pkg_shared.progress import progress

from .config import (
    PRESETS,
    BitsConfig,
    ClassicConfig,
    EnergyConfig,
    FixedPointConfig,
    RetrievalConfig,
    TabularConfig,
)
from .data import MIL_CLASSIC, bit_pattern_bags, load_mil_classic, mnist_bags, tabular
from .mil import TRAIN_OPTIONS, cross_validate, evaluate, make_mil_model, standardise, subset, train_mil
from .tabular import calibrated, compare
from .theory import BinaryHopfield, energy, fixed_point_regime, iterate_until_converged, update


def retrieval(cfg: RetrievalConfig, seed: int) -> dict[str, float]:
    """Exact-recovery rate (%) of a stored +-1 pattern from a query with ``flips`` bits flipped.

    Modern: one update (eq. (3)) on the raw +-1 vectors (norm sqrt(d) = 8), then sign. Classical:
    Hebbian net, ``sweeps`` synchronous sign updates. Keys ``modern_b{beta}_f{flips}_n{N}`` and
    ``classical_f{flips}_n{N}``.
    """
    g = torch.Generator().manual_seed(seed)
    out = {}
    for N in cfg.n_patterns:
        X = torch.randint(0, 2, (N, cfg.d), generator=g).double() * 2 - 1
        target = torch.randint(0, N, (cfg.queries,), generator=g)
        net = BinaryHopfield(X)
        for flips in cfg.flips:
            where = torch.rand(cfg.queries, cfg.d, generator=g).argsort(dim=1)[:, :flips]
            query = X[target].scatter(1, where, -X[target].gather(1, where))
            for beta in cfg.betas:
                got = torch.sign(update(query, X, beta))
                out[f"modern_b{beta}_f{flips}_n{N}"] = (
                    100.0 * (got == X[target]).all(1).double().mean().item()
                )
            got = net.retrieve(query, cfg.sweeps)
            out[f"classical_f{flips}_n{N}"] = 100.0 * (got == X[target]).all(1).double().mean().item()
    return out


def fixed_points(cfg: FixedPointConfig, seed: int) -> dict[str, Any]:
    """Iterate from every stored pattern to its fixed point for each beta; classify the fixed points.

    Regime by ``n_eff = 1/sum p_i^2`` at the fixed point: ``single`` (< 1.5), ``global`` (> N/2, the
    average of all patterns), else ``metastable``. Two pattern sets: ``random`` (standard normal) and
    ``clustered`` (``n_clusters`` centres, members = centre + ``cluster_noise`` * noise).
    """
    g = torch.Generator().manual_seed(seed)
    sets = {
        "random": torch.randn(cfg.n_patterns, cfg.d, generator=g, dtype=torch.float64),
        "clustered": torch.randn(cfg.n_clusters, cfg.d, generator=g, dtype=torch.float64).repeat_interleave(
            cfg.n_patterns // cfg.n_clusters, 0
        ),
    }
    sets["clustered"] = sets["clustered"] + cfg.cluster_noise * torch.randn(
        sets["clustered"].shape, generator=g, dtype=torch.float64
    )
    out: dict[str, Any] = {}
    for name, X in sets.items():
        for beta in cfg.betas:
            it = iterate_until_converged(X.clone(), X, beta, max_steps=cfg.max_steps)
            n_eff = fixed_point_regime(it.xi, X, beta)["n_eff"]
            single, glob = n_eff < 1.5, n_eff > len(X) / 2
            out[f"{name}_b{beta}"] = {
                "single": single.double().mean().item(),
                "global": glob.double().mean().item(),
                "metastable": (~single & ~glob).double().mean().item(),
                "n_eff_mean": n_eff.mean().item(),
            }
    return out


def energy_monotonicity(cfg: EnergyConfig, seed: int) -> dict[str, float]:
    """Random instances (pattern sets of random N, d, scale and beta; random states), float64: the number
    of updates that increase E (beyond 1e-12 relative round-off) and of states outside 0 <= E <= 2 M^2."""
    g = torch.Generator().manual_seed(seed)
    increases = bound_violations = 0
    for _ in range(cfg.sets):
        N, d = (int(v) for v in torch.randint(2, 65, (2,), generator=g))
        scale = float(10 ** (2 * torch.rand((), generator=g) - 1))
        beta = float(10 ** (3 * torch.rand((), generator=g) - 2))
        X = scale * torch.randn(N, d, generator=g, dtype=torch.float64)
        xi = scale * torch.randn(cfg.states, d, generator=g, dtype=torch.float64)
        trace = [energy(xi, X, beta)]
        for _ in range(cfg.steps):
            xi = update(xi, X, beta)
            trace.append(energy(xi, X, beta))
        E = torch.stack(trace)
        increases += int((E[1:] > E[:-1] + 1e-12 * (1 + E[:-1].abs())).sum())
        M2 = X.norm(dim=1).max() ** 2
        bound_violations += int(((E[1:] < -1e-9 * M2) | (E[1:] > 2 * M2 * (1 + 1e-9))).sum())
    return {
        "instances": cfg.sets * cfg.states,
        "energy_increases": increases,
        "energy_bound_violations": bound_violations,
    }


def mil_bits(cfg: BitsConfig, seed: int, device: torch.device, quiet: bool = True) -> dict[str, float]:
    """Test accuracy and AUC of HopfieldPooling and of mean pooling on the bit-pattern set."""
    bags = bit_pattern_bags(num_bags=cfg.bags, seed=seed)
    n_test = int(cfg.test_fraction * cfg.bags)
    train, test = subset(bags, torch.arange(n_test, cfg.bags)), subset(bags, torch.arange(n_test))
    out = {}
    for kind in ("hopfield", "mean"):
        torch.manual_seed(seed)
        pooling = {"num_heads": cfg.num_heads} if kind == "hopfield" else {}
        model = make_mil_model(kind, bags.x.shape[-1], cfg.hidden, 0.0, **pooling)
        train_mil(model, train, epochs=cfg.epochs, lr=cfg.lr, batch_size=cfg.batch_size, device=device,
                  quiet=quiet, seed=seed)  # fmt: skip
        res = evaluate(model, test, device)
        out[f"bits_{kind}_accuracy"], out[f"bits_{kind}_auc"] = res["accuracy"], res["auc"]
    return out


def _classic_model(cfg: ClassicConfig, input_size: int, kind: str = "hopfield"):
    """``build(point)``: the MIL model of ``kind`` with ``cfg``'s settings, overridden by a grid point's."""

    def build(point: dict[str, Any]) -> torch.nn.Module:
        hidden = point.get("hidden", cfg.hidden)
        if kind != "hopfield":
            return make_mil_model(kind, input_size, hidden, 0.0)
        pooling = {
            "num_heads": point.get("num_heads", cfg.num_heads),
            "hidden_size": point.get("head_dim", cfg.head_dim),
            "scaling": point.get("scaling", cfg.scaling),
            "dropout": point.get("dropout", cfg.dropout),
        }
        return make_mil_model(kind, input_size, hidden, 0.0, **pooling)

    return build


def mil_classic(
    name: str,
    cfg: ClassicConfig,
    seed: int,
    device: torch.device,
    data_dir: Any = None,
    kind: str = "hopfield",
    quiet: bool = True,
) -> dict[str, Any]:
    """10-fold CV ROC-AUC on Tiger/Fox/Elephant: ``cfg.repetitions`` repetitions from the upstream fold
    masks of repetition ``seed mod 5`` on; nested when ``cfg.grid`` has several points (searched by
    ``cfg.inner_folds``-fold CV inside each outer training part). Baselines search only the grid's
    training options and embedding width."""
    bags, masks = load_mil_classic(name, data_dir)
    grid = (
        cfg.grid
        if kind == "hopfield"
        else {k: v for k, v in cfg.grid.items() if k in (*TRAIN_OPTIONS, "hidden")}
    )
    runs = [
        cross_validate(
            _classic_model(cfg, bags.x.shape[-1], kind),
            bags,
            masks[(seed + r) % len(masks)],
            epochs=cfg.epochs,
            grid=grid,
            inner_folds=cfg.inner_folds,
            device=device,
            seed=seed + r,
            quiet=quiet,
            desc=f"{name} 10-fold CV",
            lr=cfg.lr,
            batch_size=cfg.batch_size,
        )  # fmt: skip
        for r in range(cfg.repetitions)
    ]
    aucs = [r["auc"] for r in runs]
    return {
        "auc": float(np.mean(aucs)),
        "auc_std_folds": runs[0]["auc_std"],
        "auc_per_repetition": aucs,
        "chosen": [r["chosen"] for r in runs],
    }


def mnist_bags_experiment(
    cfg: ClassicConfig, seed: int, device: torch.device, data_dir: Any = None, kind: str = "hopfield"
) -> dict[str, float]:
    """MNIST-bags (a '9' in the bag): train on ``mnist_train_bags`` bags, test AUC/accuracy."""
    train, test = mnist_bags(data_dir, cfg.mnist_train_bags, cfg.mnist_test_bags, seed=seed)
    train, test = standardise(train, test)
    torch.manual_seed(seed)
    model = train_mil(_classic_model(cfg, train.x.shape[-1], kind)({}), train, epochs=cfg.epochs, lr=cfg.lr,
                      batch_size=cfg.batch_size, device=device, seed=seed)  # fmt: skip
    return evaluate(model, test, device)


def uci_small(cfg: TabularConfig, seed: int, quiet: bool = True) -> dict[str, float]:
    """Accuracy (%) of HopfieldTabular and the baselines per dataset (each method with its settings
    calibrated on seeds 100-102, :data:`~pkg_hopfield.config.TABULAR_SETTINGS`), and Hopfield's gap to
    the best baseline."""
    out = {}
    for name in progress(cfg.datasets, desc="small tabular", quiet=quiet):
        x, y = tabular(name)
        accs = compare(x, y, cfg, seed, calibrated(name))
        out.update({f"uci_{name}_{k}": v for k, v in accs.items()})
        out[f"uci_{name}_gap"] = accs["hopfield"] - max(v for k, v in accs.items() if k != "hopfield")
    return out


def reproduce(ctx: RunContext) -> dict[str, Any]:
    """Every experiment for one seed; the values the claims judge, plus the tables behind them.

    MNIST-bags is not part of it (no claim: this paper reports no MNIST-bags number); run it with
    ``pkg-hopfield mil-classic --dataset mnist-bags``."""
    p = PRESETS[ctx.scale]
    measured: dict[str, Any] = {}
    ctx.status("retrieval, fixed points, energy")
    table = retrieval(p.retrieval, ctx.seed)
    measured["retrieval"] = table
    get = table.get
    measured["modern_b0.5_f8_min"] = min(v for k, v in table.items() if k.startswith("modern_b0.5_f8_"))
    measured["modern_b0.5_f16_n128"] = get("modern_b0.5_f16_n128", NotRun("N = 128 needs --scale small"))
    measured["modern_b0.5_f16_n2048"] = get("modern_b0.5_f16_n2048", NotRun("N = 2048 needs --scale small"))
    measured["classical_f8_n8"] = table["classical_f8_n8"]
    measured["classical_f8_n32"] = table["classical_f8_n32"]
    ctx.log(experiment="retrieval", **table)

    fp = fixed_points(p.fixed_points, ctx.seed)
    measured["fixed_points"] = fp
    lo, hi = min(p.fixed_points.betas), max(p.fixed_points.betas)
    measured["low_beta_global_fraction"] = fp[f"random_b{lo}"]["global"]
    measured["high_beta_single_fraction"] = fp[f"random_b{hi}"]["single"]
    measured["clustered_max_metastable_fraction"] = max(
        fp[f"clustered_b{b}"]["metastable"] for b in p.fixed_points.betas
    )
    ctx.log(experiment="fixed_points", **fp)

    measured.update(energy_monotonicity(p.energy, ctx.seed))
    ctx.status("bit-pattern MIL")
    measured.update(mil_bits(p.bits, ctx.seed, ctx.device, ctx.quiet))
    measured["bits_hopfield_minus_mean"] = measured["bits_hopfield_accuracy"] - measured["bits_mean_accuracy"]
    for name in MIL_CLASSIC:
        ctx.status(f"MIL {name}")
        try:
            res = mil_classic(name, p.classic, ctx.seed, ctx.device, ctx.data_dir, quiet=ctx.quiet)
        except DatasetMissing as e:
            measured[f"mil_{name}_auc"] = NotRun(str(e))
        else:
            measured[f"mil_{name}_auc"], measured[f"mil_{name}_auc_std"] = res["auc"], res["auc_std_folds"]
    ctx.status("small tabular")
    uci = uci_small(p.tabular, ctx.seed, ctx.quiet)
    measured.update(uci)
    ctx.log(experiment="mil_uci", **{k: v for k, v in measured.items() if isinstance(v, float)})
    return measured


def report(per_seed: list[dict[str, Any]], measured: dict[str, Any], run: RunDir) -> None:
    """Plots of the first seed: retrieval curves per flips, fixed-point regimes vs beta."""
    first = per_seed[0]
    table, fp = first["retrieval"], first["fixed_points"]
    ns = sorted({int(k.rsplit("_n", 1)[1]) for k in table})
    for flips in sorted({int(k.split("_f")[1].split("_")[0]) for k in table}):
        series = {
            f"modern beta={b}": [table[f"modern_b{b}_f{flips}_n{n}"] for n in ns]
            for b in sorted({float(k.split("_b")[1].split("_")[0]) for k in table if k.startswith("modern")})
        }
        series["classical (Hebbian)"] = [table[f"classical_f{flips}_n{n}"] for n in ns]
        line_plot(run.plots / f"retrieval_f{flips}", ns, series, xlabel="stored patterns N", logx=True,
                  ylabel="exact recovery (%)", title=f"d = 64, {flips} bits flipped, one update")  # fmt: skip
    betas = sorted({float(k.split("_b")[1]) for k in fp})
    for name in ("random", "clustered"):
        series = {r: [fp[f"{name}_b{b}"][r] for b in betas] for r in ("global", "metastable", "single")}
        line_plot(run.plots / f"fixed_points_{name}", betas, series, xlabel="beta", logx=True,
                  ylabel="fraction of fixed points", title=f"fixed-point regimes, {name} patterns")  # fmt: skip
