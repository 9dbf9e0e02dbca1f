"""Vertex features as torch tensors: dense, or sparse CSR with a cheap backward for bag-of-words data.

The datasets' features are binary bag-of-words (about 1% non-zero). ``X @ W`` with a dense ``X`` dominates
the CPU cost of every model here; :class:`CSRFeatures` keeps ``X`` and ``X^T`` as CSR tensors so that the
first linear layer costs ``nnz x out`` in both directions. The result is the same linear map (tested
against the dense layer), so models, state dicts and numbers do not depend on the representation.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor, nn

__all__ = ["CSRFeatures", "FeatureLinear", "Features", "as_features", "perturb", "select_rows"]


def _csr_tensor(m: sp.csr_matrix, device: torch.device) -> Tensor:
    m = m.tocsr().astype(np.float32)
    m.sort_indices()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(
            torch.from_numpy(m.indptr.astype(np.int64)),
            torch.from_numpy(m.indices.astype(np.int64)),
            torch.from_numpy(m.data),
            size=m.shape,
            device=device,
            check_invariants=False,
        )


class _SparseMatmul(torch.autograd.Function):
    """``Y = X @ W`` for a constant sparse ``X``; the gradient ``dW = X^T dY`` uses the stored ``X^T``."""

    @staticmethod
    def forward(ctx, x: Tensor, xt: Tensor, w: Tensor) -> Tensor:  # type: ignore[override]
        ctx.xt = xt
        return x @ w

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        return None, None, ctx.xt @ grad


class CSRFeatures:
    """A constant sparse feature matrix ``X`` (N x d), kept with its transpose for ``X @ W`` and its gradient."""

    def __init__(self, matrix: sp.spmatrix, device: torch.device | str = "cpu") -> None:
        self.matrix = sp.csr_matrix(matrix, dtype=np.float32)
        self.device = torch.device(device)
        self.x = _csr_tensor(self.matrix, self.device)
        self.xt = _csr_tensor(self.matrix.T.tocsr(), self.device)

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    def __len__(self) -> int:
        return self.matrix.shape[0]

    def matmul(self, w: Tensor) -> Tensor:
        """``X @ w`` (N x k), differentiable in ``w``."""
        return _SparseMatmul.apply(self.x, self.xt, w.contiguous())

    def rows(self, index: np.ndarray) -> CSRFeatures:
        """The feature rows ``index`` (the observed vertices of the production setting)."""
        return CSRFeatures(self.matrix[np.asarray(index)], self.device)

    def to_dense(self) -> Tensor:
        return torch.from_numpy(self.matrix.toarray()).to(self.device)


Features = Tensor | CSRFeatures


def as_features(
    x: np.ndarray | sp.spmatrix | Tensor | CSRFeatures, device: torch.device | str = "cpu"
) -> Features:
    """Scipy sparse -> :class:`CSRFeatures`; arrays and tensors -> a dense float32 tensor on ``device``."""
    if isinstance(x, CSRFeatures):
        return x if x.device == torch.device(device) else CSRFeatures(x.matrix, device)
    if sp.issparse(x):
        return CSRFeatures(x, device)
    return torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x, dtype=torch.float32).to(device)


def select_rows(x: Features, index: np.ndarray) -> Features:
    """Rows ``index`` of dense or sparse features."""
    return x.rows(index) if isinstance(x, CSRFeatures) else x[torch.as_tensor(index, device=x.device)]


def perturb(x: Features, noise_level: float, generator: torch.Generator | None = None) -> Features:
    """``X' = X * (eps + 1) * noise_level`` with ``eps ~ N(0, 1)`` elementwise (spec Method 5b).

    Zeros stay zero, so sparse features keep their pattern; ``noise_level = 0`` gives ``X' = 0``.
    """
    if isinstance(x, CSRFeatures):
        m = x.matrix.copy()
        eps = torch.randn(m.nnz, generator=generator).numpy()
        m.data = (m.data * (eps + 1.0) * noise_level).astype(np.float32)
        return CSRFeatures(m, x.device)
    eps = torch.randn(x.shape, generator=generator).to(x.device)
    return x * (eps + 1.0) * noise_level


class FeatureLinear(nn.Linear):
    """``nn.Linear`` that also takes :class:`CSRFeatures` (same parameters, same map ``x W^T + b``)."""

    def forward(self, x: Features) -> Tensor:  # type: ignore[override]
        if isinstance(x, CSRFeatures):
            out = x.matmul(self.weight.t())
            return out + self.bias if self.bias is not None else out
        return super().forward(x)
