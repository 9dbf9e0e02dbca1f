"""`pkg-layernorm`: info, reproduce, invariance, batchsize, rnn, train, evaluate, bench."""

from __future__ import annotations

import argparse
import json

import torch
import torch.nn.functional as F

from pkg_shared.cli import App, Paper, positive
from pkg_shared.data import data_root
from pkg_shared.device import resolve_device
from pkg_shared.errors import UserError
from pkg_shared.io import RunDir, load_checkpoint, save_checkpoint
from pkg_shared.seed import seed_everything
from pkg_shared.train import fit

from . import __version__, experiment
from .cells import CELLS, RecurrentClassifier
from .claims import CLAIMS
from .config import BatchSizeConfig, RNNConfig
from .data import DATASETS, adding_problem, as_sequences, load_split
from .invariance import NORMALISERS, TRANSFORMATIONS, invariance_table, matches_paper
from .layers import MLP, NORMS

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
    reproduce=experiment.reproduce,
    datasets=DATASETS,
    default_seeds={"smoke": 1, "small": 3, "full": 3},
    report=experiment.report,
)
main = app.main


# ------------------------------------------------------------------------------------------ invariance
def _invariance_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--tol", type=float, default=1e-5, help="relative deviation below which a cell is 'yes'")


@app.command(
    "invariance",
    "measure Table 1: which transformations BN, WN and LN are invariant to",
    _invariance_args,
    run_options=False,
)
def invariance(args: argparse.Namespace) -> int:
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
    p.add_argument("--dataset", choices=DATASETS, default="digits")
    p.add_argument("--batch-sizes", type=positive, nargs="+", default=[128, 4])
    p.add_argument("--norms", choices=NORMS, nargs="+", default=list(NORMS))
    p.add_argument("--seeds", type=positive, default=3)
    p.add_argument("--epochs", type=positive, default=15)
    p.add_argument("--hidden", type=positive, nargs="+", default=[100, 100])


@app.command(
    "batchsize", "Fig. 6: test accuracy / NLL of none, BN and LN at several batch sizes", _batchsize_args
)
def batchsize(args: argparse.Namespace) -> int:
    device = resolve_device(args.device)
    cfg = BatchSizeConfig(
        hidden=tuple(args.hidden),
        batch_sizes=tuple(args.batch_sizes),
        norms=tuple(args.norms),
        epochs=args.epochs,
    )
    split = load_split(args.dataset, data_root(args.data_dir))
    run = RunDir.create(args.out, "layernorm", args.seed)
    run.write_config({"command": "batchsize", **vars(args)})
    seeds = [args.seed + i for i in range(args.seeds)]
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
    p.add_argument("--cell", choices=CELLS, nargs="+", default=["lstm", "ln-lstm"])
    p.add_argument("--task", choices=("seq-digits", "adding"), default="seq-digits")
    p.add_argument("--epochs", type=positive, default=10)
    p.add_argument("--hidden", type=positive, default=64)
    p.add_argument("--length", type=positive, default=50, help="sequence length T of the adding task")


@app.command(
    "rnn", "recurrent cells with and without LN on sequential digits or the adding problem", _rnn_args
)
def rnn(args: argparse.Namespace) -> int:
    device = resolve_device(args.device)
    seed_everything(args.seed)
    if args.task == "seq-digits":
        cfg = RNNConfig(cells=tuple(args.cell), hidden=args.hidden, epochs=args.epochs)
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
        result = fit(
            model,
            torch.optim.Adam(model.parameters(), lr=1e-3),
            loader,
            epochs=args.epochs,
            step=lambda m, b: F.mse_loss(m(b[0]).squeeze(-1), b[1]),
            device=device,
            quiet=args.quiet,
            evaluate=lambda m: {
                "test_mse": F.mse_loss(m(x_test.to(device)).squeeze(-1), y_test.to(device)).item()
            },
        )
        print(f"{cell:>8}: test MSE per epoch " + " ".join(f"{r['test_mse']:.4f}" for r in result.history))
    return 0


# ------------------------------------------------------------------------------------- train / evaluate
def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", choices=("mlp", "rnn"), default="mlp")
    p.add_argument("--norm", choices=NORMS, default="ln", help="MLP normalisation")
    p.add_argument("--cell", choices=CELLS, default="ln-lstm", help="recurrent cell")
    p.add_argument("--dataset", choices=DATASETS, default="digits")
    p.add_argument("--hidden", type=positive, nargs="+", default=[100, 100])
    p.add_argument("--epochs", type=positive, default=15)
    p.add_argument("--batch-size", type=positive, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--save", required=True, help="checkpoint folder (resumed when it holds a training state)")


def build_model(config: dict) -> torch.nn.Module:
    """Rebuild a model from the ``config.json`` of a checkpoint written by ``train``."""
    if config.get("model") == "mlp":
        return MLP(config["sizes"], norm=config["norm"])
    if config.get("model") == "rnn":
        return RecurrentClassifier(
            config["cell"], config["input_size"], config["hidden"][0], config["classes"]
        )
    raise UserError(f"checkpoint config names an unknown model {config.get('model')!r}")


def _split_for(config: dict, data_dir: str | None):
    split = load_split(config["dataset"], data_root(data_dir))
    return as_sequences(split) if config["model"] == "rnn" else split


@app.command(
    "train", "train an MLP (none/bn/ln) or a recurrent classifier and save a checkpoint", _train_args
)
def train(args: argparse.Namespace) -> int:
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
    res = experiment.train_and_track(
        model,
        split,
        batch_size=args.batch_size,
        epochs=args.epochs,
        lr=args.lr,
        device=device,
        quiet=args.quiet,
    )
    save_checkpoint(args.save, model.state_dict(), config)
    print(f"test accuracy {res['accuracy']:.2f}%, NLL {res['nll']:.4f}; checkpoint: {args.save}")
    return 0


def _evaluate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="a folder written by `pkg-layernorm train --save`")


@app.command("evaluate", "test accuracy and NLL of a saved checkpoint", _evaluate_args)
def evaluate(args: argparse.Namespace) -> int:
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
    p.add_argument("--min-run-time", type=float, default=0.3, help="seconds of timing per measurement")


@app.command("bench", "our LayerNorm vs torch.nn.LayerNorm, forward + backward", _bench_args)
def bench_cmd(args: argparse.Namespace) -> int:
    from .bench import bench  # torch.utils.benchmark is slow to import: only for this command

    device = resolve_device(args.device)
    rows = bench(device=device, min_run_time=args.min_run_time)
    print(f"device {device}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    print(
        f"{'shape':>16} | {'ours fused (us)':>15} | {'ours explicit (us)':>18} | {'nn.LayerNorm (us)':>17} | fused/torch"
    )
    for r in rows:
        print(
            f"{str(tuple(r['shape'])):>16} | {r['fused_us']:15.1f} | {r['explicit_us']:18.1f} | "
            f"{r['torch_us']:17.1f} | {r['fused_over_torch']:.2f}"
        )
    run = RunDir.create(args.out, "layernorm", args.seed)
    run.write_results({"command": "bench", "device": str(device), "rows": rows})
    return 0


__all__ = ["app", "main"]
