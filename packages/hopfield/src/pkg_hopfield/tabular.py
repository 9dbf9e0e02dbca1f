"""A small-tabular classifier on ``HopfieldLayer`` (Section 4.3 / Appendix A.5, at small scale), and the
scikit-learn baselines (SVC, random forest, MLP) it is compared with under the same stratified k-fold CV.

The sample (standardised features) is the state pattern, without LayerNorm (on a few features a
per-sample LayerNorm erases information: iris has 4); it retrieves from ``quantity`` learned stored
patterns (prototypes) and their learned pattern projections; a linear map gives the class logits.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from torch import nn

from .config import TabularConfig
from .layers import HopfieldLayer


class HopfieldTabular(nn.Module):
    """``x -> HopfieldLayer(x) -> ReLU -> Linear -> logits`` for one sample per state pattern."""

    def __init__(self, input_size: int, num_classes: int, cfg: TabularConfig | None = None) -> None:
        super().__init__()
        cfg = cfg or TabularConfig()
        self.lookup = HopfieldLayer(
            input_size, quantity=cfg.quantity, hidden_size=cfg.hidden_size, output_size=cfg.hidden_size,
            num_heads=cfg.num_heads, scaling=cfg.scaling, dropout=cfg.dropout,
            lookup_weights_as_separated=True, normalize_state_pattern=False,
        )  # fmt: skip
        self.head = nn.Linear(cfg.hidden_size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(F.relu(self.lookup(x.unsqueeze(1)).squeeze(1)))


def fit_hopfield(x: np.ndarray, y: np.ndarray, cfg: TabularConfig, seed: int) -> HopfieldTabular:
    """Full-batch AdamW with cross-entropy on standardised features."""
    torch.manual_seed(seed)
    model = HopfieldTabular(x.shape[1], int(y.max()) + 1, cfg)
    xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    model.train()
    for _ in range(cfg.epochs):
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(xt), yt).backward()
        opt.step()
    return model.eval()


def baselines(seed: int) -> dict[str, object]:
    """SVC (RBF), random forest and MLP, each with scikit-learn's defaults (scaled input for SVC and MLP)."""
    return {
        "svc": make_pipeline(StandardScaler(), SVC()),
        "rf": RandomForestClassifier(n_estimators=100, random_state=seed),
        "mlp": make_pipeline(StandardScaler(), MLPClassifier(max_iter=500, random_state=seed)),
    }


def compare(x: np.ndarray, y: np.ndarray, cfg: TabularConfig, seed: int = 0) -> dict[str, float]:
    """Mean test accuracy (%) over stratified ``cfg.folds``-fold CV of HopfieldTabular and each baseline."""
    accs: dict[str, list[float]] = {"hopfield": [], **{k: [] for k in baselines(seed)}}
    for k, (tr, te) in enumerate(StratifiedKFold(cfg.folds, shuffle=True, random_state=seed).split(x, y)):
        scaler = StandardScaler().fit(x[tr])
        model = fit_hopfield(scaler.transform(x[tr]), y[tr], cfg, seed * 100 + k)
        with torch.no_grad():
            pred = model(torch.as_tensor(scaler.transform(x[te]), dtype=torch.float32)).argmax(-1).numpy()
        accs["hopfield"].append(100.0 * float((pred == y[te]).mean()))
        for name, est in baselines(seed).items():
            accs[name].append(100.0 * float(clone(est).fit(x[tr], y[tr]).score(x[te], y[te])))
    return {name: float(np.mean(v)) for name, v in accs.items()}
