"""Multiple-instance learning models (Section 4.1) and their training.

A bag is a set of instances; its label says whether some instance is positive. Every model embeds
the instances (optional ``Linear -> ReLU -> Dropout``), pools the set into one vector and maps it to a
logit:

- :class:`HopfieldMIL`: pooling by :class:`~pkg_hopfield.layers.HopfieldPooling` (the paper's model),
- :class:`PoolingMIL`: mean or max pooling (the baselines that cannot single out one instance),
- :class:`AttentionMIL`: the (gated) attention pooling of Ilse, Tomczak & Welling (ICML 2018),
  ``a = softmax(w^T (tanh(V h) * sigm(U h)))``, ``z = sum_k a_k h_k``.

Padding of variable-size bags is masked in every pooling. A bag whose instances are all padding (an
empty bag) pools to the zero vector in every model (so its logit is the classifier's bias), with
finite gradients; unmasked max or softmax pooling would give NaN there. :func:`cross_validate` is the evaluation
protocol: k-fold CV, nested (hyper-parameters chosen on inner folds of each outer training part) when
given a grid, so the outer test bags never enter the choice (Appendix A.5).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.model_selection import StratifiedKFold
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from pkg_shared.errors import UserError
from pkg_shared.metrics import auc
from pkg_shared.progress import progress
from pkg_shared.train import fit

from .data import Bags
from .layers import HopfieldPooling

MODELS = ("hopfield", "mean", "max", "attention")


def _embed(input_size: int, hidden: int | None, embed_dropout: float) -> tuple[nn.Module, int]:
    if hidden is None:
        return nn.Identity(), input_size
    return nn.Sequential(nn.Linear(input_size, hidden), nn.ReLU(), nn.Dropout(embed_dropout)), hidden


class HopfieldMIL(nn.Module):
    """Instance embedding, :class:`HopfieldPooling` over the bag, linear classifier (one logit).

    ``pooling`` holds :class:`HopfieldPooling`'s keyword arguments (heads, scaling, update steps, ...).
    """

    def __init__(
        self, input_size: int, hidden: int | None = None, embed_dropout: float = 0.0, **pooling: object
    ) -> None:
        super().__init__()
        self.embed, size = _embed(input_size, hidden, embed_dropout)
        self.pool = HopfieldPooling(size, **pooling)
        self.head = nn.Linear(self.pool.output_size, 1)

    def forward(self, x: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.embed(x), stored_pattern_padding_mask=pad)).squeeze(-1)


class PoolingMIL(nn.Module):
    """Instance embedding, masked mean or max over the bag, linear classifier (one logit)."""

    def __init__(
        self, input_size: int, hidden: int | None = None, embed_dropout: float = 0.0, mode: str = "mean"
    ) -> None:
        super().__init__()
        if mode not in ("mean", "max"):
            raise UserError(f"pooling mode must be 'mean' or 'max', not {mode!r}")
        self.mode = mode
        self.embed, size = _embed(input_size, hidden, embed_dropout)
        self.head = nn.Linear(size, 1)

    def forward(self, x: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        keep = (~pad).unsqueeze(-1)
        if self.mode == "mean":
            z = (h * keep).sum(1) / keep.sum(1).clamp_min(1)
        else:
            z = h.masked_fill(~keep, float("-inf")).max(1).values
            z = z.masked_fill(pad.all(1, keepdim=True), 0.0)  # an empty bag pools to zero
        return self.head(z).squeeze(-1)


class AttentionMIL(nn.Module):
    """Attention-based deep MIL (Ilse et al. 2018, eqs. (8)-(9)), gated by default."""

    def __init__(
        self,
        input_size: int,
        hidden: int | None = None,
        embed_dropout: float = 0.0,
        attention: int = 64,
        gated: bool = True,
    ) -> None:
        super().__init__()
        self.embed, size = _embed(input_size, hidden, embed_dropout)
        self.V = nn.Linear(size, attention)
        self.U = nn.Linear(size, attention) if gated else None
        self.w = nn.Linear(attention, 1)
        self.head = nn.Linear(size, 1)

    def forward(self, x: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        gate = torch.tanh(self.V(h)) * (torch.sigmoid(self.U(h)) if self.U is not None else 1.0)
        empty = pad.all(1, keepdim=True)  # an empty bag: all-zero weights, it pools to zero
        logits = self.w(gate).squeeze(-1).masked_fill(pad, float("-inf")).masked_fill(empty, 0.0)
        a = torch.softmax(logits, dim=1).masked_fill(pad, 0.0)
        return self.head((a.unsqueeze(-1) * h).sum(1)).squeeze(-1)


def make_mil_model(
    kind: str, input_size: int, hidden: int | None, embed_dropout: float, **pooling: object
) -> nn.Module:
    """One of :data:`MODELS`; ``pooling`` goes to :class:`HopfieldPooling` (for ``hopfield`` only)."""
    if kind == "hopfield":
        return HopfieldMIL(input_size, hidden, embed_dropout, **pooling)
    if kind in ("mean", "max"):
        return PoolingMIL(input_size, hidden, embed_dropout, mode=kind)
    if kind == "attention":
        return AttentionMIL(input_size, hidden, embed_dropout)
    raise UserError(f"unknown MIL model '{kind}' (one of {', '.join(MODELS)})")


def train_mil(
    model: nn.Module,
    bags: Bags,
    *,
    epochs: int,
    lr: float = 1e-3,
    weight_decay: float = 1e-2,
    batch_size: int = 32,
    grad_clip: float | None = 1.0,
    device: torch.device | str = "cpu",
    quiet: bool = True,
    seed: int = 0,
) -> nn.Module:
    """AdamW, BCE-with-logits, gradient-norm clipping (the hflayers demo's recipe), mini-batches of bags."""
    loader = DataLoader(
        TensorDataset(bags.x, bags.pad, bags.y.float()),
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )

    def step(m: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        x, pad, y = batch
        return F.binary_cross_entropy_with_logits(m(x, pad), y)

    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    fit(
        model,
        optimizer,
        loader,
        epochs=epochs,
        step=step,
        grad_clip=grad_clip,
        device=device,
        quiet=quiet,
        desc="mil",
    )
    return model


@torch.no_grad()
def scores(model: nn.Module, bags: Bags, device: torch.device | str = "cpu") -> torch.Tensor:
    """Bag logits in eval mode."""
    model.eval()
    return model(bags.x.to(device), bags.pad.to(device)).cpu()


def evaluate(model: nn.Module, bags: Bags, device: torch.device | str = "cpu") -> dict[str, float]:
    """ROC-AUC and accuracy (threshold 0 on the logit) of a trained model on ``bags``."""
    s = scores(model, bags, device)
    return {"auc": auc(bags.y, s), "accuracy": float(((s > 0).long() == bags.y).float().mean())}


def subset(bags: Bags, index: torch.Tensor) -> Bags:
    return Bags(bags.x[index], bags.pad[index], bags.y[index])


def standardise(train: Bags, test: Bags) -> tuple[Bags, Bags]:
    """Standardise features with the mean/std of the training bags' (non-padding) instances only."""
    inst = train.x[~train.pad]
    mean, std = inst.mean(0), inst.std(0).clamp_min(1e-6)

    def apply(b: Bags) -> Bags:
        return b._replace(x=((b.x - mean) / std).masked_fill(b.pad.unsqueeze(-1), 0.0))

    return apply(train), apply(test)


def grid_points(grid: Mapping[str, Sequence[object]]) -> list[dict[str, object]]:
    """Every combination of a hyper-parameter grid ``{name: candidates}`` (one empty point for ``{}``)."""
    names = list(grid)
    return [dict(zip(names, values)) for values in itertools.product(*(grid[n] for n in names))]


TRAIN_OPTIONS = ("lr", "batch_size", "weight_decay")  # grid names that go to train_mil, not the model


def _fit_score(
    build: Callable[[dict], nn.Module],
    point: dict[str, object],
    train: Bags,
    test: Bags,
    *,
    epochs: int,
    device: torch.device | str,
    seed: int,
    train_kwargs: dict[str, object],
) -> float:
    """Train ``build(point)`` on ``train`` (standardised on it), ROC-AUC on ``test``."""
    train, test = standardise(train, test)
    torch.manual_seed(seed)
    options = {**train_kwargs, **{k: v for k, v in point.items() if k in TRAIN_OPTIONS}}
    model = train_mil(build(point), train, epochs=epochs, device=device, seed=seed, **options)
    return evaluate(model, test, device)["auc"]


def cross_validate(
    build: Callable[[dict], nn.Module],
    bags: Bags,
    train_mask: torch.Tensor,
    *,
    epochs: int,
    grid: Mapping[str, Sequence[object]] | None = None,
    inner_folds: int = 5,
    device: torch.device | str = "cpu",
    seed: int = 0,
    quiet: bool = True,
    desc: str = "CV",
    **train: object,
) -> dict[str, object]:
    """k-fold CV over the folds of ``train_mask`` (k, B), nested when ``grid`` has several points.

    Each outer fold: the hyper-parameters are chosen by stratified ``inner_folds``-fold CV (mean inner
    ROC-AUC) on the outer training bags only, then a model with them is trained on all outer training
    bags and scored (ROC-AUC) on the outer test bags, which never enter the choice. ``build(point)``
    makes a model from a grid point; the names in :data:`TRAIN_OPTIONS` go to :func:`train_mil`.
    Returns the mean and std of the outer AUCs, the per-fold AUCs and the chosen points.
    """
    if train_mask.ndim != 2 or train_mask.shape[1] != len(bags.y):
        raise UserError(f"train_mask must have shape (folds, {len(bags.y)}), got {tuple(train_mask.shape)}")
    points = grid_points(grid or {})
    if len(points) > 1 and inner_folds < 2:
        raise UserError(f"nested CV needs inner_folds >= 2, got {inner_folds}")
    aucs, chosen = [], []
    for k, fold in enumerate(progress(train_mask, desc=desc, quiet=quiet)):
        outer_train, outer_test = subset(bags, fold), subset(bags, ~fold)
        best = points[0]
        if len(points) > 1:
            split = StratifiedKFold(inner_folds, shuffle=True, random_state=seed * 1000 + k)
            inner = [
                (torch.from_numpy(a), torch.from_numpy(b))
                for a, b in split.split(np.zeros(len(outer_train.y)), outer_train.y.numpy())
            ]
            scores = [
                np.mean([
                    _fit_score(build, p, subset(outer_train, a), subset(outer_train, b), epochs=epochs,
                               device=device, seed=seed * 1000 + k, train_kwargs=train)
                    for a, b in inner
                ])
                for p in points
            ]  # fmt: skip
            best = points[int(np.argmax(scores))]
        aucs.append(_fit_score(build, best, outer_train, outer_test, epochs=epochs, device=device,
                               seed=seed * 1000 + k, train_kwargs=train))  # fmt: skip
        chosen.append(best)
    return {"auc": float(np.mean(aucs)), "auc_std": float(np.std(aucs)), "fold_aucs": aucs, "chosen": chosen}
