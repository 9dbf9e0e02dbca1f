"""Hyperparameters: the paper's defaults (Sec. 6.1, official code) and the presets per scale.

Paper (Amazon / MovieLens): item embedding = goods 64 + category 64 (official code), activation unit
FFN [36] (paper figure 2) with PReLU, MLP 200-80 with PReLU (or Dice), SGD lr 1.0, batch 32, lr decayed to
0.1, global-norm gradient clipping 5, GAUC evaluated regularly and the best kept. The small scale (spec
"Small-scale reproduction") keeps the architecture and shrinks embeddings to 16 + 16, with Adam 1e-3 and
batch 256, so that a run fits 5 minutes on 2 CPU cores.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pkg_shared.errors import UserError

MODELS = ("base", "din", "din-dice")
DATASETS = ("synthetic", "ml100k-seq", "ml100k-rating", "taobao-tiny", "amazon")
UNIT_INPUTS = ("concat", "outer")
REGULARISERS = ("none", "l2", "dropout", "filter", "mba")
OPTIMISERS = ("sgd", "adam")
EMB_INITS = ("glorot", "normal")


@dataclass(frozen=True)
class ModelConfig:
    """One CTR model. ``model``: ``base`` (sum pooling + MLP), ``din`` (local activation unit) or
    ``din-dice`` (DIN with Dice instead of PReLU, in the MLP and in the activation unit)."""

    model: str = "din"
    item_dim: int = 64
    cate_dim: int = 64
    profile_dim: int = 64
    att_units: tuple[int, ...] = (36,)
    mlp: tuple[int, ...] = (200, 80)
    pooling: str = "sum"  # BaseModel pooling: "sum" (paper) or "mean"
    attention_softmax: bool = False  # official demo's deviation: masked softmax scaled by 1/sqrt(D)
    unit_input: str = "concat"  # [e, v, e - v, e * v] (official); "outer": [e, v, vec(e v^T)] (paper Fig. 2)
    dropout: float = 0.0  # feature-id dropout on goods ids (regulariser "dropout": 0.5, Sec. 6.5)
    emb_init: str = "glorot"  # official code (TF1 default): U(+-sqrt(6 / (rows + dim))); or "normal"
    emb_std: float = 1.0  # emb_init="normal": N(0, emb_std^2) (torch: 1; DeepCTR-Torch / FuxiCTR: 1e-4)
    dice_eps: float = 1e-8
    dice_momentum: float = 0.01

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise UserError(f"unknown model {self.model!r} (one of {', '.join(MODELS)})")
        if self.pooling not in ("sum", "mean"):
            raise UserError(f"pooling must be 'sum' or 'mean', got {self.pooling!r}")
        if self.emb_init not in EMB_INITS:
            raise UserError(f"emb_init must be one of {', '.join(EMB_INITS)}, got {self.emb_init!r}")
        if self.emb_std <= 0:
            raise UserError(f"emb_std must be positive, got {self.emb_std}")
        if not 0.0 <= self.dropout < 1.0:
            raise UserError(f"dropout must be in [0, 1), got {self.dropout}")
        if min(self.item_dim, self.profile_dim, *self.att_units, *self.mlp) < 1 or self.cate_dim < 0:
            raise UserError("embedding and layer sizes must be positive")

    @property
    def activation(self) -> str:
        return "dice" if self.model == "din-dice" else "prelu"


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation and regularisation (Sec. 5.1 MBA, Sec. 6.5 the regularisers compared)."""

    optim: str = "sgd"
    lr: float = 1.0
    lr_decay_epoch: int | None = None  # lr x 0.1 from this epoch on (official: after 336,000 steps)
    batch_size: int = 32
    epochs: int = 3
    patience: int | None = None  # early stopping: stop after this many epochs without a better val GAUC
    monitor: str = "val_gauc"  # the validation value that picks the best epoch (and drives patience)
    grad_clip: float | None = 5.0
    reg: str = "none"
    reg_lambda: float = 0.01
    filter_min_count: int = 5  # regulariser "filter": goods ids seen fewer times in train become unknown
    dropout: float = 0.5  # regulariser "dropout": share of goods ids discarded per sample

    def __post_init__(self) -> None:
        if self.optim not in OPTIMISERS:
            raise UserError(f"unknown optimiser {self.optim!r} (sgd or adam)")
        if self.reg not in REGULARISERS:
            raise UserError(f"unknown regulariser {self.reg!r} (one of {', '.join(REGULARISERS)})")
        if self.lr <= 0 or self.batch_size < 1 or self.epochs < 1 or self.reg_lambda < 0:
            raise UserError("lr and reg_lambda must be positive, batch_size and epochs >= 1")
        if self.patience is not None and self.patience < 1:
            raise UserError(f"patience must be >= 1, got {self.patience}")
        if self.monitor not in ("val_gauc", "val_auc"):
            raise UserError(f"monitor must be val_gauc or val_auc, got {self.monitor!r}")


@dataclass(frozen=True)
class Preset:
    """What ``reproduce`` runs at one scale (spec "Small-scale reproduction", items 1-3)."""

    model: ModelConfig
    train: TrainConfig
    synthetic: dict = field(default_factory=dict)
    syn_epochs: int = 4  # at most; both models stop early on validation AUC (patience ``syn_patience``)
    syn_patience: int = 1
    reg_seeds: int = 1  # the regulariser study (no claim) runs on the first seed only
    seq_max_hist: int = 30
    seq_negatives: int = 20
    seq_epochs: int = 2
    seq_max_users: int | None = None
    rating_max_hist: int = 30
    rating_epochs: int = 1
    rating_max_users: int | None = None
    regularisers: tuple[str, ...] = REGULARISERS


_SMALL_MODEL = ModelConfig(item_dim=16, cate_dim=16, profile_dim=16)
_ADAM = TrainConfig(optim="adam", lr=1e-3, batch_size=256, epochs=2, grad_clip=5.0)

PRESETS: dict[str, Preset] = {
    "smoke": Preset(
        model=replace(_SMALL_MODEL, item_dim=8, cate_dim=8, profile_dim=8, mlp=(32, 16)),
        train=replace(_ADAM, epochs=1),
        synthetic={"n_users": 300, "n_items": 400, "n_cates": 20, "hist_len": 20, "per_user": 10},
        syn_epochs=2,
        seq_max_hist=10,
        seq_negatives=5,
        seq_epochs=1,
        seq_max_users=80,
        rating_max_hist=10,
        rating_epochs=1,
        rating_max_users=80,
    ),
    # 3 seeds within ~300 CPU-s (cut chosen before the run, README "Limits"): 3,000 synthetic users instead
    # of the spec's 6,000, at most 4 epochs there, 1 epoch for the regulariser report (first seed only)
    "small": Preset(model=_SMALL_MODEL, train=_ADAM, synthetic={"n_users": 3000}),
    "full": Preset(
        model=ModelConfig(),
        train=TrainConfig(optim="adam", lr=1e-3, batch_size=1024, epochs=5),
        syn_epochs=20,
        syn_patience=2,
        rating_epochs=5,
        seq_max_hist=50,
        seq_epochs=5,
        rating_max_hist=50,
    ),
}
