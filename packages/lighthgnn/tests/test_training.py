import numpy as np
import pytest
import scipy.sparse as sp
import torch

from pkg_lighthgnn.config import SplitConfig, StudentConfig, SyntheticConfig, TeacherConfig
from pkg_lighthgnn.data import hypergraph_sbm, splits
from pkg_lighthgnn.features import as_features
from pkg_lighthgnn.hypergraph import build_hypergraph, hgnn_operator, hgnnp_operator, hyperedges_of
from pkg_lighthgnn.model import Teacher
from pkg_lighthgnn.reference import dhg_conv_max_abs_diff
from pkg_lighthgnn.training import run_production, run_transductive

OPERATORS = {"hgnn": hgnn_operator, "hgnnp": hgnnp_operator}


@pytest.mark.parametrize("kind", ["hgnn", "hgnnp"])
@pytest.mark.parametrize("sparse", [False, True])
def test_teacher_end_to_end_equals_hand_computation(kind, sparse):
    """Eval-mode teacher = ``L ReLU(L (X Theta1 + b1)) Theta2 + ...`` with L computed by hand (spec Method 2)."""
    rng = np.random.default_rng(0)
    edges = [rng.choice(15, rng.integers(1, 5), replace=False).tolist() for _ in range(9)]
    hg = build_hypergraph(15, edges)
    X = (rng.random((15, 7)) < 0.4).astype(np.float32)
    torch.manual_seed(0)
    teacher = Teacher(7, 3, hid=5, kind=kind).eval()
    x = as_features(sp.csr_matrix(X) if sparse else X)
    with torch.no_grad():
        ours = teacher(x, hg).double().numpy()
    L = OPERATORS[kind](15, hyperedges_of(hg)).toarray()
    W1, b1 = (p.detach().double().numpy() for p in (teacher.layer1.theta.weight, teacher.layer1.theta.bias))
    W2, b2 = (p.detach().double().numpy() for p in (teacher.layer2.theta.weight, teacher.layer2.theta.bias))
    hidden = np.maximum(L @ (X @ W1.T + b1), 0.0)  # linear first, then smoothing; ReLU; no dropout in eval
    expected = L @ (hidden @ W2.T + b2)
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def test_dhg_convolutions_match_operators_on_a_dataset_hypergraph():
    data = hypergraph_sbm(300, 3, 150, d=30, seed=0)
    diffs = dhg_conv_max_abs_diff(build_hypergraph(data.num_v, data.edges), seed=1)
    assert set(diffs) == {"hgnn", "hgnnp"} and max(diffs.values()) < 1e-5


@pytest.fixture(scope="module")
def tiny():
    return hypergraph_sbm(**{**vars(SyntheticConfig(n=300, n_classes=3, n_edges=150, d=45)), "seed": 0})


@pytest.mark.parametrize("run_fn", [run_transductive, run_production])
def test_return_models_gives_every_student_its_own_model(tiny, run_fn):
    """``result["models"][name]`` is the model whose scores ``result[name]`` reports (not the last one)."""
    names = ("light_hgnn", "mlp")  # the last-trained student used to be returned for every one
    students = {k: StudentConfig(kind=k, epochs=2) for k in names}
    split = SplitConfig(num_train=10, num_val=20)
    res = run_fn(tiny, TeacherConfig(epochs=2), students, split, 0, torch.device("cpu"), return_models=True)
    models = res["models"]
    assert set(models) == {"teacher", *names}
    assert len({id(m) for m in models.values()}) == len(models)
    _, _, test = splits(tiny, split, 0)
    x = as_features(tiny.X)
    key = "accuracy" if run_fn is run_transductive else "prod_accuracy"  # prod: every test vertex, full data
    for name in names:
        with torch.no_grad():
            pred = models[name](x)[torch.as_tensor(test)].argmax(1).numpy()
        assert res[name][key] == pytest.approx(100.0 * np.mean(pred == tiny.y[test])), name
