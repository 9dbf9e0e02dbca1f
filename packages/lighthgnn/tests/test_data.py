import numpy as np
import pytest
import scipy.sparse as sp
from dhg.utils import split_by_num as dhg_split_by_num

from pkg_lighthgnn.data import (
    NOISE_RATE,
    TOPIC_RATE,
    HypergraphData,
    hypergraph_sbm,
    load_dataset,
    production_split,
    split_by_num,
)
from pkg_lighthgnn.hypergraph import build_hypergraph, isolated_vertices, sub_hyperedges
from pkg_shared.data import DataError, DatasetMissing


def test_split_sizes_match_dhg():
    y = np.random.default_rng(0).integers(0, 5, 1000)
    train, val, test = split_by_num(y, 20, 100, seed=3)
    tr, va, te = dhg_split_by_num(len(y), y, 20, 100)
    assert (len(train), len(val), len(test)) == (int(tr.sum()), int(va.sum()), int(te.sum()))
    assert len(train) == 20 * 5 and len(val) == 100 * 5
    assert len(np.unique(np.concatenate([train, val, test]))) == len(y)
    assert all((y[train] == c).sum() == 20 for c in range(5))
    np.testing.assert_array_equal(split_by_num(y, 20, 100, seed=3)[0], train)  # deterministic


def test_production_split_and_observed_sub_hypergraph():
    data = hypergraph_sbm(600, 3, 300, d=60, seed=0)
    _, _, test = split_by_num(data.y, 20, 100, seed=0)
    ind, obs_test = production_split(test, 0.9, seed=0)
    assert len(ind) == int(len(test) * 0.9) and len(np.intersect1d(ind, obs_test)) == 0
    obs = np.setdiff1d(np.arange(600), ind)
    edges = sub_hyperedges(data.edges, obs)
    assert all(len(e) >= 1 for e in edges) and max(max(e) for e in edges) < len(obs)
    assert min(build_hypergraph(len(obs), edges).deg_v) >= 1


def test_hypergraph_sbm_structure():
    pure = hypergraph_sbm(300, 3, 200, edge_size_range=(2, 5), purity=1.0, d=30, seed=1)
    assert pure.X.shape == (300, 30) and sp.issparse(pure.X) and pure.num_classes == 3
    assert all(len(set(pure.y[e])) == 1 for e in pure.edges)  # purity 1: one class per hyperedge
    assert all(1 <= len(e) <= 5 for e in pure.edges)
    mixed = hypergraph_sbm(300, 3, 200, purity=0.0, d=30, seed=1)
    assert np.mean([len(set(mixed.y[e])) > 1 for e in mixed.edges]) > 0.5
    with pytest.raises(DataError):
        hypergraph_sbm(300, 3, 200, purity=1.5)


@pytest.mark.parametrize("feat_noise", [0.0, 0.65, 1.0])
def test_hypergraph_sbm_word_rates_are_the_documented_ones(feat_noise):
    """Own-class topic words are on with prob. 0.12 (1 - noise) + 0.02 noise, other words with 0.02 noise."""
    assert f"{TOPIC_RATE} (1 - feat_noise) + {NOISE_RATE} feat_noise" in hypergraph_sbm.__doc__
    assert f"{NOISE_RATE} feat_noise``;" in hypergraph_sbm.__doc__
    data = hypergraph_sbm(3000, 3, 10, d=300, feat_noise=feat_noise, seed=0)
    X = data.X.toarray()
    own = np.zeros_like(X, dtype=bool)
    for c in range(3):
        own[np.ix_(data.y == c, np.arange(c * 100, (c + 1) * 100))] = True
    assert X[own].mean() == pytest.approx(TOPIC_RATE * (1 - feat_noise) + NOISE_RATE * feat_noise, abs=0.003)
    assert X[~own].mean() == pytest.approx(NOISE_RATE * feat_noise, abs=0.002)


def _write(folder, name="cora.npz", **overrides):
    x = sp.csr_matrix(np.eye(4, dtype=np.float32))
    arrays = dict(x_data=x.data, x_indices=x.indices, x_indptr=x.indptr, x_shape=np.array(x.shape),
                  y=np.array([0, 1, 0, 1]), hyperedge_ptr=np.array([0, 2, 4]), hyperedge_idx=np.array([0, 1, 2, 3]))  # fmt: skip
    arrays.update(overrides)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / name, **arrays)
    return folder / name


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"hyperedge_idx": np.array([0, 1, 2, 9])}, "column index 9 at position 3 is outside"),
        ({"hyperedge_ptr": np.array([0, 3, 2])}, "CSR indptr must start at 0, never decrease"),
        ({"hyperedge_ptr": np.array([0, 2, 7])}, "CSR indptr must start at 0, never decrease and end at 4"),
        ({"x_indices": np.array([0, 1, 2, 40])}, "column index 40"),
        ({"x_indptr": np.array([0, 1, 2])}, "CSR indptr has length 3"),
        ({"x_data": np.array([1.0, np.nan, 1.0, 1.0], np.float32)}, "not finite"),
        ({"x_shape": np.array([4, -1])}, "x_shape must be two positive whole numbers"),
        ({"y": np.array([0, 1, 0, -3])}, "label -3 at position 3"),
        ({"y": np.array([0, 1, 0])}, "one label per vertex"),
        ({"hyperedge_ptr": np.array([0, 2, 2, 4])}, "hyperedge 1 is empty"),
    ],
)
def test_damaged_dataset_arrays_are_data_errors(tmp_path, overrides, message):
    _write(tmp_path / "hypergraph-coauthorship", **overrides)
    with pytest.raises(DataError, match=message):
        load_dataset("ca-cora", tmp_path)


def test_truncated_and_bad_graph_files_are_data_errors(tmp_path):
    path = _write(tmp_path / "hypergraph-cocitation")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataError, match=r"cora\.npz is not a readable \.npz"):
        load_dataset("cc-cora", tmp_path)
    _write(tmp_path / "planetoid", edge_index=np.array([[0, 1], [1, 7]]))
    with pytest.raises(DataError, match="edge_index vertex 7"):
        load_dataset("cora", tmp_path)
    _write(tmp_path / "planetoid", edge_index=np.array([0, 1, 2]))
    with pytest.raises(DataError, match=r"shape \(2, E\)"):
        load_dataset("cora", tmp_path)


def test_mismatched_features_and_labels_are_rejected():
    with pytest.raises(DataError, match="3 feature rows but 4 labels"):
        HypergraphData("x", np.zeros((3, 2), np.float32), np.zeros(4), [[0, 1]])


def test_missing_data_root_names_files_and_source(tmp_path):
    with pytest.raises(DatasetMissing, match=r"cora\.npz.*HyperGCN"):
        load_dataset("cc-cora", tmp_path)
    with pytest.raises(DatasetMissing, match=r"pubmed\.npz"):
        load_dataset("pubmed", tmp_path)
    with pytest.raises(DataError, match="unknown dataset"):
        load_dataset("news20", tmp_path)


@pytest.mark.data
@pytest.mark.parametrize(
    ("name", "n", "m", "d", "c", "isolated"),
    [
        ("cc-cora", 2708, 1579, 1433, 7, 1274),
        ("cc-citeseer", 3312, 1079, 3703, 6, 1854),
        ("ca-cora", 2708, 1072, 1433, 7, 320),
    ],
)
def test_real_hypergraphs(data_dir, name, n, m, d, c, isolated):
    data = load_dataset(name, data_dir)
    assert data.X.shape == (n, d) and data.num_classes == c and len(data.edges) == m
    assert len(isolated_vertices(n, data.edges)) == isolated
    assert min(build_hypergraph(n, data.edges).deg_v) >= 1


@pytest.mark.data
def test_planetoid_graph_becomes_hypergraph(data_dir):
    data = load_dataset("cora", data_dir)
    hg = build_hypergraph(data.num_v, data.edges)
    # 5,278 edges + 2,708 neighbourhoods, duplicates merged: the count dhg's own from_graph + kHop gives
    assert data.num_v == 2708 and hg.num_e == 7440
    assert min(hg.deg_v) >= 1
