"""Full-batch training of a KAN, the efficient-kan network or the MLP (spec "Method", steps 4-5).

pykan's ``fit``: LBFGS (lr 1, strong-Wolfe line search) or Adam, full batch; with ``update_grid`` the
grid is updated every ``stop_grid_update_step // grid_update_num`` steps while ``step <
stop_grid_update_step`` (pykan defaults 50 and 10, i.e. every 5 steps during the first 50);
``lamb`` weighs the sparsity regulariser (0 by default, as in the paper's runs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from pkg_shared.errors import UserError

from .config import TASKS, TrainConfig
from .kan import KAN, EfficientKAN


@dataclass
class TrainLog:
    """Training loss after every step, and max |change| of the outputs at every scheduled grid update."""

    loss: list[float] = field(default_factory=list)
    grid_update_change: list[float] = field(default_factory=list)


def loss_fn(task: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Cross-entropy on logits for classification, MSE for (standardised) regression targets."""
    if task not in TASKS:
        raise UserError(f"task must be one of {TASKS}, got {task!r}")
    return F.cross_entropy if task == "classification" else F.mse_loss


def regulariser(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The sparsity regulariser of our KAN / efficient-kan network, or pykan's own (``reg_metric``
    'edge_forward_spline_n', lamb_l1 1, lamb_entropy 2, the defaults of pykan's ``fit``) for a pykan
    ``KAN``, which reads the activations its last forward pass saved."""
    if hasattr(model, "regularization"):
        return model.regularization(x)
    return model.get_reg("edge_forward_spline_n", 1.0, 2.0, 0.0, 0.0)


def train_model(model: nn.Module, x: torch.Tensor, y: torch.Tensor, task: str, cfg: TrainConfig) -> TrainLog:
    """Train ``model`` on the full batch ``(x, y)``; returns the loss after every step and the grid-update log.

    ``model`` is our KAN, the efficient-kan network, the MLP or a pykan 0.2.8 ``KAN`` (trained by the same
    loop, so that every network sees the same optimiser, loss and grid-update schedule).
    """
    criterion = loss_fn(task)
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.opt == "lbfgs":
        opt: torch.optim.Optimizer = torch.optim.LBFGS(
            params,
            lr=cfg.lr,
            history_size=10,
            line_search_fn="strong_wolfe",
            tolerance_grad=1e-32,
            tolerance_change=1e-32,
        )
    else:
        opt = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    is_kan = isinstance(model, (KAN, EfficientKAN)) or hasattr(model, "update_grid_from_samples")
    if cfg.lamb > 0 and hasattr(model, "save_act"):
        model.save_act = True  # pykan computes its regulariser from the activations of the forward pass
    every = max(cfg.stop_grid_update_step // cfg.grid_update_num, 1)
    log = TrainLog()

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = criterion(model(x), y)
        if cfg.lamb > 0 and is_kan:
            loss = loss + cfg.lamb * regulariser(model, x)
        loss.backward()
        return loss

    model.train()
    for step in range(cfg.steps):
        if is_kan and cfg.update_grid and step % every == 0 and step < cfg.stop_grid_update_step:
            with torch.no_grad():
                before = model(x)
                model.update_grid(x)
                log.grid_update_change.append(float((model(x) - before).abs().max()))
        loss = opt.step(closure)
        log.loss.append(float(loss.detach()))
        if not torch.isfinite(loss):
            raise UserError(f"training diverged at step {step} (loss {float(loss)}): lower --lr or --steps")
    model.eval()
    return log
