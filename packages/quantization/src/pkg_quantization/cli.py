"""`pkg-quantization`: info, reproduce, train, evaluate, ptq, qat, mixed, torchao, bench."""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from pkg_shared.cli import App, Paper, positive
from pkg_shared.data import data_root
from pkg_shared.device import resolve_device, torch_threads
from pkg_shared.errors import UserError
from pkg_shared.io import load_checkpoint, save_checkpoint
from pkg_shared.seed import seed_everything

from . import __version__, experiment
from .calibration import CALIBRATORS, check_percentile
from .claims import CLAIMS
from .data import DATASETS, Split, load_split
from .layers import WEIGHT_SCHEMES, QuantConfig, fold_model_bn, weight_layers
from .mixed import allocate_bits, average_bits, layer_traces, perturbations
from .models import MODELS, build_model
from .quantizer import GRANULARITIES, ROUNDINGS, QuantSpec
from .training import evaluate, ptq, qat, train

PAPER = Paper(
    title="A Survey of Quantization Methods for Efficient Neural Network Inference",
    authors="Amir Gholami, Sehoon Kim, Zhen Dong, Zhewei Yao, Michael W. Mahoney, Kurt Keutzer",
    venue="Low-Power Computer Vision (CRC, 2022)",
    arxiv="2103.13630",
    bibtex="""@incollection{gholami2022survey,
  title     = {A Survey of Quantization Methods for Efficient Neural Network Inference},
  author    = {Gholami, Amir and Kim, Sehoon and Dong, Zhen and Yao, Zhewei and Mahoney, Michael W. and Keutzer, Kurt},
  booktitle = {Low-Power Computer Vision},
  publisher = {Chapman and Hall/CRC},
  year      = {2022},
  note      = {arXiv:2103.13630}
}""",
    implemented=[
        "uniform affine quantizer in torch's convention: (a)symmetric, full/restricted range, nearest/"
        "stochastic rounding, per tensor/channel/group; clipped STE; LSQ (Eqs. 2-4, Sec. III)",
        "calibrators: min-max, moving-average, percentile, MSE-clip, KL (TensorRT); static/dynamic ranges",
        "ActQuant, QuantLinear, QuantConv2d, fold_bn; PTQ with optional bias correction; QAT (STE/LSQ)",
        "binary (BWN) and ternary (TWN) weights with STE",
        "Hessian-trace (Hutchinson) mixed precision with an exact DP; uniform/random/reverse baselines",
        "integer-only Linear with int32 accumulation and dyadic requantisation; Horowitz energy table",
        "torch.ao.quantization side by side: observers, fake-quant, eager static PTQ/QAT, int8 latency",
    ],
    datasets=["digits (scikit-learn, offline)", "fashion-mnist-subset", "mnist-t10k", "cifar10-subset"],
)

app = App(
    slug="quantization",
    version=__version__,
    paper=PAPER,
    claims=CLAIMS,
    reproduce=experiment.reproduce,
    datasets=DATASETS,
    default_seeds={"smoke": 1, "small": 3, "full": 1},
    report=experiment.report,
)


def main(argv: list[str] | None = None) -> int:
    """The ``pkg-quantization`` entry point: torch on one CPU thread (the models are small; threads
    contend on a shared machine and the latencies of ``bench`` are single-thread figures)."""
    with torch_threads(1):
        return app.main(argv)


def bits(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 8:
        raise argparse.ArgumentTypeError(f"bit-width must be in 1..8, got {value}")
    return value


# ------------------------------------------------------------------------------------- train / evaluate
def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", choices=DATASETS, default="digits")
    p.add_argument("--model", choices=MODELS, default="lenet", help="resnet20 for cifar10-subset")
    p.add_argument("--epochs", type=positive, default=5)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch-size", type=positive, default=128)
    p.add_argument("--save", required=True, help="checkpoint folder (model.safetensors + model.json)")


def _checkpoint_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="a folder written by `pkg-quantization train --save`")


def _load(args: argparse.Namespace) -> tuple[torch.nn.Module, Split, dict]:
    _, config = load_checkpoint(args.checkpoint)
    if config.get("model") not in MODELS:
        raise UserError(f"checkpoint config names an unknown model {config.get('model')!r}")
    model = build_model(config["model"], config["classes"], config["in_channels"])
    tensors, _ = load_checkpoint(args.checkpoint, expected=model)
    model.load_state_dict(tensors)
    split = load_split(config["dataset"], data_root(args.data_dir))
    return model.to(resolve_device(args.device)).eval(), split, config


@app.command("train", "train the FP32 LeNet / LeNet-BN / ResNet-20 and save a checkpoint", _train_args)
def train_cmd(args: argparse.Namespace) -> int:
    device = resolve_device(args.device)
    seed_everything(args.seed)
    split = load_split(args.dataset, data_root(args.data_dir))
    config = {
        "model": args.model,
        "dataset": args.dataset,
        "classes": int(split.y_train.max()) + 1,
        "in_channels": split.x_train.shape[1],
        "seed": args.seed,
    }
    if (args.model == "resnet20") != (config["in_channels"] == 3):
        raise UserError("resnet20 is for cifar10-subset; lenet and lenet-bn for the 28x28 datasets")
    model = build_model(args.model, config["classes"], config["in_channels"])
    train(
        model,
        split.x_train,
        split.y_train,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        seed=args.seed,
        device=device,
        quiet=args.quiet,
    )
    save_checkpoint(args.save, model.state_dict(), config)
    print(f"test accuracy {evaluate(model, split.x_test, split.y_test):.2f}%; checkpoint: {args.save}")
    return 0


@app.command("evaluate", "FP32 test accuracy of a checkpoint", _checkpoint_args)
def evaluate_cmd(args: argparse.Namespace) -> int:
    model, split, config = _load(args)
    print(
        json.dumps(
            {"dataset": config["dataset"], "test_accuracy": evaluate(model, split.x_test, split.y_test)}
        )
    )
    return 0


# --------------------------------------------------------------------------------------------- ptq / qat
def _quant_args(p: argparse.ArgumentParser) -> None:
    _checkpoint_args(p)
    p.add_argument("--wbits", type=bits, default=8)
    p.add_argument("--abits", type=bits, default=8)
    p.add_argument("--granularity", choices=GRANULARITIES, default="per-channel", help="of the weights")
    p.add_argument("--group-size", type=positive, default=4, help="channels per group (per-group)")
    p.add_argument("--calib", choices=CALIBRATORS, default="minmax", help="activation range calibrator")
    p.add_argument("--percentile", type=float, default=99.99)
    p.add_argument("--dynamic", action="store_true", help="dynamic (per-batch) activation ranges")
    p.add_argument("--rounding", choices=ROUNDINGS, default="nearest")
    p.add_argument(
        "--full-range", action="store_true", help="symmetric full range (torch qint8), not restricted"
    )
    p.add_argument(
        "--quantize-first-last", action="store_true", help="also quantise the first and last layers"
    )
    p.add_argument("--calib-size", type=positive, default=256)


def _quant_config(args: argparse.Namespace, **extra) -> QuantConfig:
    check_percentile(args.percentile)
    return QuantConfig(
        wbits=args.wbits,
        abits=args.abits,
        granularity=args.granularity,
        group_size=args.group_size,
        restricted=not args.full_range,
        calib=args.calib,
        percentile=args.percentile,
        dynamic=args.dynamic,
        rounding=args.rounding,
        keep_first_last=not args.quantize_first_last,
        **extra,
    )


def _ptq_args(p: argparse.ArgumentParser) -> None:
    _quant_args(p)
    p.add_argument("--bias-correction", action="store_true")


@app.command("ptq", "post-training quantisation of a checkpoint: calibrate, evaluate", _ptq_args)
def ptq_cmd(args: argparse.Namespace) -> int:
    model, split, _ = _load(args)
    cfg = _quant_config(args)
    q = ptq(model, split.x_train[: args.calib_size], cfg, bias_correction=args.bias_correction)
    fp32, acc = evaluate(model, split.x_test, split.y_test), evaluate(q, split.x_test, split.y_test)
    print(json.dumps({"fp32": fp32, f"w{args.wbits}a{args.abits}": acc, "config": cfg.__dict__}))
    return 0


def _qat_args(p: argparse.ArgumentParser) -> None:
    _quant_args(p)
    p.add_argument("--weights", choices=WEIGHT_SCHEMES, default="uniform", help="uniform, binary or ternary")
    p.add_argument("--lsq", action="store_true", help="learned step sizes (LSQ) instead of min-max ranges")
    p.add_argument("--epochs", type=positive, default=2)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument(
        "--bn-freeze-epoch",
        type=int,
        default=1,
        help="freeze BN statistics after this many epochs (spec: 1-2)",
    )
    p.add_argument("--save", default=None, help="folder for the fine-tuned weights")


@app.command("qat", "quantisation-aware training (clipped STE or LSQ) from a checkpoint", _qat_args)
def qat_cmd(args: argparse.Namespace) -> int:
    model, split, config = _load(args)
    seed_everything(args.seed)
    cfg = _quant_config(args, weight_scheme=args.weights, lsq=args.lsq)
    q = qat(
        model,
        split.x_train,
        split.y_train,
        cfg,
        epochs=args.epochs,
        lr=args.lr,
        bn_freeze_epoch=args.bn_freeze_epoch,
        calib_size=args.calib_size,
        seed=args.seed,
        device=resolve_device(args.device),
        quiet=args.quiet,
    )
    ptq_acc = evaluate(ptq(model, split.x_train[: args.calib_size], cfg), split.x_test, split.y_test)
    print(
        json.dumps({"ptq": ptq_acc, "qat": evaluate(q, split.x_test, split.y_test), "weights": args.weights})
    )
    if args.save:  # the fine-tuned float weights, BN folded: a plain LeNet that `ptq` re-calibrates
        plain = build_model("lenet", config["classes"], config["in_channels"]).state_dict()
        weights = {k: v for k, v in q.state_dict().items() if k in plain}
        if set(weights) != set(plain):
            raise UserError("qat --save supports the LeNet models only")
        save_checkpoint(args.save, weights, {**config, "model": "lenet", "qat": str(cfg)})
    return 0


# ----------------------------------------------------------------------------------------------- mixed
def _mixed_args(p: argparse.ArgumentParser) -> None:
    _checkpoint_args(p)
    p.add_argument("--avg-bits", type=float, default=4.0, help="parameter-weighted average weight bits")
    p.add_argument("--bits", type=bits, nargs="+", default=[2, 4, 8], help="bit-widths to choose from")
    p.add_argument("--probes", type=positive, default=100, help="Hutchinson probes")
    p.add_argument("--calib-size", type=positive, default=256)


@app.command("mixed", "Hessian-aware mixed precision: traces, DP allocation, PTQ accuracy", _mixed_args)
def mixed_cmd(args: argparse.Namespace) -> int:
    model, split, _ = _load(args)
    model = fold_model_bn(model)
    layers = weight_layers(model)
    device = next(model.parameters()).device
    x, y = split.x_train[: args.calib_size].to(device), split.y_train[: args.calib_size].to(device)
    traces = layer_traces(model, layers, x, y, args.probes, args.seed)
    sizes = [model.get_submodule(n).weight.numel() for n in layers]
    pert = perturbations(model, layers, args.bits, QuantSpec(granularity="per-channel", restricted=True))
    plan = allocate_bits(
        (np.asarray(traces) / np.asarray(sizes))[:, None] * pert, sizes, args.bits, args.avg_bits
    )
    cfg = QuantConfig(
        granularity="per-channel", keep_first_last=False, layer_bits=dict(zip(layers, plan, strict=True))
    )
    acc = evaluate(ptq(model, x.cpu(), cfg), split.x_test, split.y_test)
    print(
        json.dumps(
            {
                "layers": dict(zip(layers, plan, strict=True)),
                "traces": dict(zip(layers, traces, strict=True)),
                "avg_bits": average_bits(plan, sizes),
                "accuracy_a8": acc,
            }
        )
    )
    return 0


# ------------------------------------------------------------------------------------ torchao / bench
def _torchao_args(p: argparse.ArgumentParser) -> None:
    _checkpoint_args(p)
    p.add_argument("--mode", choices=("ptq", "qat"), default="ptq")
    p.add_argument("--epochs", type=positive, default=2, help="QAT epochs")
    p.add_argument("--calib-size", type=positive, default=256)


@app.command(
    "torchao", "torch.ao eager W8A8 static PTQ or QAT next to ours (matching observers)", _torchao_args
)
def torchao_cmd(args: argparse.Namespace) -> int:
    from .reference import ao_qat, ao_static_ptq

    model, split, _ = _load(args)
    model = model.cpu()
    xc = split.x_train[: args.calib_size]
    cfg = QuantConfig(granularity="per-channel", restricted=False, keep_first_last=False)
    if args.mode == "ptq":
        ours, theirs = ptq(model, xc, cfg), ao_static_ptq(model, xc)
    else:
        seed_everything(args.seed)
        ours = qat(
            model, split.x_train, split.y_train, cfg, epochs=args.epochs, seed=args.seed, quiet=args.quiet
        )
        theirs = ao_qat(model, split.x_train, split.y_train, epochs=args.epochs, seed=args.seed)
    print(
        json.dumps(
            {
                "mode": args.mode,
                "ours_w8a8": evaluate(ours, split.x_test, split.y_test),
                "torch_ao_w8a8": evaluate(theirs, split.x_test, split.y_test),
                "engine": torch.backends.quantized.engine,
            }
        )
    )
    return 0


def _brevitas_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", choices=DATASETS, default="digits")
    p.add_argument("--seeds", type=positive, default=3)
    p.add_argument("--wbits", type=bits, default=4)
    p.add_argument("--abits", type=bits, default=4)
    p.add_argument("--fp32-epochs", type=positive, default=5)
    p.add_argument("--epochs", type=positive, default=2, help="QAT epochs")


@app.command(
    "brevitas", "W4A4 PTQ/QAT of LeNet: ours vs brevitas (optional; pip install brevitas)", _brevitas_args
)
def brevitas_cmd(args: argparse.Namespace) -> int:
    from .brevitas_ref import brevitas_available, compare_brevitas

    ok, why = brevitas_available()
    if not ok:
        raise UserError(why)
    split = load_split(args.dataset, data_root(args.data_dir))
    res = compare_brevitas(
        split,
        [args.seed + i for i in range(args.seeds)],
        wbits=args.wbits,
        abits=args.abits,
        fp32_epochs=args.fp32_epochs,
        qat_epochs=args.epochs,
    )
    print(json.dumps({"dataset": args.dataset, **res}))
    return 0


def _bench_args(p: argparse.ArgumentParser) -> None:
    _checkpoint_args(p)
    p.add_argument("--batch", type=positive, default=256)
    p.add_argument("--repeats", type=positive, default=10)


@app.command("bench", "CPU latency at batch 256: FP32, our fake-quant W8A8, torch.ao int8", _bench_args)
def bench_cmd(args: argparse.Namespace) -> int:
    from .bench import bench

    model, split, _ = _load(args)
    rows = bench(model, split.x_test[: args.batch], split.x_train[:256], args.repeats)
    print(json.dumps(rows))
    return 0


__all__ = ["app", "main"]
