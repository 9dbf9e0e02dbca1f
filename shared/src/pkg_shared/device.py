"""Device selection and the environment record written into every run folder."""

from __future__ import annotations

import contextlib
import platform
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import torch

from .errors import UserError


class DeviceError(UserError):
    """A device was asked for that this machine does not have."""


def resolve_device(spec: str | torch.device = "auto") -> torch.device:
    """Turn ``"auto" | "cpu" | "cuda" | "cuda:N"`` into a ``torch.device``.

    ``auto`` picks the first CUDA GPU when one is visible, else the CPU. Asking for CUDA on a machine
    without it, or for a GPU index that does not exist, raises :class:`DeviceError` naming what is there.
    """
    if isinstance(spec, torch.device):
        spec = str(spec)
    spec = spec.strip().lower()
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if spec == "cuda" or spec.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise DeviceError(f"device '{spec}' requested but CUDA is not available here (use --device cpu)")
        index = spec.partition(":")[2]
        if index:
            if not index.isdigit():
                raise DeviceError(f"device '{spec}': the GPU index must be a whole number")
            count = torch.cuda.device_count()
            if int(index) >= count:
                raise DeviceError(f"device '{spec}' requested but only {count} CUDA device(s) are visible")
        return torch.device(spec)
    raise DeviceError(f"unknown device '{spec}' (expected auto, cpu, cuda or cuda:N)")


def git_sha(path: str | Path | None = None) -> str | None:
    """The commit of the checkout holding ``path`` (default: this file), or None outside git."""
    where = Path(path) if path is not None else Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


# What counts as code for git_dirty: committed results and READMEs being rewritten beside a run do not.
CODE = (":(glob)**/*.py", ":(glob)**/pyproject.toml", "uv.lock")


def git_dirty(path: str | Path | None = None) -> bool | None:
    """True when the checkout holding ``path`` has uncommitted changes to code (``CODE``): the results then
    came from code that differs from ``git_sha``; None outside git."""
    where = Path(path) if path is not None else Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", *CODE],
            cwd=where, capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return None if out.returncode != 0 else bool(out.stdout.strip())


def env_info(device: torch.device | str | None = None) -> dict[str, object]:
    """Python, torch, CUDA, device name and git sha: the ``env.json`` of a run folder."""
    device = torch.device(device) if device is not None else None
    info: dict[str, object] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.machine(),
        "torch": torch.__version__,
        "cuda_available": torch.cuda.is_available(),
        "cuda": torch.version.cuda,
        "threads": torch.get_num_threads(),
        "device": str(device) if device is not None else None,
        "device_name": platform.processor() or platform.machine(),
        "git_sha": git_sha(),
        "git_dirty": git_dirty(),
    }
    if device is not None and device.type == "cuda":
        info["device_name"] = torch.cuda.get_device_name(device)
    return info


@contextlib.contextmanager
def pinned_threads(n: int | None) -> Iterator[None]:
    """Pin torch's intra-op threads and every BLAS/OpenMP pool (threadpoolctl) to ``n`` inside the block.

    This is the one mechanism every package uses (``App(threads=...)`` applies it to ``smoke`` and
    ``small`` runs on the CPU). Small models gain nothing from several threads, and on a shared CPU the
    threads contend: one thread was measured up to 50x faster than two on a busy 2-core machine, and
    scikit-learn's MLP on every BLAS thread turned a 4-minute run into 27. ``None`` changes nothing.
    """
    if n is None:
        yield
        return
    if n < 1:
        raise ValueError(f"thread count must be >= 1, got {n}")
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        torch.set_num_threads(before)
