import dhg
import numpy as np
import pytest
import torch
from dhg.nn import HGNNConv, HGNNPConv

from pkg_lighthgnn.hypergraph import (
    HypergraphError,
    build_hypergraph,
    check_hyperedges,
    fix_isolated,
    graph_to_hyperedges,
    hgnn_operator,
    hgnnp_operator,
    hyperedges_of,
    incidence,
    sub_hyperedges,
)

TOY = [[0, 1, 2], [2, 3]]


def test_toy_hgnn_operator_by_hand():
    # D_v = diag(1, 1, 2, 1), D_e = diag(3, 2)
    H = np.array([[1, 0], [1, 0], [1, 1], [0, 1]], dtype=float)
    dv = np.diag([1, 1, 2**-0.5, 1])
    expected = dv @ H @ np.diag([1 / 3, 1 / 2]) @ H.T @ dv
    L = hgnn_operator(4, TOY).toarray()
    np.testing.assert_allclose(L, expected, atol=1e-12)
    assert L[0, 1] == pytest.approx(1 / 3) and L[2, 3] == pytest.approx(0.5 / 2**0.5)


def test_hgnn_operator_spectrum_and_fixed_vector():
    rng = np.random.default_rng(0)
    edges = fix_isolated(30, [rng.choice(30, rng.integers(1, 6), replace=False).tolist() for _ in range(20)])
    L = hgnn_operator(30, edges).toarray()
    np.testing.assert_allclose(L, L.T, atol=1e-12)
    eig = np.linalg.eigvalsh(L)
    assert eig.min() >= -1e-10 and eig.max() <= 1 + 1e-10
    sqrt_dv = np.sqrt(np.asarray(incidence(30, edges).sum(1)).ravel())
    np.testing.assert_allclose(L @ sqrt_dv, sqrt_dv, atol=1e-10)  # L D_v^1/2 1 = D_v^1/2 1


def test_hgnnp_operator_rows_sum_to_one():
    P = hgnnp_operator(4, TOY).toarray()
    np.testing.assert_allclose(P.sum(1), 1.0)
    np.testing.assert_allclose(P[2], [1 / 6, 1 / 6, 1 / 6 + 1 / 4, 1 / 4])


def test_singleton_fix_gives_every_vertex_degree_one_or_more():
    hg = build_hypergraph(7, TOY)
    assert min(hg.deg_v) >= 1 and hg.num_e == 2 + 3
    assert min(build_hypergraph(7, TOY, fix_iso=False).deg_v) == 0


@pytest.mark.parametrize(("conv", "operator"), [(HGNNConv, hgnn_operator), (HGNNPConv, hgnnp_operator)])
def test_dhg_convolutions_equal_hand_computed_operators(conv, operator):
    rng = np.random.default_rng(1)
    raw = [rng.choice(40, rng.integers(1, 7), replace=False).tolist() for _ in range(35)] + [[3, 4], [4, 3]]
    hg = build_hypergraph(40, raw)
    edges = hyperedges_of(hg)  # dhg merged the duplicate {3, 4}
    assert len(edges) < len(fix_isolated(40, raw))
    layer = conv(16, 8, is_last=True).eval()
    x = torch.randn(40, 16)
    with torch.no_grad():
        ours = torch.from_numpy(operator(40, edges).toarray()).float() @ layer.theta(x)
        np.testing.assert_allclose(layer(x, hg).numpy(), ours.numpy(), atol=1e-5)


def test_graph_to_hyperedges_matches_dhg_construction():
    rng = np.random.default_rng(2)
    pairs = rng.integers(0, 25, (2, 40))
    edge_index = np.concatenate([pairs, pairs[::-1]], axis=1)
    ours = build_hypergraph(25, graph_to_hyperedges(25, edge_index))
    keep = pairs[0] != pairs[1]
    g = dhg.Graph(25, pairs.T[keep].tolist())
    ref = dhg.Hypergraph.from_graph(g)
    ref.add_hyperedges_from_graph_kHop(g, 1)
    ref_edges = {tuple(sorted(e)) for e in hyperedges_of(ref)}
    ref_edges |= {(v,) for v in np.flatnonzero(np.asarray(ref.deg_v) == 0)}
    assert {tuple(sorted(e)) for e in hyperedges_of(ours)} == ref_edges


def test_sub_hyperedges_keeps_observed_members():
    edges = [[0, 1, 2], [3, 4], [1, 4], [5]]
    keep = np.array([4, 1, 0])  # new ids: 4 -> 0, 1 -> 1, 0 -> 2
    assert sub_hyperedges(edges, keep) == [[2, 1], [0], [1, 0]]


@pytest.mark.parametrize(
    ("edges", "message"), [([[0, 1], []], "hyperedge 1 is empty"), ([[0, 5]], "references vertex 5")]
)
def test_bad_hyperedges(edges, message):
    with pytest.raises(HypergraphError, match=message):
        check_hyperedges(4, edges)
