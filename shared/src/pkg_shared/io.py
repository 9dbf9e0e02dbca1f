"""Run folders, atomic writes and checkpoints (safetensors + JSON; nothing is ever unpickled).

A checkpoint is a folder holding ``<name>.safetensors`` (the tensors) and ``<name>.json`` (the config,
the tensors' dtypes and shapes, and the SHA-256 of the tensor file). Each file is written to a temporary
name and renamed into place, the JSON last, so a crash never leaves a half-written checkpoint that
loads: a truncated or tampered tensor file fails the checksum and raises :class:`CheckpointError`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UserError

if TYPE_CHECKING:
    import torch

FORMAT = "pkg-zoo-checkpoint/1"


class CheckpointError(UserError):
    """A checkpoint is missing, truncated, tampered with, or does not fit the model."""


# --------------------------------------------------------------------------------------------- writes
def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``.

    The file gets the permissions a plain ``open`` would give (0644 under the usual umask), not the
    0600 of a temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def prepare_output(path: str | Path, *, kind: str = "file", what: str = "output") -> Path:
    """Check, before any work starts, that ``path`` can be written; create its folder.

    ``kind="file"``: the parent folder is created and a probe file written and removed there;
    ``kind="dir"``: the folder itself. A path under a file, an unwritable folder or a file where a folder
    is wanted is a :class:`UserError` naming the path, so a long run never fails at its last step.
    """
    path = Path(path).expanduser()
    folder = path if kind == "dir" else path.parent
    if kind == "file" and path.is_dir():
        raise UserError(f"{what} {path} is a folder; give a file path")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-probe.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise UserError(f"cannot write the {what} {path}: {e.strerror or e}") from None
    return path


def to_jsonable(obj: Any) -> Any:
    """Make numbers, arrays, tensors, paths and dataclass-like values JSON-friendly (NaN becomes null)."""
    torch, np = sys.modules.get("torch"), sys.modules.get("numpy")  # no value can be theirs if not imported
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj))
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if torch is not None and isinstance(obj, torch.Tensor):
        return to_jsonable(obj.detach().cpu().tolist())
    if np is not None and isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if np is not None and isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path) or (torch is not None and isinstance(obj, (torch.device, torch.dtype))):
        return str(obj)
    return obj


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON, atomically."""
    return atomic_write_bytes(path, (json.dumps(to_jsonable(obj), indent=2) + "\n").encode())


def read_json(path: str | Path, what: str = "file") -> Any:
    """Read a JSON file, raising :class:`UserError` with the path when it is absent or malformed."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{what} not found: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{what} {path} is not valid JSON ({e})") from None


# ------------------------------------------------------------------------------------------ run folder
@dataclass
class RunDir:
    """``<out>/<slug>/<timestamp>-s<seed>/`` with config.json, env.json, metrics.jsonl, results.json, plots/."""

    path: Path
    _t0: float = field(default_factory=time.time, repr=False)

    @classmethod
    def create(cls, out: str | Path, slug: str, seed: int) -> RunDir:
        """Make a fresh run folder; a clash within the same second gets a numeric suffix.

        Under torchrun only rank 0 writes the run folder: the other ranks get a throwaway temporary one.
        """
        rank = os.environ.get("RANK", "0")
        if rank != "0":
            path = Path(tempfile.mkdtemp(prefix=f"pkg-{slug}-rank{rank}-"))
            (path / "plots").mkdir()
            return cls(path)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = Path(out) / slug
        for n in range(1000):
            path = base / (f"{stamp}-s{seed}" + (f"-{n}" if n else ""))
            try:
                path.mkdir(parents=True, exist_ok=False)
            except FileExistsError:
                continue
            except OSError as e:
                raise UserError(f"cannot create the run folder under {base}: {e.strerror}") from None
            (path / "plots").mkdir()
            return cls(path)
        raise UserError(f"could not create a fresh run folder under {base}")

    @property
    def plots(self) -> Path:
        return self.path / "plots"

    def write_config(self, config: Mapping[str, Any]) -> Path:
        return atomic_write_json(self.path / "config.json", config)

    def write_env(self, env: Mapping[str, Any]) -> Path:
        return atomic_write_json(self.path / "env.json", env)

    def write_results(self, results: Mapping[str, Any]) -> Path:
        return atomic_write_json(self.path / "results.json", results)

    def write_json(self, name: str, obj: Any) -> Path:
        return atomic_write_json(self.path / name, obj)

    def log(self, **metrics: Any) -> None:
        """Append one JSON line to ``metrics.jsonl`` (with the seconds since the run began)."""
        row = {"t": round(time.time() - self._t0, 3), **to_jsonable(metrics)}
        with open(self.path / "metrics.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")


# ----------------------------------------------------------------------------------------- checkpoints
def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_checkpoint(
    directory: str | Path,
    tensors: Mapping[str, torch.Tensor],
    config: Mapping[str, Any] | None = None,
    *,
    name: str = "model",
    meta_name: str | None = None,
) -> Path:
    """Write ``<name>.safetensors`` and its JSON (``config.json`` for the model by default), atomically.

    ``config`` must be JSON-able: it is what is needed to rebuild the model (hyperparameters, encoders).
    """
    import torch
    from safetensors.torch import save as st_save

    directory = Path(directory)
    meta_name = meta_name or ("config.json" if name == "model" else f"{name}.json")
    bad = [k for k, v in tensors.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise TypeError(f"checkpoint values must be tensors; not: {bad[:5]}")
    flat = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    blob = st_save(flat) if flat else st_save({"__empty__": torch.zeros(0)})
    atomic_write_bytes(directory / f"{name}.safetensors", blob)
    meta = {
        "format": FORMAT,
        "sha256": _sha256(blob),
        "tensors": {
            k: {"dtype": str(v.dtype).removeprefix("torch."), "shape": list(v.shape)} for k, v in flat.items()
        },
        "config": to_jsonable(dict(config or {})),
    }
    atomic_write_json(directory / meta_name, meta)
    return directory


def load_checkpoint(
    directory: str | Path,
    *,
    name: str = "model",
    meta_name: str | None = None,
    expected: Mapping[str, torch.Tensor] | torch.nn.Module | None = None,
    map_location: str | torch.device = "cpu",
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a checkpoint written by :func:`save_checkpoint`; returns ``(tensors, config)``.

    Checks the format, the checksum (truncation or tampering), and, when ``expected`` (a module or a
    state dict) is given, that keys, shapes and dtypes match it exactly.
    """
    import torch
    from safetensors.torch import load as st_load

    directory = Path(directory)
    meta_name = meta_name or ("config.json" if name == "model" else f"{name}.json")
    meta_path, tensor_path = directory / meta_name, directory / f"{name}.safetensors"
    for p in (meta_path, tensor_path):
        if not p.is_file():
            raise CheckpointError(f"checkpoint file missing: {p}")
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise CheckpointError(
            f"checkpoint metadata {meta_path} is not valid JSON (truncated or corrupt)"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{meta_path} is not a {FORMAT} checkpoint")
    blob = tensor_path.read_bytes()
    if _sha256(blob) != meta.get("sha256"):
        raise CheckpointError(f"checkpoint {tensor_path} is corrupt: its checksum does not match {meta_name}")
    try:
        tensors = st_load(blob)
    except Exception as e:  # safetensors raises its own error types for a bad header
        raise CheckpointError(f"checkpoint {tensor_path} cannot be read: {e}") from None
    tensors.pop("__empty__", None)
    if set(tensors) != set(meta.get("tensors", {})):
        raise CheckpointError(f"checkpoint {tensor_path} does not hold the tensors its metadata lists")
    if expected is not None:
        check_state(tensors, expected, where=str(tensor_path))
    device = torch.device(map_location)
    return {k: v.to(device) for k, v in tensors.items()}, meta.get("config", {})


def check_state(
    tensors: Mapping[str, torch.Tensor],
    expected: Mapping[str, torch.Tensor] | torch.nn.Module,
    where: str = "",
) -> None:
    """Raise :class:`CheckpointError` listing missing/unexpected keys and shape or dtype mismatches."""
    import torch

    ref = expected.state_dict() if isinstance(expected, torch.nn.Module) else expected
    missing = sorted(set(ref) - set(tensors))
    unexpected = sorted(set(tensors) - set(ref))
    wrong = [
        f"{k}: {tuple(tensors[k].shape)} {tensors[k].dtype} vs {tuple(ref[k].shape)} {ref[k].dtype}"
        for k in sorted(set(ref) & set(tensors))
        if tensors[k].shape != ref[k].shape or tensors[k].dtype != ref[k].dtype
    ]
    problems = []
    if missing:
        problems.append(f"missing {missing[:5]}")
    if unexpected:
        problems.append(f"unexpected {unexpected[:5]}")
    if wrong:
        problems.append(f"mismatched {wrong[:3]}")
    if problems:
        raise CheckpointError(f"checkpoint {where} does not fit the model: " + "; ".join(problems))


# ------------------------------------------------------------------------- nested state (for resuming)
def flatten_state(obj: Any, prefix: str = "s") -> tuple[dict[str, torch.Tensor], Any]:
    """Split a nested structure (optimizer/scheduler state, RNG states) into tensors and a JSON skeleton.

    Tensors and NumPy arrays become ``{"$t": key}`` / ``{"$np": key}`` references; dicts keep non-string
    keys and tuples keep their type, so :func:`unflatten_state` gives back an equal structure.
    """
    import numpy as np
    import torch

    tensors: dict[str, torch.Tensor] = {}

    def enc(x: Any, path: str) -> Any:
        if isinstance(x, torch.Tensor):
            tensors[path] = x.detach().cpu().contiguous()
            return {"$t": path}
        if isinstance(x, np.ndarray):
            tensors[path] = torch.from_numpy(np.ascontiguousarray(x))
            return {"$np": path}
        if isinstance(x, Mapping):
            return {"$d": [[k, enc(v, f"{path}.{k}")] for k, v in x.items()]}
        if isinstance(x, tuple):
            return {"$tu": [enc(v, f"{path}.{i}") for i, v in enumerate(x)]}
        if isinstance(x, list):
            return [enc(v, f"{path}.{i}") for i, v in enumerate(x)]
        if isinstance(x, np.generic):
            return x.item()
        if x is None or isinstance(x, (bool, int, float, str)):
            return x
        raise TypeError(f"cannot checkpoint a value of type {type(x).__name__} at {path}")

    return tensors, enc(obj, prefix)


def unflatten_state(tensors: Mapping[str, torch.Tensor], skeleton: Any) -> Any:
    """Inverse of :func:`flatten_state`."""

    def dec(x: Any) -> Any:
        if isinstance(x, list):
            return [dec(v) for v in x]
        if isinstance(x, dict):
            if "$t" in x:
                return tensors[x["$t"]]
            if "$np" in x:
                return tensors[x["$np"]].numpy()
            if "$tu" in x:
                return tuple(dec(v) for v in x["$tu"])
            if "$d" in x:
                return {k: dec(v) for k, v in x["$d"]}
        return x

    return dec(skeleton)


# ---------------------------------------------------------------------------------- resume fingerprints
SETTINGS = "settings.json"


def check_settings(
    directory: str | Path, settings: Mapping[str, Any], *, what: str = "checkpoint", write: bool = True
) -> None:
    """Refuse to resume in ``directory`` under settings other than those that made it.

    ``settings`` is everything that changes the weights (model description, recipe, data settings,
    seed). The first call writes them to ``<directory>/settings.json``; a later call with different
    settings raises :class:`CheckpointError` naming the keys that differ (old -> new), so a resumed run can
    never report old weights under new settings. ``write=False`` only compares (the other ranks of a
    distributed run, while rank 0 writes).
    """
    directory = Path(directory)
    new = to_jsonable(dict(settings))
    path = directory / SETTINGS
    if not path.exists():
        if write:
            atomic_write_json(path, new)
        return
    old = read_json(path, f"{what} settings")
    keys = sorted(set(old) | set(new))
    differ = [k for k in keys if old.get(k, "<absent>") != new.get(k, "<absent>")]
    if differ:
        shown = "; ".join(
            f"{k}: {old.get(k, '<absent>')!r} -> {new.get(k, '<absent>')!r}" for k in differ[:4]
        )
        more = f" (and {len(differ) - 4} more)" if len(differ) > 4 else ""
        raise CheckpointError(
            f"{what} in {directory} was made with other settings ({shown}{more}); "
            "use another folder or remove it to start afresh"
        )
