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

from pkg_shared.data import DataError, check_csr, check_finite, check_index, load_npz, require_files

from .config import DATASETS, GRAPHS, REAL, SplitConfig, SyntheticConfig
from .hypergraph import Hyperedges, check_hyperedges, from_csr, graph_to_hyperedges

__all__ = ["DATASETS", "HypergraphData", "hypergraph_sbm", "load_dataset", "production_split", "split_by_num"]

# hypergraph_sbm's word probabilities: a vertex switches on each topic word of its class with probability
# TOPIC_RATE (1 - feat_noise) and every word with probability NOISE_RATE feat_noise (see its docstring).
TOPIC_RATE = 0.12
NOISE_RATE = 0.02


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


def _shape(arrays: dict, path: Path) -> tuple[int, int]:
    shape = np.asarray(arrays["x_shape"])
    if shape.shape != (2,) or not np.issubdtype(shape.dtype, np.integer) or (shape < 1).any():
        raise DataError(f"{path}: x_shape must be two positive whole numbers, got {shape.tolist()}")
    return int(shape[0]), int(shape[1])


def _csr_features(arrays: dict, path: Path) -> sp.csr_matrix:
    """The bag-of-words features, their CSR structure and values checked before scipy sees them."""
    shape = _shape(arrays, path)
    indptr, indices = check_csr(arrays["x_indptr"], arrays["x_indices"], shape, path)
    data = check_finite(arrays["x_data"], path, "x_data")
    if len(data) != len(indices):
        raise DataError(f"{path}: x_data holds {len(data)} values for {len(indices)} column indices")
    return sp.csr_matrix((data.astype(np.float32), indices, indptr), shape=shape)


def _labels(arrays: dict, n: int, path: Path) -> np.ndarray:
    y = np.asarray(arrays["y"])
    if y.ndim != 1 or len(y) != n:
        raise DataError(f"{path}: y must hold one label per vertex ({n}), got shape {y.shape}")
    return check_index(y, max(n, 1), path, "label")


def load_dataset(
    name: str, root: str | Path | None = None, synthetic: SyntheticConfig | None = None, seed: int = 0
) -> HypergraphData:
    """One dataset by name (see the module table); ``synthetic`` is generated from ``synthetic`` and ``seed``.

    Every array of a real file is validated before use (CSR structure, index bounds, finite values, one
    label per vertex), so a damaged file is a :class:`~pkg_shared.data.DataError` naming it.
    """
    if name == "synthetic":
        return hypergraph_sbm(**vars(synthetic or SyntheticConfig()), seed=seed)
    if name not in REAL:
        raise DataError(f"unknown dataset {name!r} (one of {', '.join(DATASETS)})")
    folder_name, filename, source = REAL[name]
    path = require_files(folder_name, [filename], root=root, source=source) / filename
    features = ["x_data", "x_indices", "x_indptr", "x_shape", "y"]
    if name in GRAPHS:
        arrays = load_npz(path, [*features, "edge_index"])
        X = _csr_features(arrays, path)
        edge_index = np.asarray(arrays["edge_index"])
        if edge_index.ndim != 2 or edge_index.shape[0] != 2:
            raise DataError(f"{path}: edge_index must have shape (2, E), got {edge_index.shape}")
        # flattened: check_index names the first bad value correctly only for 1-D arrays (pkg-shared 0.2.0)
        check_index(edge_index.ravel(), X.shape[0], path, "edge_index vertex")
        edges = graph_to_hyperedges(X.shape[0], edge_index)
    else:
        arrays = load_npz(path, [*features, "hyperedge_ptr", "hyperedge_idx"])
        X = _csr_features(arrays, path)
        ptr = np.asarray(arrays["hyperedge_ptr"])
        ptr, idx = check_csr(ptr, arrays["hyperedge_idx"], (max(len(ptr) - 1, 0), X.shape[0]), path)
        edges = from_csr(ptr, idx)
    return HypergraphData(name, X, _labels(arrays, X.shape[0], path), edges)


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
    Features are sparse binary words: each class owns ``d // n_classes`` topic words; a vertex switches on
    each word independently: a topic word of its own class with probability
    ``TOPIC_RATE (1 - feat_noise) + NOISE_RATE feat_noise = 0.12 (1 - feat_noise) + 0.02 feat_noise``, any
    other word with probability ``NOISE_RATE feat_noise = 0.02 feat_noise``; so ``feat_noise`` trades class
    signal for noise. The defaults (``SyntheticConfig``) give a plain MLP about 50% and an HGNN about 77% test accuracy at 20 labels per
    class, the spec's "MLP ~45-55%, HGNN ~70-80%".
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
    prob = TOPIC_RATE * (1 - feat_noise) * topic[y] + NOISE_RATE * feat_noise
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
