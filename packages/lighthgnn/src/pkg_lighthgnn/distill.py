"""LightHGNN's distillation terms and the topology-aware score (spec Method 4-6).

* LightHGNN: ``L = lambda CE(Z_s[train], y[train]) + (1 - lambda) L_KD`` with
  ``L_KD = KL(softmax(Z_t / tau) || softmax(Z_s / tau))`` averaged over all vertices of the training graph.
* LightHGNN+: ``L = lambda CE + (1 - lambda) (L_KD + L_HC)``. Each hyperedge gets a reliability
  ``rho_e = 1 - delta_e / max delta`` from the change ``delta_e = |h'_e - h_e|`` of the teacher's mean
  prediction entropy on its vertices when the features are perturbed (:func:`hyperedge_reliability`);
  every epoch hyperedges are drawn with ``mask_e ~ Bernoulli(rho_e)`` and ``L_HC = KL(t_e || s_e)`` matches
  the hyperedge soft labels ``s_e, t_e = mean_{v in e} softmax(Z)_v`` over the drawn hyperedges.
* ``variant="official"`` reproduces the official code's ``F.kl_div(..., log_target=True)`` calls, whose
  target is a probability read as a log-probability (effective target ~ ``exp(p_t)``), and its ``L_HC``
  dividing probabilities (not logits) by ``tau``. ``variant="paper"`` (default) is the KL divergence as written.
* :func:`topology_score`: ``mean_e mean_{v in e} ||m_e - x_v||_2`` with ``m_e = mean_{v in e} x_v``.
"""

from __future__ import annotations

import dhg
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pkg_shared.errors import UserError

from .features import Features, perturb

VARIANTS = ("paper", "official")


def _check_variant(variant: str) -> None:
    if variant not in VARIANTS:
        raise UserError(f"unknown KD variant {variant!r} (one of {', '.join(VARIANTS)})")


def kd_loss(z_s: Tensor, z_t: Tensor, tau: float = 1.0, variant: str = "paper") -> Tensor:
    """Vertex soft-label loss ``L_KD``, summed over classes and averaged over vertices (``batchmean``).

    ``paper``: ``KL(softmax(z_t / tau) || softmax(z_s / tau))``. ``official``:
    ``F.kl_div(log_softmax(z_s), softmax(z_t), log_target=True)`` (no temperature), as in the official code.
    """
    _check_variant(variant)
    if variant == "official":
        return F.kl_div(F.log_softmax(z_s, 1), F.softmax(z_t, 1), reduction="batchmean", log_target=True)
    return F.kl_div(
        F.log_softmax(z_s / tau, 1), F.log_softmax(z_t / tau, 1), reduction="batchmean", log_target=True
    )


def entropy(logits: Tensor) -> Tensor:
    """Prediction entropy ``h_v = -sum_c p_vc log p_vc`` per row, with ``0 log 0 = 0``."""
    return torch.special.entr(F.softmax(logits, dim=1)).sum(1)


def hyperedge_mean(values: Tensor, hg: dhg.Hypergraph) -> Tensor:
    """``mean_{v in e} values_v`` for every hyperedge (dhg ``v2e`` with mean aggregation), shape (M, k)."""
    return hg.v2e(values, aggr="mean")


@torch.no_grad()
def hyperedge_reliability(
    teacher: nn.Module,
    x: Features,
    hg: dhg.Hypergraph,
    noise_level: float = 1.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """``rho_e = 1 - delta_e / max_e delta_e`` in [0, 1] (spec Method 5a-c); larger means more reliable.

    ``delta_e = |h'_e - h_e|``, ``h_e`` the mean teacher entropy over the hyperedge's vertices on ``X`` and
    ``h'_e`` the same on ``X' = X (eps + 1) noise_level``. When no hyperedge changes (max delta = 0) every
    hyperedge is fully reliable (``rho = 1``; the official code would divide by zero).
    """
    teacher.eval()
    h_e = hyperedge_mean(entropy(teacher(x, hg))[:, None], hg)
    h_noisy = hyperedge_mean(entropy(teacher(perturb(x, noise_level, generator), hg))[:, None], hg)
    delta = (h_noisy - h_e).abs().squeeze(1)
    top = delta.max()
    return torch.ones_like(delta) if top <= 0 else 1.0 - delta / top


def hyperedge_kd_loss(
    z_s: Tensor,
    z_t: Tensor,
    hg: dhg.Hypergraph,
    mask: Tensor | None = None,
    tau: float = 1.0,
    variant: str = "paper",
) -> Tensor:
    """``L_HC``: KL between teacher and student hyperedge soft labels over the hyperedges in ``mask``.

    ``paper``: ``t_e, s_e`` are hyperedge means of ``softmax(z / tau)``; the loss is ``KL(t_e || s_e)``
    averaged over the selected hyperedges. ``official``: ``F.kl_div(log(s_e / tau), t_e / tau,
    log_target=True)`` with means of ``softmax(z)``. Zero when no hyperedge is selected.
    """
    _check_variant(variant)
    scale = 1.0 if variant == "official" else tau
    s_e = hyperedge_mean(F.softmax(z_s / scale, 1), hg)
    t_e = hyperedge_mean(F.softmax(z_t / scale, 1), hg)
    if mask is not None:
        s_e, t_e = s_e[mask], t_e[mask]
    if len(s_e) == 0:
        return z_s.sum() * 0.0
    if variant == "official":
        return F.kl_div(torch.log(s_e / tau), t_e / tau, reduction="batchmean", log_target=True)
    return (torch.xlogy(t_e, t_e) - t_e * torch.log(s_e.clamp_min(1e-30))).sum() / len(s_e)


class HighOrderConstraint:
    """LightHGNN+'s extra term: reliabilities computed once, a Bernoulli draw of hyperedges per epoch."""

    def __init__(
        self,
        teacher: nn.Module,
        x: Features,
        hg: dhg.Hypergraph,
        noise_level: float = 1.0,
        tau: float = 1.0,
        variant: str = "paper",
        generator: torch.Generator | None = None,
    ) -> None:
        self.hg, self.tau, self.variant, self.generator = hg, tau, variant, generator
        self.rho = hyperedge_reliability(teacher, x, hg, noise_level, generator)

    def sample(self) -> Tensor:
        """``mask_e ~ Bernoulli(rho_e)``, a fresh draw (call once per epoch)."""
        rho = self.rho.cpu()
        return torch.bernoulli(rho, generator=self.generator).bool().to(self.rho.device)

    def __call__(self, z_s: Tensor, z_t: Tensor) -> Tensor:
        """``L_HC`` on a fresh Bernoulli draw of hyperedges."""
        return hyperedge_kd_loss(z_s, z_t, self.hg, self.sample(), self.tau, self.variant)


@torch.no_grad()
def topology_score(emb: Tensor, hg: dhg.Hypergraph) -> float:
    """Topology-aware score (spec Method 6): mean over hyperedges of ``mean_{v in e} ||m_e - x_v||_2``.

    Low values mean the members of each hyperedge are embedded close together (over-smoothing when
    everything collapses); computed on hidden embeddings (teacher layer 1, student hidden layer).
    """
    m = hyperedge_mean(emb, hg)
    H = hg.H.coalesce()
    v, e = H.indices()
    dist = (m[e] - emb[v]).norm(dim=1)
    per_edge = torch.zeros(hg.num_e, device=emb.device).index_add_(0, e, dist)
    size = torch.zeros(hg.num_e, device=emb.device).index_add_(0, e, torch.ones_like(dist))
    return float((per_edge / size).mean())
