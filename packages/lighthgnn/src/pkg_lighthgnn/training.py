"""Training loops (spec Method 2-5, 8): teacher, students, and the transductive / production settings.

Both models train full-batch with Adam (lr 0.01, weight decay 5e-4) for 200 epochs, are evaluated on the
validation vertices after every epoch, and keep the state with the best validation accuracy (the first
one reached, as the official ``val_res > best_val``).

Transductive: teacher on the whole hypergraph; its logits on every vertex (val and test included, no
labels used) are the students' soft labels. Production: a share ``test_ind_ratio`` of the test vertices is
unobserved; teacher and students train on the observed sub-hypergraph only and are evaluated on the
observed test vertices (``trans``), the unobserved ones (``ind``: teacher on the full hypergraph, student on
features only) and all test vertices (``prod``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dhg
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pkg_shared.errors import UserError
from pkg_shared.metrics import accuracy, f1

from .config import STUDENTS, SplitConfig, StudentConfig, TeacherConfig
from .data import HypergraphData, production_split, splits
from .distill import HighOrderConstraint, kd_loss, topology_score
from .features import Features, as_features, select_rows
from .hypergraph import build_hypergraph, sub_hyperedges
from .model import StudentMLP, Teacher


def _fit(model: nn.Module, loss_fn: Callable[[], Tensor], predict: Callable[[], Tensor], y_val: Tensor,
         lr: float, weight_decay: float, epochs: int) -> dict[str, Any]:  # fmt: skip
    """Adam for ``epochs`` full-batch steps; keep the state with the best validation accuracy.

    ``predict()`` returns the validation vertices' logits in eval mode, ``y_val`` their labels.
    """
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    best_acc, best_epoch, best_state = -1.0, -1, None
    for epoch in range(epochs):
        model.train()
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            acc = (predict().argmax(1) == y_val).float().mean().item()
        if acc > best_acc:
            best_acc, best_epoch, best_state = acc, epoch, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    model.eval()
    return {"best_epoch": best_epoch, "val_accuracy": 100.0 * best_acc}


def train_teacher(x: Features, y: Tensor, hg: dhg.Hypergraph, train: Tensor, val: Tensor, cfg: TeacherConfig,
                  n_classes: int) -> tuple[Teacher, dict[str, Any]]:  # fmt: skip
    """Train an HGNN / HGNN+ teacher with cross-entropy on ``train``; best-validation state kept."""
    model = Teacher(x.shape[1], n_classes, cfg.hid, cfg.kind, cfg.dropout).to(y.device)
    info = _fit(model, lambda: F.cross_entropy(model(x, hg)[train], y[train]), lambda: model(x, hg)[val],
                y[val], cfg.lr, cfg.weight_decay, cfg.epochs)  # fmt: skip
    return model, info


def student_loss(cfg: StudentConfig, z_s: Tensor, y: Tensor, train: Tensor, z_t: Tensor | None = None,
                 hc: HighOrderConstraint | None = None) -> Tensor:  # fmt: skip
    """The student's training loss (spec Method 4-5) for logits ``z_s`` on every vertex.

    * ``mlp``: ``CE(Z_s[train], y[train])`` (the vanilla-MLP baseline);
    * ``light_hgnn``: ``lambda CE + (1 - lambda) L_KD`` with ``L_KD`` over all vertices;
    * ``light_hgnnp``: ``lambda CE + (1 - lambda) (L_KD + L_HC)``, ``L_HC`` from ``hc`` (a fresh Bernoulli
      draw of hyperedges at each call).
    """
    ce = F.cross_entropy(z_s[train], y[train])
    if cfg.kind == "mlp":
        return ce
    distill = kd_loss(z_s, z_t, cfg.tau, cfg.kd_variant)
    if cfg.kind == "light_hgnnp":
        distill = distill + hc(z_s, z_t)
    return cfg.lamb * ce + (1 - cfg.lamb) * distill


def train_student(x: Features, y: Tensor, train: Tensor, val: Tensor, cfg: StudentConfig, n_classes: int,
                  z_t: Tensor | None = None, hc: HighOrderConstraint | None = None) -> tuple[StudentMLP, dict[str, Any]]:  # fmt: skip
    """Train the MLP student with :func:`student_loss`, one full-batch step per epoch, best-validation state.

    ``cfg.kind``: ``mlp``, ``light_hgnn`` (needs the teacher's logits ``z_t``) or ``light_hgnnp`` (needs
    ``z_t`` and a :class:`HighOrderConstraint` ``hc``).
    """
    if cfg.kind not in STUDENTS:
        raise UserError(f"unknown student {cfg.kind!r} (one of {', '.join(STUDENTS)})")
    if cfg.kind != "mlp" and z_t is None:
        raise UserError(f"student {cfg.kind!r} needs the teacher's logits z_t")
    if cfg.kind == "light_hgnnp" and hc is None:
        raise UserError("student 'light_hgnnp' needs a HighOrderConstraint")
    model = StudentMLP(x.shape[1], n_classes, cfg.hid, cfg.dropout).to(y.device)
    x_val = select_rows(x, val.cpu().numpy())  # the student is per-vertex: validate on the val rows only
    info = _fit(model, lambda: student_loss(cfg, model(x), y, train, z_t, hc), lambda: model(x_val), y[val],
                cfg.lr, cfg.weight_decay, cfg.epochs)  # fmt: skip
    return model, info


def scores(y: np.ndarray, logits: Tensor) -> dict[str, float]:
    """Accuracy and macro-F1 in percent."""
    pred = logits.detach().cpu().argmax(1).numpy()
    return {"accuracy": 100.0 * accuracy(y, pred), "macro_f1": 100.0 * f1(y, pred, average="macro")}


@dataclass
class Prepared:
    """A dataset on a device with one seed's split, ready for teachers and students."""

    data: HypergraphData
    x: Features
    y: Tensor
    hg: dhg.Hypergraph
    train: Tensor
    val: Tensor
    test: Tensor
    extra: dict[str, Any] = field(default_factory=dict)


def prepare(data: HypergraphData, split: SplitConfig, seed: int, device: torch.device) -> Prepared:
    """Features, labels, the singleton-fixed dhg hypergraph and the 20/100-per-class split on ``device``."""
    train, val, test = splits(data, split, seed)
    idx = [torch.as_tensor(a, device=device) for a in (train, val, test)]
    hg = build_hypergraph(data.num_v, data.edges, device=str(device))
    return Prepared(data, as_features(data.X, device), torch.as_tensor(data.y, device=device), hg, *idx)


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


Status = Callable[[str], None]


def _silent(text: str) -> None:
    return None


def distill_students(p: Prepared, teacher: Teacher, students: dict[str, StudentConfig], seed: int,
                     status: Status = _silent) -> dict[str, tuple[StudentMLP, dict[str, Any]]]:  # fmt: skip
    """Train every student of ``students`` (name -> config) from the same teacher and initial weights."""
    with torch.no_grad():
        teacher.eval()
        z_t = teacher(p.x, p.hg)
    out = {}
    for name, cfg in students.items():
        hc = None
        if cfg.kind == "light_hgnnp":
            hc = HighOrderConstraint(
                teacher, p.x, p.hg, cfg.noise, cfg.tau, cfg.kd_variant, _generator(seed + 1)
            )
        torch.manual_seed(seed)
        out[name] = train_student(p.x, p.y, p.train, p.val, cfg, p.data.num_classes, z_t, hc)
        status(f"{p.data.name}: student {name} trained (val acc {out[name][1]['val_accuracy']:.1f}%)")
    return out


def run_transductive(data: HypergraphData, teacher_cfg: TeacherConfig, students: dict[str, StudentConfig],
                     split: SplitConfig, seed: int, device: torch.device, return_models: bool = False,
                     status: Status = _silent) -> dict[str, Any]:  # fmt: skip
    """One seed of the transductive setting: teacher then students; test accuracy, macro-F1, topology scores.

    With ``return_models``, ``result["models"]`` maps ``"teacher"`` and every student's name to its trained
    model; ``status`` receives a line after each model is trained.
    """
    p = prepare(data, split, seed, device)
    torch.manual_seed(seed)
    teacher, t_info = train_teacher(p.x, p.y, p.hg, p.train, p.val, teacher_cfg, data.num_classes)
    status(f"{data.name}: teacher {teacher_cfg.kind} trained (val acc {t_info['val_accuracy']:.1f}%)")
    test_y = data.y[p.test.cpu().numpy()]
    with torch.no_grad():
        result = {"teacher": {**scores(test_y, teacher(p.x, p.hg)[p.test]), **t_info,
                              "topology": topology_score(teacher.embed(p.x, p.hg), p.hg)}}  # fmt: skip
    trained = distill_students(p, teacher, students, seed, status)
    for name, (model, info) in trained.items():
        with torch.no_grad():
            result[name] = {**scores(test_y, model(p.x)[p.test]), **info,
                            "topology": topology_score(model.embed(p.x), p.hg)}  # fmt: skip
    if return_models:
        result["models"] = {"teacher": teacher, **{name: model for name, (model, _) in trained.items()}}
    return result


def run_production(data: HypergraphData, teacher_cfg: TeacherConfig, students: dict[str, StudentConfig],
                   split: SplitConfig, seed: int, device: torch.device, return_models: bool = False,
                   status: Status = _silent) -> dict[str, Any]:  # fmt: skip
    """One seed of the production setting (spec Method 8): ``trans`` / ``ind`` / ``prod`` test accuracy.

    ``return_models`` and ``status`` as in :func:`run_transductive`.
    """
    train, val, test = splits(data, split, seed)
    ind, obs_test = production_split(test, split.test_ind_ratio, seed)
    obs = np.concatenate([train, val, obs_test])
    sub = HypergraphData(
        f"{data.name} (production)", data.X[obs], data.y[obs], sub_hyperedges(data.edges, obs)
    )
    n_tr, n_va = len(train), len(val)
    ar = lambda a, b: torch.arange(a, b, device=device)  # noqa: E731
    p = Prepared(sub, as_features(sub.X, device), torch.as_tensor(sub.y, device=device),
                 build_hypergraph(sub.num_v, sub.edges, device=str(device)),
                 ar(0, n_tr), ar(n_tr, n_tr + n_va), ar(n_tr + n_va, len(obs)))  # fmt: skip
    torch.manual_seed(seed)
    teacher, t_info = train_teacher(p.x, p.y, p.hg, p.train, p.val, teacher_cfg, data.num_classes)
    status(f"{data.name} (production): teacher {teacher_cfg.kind} trained on {len(obs)} observed vertices")
    x_full = as_features(data.X, device)
    hg_full = build_hypergraph(data.num_v, data.edges, device=str(device))
    ind_t, test_t = torch.as_tensor(ind, device=device), torch.as_tensor(test, device=device)

    def evaluate(obs_logits: Tensor, full_logits: Tensor) -> dict[str, float]:
        out = {}
        for key, y_true, logits in (("trans", sub.y[p.test.cpu().numpy()], obs_logits[p.test]),
                                    ("ind", data.y[ind], full_logits[ind_t]),
                                    ("prod", data.y[test], full_logits[test_t])):  # fmt: skip
            if len(y_true):
                out.update({f"{key}_{k}": v for k, v in scores(y_true, logits).items()})
        return out

    with torch.no_grad():
        result = {"teacher": {**evaluate(teacher(p.x, p.hg), teacher(x_full, hg_full)), **t_info}}
    trained = distill_students(p, teacher, students, seed, status)
    for name, (model, info) in trained.items():
        with torch.no_grad():
            result[name] = {**evaluate(model(p.x), model(x_full)), **info}
    if return_models:
        result["models"] = {"teacher": teacher, **{name: model for name, (model, _) in trained.items()}}
    result["observed_vertices"] = len(obs)
    result["unobserved_vertices"] = len(ind)
    return result
