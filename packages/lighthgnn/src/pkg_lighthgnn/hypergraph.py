"""Hypergraphs on ``dhg`` and the hand-computed operators they are checked against (spec Method 1-2).

Notation: N vertices, M hyperedges, incidence ``H`` (N x M, binary), vertex degrees ``D_v = diag(H 1)``,
hyperedge degrees ``D_e = diag(1^T H)`` (all hyperedge weights 1).

* :func:`build_hypergraph`: a ``dhg.Hypergraph`` from a hyperedge list (duplicates merged by dhg), with the
  singleton fix for isolated vertices (official ``fix_iso_v``).
* :func:`graph_to_hyperedges`: a graph turned into hyperedges: every edge ``{u, v}`` plus every closed 1-hop
  neighbourhood ``{v} U N(v)`` (dhg ``Hypergraph.from_graph`` + ``add_hyperedges_from_graph_kHop(g, 1)``).
* :func:`hgnn_operator` / :func:`hgnnp_operator`: ``L = D_v^-1/2 H D_e^-1 H^T D_v^-1/2`` and the two-stage mean
  ``D_v^-1 H D_e^-1 H^T`` as scipy matrices, the reference for dhg's ``HGNNConv`` / ``HGNNPConv``.
* :func:`sub_hyperedges`: the observed sub-hypergraph of the production setting (Method 8).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import dhg
import numpy as np
import scipy.sparse as sp
import torch

from pkg_shared.data import DataError

Hyperedges = list[list[int]]

# dhg builds its sparse incidence with torch.sparse_coo_tensor from indices it has just made itself; torch then
# warns, once per process, that invariant checks are off. The message says nothing a user can act on.
warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")
# dhg's L_HGNN multiplies sparse CSR matrices, and torch warns once that CSR support is "in beta".
warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")


class HypergraphError(DataError):
    """A hyperedge list that does not describe a hypergraph on the given vertices."""


def check_hyperedges(num_v: int, edges: Sequence[Sequence[int]]) -> Hyperedges:
    """Validate ``edges`` on vertices ``0..num_v-1``; returns them as lists of ints.

    Raises :class:`HypergraphError` for an empty hyperedge or a vertex id outside ``0..num_v-1``.
    """
    if num_v < 1:
        raise HypergraphError(f"a hypergraph needs at least one vertex, got num_v={num_v}")
    out = [list(map(int, e)) for e in edges]
    ptr, idx = to_csr(out)
    sizes = np.diff(ptr)
    if (sizes == 0).any():
        raise HypergraphError(f"hyperedge {int(np.argmax(sizes == 0))} is empty")
    bad = (idx < 0) | (idx >= num_v)
    if bad.any():
        pos = int(np.argmax(bad))
        edge = int(np.searchsorted(ptr, pos, side="right") - 1)
        raise HypergraphError(
            f"hyperedge {edge} references vertex {int(idx[pos])}, but there are only {num_v} vertices"
        )
    return out


def to_csr(edges: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Hyperedges as CSR parts ``(ptr, idx)``: hyperedge j is ``idx[ptr[j]:ptr[j+1]]``."""
    sizes = np.fromiter((len(e) for e in edges), dtype=np.int64, count=len(edges))
    ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    idx = np.fromiter((v for e in edges for v in e), dtype=np.int64, count=int(ptr[-1]))
    return ptr, idx


def from_csr(ptr: np.ndarray, idx: np.ndarray) -> Hyperedges:
    """Inverse of :func:`to_csr`."""
    return [chunk.tolist() for chunk in np.split(np.asarray(idx), np.asarray(ptr)[1:-1])]


def incidence(num_v: int, edges: Sequence[Sequence[int]]) -> sp.csr_matrix:
    """Binary incidence matrix ``H`` (N x M); a vertex listed twice in one hyperedge counts once."""
    ptr, idx = to_csr(edges)
    cols = np.repeat(np.arange(len(edges)), np.diff(ptr))
    H = sp.csr_matrix((np.ones(len(idx)), (idx, cols)), shape=(num_v, len(edges)))
    H.data[:] = 1.0
    return H


def isolated_vertices(num_v: int, edges: Sequence[Sequence[int]]) -> np.ndarray:
    """Vertices that lie in no hyperedge."""
    _, idx = to_csr(edges)
    return np.flatnonzero(np.bincount(idx, minlength=num_v) == 0)


def fix_isolated(num_v: int, edges: Sequence[Sequence[int]]) -> Hyperedges:
    """Add a singleton hyperedge ``{v}`` for every vertex in no hyperedge (official ``fix_iso_v``)."""
    return [list(e) for e in edges] + [[int(v)] for v in isolated_vertices(num_v, edges)]


def build_hypergraph(
    num_v: int, edges: Sequence[Sequence[int]], *, fix_iso: bool = True, device: str = "cpu"
) -> dhg.Hypergraph:
    """A ``dhg.Hypergraph`` (duplicate hyperedges merged, weights 1), singleton-fixed unless ``fix_iso=False``."""
    edges = check_hyperedges(num_v, edges)
    if fix_iso:
        edges = fix_isolated(num_v, edges)
    return dhg.Hypergraph(num_v, edges, device=torch.device(device))


def hyperedges_of(hg: dhg.Hypergraph) -> Hyperedges:
    """The hyperedge list of a dhg hypergraph, in dhg's hyperedge order (after merging duplicates)."""
    return [list(e) for e in hg.e[0]]


def graph_to_hyperedges(num_v: int, edge_index: np.ndarray) -> Hyperedges:
    """Hyperedges of a graph dataset: each undirected edge ``{u, v}`` and each closed 1-hop neighbourhood.

    This is dhg's ``Hypergraph.from_graph(g)`` followed by ``add_hyperedges_from_graph_kHop(g, 1)`` (the
    official construction for a hypergraph teacher on Cora/Citeseer/Pubmed), computed with scipy; dhg merges
    the duplicates (a degree-1 vertex's neighbourhood equals its edge) when the hypergraph is built.
    Self-loops are dropped from the pair hyperedges, as dhg's ``Graph`` does.
    """
    edge_index = np.asarray(edge_index, dtype=np.int64)
    if edge_index.ndim != 2 or edge_index.shape[0] != 2:
        raise HypergraphError(f"edge_index must have shape (2, E), got {edge_index.shape}")
    if edge_index.size and (edge_index.min() < 0 or edge_index.max() >= num_v):
        raise HypergraphError(f"edge_index references vertices outside 0..{num_v - 1}")
    u, v = edge_index
    keep = u != v
    pairs = np.unique(np.sort(np.stack([u[keep], v[keep]], axis=1), axis=1), axis=0)
    A = sp.csr_matrix((np.ones(len(pairs) * 2), (np.r_[pairs[:, 0], pairs[:, 1]], np.r_[pairs[:, 1], pairs[:, 0]])),
                      shape=(num_v, num_v))  # fmt: skip
    A = (A + sp.eye(num_v, format="csr")).tocsr()
    A.sort_indices()
    hoods = from_csr(A.indptr.astype(np.int64), A.indices.astype(np.int64))
    return pairs.tolist() + hoods


def _inv(values: np.ndarray, power: float = 1.0) -> np.ndarray:
    out = np.zeros_like(values, dtype=np.float64)
    nz = values > 0
    out[nz] = values[nz] ** -power
    return out


def hgnn_operator(num_v: int, edges: Sequence[Sequence[int]]) -> sp.csr_matrix:
    """``L = D_v^-1/2 H D_e^-1 H^T D_v^-1/2`` (HGNN, Feng et al. 2019), hand-computed with scipy."""
    H = incidence(num_v, edges)
    dv, de = np.asarray(H.sum(1)).ravel(), np.asarray(H.sum(0)).ravel()
    Dv = sp.diags(_inv(dv, 0.5))
    return (Dv @ H @ sp.diags(_inv(de)) @ H.T @ Dv).tocsr()


def hgnnp_operator(num_v: int, edges: Sequence[Sequence[int]]) -> sp.csr_matrix:
    """``D_v^-1 H D_e^-1 H^T``: vertex -> hyperedge mean, then hyperedge -> vertex mean (HGNN+)."""
    H = incidence(num_v, edges)
    dv, de = np.asarray(H.sum(1)).ravel(), np.asarray(H.sum(0)).ravel()
    return (sp.diags(_inv(dv)) @ H @ sp.diags(_inv(de)) @ H.T).tocsr()


def sub_hyperedges(edges: Sequence[Sequence[int]], keep: np.ndarray) -> Hyperedges:
    """The sub-hypergraph on vertices ``keep`` (renumbered ``0..len(keep)-1`` in that order).

    Every hyperedge keeps its members in ``keep``; hyperedges left with at least one member stay (spec
    Method 8, official ``sub_hypergraph``). Isolated vertices are not fixed here.
    """
    keep = np.asarray(keep, dtype=np.int64)
    ptr, idx = to_csr(edges)
    new_id = np.full(max(int(idx.max(initial=-1)), int(keep.max(initial=-1))) + 1, -1, dtype=np.int64)
    new_id[keep] = np.arange(len(keep))
    mapped = new_id[idx]
    edge_of = np.repeat(np.arange(len(edges)), np.diff(ptr))
    observed = mapped >= 0
    counts = np.bincount(edge_of[observed], minlength=len(edges))
    new_ptr = np.concatenate([[0], np.cumsum(counts[counts > 0])])
    return from_csr(new_ptr, mapped[observed])
