"""Side by side with ``hflayers``, the authors' package (github.com/ml-jku/hopfield-layers, commit f56f929).

hflayers is not on PyPI (git-only), so it is neither a dependency nor vendored: :func:`load_hflayers`
imports it from a local checkout given by path (``--hflayers PATH`` or env ``HFLAYERS_PATH``), or an
installed ``hflayers`` when no path is given. :func:`hflayers_twin` builds the hflayers layer with the
same configuration as one of ours and copies our weights into it, so both can be compared output for
output and timed. :func:`compare_with_hflayers` is the reference check a reader can rerun
(``pkg-hopfield reference``): the three layers, 0 and 3 extra update steps, padding masks, float64,
outputs and input gradients side by side.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import torch
from torch import nn

from pkg_shared.errors import UserError

from .layers import Hopfield, HopfieldLayer, HopfieldPooling


def load_hflayers(path: str | Path | None = None) -> ModuleType:
    """Import ``hflayers`` from the checkout at ``path`` (the folder holding ``hflayers/__init__.py``);
    without ``path``, from ``$HFLAYERS_PATH``, else an installed ``hflayers``. :class:`UserError` (exit 2)
    when there is none."""
    path = path or os.environ.get("HFLAYERS_PATH")
    if not path:
        try:
            return importlib.import_module("hflayers")
        except ImportError:
            raise UserError(
                "hflayers (the authors' layers) is not available: it is not on PyPI; "
                "git clone https://github.com/ml-jku/hopfield-layers and pass --hflayers PATH "
                "(or set HFLAYERS_PATH)"
            ) from None
    root = Path(path).expanduser().resolve()
    if not (root / "hflayers" / "__init__.py").is_file():
        raise UserError(
            f"no hflayers checkout at {root} (expected {root / 'hflayers' / '__init__.py'}; "
            "git clone https://github.com/ml-jku/hopfield-layers)"
        )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module("hflayers")


def _norm_flags(norm: nn.Module, name: str) -> dict[str, bool]:
    on = isinstance(norm, nn.LayerNorm)
    return {f"normalize_{name}": on, f"normalize_{name}_affine": on and norm.elementwise_affine}


def _options(h: Hopfield) -> dict[str, object]:
    """hflayers' keyword arguments for a configuration like ``h`` (not static patterns: hflayers repeats a
    static query over the heads where ours splits it, so those are not comparable)."""
    if any(isinstance(p, nn.Identity) for p in (h.q_proj, h.k_proj, h.v_proj)):
        raise UserError("hflayers_twin supports non-static patterns only (no *_as_static)")
    return {
        "hidden_size": h.head_dim,
        "output_size": None if isinstance(h.out_proj, nn.Identity) else h.output_size,
        "pattern_size": h.value_dim,
        "num_heads": h.num_heads,
        "scaling": float(h.scaling),
        "update_steps_max": h.update_steps_max,
        "update_steps_eps": h.update_steps_eps,
        **_norm_flags(h.norm_stored, "stored_pattern"),
        **_norm_flags(h.norm_state, "state_pattern"),
        **_norm_flags(h.norm_projection, "pattern_projection"),
        "batch_first": h.batch_first,
        "dropout": h.dropout,
        "input_bias": h.q_proj.bias is not None,
        "disable_out_projection": isinstance(h.out_proj, nn.Identity),
    }


@torch.no_grad()
def _copy(h: Hopfield, twin: nn.Module) -> None:
    core = twin.association_core
    weights = [p.weight for p in (h.q_proj, h.k_proj, h.v_proj)]
    if core.in_proj_weight is not None:
        core.in_proj_weight.copy_(torch.cat(weights))
    else:
        for target, w in zip((core.q_proj_weight, core.k_proj_weight, core.v_proj_weight), weights):
            target.copy_(w)
    if core.in_proj_bias is not None:
        core.in_proj_bias.copy_(torch.cat([p.bias for p in (h.q_proj, h.k_proj, h.v_proj)]))
    if core.out_proj is not None:
        core.out_proj.load_state_dict(h.out_proj.state_dict())
    for ours, theirs in (
        (h.norm_stored, twin.norm_stored_pattern),
        (h.norm_state, twin.norm_state_pattern),
        (h.norm_projection, twin.norm_pattern_projection),
    ):
        if theirs is not None:
            theirs.load_state_dict(ours.state_dict())


@torch.no_grad()
def hflayers_twin(layer: Hopfield | HopfieldPooling | HopfieldLayer, hflayers: ModuleType) -> nn.Module:
    """The hflayers layer of the same kind and configuration as ``layer``, holding ``layer``'s weights.

    Call conventions differ: ours ``layer(state, stored, projection)``, hflayers
    ``twin((stored, state, projection))``; pooling and lookup take the same single tensor.
    """
    if isinstance(layer, Hopfield):
        input_size, stored_size, projection_size = layer.sizes
        twin = hflayers.Hopfield(
            input_size=input_size, stored_pattern_size=stored_size, pattern_projection_size=projection_size,
            **_options(layer),
        )  # fmt: skip
        _copy(layer, twin.to(layer.out_proj.weight.dtype))
        return twin
    h = layer.hopfield
    kind = hflayers.HopfieldPooling if isinstance(layer, HopfieldPooling) else hflayers.HopfieldLayer
    extra = (
        {"lookup_weights_as_separated": layer.target_weights is not None}
        if kind is hflayers.HopfieldLayer
        else {}
    )
    twin = kind(input_size=h.sizes[0], quantity=len(_learned(layer)[0]), **_options(h), **extra)
    twin = twin.to(h.out_proj.weight.dtype)
    _copy(h, twin.hopfield)
    for ours, theirs in zip(_learned(layer), _learned(twin)):
        theirs.copy_(ours.reshape(theirs.shape))
    return twin


def _learned(layer: nn.Module) -> list[torch.Tensor]:
    """The learned patterns of a pooling (state) or lookup (stored, targets) layer, ours or hflayers'."""
    if hasattr(layer, "pooling_weights"):
        return [layer.pooling_weights]
    return [w for w in (layer.lookup_weights, layer.target_weights) if w is not None]


def compare_with_hflayers(hflayers: ModuleType, seed: int = 0) -> list[dict[str, object]]:
    """Our ``Hopfield``, ``HopfieldPooling`` and ``HopfieldLayer`` against their hflayers twins (same
    configuration and weights, hflayers' default structure with LayerNorms, padding masks, float64), with
    0 and 3 extra update steps: one row per case with the max |difference| of outputs and input gradients.
    """
    torch.manual_seed(seed)
    r = torch.randn(3, 4, 8, dtype=torch.float64, requires_grad=True)
    y = torch.randn(3, 7, 6, dtype=torch.float64, requires_grad=True)
    v = torch.randn(3, 7, 5, dtype=torch.float64)
    pad = torch.zeros(3, 7, dtype=torch.bool)
    pad[0, 5:] = True
    rows = []
    for steps in (0, 3):
        hop = Hopfield(8, num_heads=2, stored_pattern_size=6, pattern_projection_size=5, scaling=0.7,
                       update_steps_max=steps, update_steps_eps=1e-12)  # fmt: skip
        cases: list[tuple[str, nn.Module, Callable, Callable]] = [
            ("Hopfield", hop, lambda m: m(r, y, v, stored_pattern_padding_mask=pad),
             lambda t: t((y, r, v), stored_pattern_padding_mask=pad)),
            ("HopfieldPooling", HopfieldPooling(6, num_heads=2, quantity=3, update_steps_max=steps),
             lambda m: m(y, stored_pattern_padding_mask=pad), lambda t: t(y, stored_pattern_padding_mask=pad)),
            ("HopfieldLayer", HopfieldLayer(8, quantity=5, num_heads=2, lookup_weights_as_separated=True,
                                            update_steps_max=steps), lambda m: m(r), lambda t: t(r)),
        ]  # fmt: skip
        for name, ours, call, call_twin in cases:
            ours = ours.double()
            twin = hflayers_twin(ours, hflayers)
            out, ref = call(ours), call_twin(twin)
            grads = torch.autograd.grad(out.sum(), (r, y), allow_unused=True)
            ref_grads = torch.autograd.grad(ref.sum(), (r, y), allow_unused=True)
            same_graph = all((a is None) == (b is None) for a, b in zip(grads, ref_grads))
            grad_diff = max(
                (
                    (a - b).abs().max().item()
                    for a, b in zip(grads, ref_grads)
                    if a is not None and b is not None
                ),
                default=0.0,
            )
            rows.append({
                "layer": name, "update_steps_max": steps, "output_max_diff": (out - ref).abs().max().item(),
                "grad_max_diff": grad_diff if same_graph else float("inf"),
            })  # fmt: skip
    return rows
