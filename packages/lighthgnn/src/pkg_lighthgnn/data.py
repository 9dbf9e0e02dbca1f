"""Datasets (spec Data): real hypergraphs and graphs from the data root, and the ``hypergraph_sbm`` stand-in.

Every loader returns a :class:`HypergraphData`: features ``X`` (float32, scipy CSR for bag-of-words),
labels ``y`` (int64, 0-based) and the hyperedge list as given (the singleton fix and dhg's merging of
duplicates happen in :func:`pkg_lighthgnn.hypergraph.build_hypergraph`). Nothing is downloaded.

| name | folder / file of the data root | hyperedges |
|---|---|---|
| ``cc-cora``, ``cc-citeseer`` | ``hypergraph-cocitation/{cora,citeseer}.npz`` | co-citation (HyperGCN) |
| ``ca-cora`` | ``hypergraph-coauthorship/cora.npz`` | co-authorship (HyperGCN) |
| ``cora``, ``citeseer``, ``pubmed`` | ``planetoid/{cora,citeseer,pubmed}.npz`` | edges + closed 1-hop neighbourhoods |
| ``synthetic`` | generated (:func:`hypergraph_sbm`) | class-biased random hyperedges |
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from pkg_shared.data import DataError, load_npz, require_files

from .config import SplitConfig, SyntheticConfig
from .hypergraph import Hyperedges, check_hyperedges, from_csr, graph_to_hyperedges

HYPERGCN = "https://github.com/malllabiisc/HyperGCN (data/cocitation, data/coauthorship; see SOURCE.md)"
PLANETOID = "https://github.com/kimiyoung/planetoid (data/ind.*; see SOURCE.md)"
REAL = {
    "cc-cora": ("hypergraph-cocitation", "cora.npz", HYPERGCN),
    "cc-citeseer": ("hypergraph-cocitation", "citeseer.npz", HYPERGCN),
    "ca-cora": ("hypergraph-coauthorship", "cora.npz", HYPERGCN),
    "cora": ("planetoid", "cora.npz", PLANETOID),
    "citeseer": ("planetoid", "citeseer.npz", PLANETOID),
    "pubmed": ("planetoid", "pubmed.npz", PLANETOID + "; PubMed is not in the project's copy"),
}
GRAPHS = ("cora", "citeseer", "pubmed")
DATASETS = ("synthetic", *REAL)


@dataclass
class HypergraphData:
    """Features ``X`` (N x d), labels ``y`` (N,) and hyperedges on vertices ``0..N-1``."""

    name: str
    X: sp.csr_matrix | np.ndarray
    y: np.ndarray
    edges: Hyperedges

    def __post_init__(self) -> None:
        self.y = np.asarray(self.y, dtype=np.int64)
        if self.X.ndim != 2 or self.y.ndim != 1:
            raise DataError(f"{self.name}: features must be (N, d) and labels (N,)")
        if self.X.shape[0] != len(self.y):
            raise DataError(f"{self.name}: {self.X.shape[0]} feature rows but {len(self.y)} labels")
        if len(self.y) and self.y.min() < 0:
            raise DataError(f"{self.name}: labels must be 0-based class ids")
        self.edges = check_hyperedges(len(self.y), self.edges)

    @property
    def num_v(self) -> int:
        return len(self.y)

    @property
    def num_classes(self) -> int:
        return int(self.y.max()) + 1


def _csr_features(arrays: dict) -> sp.csr_matrix:
    shape = tuple(int(s) for s in arrays["x_shape"])
    return sp.csr_matrix(
        (arrays["x_data"].astype(np.float32), arrays["x_indices"], arrays["x_indptr"]), shape=shape
    )


def load_dataset(
    name: str, root: str | Path | None = None, synthetic: SyntheticConfig | None = None, seed: int = 0
) -> HypergraphData:
    """One dataset by name (see the module table); ``synthetic`` is generated from ``synthetic`` and ``seed``."""
    if name == "synthetic":
        return hypergraph_sbm(**vars(synthetic or SyntheticConfig()), seed=seed)
    if name not in REAL:
        raise DataError(f"unknown dataset {name!r} (one of {', '.join(DATASETS)})")
    folder_name, filename, source = REAL[name]
    folder = require_files(folder_name, [filename], root=root, source=source)
    if name in GRAPHS:
        arrays = load_npz(
            folder / filename, ["x_data", "x_indices", "x_indptr", "x_shape", "y", "edge_index"]
        )
        n = int(arrays["x_shape"][0])
        edges = graph_to_hyperedges(n, arrays["edge_index"])
    else:
        arrays = load_npz(
            folder / filename,
            ["x_data", "x_indices", "x_indptr", "x_shape", "y", "hyperedge_ptr", "hyperedge_idx"],
        )
        edges = from_csr(arrays["hyperedge_ptr"], arrays["hyperedge_idx"])
    return HypergraphData(name, _csr_features(arrays), arrays["y"], edges)


def hypergraph_sbm(
    n: int,
    n_classes: int,
    n_edges: int,
    edge_size_range: tuple[int, int] = (2, 6),
    purity: float = 0.5,
    d: int = 500,
    feat_noise: float = 0.65,
    seed: int = 0,
) -> HypergraphData:
    """A hypergraph stochastic block model with bag-of-words features (the spec's offline stand-in).

    Labels are uniform over ``n_classes``. Each hyperedge draws a size in ``edge_size_range``; with
    probability ``purity`` it picks a class and draws all members from it, else members come from all
    vertices (members are drawn with replacement and de-duplicated, so a hyperedge can come out smaller).
    Features are sparse binary words: each class owns ``d / n_classes`` topic words; a vertex switches on
    each of its class's words with probability ``0.04 (1 - feat_noise)`` and every word with probability
    ``0.02 feat_noise``, so ``feat_noise`` trades class signal for noise.
    """
    lo, hi = edge_size_range
    if n < n_classes or n_classes < 2 or n_edges < 1 or not 1 <= lo <= hi or d < n_classes:
        raise DataError(
            f"hypergraph_sbm: bad sizes n={n}, n_classes={n_classes}, n_edges={n_edges}, sizes={edge_size_range}, d={d}"
        )
    if not (0 <= purity <= 1 and 0 <= feat_noise <= 1):
        raise DataError("hypergraph_sbm: purity and feat_noise must lie in [0, 1]")
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    y[:n_classes] = np.arange(n_classes)  # every class present
    order = np.argsort(y, kind="stable")
    start = np.searchsorted(y[order], np.arange(n_classes))
    count = np.bincount(y, minlength=n_classes)

    sizes = rng.integers(lo, hi + 1, n_edges)
    cls = rng.integers(0, n_classes, n_edges)
    pure = rng.random(n_edges) < purity
    u = rng.random((n_edges, hi))
    members = np.where(
        pure[:, None],
        order[start[cls][:, None] + (u * count[cls][:, None]).astype(np.int64)],
        (u * n).astype(np.int64),
    )
    members = np.sort(members, axis=1)
    valid = np.arange(hi)[None, :] < sizes[:, None]
    valid[:, 1:] &= members[:, 1:] != members[:, :-1]
    edges = [row[ok].tolist() for row, ok in zip(members, valid)]

    words = d // n_classes
    topic = np.zeros((n_classes, d))
    for c in range(n_classes):
        topic[c, c * words : (c + 1) * words] = 1.0
    prob = 0.12 * (1 - feat_noise) * topic[y] + 0.02 * feat_noise
    X = sp.csr_matrix((rng.random((n, d)) < prob).astype(np.float32))
    return HypergraphData("synthetic", X, y, edges)


def split_by_num(
    y: np.ndarray, num_train: int, num_val: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per class: ``num_train`` training and ``num_val`` validation vertices at random, the rest test.

    The sizes of dhg's ``split_by_num`` (``num_val`` counts per class); returns sorted index arrays.
    """
    if num_train < 1 or num_val < 0:
        raise DataError(f"need num_train >= 1 and num_val >= 0, got {num_train}, {num_val}")
    rng = np.random.default_rng(seed)
    parts: tuple[list, list, list] = ([], [], [])
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        parts[0].append(members[:num_train])
        parts[1].append(members[num_train : num_train + num_val])
        parts[2].append(members[num_train + num_val :])
    return tuple(np.sort(np.concatenate(p)).astype(np.int64) for p in parts)  # type: ignore[return-value]


def production_split(test: np.ndarray, ratio: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle the test vertices: the first ``int(len * ratio)`` are unobserved (inductive), the rest observed.

    Returns ``(inductive, observed_test)`` as sorted index arrays (spec Method 8, ``test_ind_ratio``).
    """
    if not 0 <= ratio <= 1:
        raise DataError(f"test_ind_ratio must lie in [0, 1], got {ratio}")
    perm = np.random.default_rng(seed).permutation(np.asarray(test))
    k = int(len(perm) * ratio)
    return np.sort(perm[:k]), np.sort(perm[k:])


def splits(data: HypergraphData, cfg: SplitConfig, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The transductive split of ``data`` for ``seed``; raises when a class is too small for it."""
    train, val, test = split_by_num(data.y, cfg.num_train, cfg.num_val, seed)
    if len(test) == 0:
        raise DataError(f"{data.name}: no test vertices left after {cfg.num_train}+{cfg.num_val} per class")
    return train, val, test
