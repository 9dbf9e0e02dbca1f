"""Side by side with FuxiCTR's FinalMLP (skipped unless ``fuxictr`` and its model_zoo source are importable).

Set ``FUXICTR_FINALMLP_SRC`` to a checkout's ``model_zoo/FinalMLP/src`` in an environment with PyPI ``fuxictr``.
"""

import os
import sys
from collections import OrderedDict

import pytest
import torch

from pkg_finalmlp import CTRModel, ModelConfig

fuxictr = pytest.importorskip("fuxictr")
if not os.environ.get("FUXICTR_FINALMLP_SRC"):
    pytest.skip("FUXICTR_FINALMLP_SRC not set", allow_module_level=True)
sys.path.insert(0, os.environ["FUXICTR_FINALMLP_SRC"])
FxFinalMLP = pytest.importorskip("FinalMLP").FinalMLP
FIELDS = {"user": 7, "item": 9, "a": 3}


def copy_into(mine: CTRModel, fx, cfg: ModelConfig) -> None:
    names = list(FIELDS)
    with torch.no_grad():
        for j, n in enumerate(names):
            fx.embedding_layer.embedding_layer.embedding_layers[n].weight.copy_(mine.embedding.field_table(j))
        for i, ctx in enumerate((cfg.fs1_context, cfg.fs2_context), 1):
            gate = mine.gates[i - 1]
            if ctx:
                tables = getattr(fx.fs_module, f"fs{i}_ctx_emb").embedding_layer.embedding_layers
                for j, n in enumerate(ctx):
                    tables[n].weight.copy_(gate.context_embedding.field_table(j))
            else:
                getattr(fx.fs_module, f"fs{i}_ctx_bias").copy_(gate.context_bias)
            pairs = [(gate.mlp, getattr(fx.fs_module, f"fs{i}_gate"))]
            pairs += [((mine.mlp1, mine.mlp2)[i - 1], (fx.mlp1, fx.mlp2)[i - 1])]
            for a, b in pairs:
                for s, d in zip(a.state_dict().values(), b.state_dict().values(), strict=True):
                    d.copy_(s)
        f, g = mine.fusion, fx.fusion_module
        for s, d in (
            (f.w1.weight, g.w_x.weight),
            (f.w1.bias, g.w_x.bias),
            (f.w2.weight, g.w_y.weight),
            (f.w2.bias, g.w_y.bias),
        ):
            d.copy_(s)
        g.w_xy.copy_(f.w3.reshape(-1, 1))


@pytest.mark.parametrize("contexts", [((), ()), (("user",), ("item", "a"))])
def test_same_forward_output_for_copied_weights(tmp_path, contexts):
    cfg = ModelConfig(
        mlp1=(12, 8), mlp2=(6,), fs_hidden=(5,), heads=2, fs1_context=contexts[0], fs2_context=contexts[1]
    )
    fm = fuxictr.features.FeatureMap("t", str(tmp_path))
    fm.features = OrderedDict(
        (n, {"type": "categorical", "vocab_size": v, "padding_idx": 0, "source": ""})
        for n, v in FIELDS.items()
    )
    fm.labels, fm.num_fields = ["label"], len(FIELDS)
    fx = FxFinalMLP(fm, gpu=-1, embedding_dim=10, mlp1_hidden_units=[12, 8], mlp1_batch_norm=True, mlp2_hidden_units=[6],
                    mlp2_batch_norm=True, fs_hidden_units=[5], fs1_context=list(contexts[0]), fs2_context=list(contexts[1]),
                    num_heads=2, optimizer="adam", loss="binary_crossentropy", verbose=0, model_root=str(tmp_path),
                    metrics=["AUC"])  # fmt: skip
    mine = CTRModel(FIELDS, cfg)
    with torch.no_grad():
        for p in mine.parameters():
            p.add_(0.3 * torch.randn_like(p))
    copy_into(mine, fx, cfg)
    mine.eval()
    fx.eval()
    x = torch.stack([torch.randint(0, v, (64,)) for v in FIELDS.values()], 1)
    expected = fx({n: x[:, j] for j, n in enumerate(FIELDS)})["y_pred"].squeeze(-1)
    torch.testing.assert_close(torch.sigmoid(mine(x)), expected, atol=1e-5, rtol=0)
