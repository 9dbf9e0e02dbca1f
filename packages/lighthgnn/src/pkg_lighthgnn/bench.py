"""Inference speed (spec Method 9): HGNN / HGNN+ teachers vs the MLP student on random hypergraphs.

For each N: a random hypergraph with N hyperedges of uniformly random members (sizes in ``edge_size_range``,
dhg ``random.hypergraph_Gnm``-style), random dense features (N x d) and C classes. Timed, in eval mode under
``torch.no_grad()`` after warm-up, median of ``repeats`` (CUDA synchronised):

* ``mlp``: the student's forward pass (features only);
* ``<teacher>_warm``: the teacher's forward pass with the dhg hypergraph and its operator already built;
* ``<teacher>_cold``: build the ``dhg.Hypergraph`` from the hyperedge list, its operator (``L_HGNN``, or the
  mean-aggregation matrices for HGNN+) and run the forward pass: what serving a changed hypergraph costs.

The paper's "~100x" (Fig. on 5.5w vertices) is a GPU figure; which of warm/cold it means is not stated.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import dhg
import numpy as np
import torch

from .model import StudentMLP, Teacher


def random_hyperedges(num_v: int, num_e: int, size_range: tuple[int, int], seed: int = 0) -> list[list[int]]:
    """``num_e`` hyperedges with sizes uniform in ``size_range`` and distinct members drawn uniformly."""
    lo, hi = size_range
    rng = np.random.default_rng(seed)
    sizes = rng.integers(lo, hi + 1, num_e)
    members = np.sort(rng.integers(0, num_v, (num_e, hi)), axis=1)
    valid = np.arange(hi)[None, :] < sizes[:, None]
    valid[:, 1:] &= members[:, 1:] != members[:, :-1]
    return [row[ok].tolist() for row, ok in zip(members, valid)]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_call(fn: Callable[[], Any], device: torch.device, repeats: int, warmup: int = 2) -> float:
    """Median seconds of ``fn()`` over ``repeats`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


@torch.no_grad()
def speed_row(num_v: int, *, d: int = 256, n_classes: int = 10, edge_size_range: tuple[int, int] = (2, 10),
              teachers: Sequence[str] = ("hgnn",), repeats: int = 5, cold_repeats: int = 2,
              device: torch.device | str = "cpu", seed: int = 0) -> dict[str, float]:  # fmt: skip
    """Milliseconds per forward pass at ``num_v`` vertices, and the teacher / student ratios."""
    device = torch.device(device)
    gen = torch.Generator().manual_seed(seed)
    edges = random_hyperedges(num_v, num_v, edge_size_range, seed)
    x = torch.randn(num_v, d, generator=gen).to(device)
    student = StudentMLP(d, n_classes).to(device).eval()
    row: dict[str, float] = {"num_v": num_v, "mlp_ms": 1e3 * time_call(lambda: student(x), device, repeats)}
    for kind in teachers:
        teacher = Teacher(d, n_classes, kind=kind).to(device).eval()
        hg = dhg.Hypergraph(num_v, edges, device=device)
        warm = time_call(lambda: teacher(x, hg), device, repeats)  # noqa: B023  (called right here)
        cold = time_call(lambda: teacher(x, dhg.Hypergraph(num_v, edges, device=device)), device,  # noqa: B023
                         cold_repeats, warmup=0)  # fmt: skip
        row[f"{kind}_warm_ms"], row[f"{kind}_cold_ms"] = 1e3 * warm, 1e3 * cold
        row[f"{kind}_warm_ratio"] = row[f"{kind}_warm_ms"] / row["mlp_ms"]
        row[f"{kind}_cold_ratio"] = row[f"{kind}_cold_ms"] / row["mlp_ms"]
    return row


def speed_curve(num_vs: Sequence[int], **kwargs: Any) -> list[dict[str, float]]:
    """:func:`speed_row` for every N in ``num_vs``."""
    return [speed_row(n, **kwargs) for n in num_vs]


def speed_plot(rows: Sequence[dict[str, float]], path, title: str = "") -> None:
    """Milliseconds per forward pass against N (log y), one line per model and mode."""
    from pkg_shared.plots import line_plot

    keys = [k for k in rows[0] if k.endswith("_ms")]
    line_plot(path, [r["num_v"] for r in rows], {k.removesuffix("_ms"): [r[k] for r in rows] for k in keys},
              xlabel="vertices", ylabel="ms per forward pass", title=title, logy=True)  # fmt: skip
