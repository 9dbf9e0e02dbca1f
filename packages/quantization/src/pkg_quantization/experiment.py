"""The small-scale reproduction (spec "Small-scale reproduction"), one seed per call.

1. FP32 LeNet (5 epochs, Adam 1e-3); 2. the PTQ grid W8A8/W4A8/W4A4/W2A8 x per-tensor/per-channel x
min-max/percentile/MSE/KL, first and last layers in FP32; 3. W2A4 per-channel PTQ vs QAT (2 epochs) vs
FP32 fine-tuned 2 epochs; 4. Hessian mixed precision over all four layers (A8, per-channel PTQ) vs
uniform, random and reverse-sensitivity allocations; 5. our all-layer W8A8 vs torch.ao eager static PTQ
(matching observers, logits quantised as torch.ao does): top-1 disagreement and the int8 CPU speed-up;
6. exactness checks (fake-quant vs torch bit for bit, the integer-only Linear vs fake-quant in LSBs).

Claims whose threshold belongs to one dataset (``Claim.dataset``) read ``<metric>@<dataset>``: this run's
value where the run is on that dataset, else not run (see :func:`per_dataset`).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch

from pkg_shared.claims import NotRun
from pkg_shared.cli import RunContext
from pkg_shared.data import DatasetMissing
from pkg_shared.errors import UserError
from pkg_shared.plots import bar_plot

from .bench import interleaved_ms
from .claims import CLAIMS
from .config import ExperimentConfig, preset
from .data import Split, load_split
from .integer import IntegerLinear, energy_ratios, fake_linear_output
from .layers import QuantConfig, weight_layers
from .mixed import allocate_bits, average_bits, omega, random_assignment, sensitivity
from .models import build_model
from .quantizer import QuantSpec, compute_qparams, fake_quantize, minmax_range
from .reference import ao_static_ptq, ptq_like_torch_ao, top1_disagreement, torch_ao_available
from .training import evaluate, ptq, qat, train

DATA_METRICS = (
    "w8a8_max_abs_drop",
    "w2a8_perchannel_minus_pertensor",
    "a4_best_clip_minus_minmax",
    "a4_kl_minus_minmax",
    "qat_minus_ptq_w2a4",
    "qat_minus_fp32_finetuned",
    "mixed_minus_uniform",
    "mixed_minus_reverse",
    "torch_ao_top1_disagreement",
)


def per_dataset(measured: dict[str, Any], dataset: str | None) -> dict[str, Any]:
    """The ``<metric>@<dataset>`` values of the claims with a per-dataset threshold: the measured
    ``<metric>`` where this run is on the claim's dataset, else :class:`NotRun` saying where it is judged."""
    out: dict[str, Any] = {}
    for c in CLAIMS:
        if c.dataset is None:
            continue
        base = c.metric.partition("@")[0]
        value = measured.get(base)
        if c.dataset != dataset and not isinstance(value, NotRun):
            value = NotRun(
                f"its threshold is set for {c.dataset}; this run is on {dataset} "
                f"(run --dataset {c.dataset} to judge it)"
            )
        out[c.metric] = value
    return out


def exactness_checks(seed: int) -> dict[str, Any]:
    """Fake-quant vs ``torch.fake_quantize_per_*_affine`` (bit for bit) and the integer Linear (LSBs)."""
    g = torch.Generator().manual_seed(seed)
    x, w = torch.randn(4096, generator=g) * 3, torch.randn(16, 64, generator=g)
    bit_exact = True
    for spec in (QuantSpec(8, signed=False, symmetric=False), QuantSpec(4, restricted=True)):
        s, z = compute_qparams(*minmax_range(x, spec), spec)
        ref = torch.fake_quantize_per_tensor_affine(x, float(s), int(z), *spec.qrange)
        bit_exact &= bool(torch.equal(fake_quantize(x, s, z, spec), ref))
        pc = QuantSpec(spec.bits, spec.signed, spec.symmetric, spec.restricted, "per-channel")
        s, z = compute_qparams(*minmax_range(w, pc), pc)
        ref = torch.fake_quantize_per_channel_affine(w, s, z.int(), 0, *pc.qrange)
        bit_exact &= bool(torch.equal(fake_quantize(w, s, z, pc), ref))
    xin = torch.rand(256, 64, generator=g)
    bias = torch.randn(16, generator=g) * 0.1
    a_spec, w_spec = QuantSpec(8, signed=False, symmetric=False), QuantSpec(8, granularity="per-channel")
    s_x, z_x = compute_qparams(*minmax_range(xin, a_spec), a_spec)
    y_fp = xin @ w.T + bias
    s_y, z_y = compute_qparams(*minmax_range(y_fp, a_spec), a_spec)
    args = (w, bias, w_spec, s_x, z_x, a_spec, s_y, z_y, a_spec)
    lsb = (IntegerLinear.build(*args)(xin) - fake_linear_output(xin, *args)).abs().max()
    return {"fakequant_bit_exact": bit_exact, "integer_linear_max_lsb": int(lsb)}


def ptq_grid(model: torch.nn.Module, split: Split, cfg: ExperimentConfig) -> dict[str, float]:
    """Accuracy of every (bits, granularity, calibrator) PTQ model, first/last layers in FP32."""
    x_calib, cache, out = split.x_train[: cfg.calib_size], {}, {}
    for w, a in cfg.grid_bits:
        for gran in cfg.granularities:
            for calib in cfg.calibrators:
                qc = QuantConfig(wbits=w, abits=a, granularity=gran, calib=calib, percentile=cfg.percentile)
                out[f"ptq_w{w}a{a}_{gran}_{calib}"] = evaluate(
                    ptq(model, x_calib, qc, cache=cache), split.x_test, split.y_test
                )
    return out


def _mean(values: list[float]) -> float:
    return float(np.mean(values))


def grid_claims(acc: dict[str, float], cfg: ExperimentConfig, fp32: float) -> dict[str, float]:
    """Claims 1-3 from the grid: W8A8 drop; W2A8 granularity gap; A4 calibrator gaps."""
    g, cal = cfg.granularities, cfg.calibrators
    a4 = next(f"w{w}a{a}" for w, a in cfg.grid_bits if a == 4)
    clip = [c for c in ("mse", "percentile") if c in cal]

    def mean_over_g(bits: str, calib: str) -> float:
        return _mean([acc[f"ptq_{bits}_{gr}_{calib}"] for gr in g])

    out = {
        "w8a8_max_abs_drop": max(abs(acc[f"ptq_w8a8_{gr}_{c}"] - fp32) for gr in g for c in cal),
        "w2a8_perchannel_minus_pertensor": _mean(
            [acc[f"ptq_w2a8_per-channel_{c}"] - acc[f"ptq_w2a8_per-tensor_{c}"] for c in cal]
        ),
        "a4_best_clip_minus_minmax": max(mean_over_g(a4, c) for c in clip) - mean_over_g(a4, "minmax"),
    }
    out["a4_kl_minus_minmax"] = (
        mean_over_g(a4, "kl") - mean_over_g(a4, "minmax") if "kl" in cal else NotRun("kl not in this grid")
    )
    return out


def qat_rows(
    model: torch.nn.Module, split: Split, cfg: ExperimentConfig, seed: int, ctx: RunContext
) -> dict[str, float]:
    """Claim 4: W2A4 per-channel PTQ vs QAT vs the FP32 model fine-tuned for the same epochs."""
    w, a = cfg.qat_bits
    qc = QuantConfig(wbits=w, abits=a, granularity="per-channel")
    tag = f"w{w}a{a}"
    acc = {
        f"ptq_{tag}": evaluate(ptq(model, split.x_train[: cfg.calib_size], qc), split.x_test, split.y_test)
    }
    q = qat(
        model,
        split.x_train,
        split.y_train,
        qc,
        epochs=cfg.qat_epochs,
        lr=cfg.qat_lr,
        bn_freeze_epoch=cfg.bn_freeze_epoch,
        calib_size=cfg.calib_size,
        seed=seed,
        device=ctx.device,
        quiet=ctx.quiet,
    )
    acc[f"qat_{tag}"] = evaluate(q, split.x_test, split.y_test)
    ft = train(
        copy.deepcopy(model),
        split.x_train,
        split.y_train,
        epochs=cfg.qat_epochs,
        lr=cfg.qat_lr,
        seed=seed,
        device=ctx.device,
        quiet=ctx.quiet,
        desc="fp32-finetune",
    )
    acc["fp32_finetuned"] = evaluate(ft, split.x_test, split.y_test)
    acc["qat_minus_ptq_w2a4"] = acc[f"qat_{tag}"] - acc[f"ptq_{tag}"]
    acc["qat_minus_fp32_finetuned"] = acc[f"qat_{tag}"] - acc["fp32_finetuned"]
    return acc


def mixed_rows(model: torch.nn.Module, split: Split, cfg: ExperimentConfig, seed: int) -> dict[str, Any]:
    """Claim 5: Hessian-trace DP allocation vs uniform, random and reverse (all layers, A8, per-channel)."""
    layers = weight_layers(model)
    x_c, y_c = split.x_train[: cfg.calib_size], split.y_train[: cfg.calib_size]
    device = next(model.parameters()).device
    traces, sizes, pert = sensitivity(
        model, layers, x_c.to(device), y_c.to(device), cfg.mixed_bits, cfg.probes, seed
    )
    uniform = max(b for b in cfg.mixed_bits if b <= cfg.avg_bits)  # the uniform precision that fits
    plans = {
        "hessian": allocate_bits(omega(traces, sizes, pert), sizes, cfg.mixed_bits, cfg.avg_bits),
        "uniform": [uniform] * len(layers),
        "random": random_assignment(sizes, cfg.mixed_bits, cfg.avg_bits, seed),
        "reverse": allocate_bits(
            omega(traces, sizes, pert, reverse=True), sizes, cfg.mixed_bits, cfg.avg_bits
        ),
    }
    out: dict[str, Any] = {"hessian_traces": dict(zip(layers, traces, strict=True))}
    for name, plan in plans.items():
        qc = QuantConfig(
            wbits=8,
            abits=8,
            granularity="per-channel",
            keep_first_last=False,
            layer_bits=dict(zip(layers, plan, strict=True)),
        )
        out[f"mixed_{name}"] = evaluate(ptq(model, x_c, qc), split.x_test, split.y_test)
        out[f"mixed_{name}_bits"] = plan
        out[f"mixed_{name}_avg_bits"] = average_bits(plan, sizes)
    out["mixed_minus_uniform"] = out["mixed_hessian"] - out["mixed_uniform"]
    out["mixed_minus_reverse"] = out["mixed_hessian"] - out["mixed_reverse"]
    return out


def torch_ao_rows(model: torch.nn.Module, split: Split, cfg: ExperimentConfig) -> dict[str, Any]:
    """Check 6: our all-layer W8A8 (logits quantised as torch.ao does) vs torch.ao eager static PTQ:
    top-1 disagreement on the test images, both accuracies, and the int8 speed-up over FP32 (ratio per
    round of interleaved timing, one process; see :mod:`.bench`)."""
    ok, why = torch_ao_available()
    if not ok:
        return {"torch_ao_top1_disagreement": NotRun(why)}
    if not (cfg.torch_ao and isinstance(model, torch.nn.Sequential)):
        reason = f"the torch.ao comparison covers the Sequential LeNet, not {type(model).__name__}"
        return {"torch_ao_top1_disagreement": NotRun(reason)}
    cpu_model = copy.deepcopy(model).cpu().eval()
    x_calib = split.x_train[: cfg.calib_size]
    ours, int8 = ptq_like_torch_ao(cpu_model, x_calib), ao_static_ptq(cpu_model, x_calib)
    acc_ours, acc_theirs = (
        evaluate(ours, split.x_test, split.y_test),
        evaluate(int8, split.x_test, split.y_test),
    )
    times = interleaved_ms({"fp32": cpu_model, "int8": int8}, split.x_test[: cfg.bench_batch], repeats=10)
    ratios = [f / q for f, q in zip(times["fp32"], times["int8"], strict=True)]
    return {
        "torch_ao_engine": torch.backends.quantized.engine,
        "ours_w8a8_all_layers": acc_ours,
        "torch_ao_w8a8": acc_theirs,
        "ours_minus_torch_ao_w8a8": acc_ours - acc_theirs,
        "torch_ao_top1_disagreement": top1_disagreement(ours, int8, split.x_test),
        "fp32_latency_ms": float(np.median(times["fp32"])),
        "torch_ao_int8_latency_ms": float(np.median(times["int8"])),
        "torch_ao_int8_speedup": float(np.median(ratios)),
    }


def model_for(cfg: ExperimentConfig, split: Split) -> torch.nn.Module:
    model = cfg.model if split.x_train.shape[1] == 1 else "resnet20"
    return build_model(model, int(split.y_train.max()) + 1, split.x_train.shape[1])


def reproduce(ctx: RunContext) -> dict[str, Any]:
    """One seed of the protocol; returns every measured number (claims' metrics included)."""
    cfg = preset(ctx.scale, ctx.dataset)
    measured: dict[str, Any] = {**exactness_checks(ctx.seed), **energy_ratios()}
    try:
        split = load_split(ctx.dataset, ctx.data_dir).head(cfg.max_train, cfg.max_test)
    except DatasetMissing as e:
        missing = {**measured, **dict.fromkeys(DATA_METRICS, NotRun(str(e)))}
        return {**missing, **per_dataset(missing, ctx.dataset)}
    if cfg.model == "resnet20" and split.x_train.shape[1] != 3:
        raise UserError("--scale full is the ResNet-20 grid: use --dataset cifar10-subset")
    ctx.status(f"FP32 {cfg.model}: {cfg.epochs} epochs on {len(split.x_train)} images")
    model = train(
        model_for(cfg, split),
        split.x_train,
        split.y_train,
        epochs=cfg.epochs,
        lr=cfg.lr,
        batch_size=cfg.batch_size,
        seed=ctx.seed,
        device=ctx.device,
        quiet=ctx.quiet,
        log=ctx.log,
        desc="fp32",
    )
    fp32 = evaluate(model, split.x_test, split.y_test)
    measured["fp32"] = fp32
    ctx.status(
        f"FP32 {fp32:.2f}%; PTQ grid ({len(cfg.grid_bits) * len(cfg.granularities) * len(cfg.calibrators)} recipes)"
    )
    grid = ptq_grid(model, split, cfg)
    measured.update(grid)
    measured.update(grid_claims(grid, cfg, fp32))
    ctx.status(f"QAT W{cfg.qat_bits[0]}A{cfg.qat_bits[1]} and FP32 fine-tuning, {cfg.qat_epochs} epochs each")
    measured.update(qat_rows(model, split, cfg, ctx.seed, ctx))
    ctx.status(f"mixed precision: Hutchinson traces ({cfg.probes} probes) and 4 allocations")
    measured.update(mixed_rows(model, split, cfg, ctx.seed))
    ctx.status("torch.ao eager static PTQ side by side")
    measured.update(torch_ao_rows(model, split, cfg))
    measured.update(per_dataset(measured, ctx.dataset))
    ctx.log(**{k: v for k, v in measured.items() if isinstance(v, float)})
    return measured


def report(per_seed: list[dict[str, Any]], measured: dict[str, Any], run: Any) -> None:
    """A grouped bar plot of the PTQ grid (mean over seeds): one group per bit pair, one bar per recipe."""
    keys = [
        k for k, v in measured.items() if k.startswith("ptq_w") and k.count("_") == 3 and isinstance(v, float)
    ]
    if not keys:
        return
    groups = list(dict.fromkeys(k.split("_")[1] for k in keys))
    recipes = list(dict.fromkeys("_".join(k.split("_")[2:]) for k in keys))
    series = {r: [measured.get(f"ptq_{g}_{r}", 0.0) for g in groups] for r in recipes}
    bar_plot(
        run.plots / "ptq_grid", groups, series, ylabel="test accuracy (%)", title="PTQ (first/last FP32)"
    )
