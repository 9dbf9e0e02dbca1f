"""Data-parallel training under ``torchrun``, through PyTorch's own engine (DistributedDataParallel).

Launched as ``torchrun --nproc-per-node N pkg-<slug> train ...`` each process (rank) sees ``WORLD_SIZE``,
``RANK`` and ``LOCAL_RANK`` in its environment; outside torchrun (or with one process) nothing here does
anything and :func:`active` is False.

Batch semantics: a package's batch size is the **global** batch (the paper's), so the learning rate stays the
paper's; each rank gets ``batch / world_size`` examples per step (:func:`shard`), and DDP averages the
gradients, so N processes of batch B/N take the same steps as one process of batch B (same data order: the
sampler's permutation depends on the seed and the epoch only, never on the number of processes).

Only rank 0 writes run folders, checkpoints and progress (:func:`is_main`). Collective operations time out
after ``$PKG_DIST_TIMEOUT`` seconds (default 300), so a rank that died never leaves the others hanging.
The backend is gloo on the CPU and NCCL on GPUs (``$PKG_DIST_BACKEND`` overrides it).
"""

from __future__ import annotations

import datetime
import os
from typing import Any

import torch
from torch.utils.data import DataLoader, RandomSampler
from torch.utils.data.distributed import DistributedSampler

from .errors import UserError


def world_size() -> int:
    """The number of processes of this launch (1 outside torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def launched() -> bool:
    """True when started by torchrun (even with one process): ``WORLD_SIZE`` is set."""
    return "WORLD_SIZE" in os.environ


def active() -> bool:
    """True when launched by torchrun with more than one process."""
    return world_size() > 1


def is_main() -> bool:
    """True on the rank that writes files and prints (rank 0; always True outside torchrun)."""
    return rank() == 0


def setup(device: torch.device) -> torch.device:
    """Join the process group once (gloo on CPU, NCCL on CUDA); returns this rank's device."""
    if not launched():
        return device
    backend = os.environ.get("PKG_DIST_BACKEND") or ("nccl" if device.type == "cuda" else "gloo")
    if backend == "nccl" and device.type != "cuda":
        raise UserError(f"--device {device} cannot train under the NCCL backend (use gloo or a CUDA device)")
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not torch.distributed.is_initialized():
        timeout = datetime.timedelta(seconds=float(os.environ.get("PKG_DIST_TIMEOUT", "300")))
        torch.distributed.init_process_group(backend, timeout=timeout)
    return device


def teardown() -> None:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def barrier() -> None:
    if launched() and torch.distributed.is_initialized():
        torch.distributed.barrier()


def mean(value: torch.Tensor) -> torch.Tensor:
    """The mean of ``value`` over ranks (itself outside torchrun)."""
    if not (launched() and torch.distributed.is_initialized()):
        return value
    value = value.detach().clone()
    torch.distributed.all_reduce(value)
    return value / world_size()


def shard(loader: DataLoader, seed: int = 0) -> DataLoader:
    """The same loader with each rank taking its share: ``batch / world_size`` examples of every global batch.

    The global batch must split evenly over the ranks and every rank must get examples; otherwise a
    :class:`UserError` names the sizes (every rank raises it, rank 0 prints it).
    """
    n, batch, w = len(loader.dataset), loader.batch_size, world_size()  # type: ignore[arg-type]
    if batch is None or batch % w:
        raise UserError(f"the global batch {batch} does not split evenly over {w} processes")
    if n < w:
        raise UserError(
            f"{n} training examples cannot be split over {w} processes (every shard must be non-empty)"
        )
    sampler = DistributedSampler(
        loader.dataset,
        num_replicas=w,
        rank=rank(),
        shuffle=isinstance(loader.sampler, RandomSampler),
        seed=seed,
        drop_last=loader.drop_last,
    )
    return DataLoader(
        loader.dataset,
        batch_size=batch // w,
        sampler=sampler,
        num_workers=loader.num_workers,
        collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory,
        drop_last=loader.drop_last,
    )


def wrap(model: torch.nn.Module, device: torch.device) -> Any:
    """``DistributedDataParallel(model)`` under torchrun (parameters broadcast from rank 0), else the model."""
    if not launched():
        return model
    ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
