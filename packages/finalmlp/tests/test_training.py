import numpy as np
import pytest
from sklearn.metrics import log_loss as sk_log_loss
from sklearn.metrics import roc_auc_score

from pkg_finalmlp import ModelConfig, TrainConfig, train_model
from pkg_finalmlp.training import ctr_metrics
from pkg_shared.ctr import Batches


def test_metrics_equal_sklearn_and_clip_logloss():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p = rng.random(500)
    m = ctr_metrics(y, p)
    assert m["auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert m["logloss"] == pytest.approx(sk_log_loss(y, p), abs=1e-12)
    hard = np.array([0.0, 1.0, 1.0, 0.0])
    expected = -np.log(1e-7) / 2  # two of four rows confidently wrong, clipped at 1e-7
    assert ctr_metrics(np.array([1, 0, 1, 0]), hard)["logloss"] == pytest.approx(expected, rel=1e-6)


def test_batches_cover_the_split_once_per_pass(tiny_data):
    b = Batches(tiny_data.table("train"), 300, shuffle=True)
    rows = [batch["x"] for batch in b]
    assert len(rows) == len(b) and sum(len(r) for r in rows) == len(tiny_data.y["train"])
    first, second = [batch["x"] for batch in b][0], rows[0]
    assert not np.array_equal(first.numpy(), second.numpy())  # reshuffled


def test_protocol_early_stops_decays_lr_and_reloads_best(tiny_data):
    cfg = ModelConfig(mlp1=(16,), mlp2=(8,), fs_hidden=(8,), heads=2)
    model, res = train_model(
        tiny_data, cfg, TrainConfig(batch_size=128, epochs=30, patience=2, lr=3e-3), seed=0
    )
    h = res.history
    assert res.epochs < 30 and res.best_epoch == max(range(len(h)), key=lambda i: h[i]["val_auc"]) + 1
    assert res.epochs - res.best_epoch == 2  # stopped after `patience` epochs without improvement
    best, decays = -1.0, 0
    for row in h:  # lr x0.1 after every epoch whose validation AUC did not improve
        assert row["lr"] == pytest.approx(3e-3 * 0.1**decays)
        decays, best = (decays, row["val_auc"]) if row["val_auc"] > best else (decays + 1, best)
    from pkg_finalmlp import evaluate_split

    assert evaluate_split(model, tiny_data, "valid")["auc"] == pytest.approx(res.val_auc, abs=1e-9)
    assert res.test_auc > 0.6


@pytest.mark.slow
@pytest.mark.data
def test_regression_seed_fixed_ml100k_auc(data_dir):
    """FinalMLP with the ml100k-ctr preset, seed 0: test AUC measured when this package was written."""
    from pkg_finalmlp import PRESETS, load_dataset

    preset = PRESETS["ml100k-ctr"]
    _, res = train_model(load_dataset("ml100k", data_dir), preset.model, preset.train, seed=0)
    assert res.test_auc == pytest.approx(
        0.7771, abs=0.002
    )  # the FuxiCTR side-by-side training run, ours, seed 0


def test_small_search_is_a_cut_of_the_spec_grid():
    from pkg_finalmlp import PRESETS
    from pkg_finalmlp.config import SMALL_GRID, grid, staged

    base = PRESETS["ml100k-ctr"]
    assert [len(grid(m, base)) for m in ("dnn", "dualmlp", "finalmlp")] == [4, 4, 16]
    spec_grid = {
        (p.model.dropout1, p.train.emb_reg, p.model.fs1_context, p.model.heads)
        for p in grid("finalmlp", base)
    }
    for model in ("dnn", "dualmlp", "finalmlp"):
        stage1 = staged(model, base)
        assert [(p.model.model, p.model.dropout1, p.model.dropout2) for p in stage1] == [
            (model, d, d) for d in SMALL_GRID["dropout"]
        ]
        assert len(staged(model, base, best=stage1[1])) == (2 if model == "finalmlp" else 0)
    stage1 = staged("finalmlp", base)
    stage2 = staged("finalmlp", base, best=stage1[0])  # winner: dropout 0.2, contexts user_id/item_id, K = 2
    assert {(p.model.dropout1, p.model.fs1_context, p.model.fs2_context, p.model.heads) for p in stage2} == {
        (0.2, (), (), 2),
        (0.2, ("user_id",), ("item_id",), 1),
    }
    assert {
        (p.model.dropout1, p.train.emb_reg, p.model.fs1_context, p.model.heads) for p in stage1 + stage2
    } <= spec_grid
