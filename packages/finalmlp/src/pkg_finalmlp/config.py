"""Hyperparameters: the model (Sec. 3), the FuxiCTR training protocol (Sec. 4.1) and the tuned presets.

``PRESETS`` holds the settings of the official run logs (spec "Tuned settings"; embedding 10, batch 4096,
Adam 1e-3, batch norm in both streams) for the four BARS datasets, plus ``ml100k-ctr``, the spec's
small-scale base (MLP1 [256, 128], MLP2 [128], batch 1024). ``SMALL_GRID`` is the spec's tuning grid.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from pkg_shared.errors import UserError

MODELS = ("finalmlp", "dualmlp", "dnn")
BARS = {"criteo": "Criteo_x1", "avazu": "Avazu_x1", "movielens": "MovielensLatest_x1", "frappe": "Frappe_x1"}
PAPER_AUC = {"criteo": 0.8149, "avazu": 0.7666, "movielens": 0.9720, "frappe": 0.9861}
AUC_RANGE = (0.74, 0.78)


@dataclass(frozen=True)
class ModelConfig:
    """FinalMLP / DualMLP / DNN hyperparameters; defaults are FuxiCTR's FinalMLP class defaults + BN on.

    ``fs1_context`` / ``fs2_context`` name the fields whose embeddings condition each stream's gate
    (empty: the zero-initialised learnable vector). ``use_fs=False`` and ``bilinear=False`` are the
    paper's ablations (Sec. 4.3); ``heads=1`` is the single-head ablation.
    """

    model: str = "finalmlp"
    emb_dim: int = 10
    mlp1: tuple[int, ...] = (64, 64, 64)
    mlp2: tuple[int, ...] = (64, 64, 64)
    dropout1: float = 0.0
    dropout2: float = 0.0
    batch_norm: bool = True
    use_fs: bool = True
    fs_hidden: tuple[int, ...] = (64,)
    fs1_context: tuple[str, ...] = ()
    fs2_context: tuple[str, ...] = ()
    heads: int = 1
    bilinear: bool = True

    def validate(self, fields: tuple[str, ...]) -> None:
        """Raise UserError for an unknown model, bad sizes, unknown context fields or a bad head count."""
        if self.model not in MODELS:
            raise UserError(f"unknown model {self.model!r}; one of {', '.join(MODELS)}")
        if self.emb_dim < 1 or not self.mlp1 or min(self.mlp1) < 1:
            raise UserError("emb_dim and every MLP1 width must be >= 1")
        if self.model != "dnn" and (not self.mlp2 or min(self.mlp2) < 1):
            raise UserError("every MLP2 width must be >= 1")
        if not (0 <= self.dropout1 < 1 and 0 <= self.dropout2 < 1):
            raise UserError(f"dropout must be in [0, 1), got {self.dropout1} / {self.dropout2}")
        if self.model == "finalmlp":
            unknown = sorted(set(self.fs1_context + self.fs2_context) - set(fields))
            if self.use_fs and unknown:
                raise UserError(f"context field(s) {unknown} are not among the fields {list(fields)}")
            if self.heads < 1 or self.mlp1[-1] % self.heads or self.mlp2[-1] % self.heads:
                raise UserError(
                    f"--heads {self.heads} must divide both stream widths ({self.mlp1[-1]} and {self.mlp2[-1]})"
                )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        tuples = ("mlp1", "mlp2", "fs_hidden", "fs1_context", "fs2_context")
        return cls(**{k: tuple(v) if k in tuples else v for k, v in d.items()})


@dataclass(frozen=True)
class TrainConfig:
    """FuxiCTR's protocol (Sec. 4.1): Adam, BCE + (lambda/2)||tables||^2, val-AUC early stopping.

    Validation AUC is evaluated on the whole split after each epoch; when it does not improve by
    ``min_delta`` the learning rate is multiplied by ``lr_factor`` (not below ``min_lr``); after
    ``patience`` such epochs training stops and the best epoch's weights are reloaded for the test.
    Gradients are clipped to norm ``max_grad_norm`` (FuxiCTR's ``fit`` default, 10).
    """

    batch_size: int = 4096
    lr: float = 1e-3
    epochs: int = 100
    patience: int = 2
    emb_reg: float = 0.0
    net_reg: float = 0.0
    lr_factor: float = 0.1
    min_lr: float = 1e-6
    min_delta: float = 1e-6
    max_grad_norm: float | None = 10.0

    def validate(self) -> None:
        if self.batch_size < 1 or self.epochs < 1 or self.patience < 1 or self.lr <= 0:
            raise UserError("batch size, epochs and patience must be >= 1 and lr > 0")
        if self.emb_reg < 0 or self.net_reg < 0:
            raise UserError("regularisation strengths must be >= 0")


@dataclass(frozen=True)
class Preset:
    """A model, its training recipe and the dataset's numeric fields (FuxiCTR's ``type: numeric``)."""

    model: ModelConfig
    train: TrainConfig = field(default_factory=TrainConfig)
    numeric: tuple[str, ...] = ()


def _final(**kw: Any) -> ModelConfig:
    return ModelConfig(model="finalmlp", **kw)


CRITEO_NUMERIC = tuple(f"I{i}" for i in range(1, 14))
PRESETS: dict[str, Preset] = {
    "criteo": Preset(
        _final(mlp1=(400, 400, 400), mlp2=(1000,), dropout1=0.2, dropout2=0.3, fs_hidden=(800,),
               fs1_context=CRITEO_NUMERIC, fs2_context=("C6",), heads=200),
        TrainConfig(emb_reg=1e-5),
        numeric=CRITEO_NUMERIC,  # BARS Criteo_x1 dataset_config: I1..I13 "type: numeric", C1..C26 categorical
    ),
    "avazu": Preset(
        _final(mlp1=(400, 400, 400), mlp2=(800,), dropout1=0.3, dropout2=0.3, fs_hidden=(800,), heads=10),
        TrainConfig(emb_reg=0.05),
        numeric=(),  # BARS Avazu_x1 dataset_config: feat_1..feat_22, all categorical
    ),
    "movielens": Preset(
        _final(mlp1=(400,), mlp2=(800,), dropout1=0.4, dropout2=0.2, fs_hidden=(800,), heads=10),
        TrainConfig(emb_reg=0.01),
    ),
    "frappe": Preset(
        _final(mlp1=(400,), mlp2=(100,), dropout1=0.4, dropout2=0.4, fs_hidden=(400,),
               fs1_context=("user",), fs2_context=("item",), heads=5),
        TrainConfig(emb_reg=0.05),
    ),
    "frappe-dualmlp": Preset(
        ModelConfig(model="dualmlp", mlp1=(400, 400, 400), mlp2=(500, 500, 500), dropout1=0.2, dropout2=0.3),
        TrainConfig(emb_reg=0.05),
    ),
    "ml100k-ctr": Preset(
        _final(mlp1=(256, 128), mlp2=(128,), dropout1=0.2, dropout2=0.2, fs_hidden=(128,),
               fs1_context=("user_id",), fs2_context=("item_id",), heads=2),
        TrainConfig(batch_size=1024, emb_reg=1e-5),
    ),
}  # fmt: skip

# The spec's small-scale grid (chosen on validation AUC): every model tries dropout x emb-reg;
# FinalMLP also tries the contexts ([] = learnable bias, or user_id / item_id) and 1 or 2 heads.
SMALL_GRID: dict[str, Any] = {
    "dropout": (0.2, 0.4),
    "emb_reg": (1e-5, 1e-3),
    "contexts": (((), ()), (("user_id",), ("item_id",))),
    "heads": (1, 2),
}


def variant(
    base: Preset,
    model: str,
    dropout: float | None = None,
    emb_reg: float | None = None,
    contexts: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
    heads: int | None = None,
) -> Preset:
    """``base`` as ``model`` with the grid's knobs changed (``None``: keep ``base``'s value)."""
    m, t = base.model, base.train
    fs1, fs2 = contexts if contexts is not None else (m.fs1_context, m.fs2_context)
    d = m.dropout1 if dropout is None else dropout
    model_cfg = replace(
        m,
        model=model,
        dropout1=d,
        dropout2=m.dropout2 if dropout is None else dropout,
        fs1_context=fs1,
        fs2_context=fs2,
        heads=m.heads if heads is None else heads,
    )
    return Preset(model_cfg, t if emb_reg is None else replace(t, emb_reg=emb_reg), base.numeric)  # fmt: skip


def grid(model: str, base: Preset) -> list[Preset]:
    """Every configuration of :data:`SMALL_GRID` for ``model``, built on ``base`` (24 over the 3 models)."""
    contexts = SMALL_GRID["contexts"] if model == "finalmlp" else (None,)
    heads = SMALL_GRID["heads"] if model == "finalmlp" else (None,)
    return [
        variant(base, model, dropout, emb_reg, ctx, k)
        for dropout in SMALL_GRID["dropout"]
        for emb_reg in SMALL_GRID["emb_reg"]
        for ctx in contexts
        for k in heads
    ]


def staged(model: str, base: Preset, best: Preset | None = None) -> list[Preset]:
    """The budget search of ``--scale small``: a cut of :func:`grid` (spec grid, 24 trials -> 8).

    Stage 1 (``best=None``): every model over the grid's dropouts, at ``base``'s emb-reg, contexts and
    heads. Stage 2 (FinalMLP only, ``best`` = the stage-1 winner): the winner with the other context
    choice, and the winner with the other head counts, one knob at a time.
    """
    if best is None:
        return [variant(base, model, dropout=d) for d in SMALL_GRID["dropout"]]
    if model != "finalmlp":
        return []
    now = (best.model.fs1_context, best.model.fs2_context)
    return [variant(best, model, contexts=c) for c in SMALL_GRID["contexts"] if c != now] + [
        variant(best, model, heads=k) for k in SMALL_GRID["heads"] if k != best.model.heads
    ]
