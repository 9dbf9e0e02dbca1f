"""`pkg-layernorm`: info, reproduce, invariance, batchsize, rnn, train, evaluate, bench.

Only light modules are imported here, so that ``--help``, ``info`` and usage errors answer without torch;
each command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Iterator
from typing import Any

from pkg_shared.cli import App, Paper, bounded
from pkg_shared.errors import UserError

from . import __version__
from .claims import CLAIMS
from .config import CELLS, DATASETS, IMAGE_DATASETS, NORMS

PAPER = Paper(
    title="Layer Normalization",
    authors="Jimmy Lei Ba, Jamie Ryan Kiros, Geoffrey E. Hinton",
    venue="NIPS 2016 Deep Learning Symposium",
    arxiv="1607.06450",
    bibtex="""@article{ba2016layer,
  title   = {Layer Normalization},
  author  = {Ba, Jimmy Lei and Kiros, Jamie Ryan and Hinton, Geoffrey E.},
  journal = {arXiv preprint arXiv:1607.06450},
  year    = {2016}
}""",
    implemented=[
        "layer_norm / LayerNorm: eqs. (3)-(4), biased variance, eps inside the sqrt, gain 1 and bias 0 at init",
        "LNLinear (Linear without bias + LN), BatchNormLinear and WeightNormLinear for Table 1",
        "LNRNNCell, LNLSTMCell (supplementary: LN on W_h h, on W_x x and on c_t), LNGRUCell",
        "MLP with none/bn/ln (Sec. 6.6) and RecurrentClassifier over lstm/ln-lstm/gru/ln-gru/rnn/ln-rnn",
        "Table 1 measured (18 cells) and Sec. 5.2's gradient scaling under W -> dW",
        "the batch-size experiment (Fig. 6 at small scale) and LSTM vs LN-LSTM on sequential digits",
    ],
    datasets=["digits (scikit-learn, offline)", "mnist-t10k", "fashion-mnist-subset (data root)"],
)

app = App(
    slug="layernorm",
    version=__version__,
    paper=PAPER,
    claims=CLAIMS,
    reproduce="pkg_layernorm.experiment:reproduce",
    report="pkg_layernorm.experiment:report",
    datasets=DATASETS,
    examples=[
        "reproduce --scale smoke --seeds 1",
        "reproduce --dataset mnist-t10k --data-dir DATA",
        "invariance",
        "train --model mlp --norm ln --save ckpt/ && pkg-layernorm evaluate --checkpoint ckpt/",
    ],
    data_files={name: [f"{name}/{file}"] for name, (file, _) in IMAGE_DATASETS.items()},
)
main = app.main


@contextlib.contextmanager
def _pinned(device: Any) -> Iterator[None]:
    """One torch/BLAS thread on the CPU (small models gain nothing from more on a shared machine)."""
    from pkg_shared.device import pinned_threads

    with pinned_threads(1 if device.type == "cpu" else None):
        yield


# ------------------------------------------------------------------------------------------ invariance
def _invariance_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dtype", choices=("float64", "float32"), default="float64", help="precision of the check"
    )
    p.add_argument(
        "--tol",
        type=bounded(float, 0.0, 1.0),
        default=1e-5,
        help="relative deviation below which a cell is 'yes'",
    )


@app.command(
    "invariance",
    "measure Table 1: which transformations BN, WN and LN are invariant to",
    _invariance_args,
    run_options=False,
)
def invariance(args: argparse.Namespace) -> int:
    import torch

    from .invariance import NORMALISERS, TRANSFORMATIONS, invariance_table, matches_paper

    table = invariance_table(dtype=getattr(torch, args.dtype), tol=args.tol)
    width = max(map(len, TRANSFORMATIONS))
    print(f"{'transformation':<{width}} | " + " | ".join(f"{n + ' norm':<12}" for n in NORMALISERS))
    for t in TRANSFORMATIONS:
        cells = [
            f"{'yes' if table[t][n]['invariant'] else 'no':<3} {table[t][n]['deviation']:8.1e}"
            for n in NORMALISERS
        ]
        print(f"{t:<{width}} | " + " | ".join(cells))
    ok = matches_paper(table)
    print("matches the paper's Table 1" if ok else "DOES NOT match the paper's Table 1")
    return 0 if ok else 1


# ------------------------------------------------------------------------------------------- batchsize
def _batchsize_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", choices=DATASETS, default="digits", help="data to train and test on")
    p.add_argument(
        "--batch-sizes", type=bounded(int, 2, 65536), nargs="+", default=[128, 4], help="mini-batch sizes"
    )
    p.add_argument("--norms", choices=NORMS, nargs="+", default=list(NORMS), help="normalisations to compare")
    p.add_argument("--seeds", type=bounded(int, 1, 100), default=3, help="number of seeds, from --seed on")
    p.add_argument("--epochs", type=bounded(int, 1, 10_000), default=15, help="training epochs")
    p.add_argument(
        "--hidden", type=bounded(int, 1, 65536), nargs="+", default=[100, 100], help="hidden layer widths"
    )


@app.command(
    "batchsize", "Fig. 6: test accuracy / NLL of none, BN and LN at several batch sizes", _batchsize_args
)
def batchsize(args: argparse.Namespace) -> int:
    from pkg_shared.data import data_root
    from pkg_shared.device import resolve_device
    from pkg_shared.io import RunDir

    from . import experiment
    from .config import BatchSizeConfig
    from .data import load_split

    run = RunDir.create(args.out, "layernorm", args.seed)  # before any work: a bad --out fails at once
    device = resolve_device(args.device)
    cfg = BatchSizeConfig(
        hidden=tuple(args.hidden),
        batch_sizes=tuple(args.batch_sizes),
        norms=tuple(args.norms),
        epochs=args.epochs,
    )
    split = load_split(args.dataset, data_root(args.data_dir))
    run.write_config({"command": "batchsize", **vars(args)})
    seeds = [args.seed + i for i in range(args.seeds)]
    with _pinned(device):
        results = [
            experiment.batchsize_experiment(split, cfg, seed=s, device=device, quiet=args.quiet, log=run.log)
            for s in seeds
        ]
    print(
        f"{'batch':>6} | "
        + " | ".join(f"{n:>15}" for n in cfg.norms)
        + "   (test accuracy % / NLL, mean of seeds)"
    )
    summary = {}
    for b in cfg.batch_sizes:
        cells = []
        for n in cfg.norms:
            acc = sum(r[f"{n}_b{b}"]["accuracy"] for r in results) / len(results)
            nll = sum(r[f"{n}_b{b}"]["nll"] for r in results) / len(results)
            summary[f"{n}_b{b}"] = {"accuracy": acc, "nll": nll}
            cells.append(f"{acc:6.2f} / {nll:6.3f}")
        print(f"{b:>6} | " + " | ".join(cells))
    run.write_results({"command": "batchsize", "seeds": seeds, "mean": summary, "per_seed": results})
    print(f"run folder: {run.path}")
    return 0


# ------------------------------------------------------------------------------------------------- rnn
def _rnn_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cell", choices=CELLS, nargs="+", default=["lstm", "ln-lstm"], help="recurrent cells")
    p.add_argument("--task", choices=("seq-digits", "adding"), default="seq-digits", help="the task")
    p.add_argument("--epochs", type=bounded(int, 1, 10_000), default=10, help="training epochs")
    p.add_argument("--hidden", type=bounded(int, 1, 65536), default=64, help="hidden units H")
    p.add_argument(
        "--length", type=bounded(int, 2, 100_000), default=50, help="sequence length T of the adding task"
    )


@app.command(
    "rnn", "recurrent cells with and without LN on sequential digits or the adding problem", _rnn_args
)
def rnn(args: argparse.Namespace) -> int:
    import torch
    import torch.nn.functional as F

    from pkg_shared.device import resolve_device
    from pkg_shared.seed import seed_everything
    from pkg_shared.train import fit

    from . import experiment
    from .cells import RecurrentClassifier
    from .config import RNNConfig
    from .data import adding_problem, as_sequences, load_split

    device = resolve_device(args.device)
    seed_everything(args.seed)
    if args.task == "seq-digits":
        cfg = RNNConfig(cells=tuple(args.cell), hidden=args.hidden, epochs=args.epochs)
        with _pinned(device):
            res = experiment.rnn_experiment(
                as_sequences(load_split("digits")), cfg, seed=args.seed, device=device, quiet=args.quiet
            )
        for cell, r in res.items():
            curve = " ".join(f"{a:.1f}" for a in r["curve"])
            print(
                f"{cell:>8}: final {r['accuracy']:.2f}%, 90% at epoch {r['epochs_to_target']}; per epoch: {curve}"
            )
        return 0
    x, y = adding_problem(4096, T=args.length, seed=args.seed)
    x_test, y_test = adding_problem(1024, T=args.length, seed=args.seed + 10_000)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=64, shuffle=True)
    print(f"adding problem, T={args.length}: MSE of always predicting 1 is 0.167")
    for cell in args.cell:
        seed_everything(args.seed)
        model = RecurrentClassifier(cell, 2, args.hidden, 1)
        with _pinned(device):
            result = fit(
                model,
                torch.optim.Adam(model.parameters(), lr=1e-3),
                loader,
                epochs=args.epochs,
                step=lambda m, b: F.mse_loss(m(b[0]).squeeze(-1), b[1]),
                device=device,
                quiet=args.quiet,
                desc=cell,
                evaluate=lambda m: {
                    "test_mse": F.mse_loss(m(x_test.to(device)).squeeze(-1), y_test.to(device)).item()
                },
            )
        print(f"{cell:>8}: test MSE per epoch " + " ".join(f"{r['test_mse']:.4f}" for r in result.history))
    return 0


# ------------------------------------------------------------------------------------- train / evaluate
def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", choices=("mlp", "rnn"), default="mlp", help="an MLP or a recurrent classifier")
    p.add_argument("--norm", choices=NORMS, default="ln", help="MLP normalisation")
    p.add_argument("--cell", choices=CELLS, default="ln-lstm", help="recurrent cell (with --model rnn)")
    p.add_argument("--dataset", choices=DATASETS, default="digits", help="data to train and test on")
    p.add_argument(
        "--hidden",
        type=bounded(int, 1, 65536),
        nargs="+",
        default=[100, 100],
        help="hidden layer widths (--model rnn uses the first as H)",
    )
    p.add_argument("--epochs", type=bounded(int, 1, 10_000), default=15, help="training epochs")
    p.add_argument("--batch-size", type=bounded(int, 2, 65536), default=128, help="mini-batch size")
    p.add_argument("--lr", type=bounded(float, 1e-12, 10.0), default=1e-3, help="Adam learning rate")
    p.add_argument(
        "--save",
        required=True,
        help="checkpoint folder; an interrupted run started again with the same folder and the same "
        "settings resumes from its last finished epoch (other settings: exit 2 naming them)",
    )


def build_model(config: dict) -> Any:
    """Rebuild a model from the ``config.json`` of a checkpoint written by ``train``."""
    from .cells import RecurrentClassifier
    from .layers import MLP

    try:
        if config.get("model") == "mlp":
            return MLP(config["sizes"], norm=config["norm"])
        if config.get("model") == "rnn":
            return RecurrentClassifier(
                config["cell"], config["input_size"], config["hidden"][0], config["classes"]
            )
    except (KeyError, TypeError, IndexError) as e:
        raise UserError(f"checkpoint config lacks or garbles the setting {e}") from None
    raise UserError(f"checkpoint config names an unknown model {config.get('model')!r}")


def _split_for(config: dict, data_dir: str | None) -> Any:
    from pkg_shared.data import data_root

    from .data import as_sequences, load_split

    split = load_split(config["dataset"], data_root(data_dir))
    return as_sequences(split) if config["model"] == "rnn" else split


@app.command(
    "train",
    "train an MLP (none/bn/ln) or a recurrent classifier and save a checkpoint (resumable)",
    _train_args,
)
def train(args: argparse.Namespace) -> int:
    from pkg_shared.device import resolve_device
    from pkg_shared.io import prepare_output, save_checkpoint
    from pkg_shared.seed import seed_everything

    from . import experiment

    save = prepare_output(args.save, kind="dir", what="--save folder")  # before any work
    device = resolve_device(args.device)
    seed_everything(args.seed)
    config = {
        "model": args.model,
        "norm": args.norm,
        "cell": args.cell,
        "dataset": args.dataset,
        "hidden": args.hidden,
        "seed": args.seed,
    }
    split = _split_for(config, args.data_dir)
    classes = int(split.y_train.max()) + 1
    config.update(
        sizes=[split.x_train.shape[-1], *args.hidden, classes],
        input_size=split.x_train.shape[-1],
        classes=classes,
    )
    model = build_model(config)
    # Everything that changes the weights; fit adds the epochs and refuses to resume under other values.
    settings = {**config, "batch_size": args.batch_size, "lr": args.lr}
    with _pinned(device):
        res = experiment.train_and_track(
            model,
            split,
            batch_size=args.batch_size,
            epochs=args.epochs,
            lr=args.lr,
            device=device,
            quiet=args.quiet,
            checkpoint_dir=save,
            settings=settings,
        )
    save_checkpoint(save, model.state_dict(), config)
    resumed = f" (resumed after epoch {res['resumed_from']})" if res["resumed_from"] else ""
    print(f"test accuracy {res['accuracy']:.2f}%, NLL {res['nll']:.4f}{resumed}; checkpoint: {save}")
    return 0


def _evaluate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="a folder written by `pkg-layernorm train --save`")


@app.command("evaluate", "test accuracy and NLL of a saved checkpoint", _evaluate_args)
def evaluate(args: argparse.Namespace) -> int:
    import torch
    import torch.nn.functional as F

    from pkg_shared.device import resolve_device
    from pkg_shared.io import load_checkpoint

    device = resolve_device(args.device)
    _, config = load_checkpoint(args.checkpoint)
    model = build_model(config)
    tensors, _ = load_checkpoint(args.checkpoint, expected=model)
    model.load_state_dict(tensors)
    split = _split_for(config, args.data_dir)
    model.to(device).eval()
    with torch.no_grad():
        logits = model(split.x_test.to(device))
        y = split.y_test.to(device)
        acc = 100.0 * (logits.argmax(-1) == y).float().mean().item()
        nll = F.cross_entropy(logits, y).item()
    print(json.dumps({"dataset": config["dataset"], "test_accuracy": acc, "test_nll": nll}))
    return 0


# ----------------------------------------------------------------------------------------------- bench
def _bench_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--min-run-time",
        type=bounded(float, 0.001, 60.0),
        default=0.3,
        help="seconds of timing per measurement",
    )
    p.add_argument("--threads", type=bounded(int, 1, 256), default=1, help="torch and BLAS threads")


@app.command("bench", "our LayerNorm vs torch.nn.LayerNorm, forward + backward", _bench_args)
def bench_cmd(args: argparse.Namespace) -> int:
    import os

    import torch

    from pkg_shared.device import pinned_threads, resolve_device
    from pkg_shared.io import RunDir

    from .bench import bench  # torch.utils.benchmark is slow to import: only for this command

    run = RunDir.create(args.out, "layernorm", args.seed)  # before any work
    device = resolve_device(args.device)
    with pinned_threads(args.threads):
        rows = bench(device=device, min_run_time=args.min_run_time)
    load = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    print(f"device {device}, {args.threads} thread(s), torch {torch.__version__}, load average {load}")
    print(
        f"{'shape':>16} | {'ours fused (us)':>15} | {'ours explicit (us)':>18} | {'nn.LayerNorm (us)':>17} | fused/torch"
    )
    for r in rows:
        print(
            f"{str(tuple(r['shape'])):>16} | {r['fused_us']:15.1f} | {r['explicit_us']:18.1f} | "
            f"{r['torch_us']:17.1f} | {r['fused_over_torch']:.2f}"
        )
    run.write_results(
        {"command": "bench", "device": str(device), "threads": args.threads, "load": load, "rows": rows}
    )
    return 0


__all__ = ["app", "main"]
