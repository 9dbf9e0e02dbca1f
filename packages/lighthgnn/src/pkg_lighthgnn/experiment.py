"""The small-scale reproduction (spec "Small-scale reproduction"), one seed per call of :func:`reproduce`.

1. Transductive, on each dataset of the preset (CC-Cora, CC-Citeseer, Cora-CA from the data root and the
   ``hypergraph_sbm`` stand-in): an HGNN teacher, then the plain MLP, LightHGNN and LightHGNN+ students
   (paper KL) and, at ``full``, LightHGNN / LightHGNN+ with the official code's KD variant. A dataset
   whose files are absent leaves its claims ``not run`` with the reason. On each dataset's hypergraph,
   dhg's convolutions are also compared with the hand-computed operators (:mod:`pkg_lighthgnn.reference`).
2. Production setting (spec Method 8) on the preset's datasets (CC-Cora, CC-Citeseer, Cora-CA at ``small``;
   the synthetic one at ``smoke``): teacher and the MLP, LightHGNN and LightHGNN+ students trained on the
   observed part; accuracy on the unobserved (inductive) vertices, student vs teacher.
3. Inference speed of HGNN vs the student at the preset's N, measured once (first seed), one CPU thread.

Threads are pinned by the shared command line (``App(threads=1)``) for ``smoke`` and ``small`` on the CPU.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pkg_shared.claims import NotRun
from pkg_shared.cli import RunContext
from pkg_shared.data import DatasetMissing
from pkg_shared.io import RunDir
from pkg_shared.plots import bar_plot

from .bench import speed_curve, speed_plot
from .claims import HYPERGRAPHS
from .config import PRESETS, Preset, StudentConfig
from .data import load_dataset
from .hypergraph import build_hypergraph
from .reference import dhg_conv_max_abs_diff
from .training import run_production, run_transductive

MODELS = ("teacher", "mlp", "light_hgnn", "light_hgnnp", "light_hgnn_official", "light_hgnnp_official")


def student_configs(preset: Preset) -> dict[str, StudentConfig]:
    """The students trained from each teacher: MLP baseline, LightHGNN, LightHGNN+ and official variants."""
    base = preset.student
    out = {
        kind: StudentConfig(**{**vars(base), "kind": kind}) for kind in ("mlp", "light_hgnn", "light_hgnnp")
    }
    if "official" in preset.kd_variants:
        for kind in ("light_hgnn", "light_hgnnp"):
            out[f"{kind}_official"] = StudentConfig(**{**vars(base), "kind": kind, "kd_variant": "official"})
    return out


def _flatten(prefix: str, result: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for model, values in result.items():
        if isinstance(values, Mapping):
            out.update({f"{prefix}/{model}/{k}": v for k, v in values.items()})
        else:
            out[f"{prefix}/{model}"] = values
    return out


def _differences(ds: str, result: Mapping[str, Any]) -> dict[str, float]:
    acc = {
        m: result[m]["accuracy"] for m in result if isinstance(result[m], Mapping) and "accuracy" in result[m]
    }
    return {
        f"{ds}/{st}_minus_{ref}": acc[st] - acc[ref]
        for st in ("light_hgnn", "light_hgnnp")
        for ref in ("teacher", "mlp")
    } | {f"{ds}/light_hgnnp_minus_light_hgnn": acc["light_hgnnp"] - acc["light_hgnn"]}


def _production_differences(ds: str, result: Mapping[str, Any]) -> dict[str, float]:
    """Student minus teacher accuracy on the unobserved (inductive) vertices, in points."""
    teacher = result["teacher"]["ind_accuracy"]
    return {
        f"prod/{ds}/{st}_minus_teacher_ind": result[st]["ind_accuracy"] - teacher
        for st in ("mlp", "light_hgnn", "light_hgnnp")
        if st in result and "ind_accuracy" in result[st]
    }


def _not_run(ds: str, reason: str) -> dict[str, NotRun]:
    keys = [f"{ds}/{st}_minus_{ref}" for st in ("light_hgnn", "light_hgnnp") for ref in ("teacher", "mlp")]
    keys += [f"prod/{ds}/{st}_minus_teacher_ind" for st in ("light_hgnn", "light_hgnnp")]
    return {k: NotRun(reason) for k in [*keys, f"{ds}/light_hgnnp_minus_light_hgnn"]}


def production_students(preset: Preset) -> dict[str, StudentConfig]:
    """The production setting's students: MLP baseline, LightHGNN and LightHGNN+ (paper KL)."""
    base = preset.student
    return {
        kind: StudentConfig(**{**vars(base), "kind": kind}) for kind in ("mlp", "light_hgnn", "light_hgnnp")
    }


def reproduce(ctx: RunContext) -> dict[str, Any]:
    """One seed of the experiment at ``ctx.scale``; returns the measured values (see the module docstring)."""
    preset = PRESETS[ctx.scale]
    everything = ctx.dataset in (None, "paper")
    datasets: Sequence[str] = preset.datasets if everything else (ctx.dataset,)
    students = student_configs(preset)
    measured: dict[str, Any] = {}
    conv_diffs: list[float] = []
    loaded = {}
    for ds in datasets:
        try:
            data = load_dataset(ds, ctx.data_dir, preset.synthetic, seed=0)
        except DatasetMissing as e:
            measured.update(_not_run(ds, str(e)))
            continue
        loaded[ds] = data
        ctx.status(f"{ds}: {data.num_v} vertices, {len(data.edges)} hyperedges; transductive setting")
        diffs = dhg_conv_max_abs_diff(build_hypergraph(data.num_v, data.edges), seed=ctx.seed)
        conv_diffs += diffs.values()
        measured.update({f"check/{ds}/dhg_{k}_max_abs_diff": v for k, v in diffs.items()})
        result = run_transductive(data, preset.teacher, students, preset.split, ctx.seed, ctx.device,
                                  status=ctx.status)  # fmt: skip
        ctx.log(setting="trans", dataset=ds, **_flatten(ds, result))
        measured.update(_flatten(ds, result) | _differences(ds, result))
    if conv_diffs:
        measured["check/dhg_conv_max_abs_diff"] = max(conv_diffs)
    for ds in (ds for ds in preset.production if ds in loaded) if everything else ():
        ctx.status(f"{ds}: production setting")
        result = run_production(loaded[ds], preset.teacher, production_students(preset), preset.split, ctx.seed,
                                ctx.device, status=ctx.status)  # fmt: skip
        ctx.log(setting="prod", dataset=ds, **_flatten(f"prod/{ds}", result))
        measured.update(_flatten(f"prod/{ds}", result) | _production_differences(ds, result))
    gaps = [measured.get(f"{ds}/light_hgnnp_minus_light_hgnn") for ds in HYPERGRAPHS]
    missing = [ds for ds, g in zip(HYPERGRAPHS, gaps) if not isinstance(g, float)]
    measured["light_hgnnp_minus_light_hgnn_avg"] = (
        NotRun(f"needs all of {', '.join(HYPERGRAPHS)}; missing {', '.join(missing)}")
        if missing
        else float(np.mean(gaps))
    )
    if ctx.seed == ctx.seeds[0]:
        measured.update(_speed(ctx, preset))
    return measured


def _speed(ctx: RunContext, preset: Preset) -> dict[str, Any]:
    cfg = preset.speed
    rows = []
    for n in cfg.num_v:
        ctx.status(f"speed: {n} vertices")
        rows += speed_curve([n], d=cfg.d, n_classes=cfg.n_classes, edge_size_range=cfg.edge_size_range,
                            repeats=cfg.repeats, cold_repeats=cfg.cold_repeats, device=ctx.device, seed=ctx.seed)  # fmt: skip
    for row in rows:
        ctx.log(setting="speed", **row)
    speed_plot(
        rows,
        ctx.run.plots / "speed",
        title=f"forward pass, {ctx.device}, {'1 thread' if ctx.device.type == 'cpu' else ''}",
    )
    out: dict[str, Any] = {"speed/rows": rows}
    by_n = {r["num_v"]: r for r in rows}
    for key in ("hgnn_warm_ratio", "hgnn_cold_ratio", "mlp_ms", "hgnn_warm_ms", "hgnn_cold_ms"):
        if 55_000 in by_n:
            out[f"speed/{key}_55k"] = by_n[55_000][key]
    if 55_000 in by_n and 5_000 in by_n:
        out["speed/hgnn_warm_ratio_growth"] = by_n[55_000]["hgnn_warm_ratio"] - by_n[5_000]["hgnn_warm_ratio"]
    return out


def report(per_seed: Sequence[Mapping[str, Any]], measured: Mapping[str, Any], run: RunDir) -> None:
    """Print test accuracy (mean +- std over seeds) and topology scores per dataset; save the bar plot."""
    datasets = sorted({k.split("/")[0] for k in measured if k.endswith("/teacher/accuracy") and not k.startswith("prod")},
                      key=lambda d: (d not in HYPERGRAPHS, d))  # fmt: skip
    if not datasets:
        return
    print(f"test accuracy % (mean +- std over {len(per_seed)} seed(s)); topology score in brackets")
    print(f"{'dataset':<12} | " + " | ".join(f"{m:>22}" for m in MODELS))
    bars: dict[str, list[float]] = {m: [] for m in MODELS[1:4]}  # minus the teacher
    for ds in datasets:
        cells = []
        for m in MODELS:
            vals = [row[f"{ds}/{m}/accuracy"] for row in per_seed if f"{ds}/{m}/accuracy" in row]
            topo = [row[f"{ds}/{m}/topology"] for row in per_seed if f"{ds}/{m}/topology" in row]
            if not vals:
                cells.append(f"{'-':>22}")
                continue
            sd = np.std(vals, ddof=1) if len(vals) > 1 else 0.0  # the sample sd, as the claims table
            cells.append(f"{np.mean(vals):5.1f} +- {sd:3.1f} [{np.mean(topo):4.2f}]".rjust(22))
            if m in bars:
                teacher = [row[f"{ds}/teacher/accuracy"] for row in per_seed if f"{ds}/{m}/accuracy" in row]
                bars[m].append(float(np.mean(vals) - np.mean(teacher)))
        print(f"{ds:<12} | " + " | ".join(cells))
    prod = sorted(
        {k.split("/")[1] for k in measured if k.startswith("prod/") and k.endswith("/teacher/prod_accuracy")}
    )
    for ds in prod:
        parts = []
        for m in ("teacher", "mlp", "light_hgnn", "light_hgnnp"):
            vals = {s: np.mean([row[f"prod/{ds}/{m}/{s}_accuracy"] for row in per_seed if f"prod/{ds}/{m}/{s}_accuracy" in row])
                    for s in ("trans", "ind", "prod")}  # fmt: skip
            parts.append(f"{m} " + "/".join(f"{v:.1f}" for v in vals.values()))
        print(f"production {ds} (trans/ind/prod acc %): " + "; ".join(parts))
    if all(len(v) == len(datasets) for v in bars.values()):
        bar_plot(
            run.plots / "accuracy",
            datasets,
            bars,
            ylabel="test accuracy - HGNN teacher (points)",
            title=f"transductive, mean over {len(per_seed)} seed(s)",
        )
