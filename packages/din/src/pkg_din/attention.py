"""The attention illustration (Fig. 5): a DIN's weights ``a_j`` over one user's history per candidate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pkg_shared.errors import UserError
from pkg_shared.plots import plt, save_figure

from .model import CTRModel
from .protocols import CTRData, tensors


def candidate_batch(
    data: CTRData, user: int, items: list[str] | None
) -> tuple[dict[str, torch.Tensor], list[str], list[str]]:
    """The test rows of the ``user``-th test user (or that user's history against raw ``items``).

    Returns the encoded batch, the candidates' raw ids and the history's raw ids (oldest first).
    """
    frame = data.frames["test"]
    users = frame["user"].unique()
    if not 0 <= user < len(users):
        raise UserError(f"--user must be in [0, {len(users)}): the test split has {len(users)} users")
    rows = np.flatnonzero((frame["user"] == users[user]).to_numpy())  # frames have a 0..n-1 index
    if items is not None:
        unknown = sorted(set(items) - set(data.item_tokens))
        if unknown:
            raise UserError(f"unknown item id(s) {unknown[:5]}: not in the training vocabulary (OOV)")
        query = pd.DataFrame([frame.loc[rows[0]]] * len(items)).assign(item=items).reset_index(drop=True)
        batch = tensors(data.encoder, query)
        candidates = list(items)
    else:
        batch = {k: v[torch.from_numpy(rows)] for k, v in data.splits["test"].items()}
        candidates = frame.loc[rows, "item"].astype(str).tolist()
    hist = str(frame.loc[rows[0], "hist"] or "")
    return batch, candidates, [h for h in hist.split("^") if h]


def attention_table(
    model: CTRModel, data: CTRData, *, user: int = 0, items: list[str] | None = None, top: int = 12,
    plot: Path | None = None,
) -> str:  # fmt: skip
    """A text table (history item x candidate) of attention weights and pCTR; optionally a heatmap PNG."""
    batch, candidates, hist = candidate_batch(data, user, items)
    device = next(model.parameters()).device
    batch = {k: v.to(device) for k, v in batch.items()}
    weights = model.attention_weights(batch).cpu().numpy()  # (C, L): history positions, oldest first
    pctr = torch.sigmoid(model.eval()(batch)).detach().cpu().numpy()
    n = int(batch["hist_mask"][0].sum())
    hist = hist[-n:] if n else []
    shown = slice(max(n - top, 0), n)
    cate = data.cate_list.cpu().numpy() if data.cate_list is not None else None
    ids = batch["hist"][0, shown].cpu().numpy()
    names = [f"{h}" + (f" (cate {cate[i]})" if cate is not None else "") for h, i in zip(hist[shown], ids)]
    cand_names = [
        f"{c}" + (f" (cate {cate[i]})" if cate is not None else "")
        for c, i in zip(candidates, batch["item"].cpu().numpy())
    ]
    w = weights[:, shown].T
    lines = [f"{'history item':>20} | " + " | ".join(f"{c:>18}" for c in cand_names)]
    lines += [f"{h:>20} | " + " | ".join(f"{x:18.4f}" for x in row) for h, row in zip(names, w)]
    lines.append(f"{'sum a_j (all)':>20} | " + " | ".join(f"{x:18.4f}" for x in weights.sum(1)))
    lines.append(f"{'pCTR':>20} | " + " | ".join(f"{x:18.4f}" for x in pctr))
    if plot is not None and n:
        fig, ax = plt.subplots(figsize=(1.5 + 1.2 * len(cand_names), 1 + 0.3 * len(names)))
        im = ax.imshow(np.asarray(w), aspect="auto", cmap="viridis")
        ax.set_xticks(range(len(cand_names)), cand_names, rotation=30, ha="right", fontsize=7)
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.set(xlabel="candidate", ylabel="history (oldest at top)", title="DIN attention weights a_j")
        fig.colorbar(im, ax=ax)
        save_figure(fig, plot)
    return "\n".join(lines)
