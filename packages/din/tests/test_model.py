import pytest
import torch

from pkg_din.config import ModelConfig
from pkg_din.model import CTRModel, Schema
from pkg_din.regularisation import feature_counts, mba_penalty
from pkg_shared.errors import UserError

SCHEMA = Schema(n_items=30, n_cates=6, profile={"gender": 4})
CATES = torch.tensor([0, 1, *[2 + i % 4 for i in range(28)]])


def _model(kind="din", **kw):
    torch.manual_seed(0)
    return CTRModel(
        SCHEMA, ModelConfig(model=kind, item_dim=4, cate_dim=4, profile_dim=3, mlp=(8,), **kw), CATES
    )


def _batch(b=5, length=7):
    g = torch.Generator().manual_seed(1)
    hist = torch.randint(2, 30, (b, length), generator=g)
    mask = torch.arange(length) < torch.tensor([7, 3, 0, 5, 1])[:b, None]
    return {
        "item": torch.randint(2, 30, (b,), generator=g),
        "hist": hist * mask,
        "hist_mask": mask,
        "gender": torch.randint(2, 4, (b,), generator=g),
        "label": torch.tensor([1.0, 0, 1, 0, 1])[:b],
    }


@pytest.mark.parametrize("kind", ["base", "din", "din-dice"])
def test_shapes_gradients_and_no_nan_for_empty_history(kind, device):
    model = _model(kind).to(device).train()
    batch = {k: v.to(device) for k, v in _batch().items()}
    model.check(batch)
    logits = model(batch)
    assert logits.shape == (5,) and torch.isfinite(logits).all()
    torch.nn.functional.binary_cross_entropy_with_logits(logits, batch["label"]).backward()
    assert model.item_emb.weight.grad.abs().sum() > 0 and model.mlp[0].weight.grad.abs().sum() > 0
    assert torch.all(model.item_emb.weight.grad[0] == 0)  # padding row


def test_base_pools_by_sum_and_din_output_changes_with_the_candidate():
    batch = _batch()
    base = _model("base")
    v_u, _ = base.user_vector(batch)
    e = base.embed_items(batch["hist"]) * batch["hist_mask"].unsqueeze(-1)
    assert torch.allclose(v_u, e.sum(1))
    din = _model("din").eval()
    other = {**batch, "item": (batch["item"] + 1) % 28 + 2}
    assert not torch.allclose(din.user_vector(batch)[0][0], din.user_vector(other)[0][0])
    assert torch.allclose(base.user_vector(batch)[0], base.user_vector(other)[0])


def test_items_share_tables_and_categories_come_from_the_lookup():
    model = _model()
    ids = torch.tensor([5, 9])
    e = model.embed_items(ids)
    assert torch.equal(e[:, :4], model.item_emb.weight[ids])
    assert torch.equal(e[:, 4:], model.cate_emb.weight[CATES[ids]])


def test_bad_input_is_a_user_error():
    model = _model()
    batch = _batch()
    with pytest.raises(UserError, match="outside"):
        model.check({**batch, "item": batch["item"] + 100})
    with pytest.raises(UserError, match="agree"):
        model.check({**batch, "hist_mask": batch["hist_mask"][:, :3]})
    with pytest.raises(UserError, match="lacks"):
        model.check({k: v for k, v in batch.items() if k != "gender"})
    with pytest.raises(UserError, match="BaseModel"):
        _model("base").attention_weights(batch)


def test_mba_gradient_touches_only_rows_in_the_batch_and_equals_lambda_w_over_n():
    model = _model()
    train = _batch()
    counts = feature_counts(model, train)
    batch = {k: v[:2] for k, v in train.items()}
    lam = 0.3
    mba_penalty(model, batch, counts, lam).backward()
    grad, w = model.item_emb.weight.grad, model.item_emb.weight.detach()
    present = torch.zeros(30, dtype=torch.bool)
    present[torch.cat([batch["item"], batch["hist"].flatten()])] = True
    present[0] = False
    assert torch.all(grad[~present] == 0)
    n = counts["item"][present].unsqueeze(-1)
    assert torch.allclose(grad[present], lam * w[present] / n)
    assert counts["item"][batch["item"][0]] >= 1
