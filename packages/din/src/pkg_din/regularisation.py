"""Regularisers compared in Sec. 6.5: mini-batch aware L2 (Sec. 5.1), full L2, and feature frequencies.

Mini-batch aware regularisation (eq. (4)-(5)): for every embedding table W with rows w_j and mini-batch
B_m, SGD takes ``w_j <- w_j - eta * [(1/|B_m|) sum dL/dw_j + lambda * alpha_mj / n_j * w_j]`` where
``alpha_mj = 1`` when feature j occurs in B_m and ``n_j`` is its number of occurrences in the training set.
It is the gradient of the loss term ``lambda / 2 * sum_{j in B_m} ||w_j||^2 / n_j``, added to the mean
log-loss. Only the rows present in the batch are touched; padding (row 0) is never regularised.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from .model import Batch, CTRModel


def table_ids(model: CTRModel, batch: Batch) -> dict[str, torch.Tensor]:
    """The ids of every embedding table that occur in ``batch`` (padding included; see :func:`mba_penalty`)."""
    items = torch.cat([batch["item"].reshape(-1), batch["hist"].reshape(-1)])
    ids = {"item": items, **{f"profile:{k}": batch[k].reshape(-1) for k in model.schema.profile}}
    if model.cate_emb is not None:
        ids["cate"] = model.cate_list[items]
    return ids


def feature_counts(model: CTRModel, arrays: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``n_j`` for every table: occurrences of each id in the TRAINING arrays (spec Pitfalls)."""
    counts = {}
    for name, ids in table_ids(model, arrays).items():
        n = model.tables()[name].num_embeddings
        counts[name] = torch.bincount(ids.cpu(), minlength=n).float()
    return counts


def mba_penalty(
    model: CTRModel, batch: Batch, counts: Mapping[str, torch.Tensor], lam: float
) -> torch.Tensor:
    """``lambda / 2 * sum_{j in B_m, j != pad} ||w_j||^2 / n_j`` summed over the tables (eq. (5)).

    An id present in the batch but never seen in training (``n_j = 0``, only possible for the unknown row
    of a model fitted elsewhere) counts as seen once.
    """
    total = torch.zeros((), device=batch["item"].device)
    for name, ids in table_ids(model, batch).items():
        weight = model.tables()[name].weight
        present = torch.zeros(weight.shape[0], dtype=torch.bool, device=weight.device)
        present[ids] = True
        present[0] = False
        rows = present.nonzero().squeeze(-1)
        n = counts[name].to(weight.device)[rows].clamp(min=1)
        total = total + (weight[rows].pow(2).sum(-1) / n).sum()
    return 0.5 * lam * total


def l2_penalty(model: CTRModel, lam: float) -> torch.Tensor:
    """Full L2 on every embedding table, ``lambda / 2 * ||W||^2``: every row, every step."""
    return 0.5 * lam * sum(t.weight.pow(2).sum() for t in model.tables().values())


def frequent_items(counts: torch.Tensor, min_count: int) -> torch.Tensor:
    """The "filter" regulariser: keep goods ids seen at least ``min_count`` times in training (and padding)."""
    keep = counts >= min_count
    keep[:2] = True
    return keep
