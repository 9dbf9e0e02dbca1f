import numpy as np
import pytest
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from pkg_lighthgnn.distill import (
    HighOrderConstraint,
    entropy,
    hyperedge_kd_loss,
    hyperedge_mean,
    hyperedge_reliability,
    kd_loss,
    topology_score,
)
from pkg_lighthgnn.features import CSRFeatures, FeatureLinear, as_features, perturb
from pkg_lighthgnn.hypergraph import build_hypergraph, hyperedges_of
from pkg_lighthgnn.model import StudentMLP, Teacher


@pytest.fixture
def toy():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    edges = [rng.choice(12, rng.integers(1, 5), replace=False).tolist() for _ in range(8)]
    hg = build_hypergraph(12, edges)
    x = torch.rand(12, 6)
    return hg, x


def test_kd_loss_zero_at_equality_and_matches_formula():
    z_t, z_s = torch.randn(10, 4), torch.randn(10, 4)
    assert kd_loss(z_t, z_t).item() == pytest.approx(0.0, abs=1e-6)
    p_t = F.softmax(z_t / 2, 1)
    expected = (p_t * (p_t.log() - F.log_softmax(z_s / 2, 1))).sum(1).mean()
    assert kd_loss(z_s, z_t, tau=2.0).item() == pytest.approx(expected.item(), rel=1e-5)
    # the official quirk: the probabilities are read as log-probabilities (target ~ exp(p_t))
    q = F.softmax(z_t, 1)
    quirk = (q.exp() * (q - F.log_softmax(z_s, 1))).sum(1).mean()
    assert kd_loss(z_s, z_t, variant="official").item() == pytest.approx(quirk.item(), rel=1e-5)
    assert kd_loss(z_t, z_t, variant="official").item() > 0.1


def test_kd_loss_gradient_matches_finite_differences():
    z_t = torch.randn(5, 3, dtype=torch.float64)
    z_s = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z: kd_loss(z, z_t, tau=1.5), (z_s,))


def test_reliability_in_unit_interval_and_zero_at_max_change(toy):
    hg, x = toy
    teacher = Teacher(6, 3, hid=8)
    rho = hyperedge_reliability(teacher, x, hg, 1.0, torch.Generator().manual_seed(0))
    assert rho.shape == (hg.num_e,) and rho.min() >= 0 and rho.max() <= 1
    assert rho.min() == 0.0  # the hyperedge whose entropy moved most
    rho0 = hyperedge_reliability(teacher, x, hg, 0.0)  # X' = 0: still runs
    assert torch.isfinite(rho0).all()


def test_hyperedge_soft_labels_of_singletons_and_zero_loss():
    hg = build_hypergraph(3, [[0, 1], [2]])
    z = torch.randn(3, 4)
    t_e = hyperedge_mean(F.softmax(z, 1), hg)
    edges = hyperedges_of(hg)
    single = edges.index([2])
    torch.testing.assert_close(t_e[single], F.softmax(z, 1)[2])
    assert hyperedge_kd_loss(z, z, hg).item() == pytest.approx(0.0, abs=1e-6)
    assert hyperedge_kd_loss(torch.randn(3, 4), z, hg).item() > 0


def test_high_order_constraint_draws_fresh_masks(toy):
    hg, x = toy
    hc = HighOrderConstraint(Teacher(6, 3, hid=8), x, hg, generator=torch.Generator().manual_seed(1))
    masks = torch.stack([hc.sample() for _ in range(50)]).float()
    assert (masks.mean(0) - hc.rho).abs().max() < 0.35  # Bernoulli(rho_e) per epoch
    assert torch.isfinite(hc(torch.randn(12, 3), torch.randn(12, 3)))


def test_topology_score_matches_a_loop(toy):
    hg, _ = toy
    emb = torch.randn(12, 5)
    per_edge = []
    for e in hyperedges_of(hg):
        m = emb[e].mean(0)
        per_edge.append(np.mean([(m - emb[v]).norm().item() for v in e]))
    assert topology_score(emb, hg) == pytest.approx(np.mean(per_edge), rel=1e-5)


def test_entropy_handles_saturated_rows():
    h = entropy(torch.tensor([[1000.0, 0.0], [0.0, 0.0]]))
    assert h[0] == 0.0 and h[1].item() == pytest.approx(np.log(2))


def test_student_never_touches_the_hypergraph(toy):
    hg, x = toy
    student = StudentMLP(6, 3, hid=16).eval()
    before = student(x)
    del hg
    torch.testing.assert_close(student(x), before)


def test_sparse_features_give_the_dense_linear_map_and_gradients():
    rng = np.random.default_rng(0)
    m = sp.random(30, 20, density=0.1, random_state=1, dtype=np.float32).tocsr()
    sparse, dense = as_features(m), torch.from_numpy(m.toarray())
    assert isinstance(sparse, CSRFeatures)
    layer = FeatureLinear(20, 7)
    g = torch.from_numpy(rng.standard_normal((30, 7)).astype(np.float32))
    (layer(sparse) * g).sum().backward()
    grad_sparse = layer.weight.grad.clone()
    layer.weight.grad = None
    (layer(dense) * g).sum().backward()
    torch.testing.assert_close(layer(sparse), layer(dense))
    torch.testing.assert_close(grad_sparse, layer.weight.grad)
    noisy = perturb(sparse, 1.0, torch.Generator().manual_seed(0))
    assert (noisy.matrix != 0).sum() <= m.nnz  # zeros stay zero


def test_teacher_and_student_shapes_and_gradients(device):
    hg = build_hypergraph(12, [[0, 1, 2], [3, 4]], device=device)
    x = torch.rand(12, 6, device=device)
    teacher = Teacher(6, 3, hid=8, kind="hgnnp").to(device)
    student = StudentMLP(6, 3, hid=16).to(device)
    z_t, z_s = teacher(x, hg), student(x)
    assert z_t.shape == z_s.shape == (12, 3)
    (z_t.sum() + kd_loss(z_s, z_t.detach()) + hyperedge_kd_loss(z_s, z_t.detach(), hg)).backward()
    assert all(p.grad is not None for p in [*teacher.parameters(), *student.parameters()])
