"""Side by side with FuxiCTR, the official implementation (``pkg-finalmlp reference``).

FuxiCTR is not a dependency. Its layers come from PyPI (``pip install fuxictr``); its ``FinalMLP`` and
``DualMLP`` classes live outside the wheel, in ``model_zoo/FinalMLP/src`` of a checkout of
https://github.com/reczoo/FuxiCTR: point ``--source`` (or ``$FUXICTR_FINALMLP_SRC``) at that folder.

Each comparison builds our model and FuxiCTR's on the same fields, perturbs every weight of ours (so that no
check passes on zeros), copies them into FuxiCTR's model (one ``nn.Embedding`` per categorical field, an
``nn.Linear(1, k)`` per numeric field, the gate MLPs, the streams, the fusion) and returns the largest
difference of the click probabilities on random inputs in eval mode (a match is below 1e-5). Context fields
are given in field order, FuxiCTR's order for the context embeddings.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import tempfile
from collections import OrderedDict
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from torch import nn

from pkg_shared.errors import UserError

from .config import ModelConfig
from .model import CTRModel, FieldEmbedding

ENV = "FUXICTR_FINALMLP_SRC"
TOLERANCE = 1e-5
CATEGORICAL = {"user": 7, "item": 9, "a": 3}
"""Field -> table rows (0 padding, 1 unknown) of the comparisons; ``price`` is added as a numeric field."""
CASES: dict[str, dict[str, Any]] = {
    "FinalMLP, learnable-vector contexts": {"contexts": ((), ())},
    "FinalMLP, contexts user / item + a": {"contexts": (("user",), ("item", "a"))},
    "FinalMLP, numeric field price as context 1": {"contexts": (("price",), ("item",)), "numeric": True},
    "DualMLP, numeric field price": {"model": "dualmlp", "numeric": True},
}


def _fuxictr() -> ModuleType:
    try:
        return importlib.import_module("fuxictr.features")
    except ImportError as e:
        raise UserError(f"fuxictr is not importable ({e}): pip install fuxictr") from None


def load_reference(source: str | Path | None = None) -> dict[str, type]:
    """FuxiCTR's ``FinalMLP`` and ``DualMLP`` classes from ``source`` (default ``$FUXICTR_FINALMLP_SRC``)."""
    _fuxictr()
    source = source or os.environ.get(ENV)
    if not source:
        raise UserError(
            f"FuxiCTR's FinalMLP is not in the fuxictr wheel: pass --source (or set ${ENV}) to the "
            "model_zoo/FinalMLP/src folder of a checkout of https://github.com/reczoo/FuxiCTR"
        )
    classes = {}
    for name in ("FinalMLP", "DualMLP"):
        path = Path(source).expanduser() / f"{name}.py"
        if not path.is_file():
            raise UserError(f"{path} not found: --source must be FuxiCTR's model_zoo/FinalMLP/src folder")
        spec = importlib.util.spec_from_file_location(f"_fuxictr_{name.lower()}", path)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        classes[name] = getattr(module, name)
    return classes


def _feature_map(fields: dict[str, int], numeric: tuple[str, ...], root: str) -> Any:
    fm = _fuxictr().FeatureMap("pkg-finalmlp-reference", root)
    fm.features = OrderedDict(
        (n, {"type": "numeric", "source": ""} if n in numeric else
         {"type": "categorical", "vocab_size": v, "padding_idx": 0, "source": ""})
        for n, v in fields.items()
    )  # fmt: skip
    fm.labels, fm.num_fields = ["label"], len(fields)
    return fm


def _copy_embedding(ours: FieldEmbedding, names: list[str], theirs: nn.ModuleDict) -> None:
    for j, name in enumerate(names):
        table = ours.field_table(j)
        layer = theirs[name]
        if isinstance(layer, nn.Linear):  # a numeric field: its one vector (row 1) scales the value
            layer.weight.copy_(table[1].unsqueeze(1))
        else:
            layer.weight.copy_(table)


def _copy_sequential(ours: nn.Module, theirs: nn.Module) -> None:
    for source, target in zip(ours.state_dict().values(), theirs.state_dict().values(), strict=True):
        target.copy_(source)


def copy_weights(mine: CTRModel, fx: nn.Module) -> None:
    """Every weight of ``mine`` into FuxiCTR's FinalMLP or DualMLP ``fx`` (same fields, same sizes)."""
    cfg, names = mine.config, list(mine.fields)
    with torch.no_grad():
        _copy_embedding(mine.embedding, names, fx.embedding_layer.embedding_layer.embedding_layers)
        _copy_sequential(mine.mlp1, fx.mlp1)
        _copy_sequential(mine.mlp2, fx.mlp2)
        if cfg.model == "dualmlp":
            return
        for i, context in enumerate((cfg.fs1_context, cfg.fs2_context), 1):
            gate = mine.gates[i - 1]
            if context:
                tables = getattr(fx.fs_module, f"fs{i}_ctx_emb").embedding_layer.embedding_layers
                _copy_embedding(gate.context_embedding, list(context), tables)
            else:
                getattr(fx.fs_module, f"fs{i}_ctx_bias").copy_(gate.context_bias)
            _copy_sequential(gate.mlp, getattr(fx.fs_module, f"fs{i}_gate"))
        ours, theirs = mine.fusion, fx.fusion_module
        for source, target in ((ours.w1.weight, theirs.w_x.weight), (ours.w1.bias, theirs.w_x.bias),
                               (ours.w2.weight, theirs.w_y.weight), (ours.w2.bias, theirs.w_y.bias)):  # fmt: skip
            target.copy_(source)
        theirs.w_xy.copy_(ours.w3.reshape(-1, 1))


def forward_difference(
    classes: dict[str, type],
    *,
    model: str = "finalmlp",
    contexts: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
    numeric: bool = False,
    rows: int = 256,
    seed: int = 0,
) -> float:
    """Largest ``|p_ours - p_FuxiCTR|`` over ``rows`` random inputs, weights copied from ours (eval mode)."""
    fields = {**CATEGORICAL, **({"price": 2} if numeric else {})}
    numeric_fields = ("price",) if numeric else ()
    torch.manual_seed(seed)
    cfg = ModelConfig(
        model=model, mlp1=(12, 8), mlp2=(6,), fs_hidden=(5,), heads=2,
        fs1_context=contexts[0], fs2_context=contexts[1],
    )  # fmt: skip
    mine = CTRModel(fields, cfg)
    with torch.no_grad():
        for p in mine.parameters():
            p.add_(0.3 * torch.randn_like(p))
    common = {"gpu": -1, "embedding_dim": cfg.emb_dim, "mlp1_hidden_units": list(cfg.mlp1),
              "mlp1_batch_norm": True, "mlp2_hidden_units": list(cfg.mlp2), "mlp2_batch_norm": True,
              "optimizer": "adam", "loss": "binary_crossentropy", "verbose": 0, "metrics": ["AUC"]}  # fmt: skip
    with tempfile.TemporaryDirectory() as root:
        fm = _feature_map(fields, numeric_fields, root)
        if model == "dualmlp":
            fx = classes["DualMLP"](fm, model_root=root, **common)
        else:
            fx = classes["FinalMLP"](
                fm, model_root=root, fs_hidden_units=list(cfg.fs_hidden), fs1_context=list(contexts[0]),
                fs2_context=list(contexts[1]), num_heads=cfg.heads, **common,
            )  # fmt: skip
    copy_weights(mine, fx)
    mine.eval(), fx.eval()
    x = torch.stack([torch.randint(0, v, (rows,)) for v in fields.values()], 1)
    values = None
    inputs = {n: x[:, j] for j, n in enumerate(fields)}
    if numeric:
        j = list(fields).index("price")
        price = torch.rand(rows) * 3.0
        x[:, j] = 1  # a numeric field's index is always 1; its value scales the vector
        values = torch.ones(rows, len(fields))
        values[:, j] = price
        inputs["price"] = price
    with torch.no_grad():
        ours = torch.sigmoid(mine(x, values))
        theirs = fx(inputs)["y_pred"].squeeze(-1)
    return float((ours - theirs).abs().max())


def compare(source: str | Path | None = None) -> dict[str, float]:
    """Every case of :data:`CASES`: name -> max |p_ours - p_FuxiCTR|."""
    classes = load_reference(source)
    return {name: forward_difference(classes, **case) for name, case in CASES.items()}
