"""`pkg-quantization`: info, reproduce, train, evaluate, ptq, qat, mixed, torchao, brevitas, bench.

Nothing heavy is imported at module level (``--help`` and ``info`` answer without torch): each command
imports what it uses, and ``reproduce`` is named as ``"pkg_quantization.experiment:reproduce"``.
Commands that compute run torch and BLAS on one CPU thread (``pinned_threads(1)``): the models are small,
threads contend on a shared machine, and ``bench`` reports single-thread latencies.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from pkg_shared.cli import App, Paper, bounded, nonnegative
from pkg_shared.errors import UserError
from pkg_shared.package import version_of

from .claims import CLAIMS
from .options import (
    CALIBRATORS,
    DATA_FILES,
    DATASETS,
    ENGINES,
    GRANULARITIES,
    MODELS,
    ROUNDINGS,
    WEIGHT_SCHEMES,
)

if TYPE_CHECKING:
    import torch

    from .data import Split
    from .layers import QuantConfig

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
        "torch.ao.quantization side by side: observers, fake-quant, eager static PTQ/QAT (top-1 disagreement), int8 latency",
        "optional brevitas side by side: W4A4 PTQ/QAT of the same LeNet (pkg-quantization brevitas)",
    ],
    datasets=["digits (scikit-learn, offline)", "fashion-mnist-subset", "mnist-t10k", "cifar10-subset"],
)

app = App(
    slug="quantization",
    version=version_of("pkg-quantization"),
    paper=PAPER,
    claims=CLAIMS,
    reproduce="pkg_quantization.experiment:reproduce",
    report="pkg_quantization.experiment:report",
    datasets=DATASETS,
    default_seeds={"smoke": 1, "small": 3, "full": 1},
    examples=[
        "reproduce --dataset fashion-mnist-subset --data-dir /data",
        "train --dataset digits --save ckpt/lenet",
        "ptq --checkpoint ckpt/lenet --wbits 4 --abits 4 --calib mse",
        "bench --checkpoint ckpt/lenet --batch 256",
    ],
    data_files={name: [f"{name}/{file}"] for name, (file, _) in DATA_FILES.items()},
)
main = app.main

BITS = bounded(int, 1, 8)
EPOCHS = bounded(int, 1, 1000)
LR = bounded(float, 1e-8, 10.0)
CALIB_SIZE = bounded(int, 1, 100_000)


def _pinned():
    from pkg_shared.device import pinned_threads

    return pinned_threads(1)


# ------------------------------------------------------------------------------------- train / evaluate
def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", choices=DATASETS, default="digits", help="data to train on")
    p.add_argument("--model", choices=MODELS, default="lenet", help="resnet20 for cifar10-subset")
    p.add_argument("--epochs", type=EPOCHS, default=5, help="training epochs")
    p.add_argument("--lr", type=LR, default=1e-3, help="Adam learning rate")
    p.add_argument("--batch-size", type=bounded(int, 1, 65536), default=128, help="mini-batch size")
    p.add_argument(
        "--save",
        required=True,
        help="checkpoint folder (model.safetensors + model.json; the training state resumes from it "
        "under the same settings)",
    )


def _checkpoint_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="a folder written by `pkg-quantization train --save`")


def _load(args: argparse.Namespace) -> tuple[torch.nn.Module, Split, dict]:
    from pkg_shared.data import data_root
    from pkg_shared.device import resolve_device
    from pkg_shared.io import load_checkpoint

    from .data import load_split
    from .models import build_model

    device = resolve_device(args.device)
    _, config = load_checkpoint(args.checkpoint)
    if config.get("model") not in MODELS:
        raise UserError(f"checkpoint config names an unknown model {config.get('model')!r}")
    if config.get("dataset") not in DATASETS:
        raise UserError(f"checkpoint config names an unknown dataset {config.get('dataset')!r}")
    model = build_model(config["model"], config["classes"], config["in_channels"])
    tensors, _ = load_checkpoint(args.checkpoint, expected=model)
    model.load_state_dict(tensors)
    split = load_split(config["dataset"], data_root(args.data_dir))
    return model.to(device).eval(), split, config


@app.command("train", "train the FP32 LeNet / LeNet-BN / ResNet-20 and save a checkpoint", _train_args)
def train_cmd(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pkg_shared.data import data_root
    from pkg_shared.device import resolve_device
    from pkg_shared.io import prepare_output, save_checkpoint
    from pkg_shared.seed import seed_everything

    from .data import load_split
    from .models import build_model
    from .training import evaluate, train

    save = prepare_output(args.save, kind="dir", what="--save")
    device = resolve_device(args.device)
    with _pinned():
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
        settings = {**config, "epochs": args.epochs, "lr": args.lr, "batch_size": args.batch_size}
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
            checkpoint_dir=Path(save) / "state",
            settings=settings,
        )
        save_checkpoint(save, model.state_dict(), config)
        print(f"test accuracy {evaluate(model, split.x_test, split.y_test):.2f}%; checkpoint: {save}")
    return 0


@app.command("evaluate", "FP32 test accuracy of a checkpoint", _checkpoint_args)
def evaluate_cmd(args: argparse.Namespace) -> int:
    from .training import evaluate

    with _pinned():
        model, split, config = _load(args)
        acc = evaluate(model, split.x_test, split.y_test)
    print(json.dumps({"dataset": config["dataset"], "test_accuracy": acc}))
    return 0


# --------------------------------------------------------------------------------------------- ptq / qat
def _quant_args(p: argparse.ArgumentParser) -> None:
    _checkpoint_args(p)
    p.add_argument("--wbits", type=BITS, default=8, help="weight bits, 1-8 (1: binary weights)")
    p.add_argument("--abits", type=BITS, default=8, help="activation bits, 1-8")
    p.add_argument("--granularity", choices=GRANULARITIES, default="per-channel", help="of the weights")
    p.add_argument(
        "--group-size", type=bounded(int, 1, 4096), default=4, help="channels per group (per-group)"
    )
    p.add_argument("--calib", choices=CALIBRATORS, default="minmax", help="activation range calibrator")
    p.add_argument(
        "--percentile", type=bounded(float, 0.0, 100.0), default=99.99, help="percentile calibrator's p"
    )
    p.add_argument("--dynamic", action="store_true", help="dynamic (per-batch) activation ranges")
    p.add_argument("--rounding", choices=ROUNDINGS, default="nearest", help="nearest (torch) or stochastic")
    p.add_argument(
        "--full-range", action="store_true", help="symmetric full range (torch qint8), not restricted"
    )
    p.add_argument(
        "--quantize-first-last", action="store_true", help="also quantise the first and last layers"
    )
    p.add_argument("--calib-size", type=CALIB_SIZE, default=256, help="calibration images (the first N)")


def _quant_config(args: argparse.Namespace, **extra: Any) -> QuantConfig:
    from .calibration import check_percentile
    from .layers import QuantConfig

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
    p.add_argument("--bias-correction", action="store_true", help="Nagel et al.'s bias correction")


@app.command("ptq", "post-training quantisation of a checkpoint: calibrate, evaluate", _ptq_args)
def ptq_cmd(args: argparse.Namespace) -> int:
    from .training import evaluate, ptq

    cfg = _quant_config(args)
    with _pinned():
        model, split, _ = _load(args)
        q = ptq(model, split.x_train[: args.calib_size], cfg, bias_correction=args.bias_correction)
        fp32, acc = evaluate(model, split.x_test, split.y_test), evaluate(q, split.x_test, split.y_test)
    print(json.dumps({"fp32": fp32, f"w{args.wbits}a{args.abits}": acc, "config": cfg.__dict__}))
    return 0


def _qat_args(p: argparse.ArgumentParser) -> None:
    _quant_args(p)
    p.add_argument("--weights", choices=WEIGHT_SCHEMES, default="uniform", help="uniform, binary or ternary")
    p.add_argument("--lsq", action="store_true", help="learned step sizes (LSQ) instead of min-max ranges")
    p.add_argument("--epochs", type=EPOCHS, default=2, help="QAT epochs")
    p.add_argument("--lr", type=LR, default=2e-4, help="Adam learning rate")
    p.add_argument(
        "--bn-freeze-epoch",
        type=nonnegative,
        default=1,
        help="freeze BN statistics after this many epochs (spec: 1-2)",
    )
    p.add_argument("--save", default=None, help="folder for the fine-tuned weights (LeNet models)")


@app.command("qat", "quantisation-aware training (clipped STE or LSQ) from a checkpoint", _qat_args)
def qat_cmd(args: argparse.Namespace) -> int:
    from pkg_shared.device import resolve_device
    from pkg_shared.io import prepare_output, save_checkpoint
    from pkg_shared.seed import seed_everything

    from .models import build_model
    from .training import evaluate, ptq, qat

    if args.save:
        prepare_output(args.save, kind="dir", what="--save")
    cfg = _quant_config(args, weight_scheme=args.weights, lsq=args.lsq)
    with _pinned():
        model, split, config = _load(args)
        if args.save and config["model"] == "resnet20":
            raise UserError("qat --save supports the LeNet models only")
        seed_everything(args.seed)
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
        qat_acc = evaluate(q, split.x_test, split.y_test)
    print(json.dumps({"ptq": ptq_acc, "qat": qat_acc, "weights": args.weights}))
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
    p.add_argument(
        "--avg-bits",
        type=bounded(float, 2.0, 8.0),
        default=4.0,
        help="parameter-weighted average weight bits (2-8)",
    )
    p.add_argument(
        "--bits",
        type=bounded(int, 2, 8),
        nargs="+",
        default=[2, 4, 8],
        help="bit-widths to choose from (2-8)",
    )
    p.add_argument("--probes", type=bounded(int, 1, 10_000), default=100, help="Hutchinson probes")
    p.add_argument("--calib-size", type=CALIB_SIZE, default=256, help="images for the Hessian traces")


@app.command("mixed", "Hessian-aware mixed precision: traces, DP allocation, PTQ accuracy", _mixed_args)
def mixed_cmd(args: argparse.Namespace) -> int:
    from .layers import QuantConfig, fold_model_bn, weight_layers
    from .mixed import allocate_bits, average_bits, omega, sensitivity
    from .training import evaluate, ptq

    bits = sorted(set(args.bits))
    if args.avg_bits < min(bits):
        raise UserError(f"--avg-bits {args.avg_bits} is below the smallest of --bits ({min(bits)})")
    with _pinned():
        model, split, _ = _load(args)
        model = fold_model_bn(model)
        layers = weight_layers(model)
        device = next(model.parameters()).device
        x, y = split.x_train[: args.calib_size].to(device), split.y_train[: args.calib_size].to(device)
        traces, sizes, pert = sensitivity(model, layers, x, y, bits, args.probes, args.seed)
        plan = allocate_bits(omega(traces, sizes, pert), sizes, bits, args.avg_bits)
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


# ------------------------------------------------------------------------------ torchao / brevitas / bench
def _torchao_args(p: argparse.ArgumentParser) -> None:
    _checkpoint_args(p)
    p.add_argument("--mode", choices=("ptq", "qat"), default="ptq", help="static PTQ or QAT on both sides")
    p.add_argument("--epochs", type=EPOCHS, default=2, help="QAT epochs")
    p.add_argument("--calib-size", type=CALIB_SIZE, default=256, help="calibration images (the first N)")


@app.command(
    "torchao",
    "reference: torch.ao eager W8A8 static PTQ or QAT next to ours (matching observers)",
    _torchao_args,
)
def torchao_cmd(args: argparse.Namespace) -> int:
    import torch

    from pkg_shared.seed import seed_everything

    from .reference import TORCH_AO_MATCH, ao_qat, ao_static_ptq, ptq_like_torch_ao, top1_disagreement
    from .training import evaluate, qat

    with _pinned():
        model, split, _ = _load(args)
        model = model.cpu()
        xc = split.x_train[: args.calib_size]
        if args.mode == "ptq":
            ours, theirs = ptq_like_torch_ao(model, xc), ao_static_ptq(model, xc)
        else:
            seed_everything(args.seed)
            ours = qat(
                model,
                split.x_train,
                split.y_train,
                TORCH_AO_MATCH,
                epochs=args.epochs,
                seed=args.seed,
                quiet=args.quiet,
            )
            theirs = ao_qat(model, split.x_train, split.y_train, epochs=args.epochs, seed=args.seed)
        row = {
            "mode": args.mode,
            "ours_w8a8": evaluate(ours, split.x_test, split.y_test),
            "torch_ao_w8a8": evaluate(theirs, split.x_test, split.y_test),
            "top1_disagreement_pct": top1_disagreement(ours, theirs, split.x_test),
            "engine": torch.backends.quantized.engine,
        }
    print(json.dumps(row))
    return 0


def _brevitas_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", choices=DATASETS, default="digits", help="data to run on")
    p.add_argument("--seeds", type=bounded(int, 1, 100), default=3, help="number of seeds, from --seed on")
    p.add_argument("--wbits", type=bounded(int, 2, 8), default=4, help="weight bits (2-8)")
    p.add_argument("--abits", type=bounded(int, 2, 8), default=4, help="activation bits (2-8)")
    p.add_argument("--fp32-epochs", type=EPOCHS, default=5, help="FP32 training epochs")
    p.add_argument("--epochs", type=EPOCHS, default=2, help="QAT epochs")


@app.command(
    "brevitas",
    "reference: W4A4 PTQ/QAT of LeNet, ours vs brevitas (optional: pip install brevitas; exit 2 without)",
    _brevitas_args,
)
def brevitas_cmd(args: argparse.Namespace) -> int:
    from pkg_shared.data import data_root

    from .brevitas_ref import brevitas_available, compare_brevitas
    from .data import load_split

    ok, why = brevitas_available()
    if not ok:
        raise UserError(why)
    with _pinned():
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
    p.add_argument("--batch", type=bounded(int, 1, 65536), default=256, help="test images per forward pass")
    p.add_argument(
        "--repeats", type=bounded(int, 1, 10_000), default=20, help="timed rounds (models in turn)"
    )
    p.add_argument("--warmup", type=bounded(int, 0, 1000), default=3, help="untimed passes per model first")
    p.add_argument(
        "--engine",
        choices=ENGINES,
        default=None,
        help="torch's quantised engine (unset: the first supported)",
    )


@app.command(
    "bench",
    "CPU latency on one thread: FP32, our fake-quant W8A8, torch.ao int8; ratios per interleaved round",
    _bench_args,
)
def bench_cmd(args: argparse.Namespace) -> int:
    from .bench import bench

    with _pinned():
        model, split, _ = _load(args)
        rows = bench(
            model, split.x_test[: args.batch], split.x_train[:256], args.repeats, args.warmup, args.engine
        )
    print(json.dumps(rows))
    return 0


__all__ = ["app", "main"]
