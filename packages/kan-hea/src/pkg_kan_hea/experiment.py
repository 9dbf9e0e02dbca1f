"""``reproduce``: the closed-form fit, the grid-update check and the three examples (spec "Small-scale").

Per seed (``App`` runs one call per seed): (1) a [2, 5, 1] KAN fits exp(sin(pi x) + y^2) with LBFGS and
grid extension; (2) one grid update of the trained KAN, max change of its output; (3) each example
cross-validated with the KAN, the efficient-kan network and the MLPs on the same folds; example 2 also
on shuffled (optimistic) folds; (4) the example-1 KAN's importance ranking and edge plots; (5) the
example-3 screening pipeline. Examples whose data are absent are reported as not run.

``--dataset`` picks the examples: ``all`` (default) runs every example whose files the data root holds
(at ``smoke``: example 1 only); a data folder's name runs the examples that read it (at every scale).
Plots (``plots/``): the learned edges of the exp-sin KAN and of the example-1 KAN per seed; after the
last seed, KAN vs MLP per example (mean and spread over seeds).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pkg_shared.claims import NotRun
from pkg_shared.cli import RunContext
from pkg_shared.data import DatasetMissing
from pkg_shared.io import RunDir, atomic_write_json
from pkg_shared.metrics import rmse

from .config import DATASET_EXAMPLES, EXAMPLE_MODELS, MODELS, PRESETS, REFERENCE, ModelConfig, TrainConfig
from .data import Table, load_bulk_modulus, load_carbide, load_hea_class, load_strength, pykan_function
from .explain import importance_ranking, plot_comparison, plot_edges
from .kan import KAN
from .pipeline import PYKAN_MISSING, Scaler, cross_validate, fit, pykan_available
from .screen import screen
from .train import train_model

LOADERS = {"carbide": load_carbide, "strength": load_strength, "hea-class": load_hea_class,
           "bulk-modulus": load_bulk_modulus}  # fmt: skip
HEADLINE = {"carbide": "f1", "strength": ("r2_YS_MPa", "r2_UTS_MPa"), "hea-class": "f1",
            "bulk-modulus": "r2_K_GPa"}  # fmt: skip


def closed_form_fit(
    n: int, steps: int, grids: Sequence[int], seed: int, plot: Path | None = None, uniform: bool = True
) -> dict[str, float | NotRun]:
    """KAN [2, 5, 1] on f = exp(sin(pi x) + y^2): LBFGS ``steps`` per grid, grid extension between grids.

    Grid updates follow pykan's schedule; ``grid_update_max_change`` is the largest output change of a
    scheduled update after the first (the first moves the initial uniform knots of a near-zero spline).
    ``grid_update_trained_uniform_change`` is the harder case: one update of a network trained with
    uniform knots (no updates), whose knots then move to the data quantiles (skipped with ``uniform=False``,
    as ``smoke`` does to save its cost).
    """
    torch.manual_seed(seed)
    train, test = pykan_function(n, seed), pykan_function(1000, seed + 10_000)
    x, y = torch.as_tensor(train.x), torch.as_tensor(train.y)
    model = KAN([2, 5, 1], grid_size=grids[0], k=3)
    cfg = TrainConfig(steps=steps, opt="lbfgs", lr=1.0)
    t0 = time.perf_counter()
    changes, extension_change = [], 0.0
    for n_grid, grid in enumerate(grids):
        if n_grid:
            with torch.no_grad():
                before = model(x)
                model.extend_grid(x, grid)
                extension_change = max(extension_change, float((model(x) - before).abs().max()))
        changes += train_model(model, x, y, "regression", cfg).grid_update_change[1:]
    seconds = time.perf_counter() - t0
    with torch.no_grad():
        pred = model(torch.as_tensor(test.x))
    if plot is not None:
        plot_edges(model, x, ["x", "y"], plot, top=2)
    uniform_change: float | NotRun = NotRun("skipped at this scale")
    if uniform:
        torch.manual_seed(seed)
        net = KAN([2, 5, 1], grid_size=grids[0], k=3)
        train_model(net, x, y, "regression", TrainConfig(steps=steps, opt="lbfgs", lr=1.0, update_grid=False))
        with torch.no_grad():
            before = net(x)
            net.update_grid(x)
            uniform_change = float((net(x) - before).abs().max())
    return {"expsin_test_rmse": rmse(test.y[:, 0], pred[:, 0]), "expsin_seconds": seconds,
            "grid_update_max_change": max(changes) if changes else NotRun(
                f"no scheduled grid update after the first within {steps} steps"),
            "grid_extension_max_change": extension_change,
            "grid_update_trained_uniform_change": uniform_change}  # fmt: skip


def headline(example: str, metrics: Mapping[str, float]) -> float:
    """The example's claim metric: F1, R2, or for two targets the worse R2."""
    key = HEADLINE[example]
    return min(metrics[k] for k in key) if isinstance(key, tuple) else metrics[key]


def claim_metric(example: str) -> str:
    """The key of the example's "KAN - MLP" claim."""
    return (
        f"{example.replace('-', '_')}_{'f1' if example in ('carbide', 'hea-class') else 'r2'}_kan_minus_mlp"
    )


def load_tables(ctx: RunContext, examples: Sequence[str]) -> dict[str, Table | NotRun]:
    """Every example's table, read and validated before any training (absent data: :class:`NotRun`)."""
    tables: dict[str, Table | NotRun] = {}
    for example in examples:
        try:
            tables[example] = LOADERS[example](ctx.data_dir)
        except DatasetMissing as e:
            tables[example] = NotRun(str(e))
    return tables


def run_examples(ctx: RunContext, tables: Mapping[str, Table | NotRun], models: Sequence[str], n_folds: int,
                 train: TrainConfig) -> dict[str, Any]:  # fmt: skip
    """Cross-validate every model on every example; flat keys ``<example>_<metric>_<model>``."""
    out: dict[str, Any] = {}
    for example, table in tables.items():
        key = example.replace("-", "_")
        if isinstance(table, NotRun):
            out[claim_metric(example)] = table
            continue
        ctx.status(f"example {example}: {len(table)} rows, {n_folds} folds x {len(models)} models")
        t0 = time.perf_counter()
        result = cross_validate(table, tuple(models), EXAMPLE_MODELS[example], train, n_folds, ctx.seed,
                                quiet=ctx.quiet, desc=f"[seed {ctx.seed}] {example}")  # fmt: skip
        for model, metrics in result.items():
            for name, value in metrics.items():
                out[f"{key}_{name}_{model}"] = value
        diff = headline(example, result["kan"]) - headline(example, result["mlp"])
        metric = "f1" if table.task == "classification" else "r2"
        out[f"{key}_{metric}_kan_minus_mlp"] = diff
        if REFERENCE in result:
            out[f"{key}_{metric}_kan_minus_pykan"] = headline(example, result["kan"]) - headline(
                example, result[REFERENCE]
            )
        if example == "strength":
            shuffled = cross_validate(table, ("kan", "mlp"), EXAMPLE_MODELS[example], train, n_folds, ctx.seed,
                                      grouped=False, quiet=ctx.quiet, desc=f"[seed {ctx.seed}] strength, shuffled folds")  # fmt: skip
            for model, metrics in shuffled.items():
                out.update({f"strength_shuffled_{k}_{model}": v for k, v in metrics.items()})
        ctx.log(example=example, seconds=time.perf_counter() - t0, **{f"{m}": r for m, r in result.items()})
    return out


def explain_carbide(ctx: RunContext, table: Table, train: TrainConfig) -> dict[str, Any]:
    """Train the example-1 KAN on all 116 rows; importance ranking and phi plots of the top two inputs."""
    ctx.status("example carbide: KAN on all rows, importance and edge plots")
    model, scaler = fit("kan", table, np.arange(len(table)), EXAMPLE_MODELS["carbide"], train, ctx.seed)
    x = scaler.x(table.x)
    ranking = importance_ranking(model, x, table.features)
    plot_edges(model, x, table.features, ctx.run.plots / f"carbide_edges_s{ctx.seed}.png")
    return {"carbide_importance_top5": [name for name, _ in ranking[:5]]}


def reproduce(ctx: RunContext) -> dict[str, Any]:
    """One seed of the experiment at ``ctx.scale`` on ``ctx.dataset`` (see the module docstring).

    ``reproduce --with-pykan`` (``ctx.options["with_pykan"]``) adds pykan 0.2.8 itself to every example's
    comparison, trained by the same loop on the same folds; its metrics are reported beside ours, not
    judged. Without pykan installed it says so once and runs without it. Threads are pinned by ``App``.
    """
    with_pykan = bool(ctx.options.get("with_pykan")) and pykan_available()
    if ctx.options.get("with_pykan") and not with_pykan and ctx.seed == ctx.seeds[0]:
        print(f"pkg-kan-hea: --with-pykan skipped: {PYKAN_MISSING}", file=sys.stderr)
    if ctx.device.type != "cpu" and ctx.seed == ctx.seeds[0]:
        ctx.status(
            f"computing on the CPU, not {ctx.device}: the tables have < 2,000 rows (see README Limits)"
        )
    preset = PRESETS[ctx.scale]
    dataset = ctx.dataset or "all"
    examples = preset.examples if dataset == "all" else DATASET_EXAMPLES[dataset]
    tables = load_tables(ctx, examples)
    ctx.status(f"closed-form fit: [2, 5, 1] KAN on exp(sin(pi x) + y^2), grids {list(preset.fit_grids)}")
    out: dict[str, Any] = closed_form_fit(
        preset.fit_points,
        preset.fit_steps,
        preset.fit_grids,
        ctx.seed,
        ctx.run.plots / f"expsin_edges_s{ctx.seed}",
        uniform=ctx.scale != "smoke",
    )
    ctx.log(step="closed-form", **out)
    models = (*preset.models, REFERENCE) if with_pykan else preset.models
    out.update(run_examples(ctx, tables, models, preset.folds, preset.train))
    skipped = [e for e in DATASET_EXAMPLES["all"] if e not in examples]
    for example in skipped:
        out[claim_metric(example)] = NotRun(f"not in this run (--dataset {dataset}, --scale {ctx.scale})")
    if isinstance(tables.get("carbide"), Table):
        out.update(explain_carbide(ctx, tables["carbide"], preset.train))
    if not preset.screen_n or dataset != "all":
        return out
    try:
        ctx.status(f"example 3 screening: {preset.screen_n} candidate compositions")
        ranked = screen(ctx.data_dir, preset.screen_n, preset.train, ctx.seed)
        out["screen_top_K_GPa"] = float(ranked.iloc[0]["K_GPa"])
        out["screen_top_formula"] = str(ranked.iloc[0]["composition"])
        out["screen_kept_fraction"] = float(ranked.attrs["kept_fraction"])
    except DatasetMissing as e:
        out["screen_top_K_GPa"] = NotRun(str(e))
    return out


def report(per_seed: Sequence[Mapping[str, Any]], measured: Mapping[str, Any], run: RunDir) -> None:
    """Print the per-example comparison table (mean over seeds), save it as ``comparison.json`` and plot
    the claim metrics of KAN and MLP per example (every seed's value and the mean)."""
    models = (*MODELS, REFERENCE)
    rows = []
    for key in sorted(measured):
        for model in models:
            if key.endswith(f"_{model}") and "_minus_" not in key and isinstance(measured[key], float):
                rows.append((key[: -len(model) - 1], model, measured[key]))
    table: dict[str, dict[str, float]] = {}
    for stem, model, value in rows:
        table.setdefault(stem, {})[model] = value
    models = tuple(m for m in models if any(m in values for values in table.values()))
    print(f"{'metric (mean over folds and seeds)':<44} " + " ".join(f"{m:>13}" for m in models))
    for stem, values in table.items():
        print(
            f"{stem:<44} " + " ".join(f"{values[m]:13.4f}" if m in values else f"{'-':>13}" for m in models)
        )
    atomic_write_json(run.path / "comparison.json", table)
    panels = {}
    for example, key in HEADLINE.items():
        stem = example.replace("-", "_")
        keys = key if isinstance(key, tuple) else (key,)
        for k in keys:
            values = {m: [row[f"{stem}_{k}_{m}"] for row in per_seed if isinstance(row.get(f"{stem}_{k}_{m}"), float)]
                      for m in models}  # fmt: skip
            values = {m: v for m, v in values.items() if v}
            if values:
                panels[f"{example}: {k}"] = values
    if panels:
        plot_comparison(panels, run.plots / "kan_vs_mlp")


__all__ = ["ModelConfig", "Scaler", "reproduce", "report"]
