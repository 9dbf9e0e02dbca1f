"""The small-scale reproduction (spec "Small-scale reproduction"): invariance, batch size, RNN.

1. ``invariance``: Table 1 measured on random data (float64), and Section 5.2's gradient scaling.
2. ``batchsize``: an MLP with no / batch / layer normalisation trained at batch 128 and batch 4 (Fig. 6):
   BN degrades at batch 4, LN does not.
3. ``rnn``: LSTM vs LN-LSTM on digits read row by row: LN converges no slower (the RNN figures).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from pkg_shared.claims import NotRun
from pkg_shared.cli import RunContext
from pkg_shared.data import DatasetMissing
from pkg_shared.plots import line_plot
from pkg_shared.seed import seed_everything
from pkg_shared.train import fit

from .cells import RecurrentClassifier
from .config import PRESETS, BatchSizeConfig, RNNConfig
from .data import Split, as_sequences, load_split
from .invariance import TRANSFORMATIONS, gradient_scaling, invariance_table, matches_paper
from .layers import MLP

GRADIENT_SCALE = 3.0
BATCHSIZE_METRICS = (
    "ln_minus_bn_accuracy_b4",
    "ln_minus_bn_nll_b4",
    "ln_accuracy_b4_minus_b128",
    "bn_accuracy_b4_minus_b128",
)


def subset(split: Split, max_train: int | None) -> Split:
    """The first ``max_train`` training examples (all when None); the test split is kept whole."""
    if max_train is None:
        return split
    return split._replace(x_train=split.x_train[:max_train], y_train=split.y_train[:max_train])


def train_and_track(
    model: nn.Module,
    split: Split,
    *,
    batch_size: int,
    epochs: int,
    lr: float,
    device: torch.device,
    quiet: bool = True,
    log: Callable[..., None] | None = None,
    desc: str = "train",
    checkpoint_dir: str | Path | None = None,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Adam on the training split; test accuracy (%) and NLL after every epoch.

    With ``checkpoint_dir`` the training state is saved after every epoch and a later call with the same
    folder resumes from it; ``settings`` (everything that changes the weights) is recorded there and a
    resume under other settings is refused naming the keys (exit 2 from the command line).

    A last mini-batch of a single case is dropped (batch normalisation cannot train on it; spec Pitfalls).
    Evaluation is in ``eval()`` mode, so BN uses its running statistics, as the paper's baseline does.
    """
    n = len(split.x_train)
    loader = DataLoader(
        TensorDataset(split.x_train, split.y_train),
        batch_size=batch_size,
        shuffle=True,
        drop_last=n % batch_size == 1,
    )
    x_test, y_test = split.x_test.to(device), split.y_test.to(device)

    def evaluate(m: nn.Module) -> dict[str, float]:
        logits = m(x_test)
        return {
            "test_accuracy": 100.0 * (logits.argmax(-1) == y_test).float().mean().item(),
            "test_nll": F.cross_entropy(logits, y_test).item(),
        }

    result = fit(
        model,
        torch.optim.Adam(model.parameters(), lr=lr),
        loader,
        epochs=epochs,
        loss_fn=F.cross_entropy,
        evaluate=evaluate,
        device=device,
        log=log,
        quiet=quiet,
        desc=desc,
        checkpoint_dir=checkpoint_dir,
        settings=settings,
    )
    history = result.history
    return {
        "accuracy": history[-1]["test_accuracy"],
        "nll": history[-1]["test_nll"],
        "curve": [row["test_accuracy"] for row in history],
        "nll_curve": [row["test_nll"] for row in history],
        "resumed_from": result.resumed_from,
    }


def batchsize_experiment(
    split: Split,
    cfg: BatchSizeConfig,
    *,
    seed: int,
    device: torch.device,
    quiet: bool = True,
    log: Callable[..., None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Every (norm, batch size) of ``cfg``: ``{"ln_b4": {"accuracy", "nll", "curve", ...}, ...}``."""
    sizes = (split.x_train.shape[1], *cfg.hidden, int(split.y_train.max()) + 1)
    out = {}
    for batch_size in cfg.batch_sizes:
        for norm in cfg.norms:
            seed_everything(seed)  # the same initial weights for every batch size
            key = f"{norm}_b{batch_size}"
            tagged = partial(log, run=key) if log else None
            out[key] = train_and_track(
                MLP(sizes, norm=norm),
                split,
                batch_size=batch_size,
                epochs=cfg.epochs,
                lr=cfg.lr,
                device=device,
                quiet=quiet,
                log=tagged,
                desc=key,
            )
    return out


def epochs_to(curve: Sequence[float], target_percent: float) -> int:
    """First epoch (1-based) whose accuracy reaches ``target_percent``; ``len(curve) + 1`` if none does."""
    return next((i + 1 for i, acc in enumerate(curve) if acc >= target_percent), len(curve) + 1)


def rnn_experiment(
    split: Split,
    cfg: RNNConfig,
    *,
    seed: int,
    device: torch.device,
    quiet: bool = True,
    log: Callable[..., None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Every cell of ``cfg`` on sequences ``(N, T, D)``: accuracy curve and epochs to the target accuracy."""
    out = {}
    for cell in cfg.cells:
        seed_everything(seed)
        model = RecurrentClassifier(cell, split.x_train.shape[2], cfg.hidden, int(split.y_train.max()) + 1)
        tagged = partial(log, run=cell) if log else None
        res = train_and_track(
            model,
            split,
            batch_size=cfg.batch_size,
            epochs=cfg.epochs,
            lr=cfg.lr,
            device=device,
            quiet=quiet,
            log=tagged,
            desc=cell,
        )
        res["epochs_to_target"] = epochs_to(res["curve"], 100 * cfg.target_accuracy)
        out[cell] = res
    return out


def reproduce(ctx: RunContext) -> dict[str, Any]:
    """All three experiments for one seed; returns the values the claims judge, plus the curves."""
    preset = PRESETS[ctx.scale]
    bs_cfg = preset.batchsize
    try:  # read the data first: a damaged file stops the run before any training
        split = subset(load_split(ctx.dataset, ctx.data_dir, seed=0), bs_cfg.max_train)
    except DatasetMissing as e:
        split, missing = None, NotRun(str(e))
    ctx.status("invariance table and gradient scaling")
    table = invariance_table(seed=ctx.seed)
    grads = gradient_scaling(GRADIENT_SCALE, seed=ctx.seed)
    measured: dict[str, Any] = {
        "invariance_matches_paper": matches_paper(table),
        "invariance_table": {t: {n: c["invariant"] for n, c in table[t].items()} for t in TRANSFORMATIONS},
        "gradient_ratio_times_d": grads["gradient_ratio"] * GRADIENT_SCALE,
        "output_deviation_scaled_w": grads["output_deviation"],
    }

    small, large = min(bs_cfg.batch_sizes), max(bs_cfg.batch_sizes)
    if split is None:
        measured.update({k: missing for k in BATCHSIZE_METRICS})
    else:
        ctx.status(
            f"batch size: {'/'.join(bs_cfg.norms)} at batch {' and '.join(map(str, bs_cfg.batch_sizes))}"
        )
        runs = batchsize_experiment(
            split, bs_cfg, seed=ctx.seed, device=ctx.device, quiet=ctx.quiet, log=ctx.log
        )
        for key, res in runs.items():
            measured[f"accuracy_{key}"], measured[f"nll_{key}"] = res["accuracy"], res["nll"]
        measured["ln_minus_bn_accuracy_b4"] = (
            runs[f"ln_b{small}"]["accuracy"] - runs[f"bn_b{small}"]["accuracy"]
        )
        measured["ln_minus_bn_nll_b4"] = runs[f"ln_b{small}"]["nll"] - runs[f"bn_b{small}"]["nll"]
        measured["ln_accuracy_b4_minus_b128"] = (
            runs[f"ln_b{small}"]["accuracy"] - runs[f"ln_b{large}"]["accuracy"]
        )
        measured["bn_accuracy_b4_minus_b128"] = (
            runs[f"bn_b{small}"]["accuracy"] - runs[f"bn_b{large}"]["accuracy"]
        )
        measured["batchsize_curves"] = {key: res["curve"] for key, res in runs.items()}

    rnn_cfg = preset.rnn
    ctx.status(f"recurrent: {' vs '.join(rnn_cfg.cells)} on digits read row by row")
    seq = as_sequences(subset(load_split("digits", seed=0), rnn_cfg.max_train))
    rnns = rnn_experiment(seq, rnn_cfg, seed=ctx.seed, device=ctx.device, quiet=ctx.quiet, log=ctx.log)
    for cell, res in rnns.items():
        measured[f"accuracy_{cell}"], measured[f"epochs_to_90_{cell}"] = (
            res["accuracy"],
            res["epochs_to_target"],
        )
    measured["lnlstm_minus_lstm_epochs_to_90"] = (
        rnns["ln-lstm"]["epochs_to_target"] - rnns["lstm"]["epochs_to_target"]
    )
    measured["lnlstm_minus_lstm_accuracy"] = rnns["ln-lstm"]["accuracy"] - rnns["lstm"]["accuracy"]
    measured["rnn_curves"] = {cell: res["curve"] for cell, res in rnns.items()}
    return measured


def _mean_curves(per_seed: Sequence[dict[str, Any]], key: str) -> dict[str, list[float]]:
    runs = [row[key] for row in per_seed if key in row]
    if not runs:
        return {}
    return {
        name: [sum(c[i] for c in (r[name] for r in runs)) / len(runs) for i in range(len(runs[0][name]))]
        for name in runs[0]
    }


def report(per_seed: Sequence[dict[str, Any]], measured: dict[str, Any], run: Any) -> None:
    """Plots (mean over seeds): test accuracy per epoch for every norm and batch size, and for the RNNs."""
    for key, name, title in (
        ("batchsize_curves", "batchsize", "MLP: no norm / BN / LN at batch 128 and 4 (Fig. 6)"),
        ("rnn_curves", "rnn", "LSTM vs LN-LSTM, digits row by row"),
    ):
        curves = _mean_curves(per_seed, key)
        if curves:
            epochs = list(range(1, len(next(iter(curves.values()))) + 1))
            line_plot(
                run.plots / name, epochs, curves, xlabel="epoch", ylabel="test accuracy (%)", title=title
            )
