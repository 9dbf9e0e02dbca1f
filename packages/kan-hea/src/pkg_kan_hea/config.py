"""Hyperparameters: architectures per example (spec "Default architectures") and presets per scale.

The paper's exact widths and grids are not recoverable (spec); these are the spec's documented choices:
example 1 KAN [17, 4, 2], example 2 KAN [d, 5, 2], example 3 classifier [d, 4, 2] and regressor
[d, 4, 1], G = 5, k = 3; MLP baselines with two ReLU hidden layers of 32 (example 1) or 64 units.
"""

from __future__ import annotations

from dataclasses import dataclass

from pkg_shared.errors import UserError

TASKS = ("classification", "regression")
OPTIMIZERS = ("adam", "lbfgs")
MODELS = ("kan", "efficient-kan", "mlp", "sklearn-mlp")  # what `reproduce` compares by default
REFERENCE = "pykan"  # pykan 0.2.8 itself: optional extra, `--model pykan` / `reproduce --with-pykan`
EXAMPLES = ("carbide", "strength", "hea-class", "bulk-modulus")
# `reproduce --dataset`: "all" (every example whose data the root holds) or one data folder's examples
DATASET_EXAMPLES = {
    "all": EXAMPLES,
    "hea-carbide-phase": ("carbide",),
    "hea-mpea-mechanical": ("strength", "hea-class"),
    "hea-elastic-dft": ("bulk-modulus",),
}
# the files under the data root that `reproduce --dataset <folder>` reads (App data_files)
DATA_FILES = {
    "hea-carbide-phase": ["hea-carbide-phase/hec_382_descriptors.csv"],
    "hea-mpea-mechanical": ["hea-mpea-mechanical/mpea_parsed.csv"],
    "hea-elastic-dft": [f"hea-elastic-dft/{f}" for f in ("binaries.csv", "ternaries.csv",
                                                          "unaries_nine_element_properties.csv")],
}  # fmt: skip


@dataclass
class TrainConfig:
    """Optimiser settings; defaults are the spec's measured protocol (Adam 1e-2, wd 1e-4, 500 steps).

    ``update_grid``: pykan's schedule, a grid update every ``stop_grid_update_step // grid_update_num``
    steps while ``step < stop_grid_update_step`` (pykan defaults 50 and 10); ``lamb`` weighs the sparsity
    regulariser (0 by default, as in the paper's runs).
    """

    steps: int = 500
    opt: str = "adam"
    lr: float = 1e-2
    weight_decay: float = 1e-4
    lamb: float = 0.0
    update_grid: bool = True
    grid_update_num: int = 10
    stop_grid_update_step: int = 50

    def __post_init__(self) -> None:
        if self.opt not in OPTIMIZERS:
            raise UserError(f"optimizer must be one of {OPTIMIZERS}, got {self.opt!r}")
        if self.steps < 1 or not self.lr > 0:
            raise UserError(f"steps must be >= 1 and lr > 0 (got {self.steps}, {self.lr})")


@dataclass
class ModelConfig:
    """Hidden widths of the KAN and the MLP, and the KAN grid (G intervals, order k)."""

    kan_hidden: tuple[int, ...] = (4,)
    mlp_hidden: tuple[int, ...] = (64, 64)
    grid_size: int = 5
    k: int = 3


EXAMPLE_MODELS = {
    "carbide": ModelConfig(kan_hidden=(4,), mlp_hidden=(32, 32)),
    "strength": ModelConfig(kan_hidden=(5,)),
    "hea-class": ModelConfig(kan_hidden=(4,)),
    "bulk-modulus": ModelConfig(kan_hidden=(4,)),
}


@dataclass
class ScaleConfig:
    """One scale of ``reproduce``: folds, training steps, the closed-form fit and the models compared."""

    folds: int
    train: TrainConfig
    fit_points: int = 1000
    fit_steps: int = 50
    fit_grids: tuple[int, ...] = (5, 10)
    models: tuple[str, ...] = MODELS
    screen_n: int = 2000
    examples: tuple[str, ...] = EXAMPLES


PRESETS = {
    "smoke": ScaleConfig(folds=2, train=TrainConfig(steps=20), fit_points=1000, fit_steps=5, fit_grids=(5, 10),
                         models=("kan", "mlp"), screen_n=0, examples=("carbide",)),
    "small": ScaleConfig(folds=5, train=TrainConfig(steps=200), fit_steps=20),
    "full": ScaleConfig(folds=5, train=TrainConfig(steps=500), fit_grids=(5, 10, 20)),
}  # fmt: skip
