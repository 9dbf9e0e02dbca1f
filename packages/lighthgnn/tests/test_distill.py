import numpy as np
import pytest
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from pkg_lighthgnn.config import StudentConfig
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
from pkg_lighthgnn.training import student_loss, train_student


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


def _trained_student(x: torch.Tensor) -> StudentMLP:
    """A student after a few training steps, so that batch norm's running statistics are not the identity."""
    torch.manual_seed(0)
    student = StudentMLP(x.shape[1], 3, hid=16)
    opt = torch.optim.SGD(student.parameters(), lr=0.1)
    for _ in range(5):
        opt.zero_grad()
        student(x).sum().backward()
        opt.step()
    return student.eval()


def test_student_prediction_is_per_vertex(toy):
    """Each vertex's prediction depends on its own features only: no neighbour, no batch statistic."""
    _, x = toy
    student = _trained_student(x)
    with torch.no_grad():
        full = student(x)
        perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(1))
        torch.testing.assert_close(student(x[perm]), full[perm])
        torch.testing.assert_close(student(x[3:4]), full[3:4])  # one vertex alone
        other = x.clone()
        other[4:] = torch.rand_like(other[4:])  # every other vertex changes
        torch.testing.assert_close(student(other)[:4], full[:4])


def test_student_forward_calls_no_hypergraph_operation(toy, monkeypatch):
    """With every dhg message-passing operation made to fail, the teacher fails and the student does not."""
    import dhg

    hg, x = toy
    teacher, student = Teacher(6, 3, hid=8).eval(), _trained_student(x)

    def forbidden(*args, **kwargs):
        raise AssertionError("a hypergraph operation was called")

    for name in ("smoothing_with_HGNN", "v2e", "e2v", "v2v", "L_HGNN"):
        monkeypatch.setattr(dhg.Hypergraph, name, property(forbidden) if name == "L_HGNN" else forbidden)
    with pytest.raises(AssertionError, match="hypergraph operation"):
        teacher(x, hg)
    with torch.no_grad():
        assert student(x).shape == (12, 3)


def test_student_loss_includes_the_hyperedge_term(toy):
    """LightHGNN+'s loss is LightHGNN's plus L_HC (spec Method 5e), with lambda weighting both."""
    hg, x = toy
    teacher = Teacher(6, 3, hid=8).eval()
    z_t = teacher(x, hg).detach()
    z_s = torch.randn(12, 3)
    y, train = torch.randint(0, 3, (12,)), torch.arange(6)
    hc = HighOrderConstraint(teacher, x, hg, generator=torch.Generator().manual_seed(0))
    hc.rho = torch.ones_like(hc.rho)  # every hyperedge drawn: the mask is deterministic
    l_hc = hyperedge_kd_loss(z_s, z_t, hg)
    assert l_hc.item() > 1e-3
    for lamb in (0.0, 0.3):
        plus = student_loss(StudentConfig(kind="light_hgnnp", lamb=lamb), z_s, y, train, z_t, hc)
        plain = student_loss(StudentConfig(kind="light_hgnn", lamb=lamb), z_s, y, train, z_t, hc)
        expected = lamb * F.cross_entropy(z_s[train], y[train]) + (1 - lamb) * (kd_loss(z_s, z_t) + l_hc)
        assert plus.item() == pytest.approx(expected.item(), rel=1e-5)
        assert (plus - plain).item() == pytest.approx((1 - lamb) * l_hc.item(), rel=1e-4)


def test_light_hgnnp_training_draws_and_uses_the_hyperedge_term(toy):
    """Training LightHGNN+ calls L_HC once per epoch, and it changes the learnt weights."""
    hg, x = toy
    teacher = Teacher(6, 3, hid=8).eval()
    z_t = teacher(x, hg).detach()
    y, train, val = (
        torch.randint(0, 3, (12,), generator=torch.Generator().manual_seed(2)),
        torch.arange(6),
        torch.arange(6, 12),
    )
    hc = HighOrderConstraint(teacher, x, hg, generator=torch.Generator().manual_seed(0))
    calls = []
    original = HighOrderConstraint.__call__

    class Spy(HighOrderConstraint):
        def __call__(self, z_s, z_t):
            calls.append(1)
            return original(self, z_s, z_t)

    hc.__class__ = Spy
    weights = {}
    for kind in ("light_hgnn", "light_hgnnp"):
        torch.manual_seed(0)
        model, _ = train_student(x, y, train, val, StudentConfig(kind=kind, epochs=4), 3, z_t, hc)
        weights[kind] = model.hidden[0].weight.detach().clone()
    assert len(calls) == 4
    assert not torch.allclose(weights["light_hgnn"], weights["light_hgnnp"])


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
