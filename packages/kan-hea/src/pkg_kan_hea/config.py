"""Hyperparameters: architectures per example (spec "Default architectures") and presets per scale.

The paper's exact widths and grids are not recoverable (spec); these are the spec's documented choices:
example 1 KAN [17, 4, 2], example 2 KAN [d, 5, 2], example 3 classifier [d, 4, 2] and regressor
[d, 4, 1], G = 5, k = 3; MLP baselines with two ReLU hidden layers of 32 (example 1) or 64 units.
"""

from __future__ import annotations

from dataclasses import dataclass

from .train import TrainConfig

MODELS = ("kan", "efficient-kan", "mlp", "sklearn-mlp")  # what `reproduce` compares by default
REFERENCE = "pykan"  # pykan 0.2.8 itself: optional extra, `--model pykan` / `reproduce --with-pykan`
EXAMPLES = ("carbide", "strength", "hea-class", "bulk-modulus")


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
    "smoke": ScaleConfig(folds=2, train=TrainConfig(steps=20), fit_points=100, fit_steps=6, fit_grids=(5,),
                         models=("kan", "mlp"), screen_n=0, examples=("carbide",)),
    "small": ScaleConfig(folds=5, train=TrainConfig(steps=200), fit_steps=20),
    "full": ScaleConfig(folds=5, train=TrainConfig(steps=500), fit_grids=(5, 10, 20)),
}  # fmt: skip
