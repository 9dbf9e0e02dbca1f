"""Kolmogorov-Arnold networks: our vectorised KAN (pykan 0.2.x semantics) and the efficient-kan layer.

A KAN layer maps n_l -> n_{l+1} with one learnable 1-D function per edge (spec "Method", step 1):

    x_{l+1,j} = sum_i phi_{l,j,i}(x_{l,i}),   phi(x) = s_b * silu(x) + s_sp * sum_m c_m B_m(x)

with cubic B-splines on G intervals of [-1, 1] extended by k knots each side (step 2). ``KANLayer`` keeps
pykan's parameter layout (``grid (in, G+2k+1)``, ``coef (in, out, G+k)``, ``scale_base``, ``scale_sp``,
``mask`` all ``(in, out)``) so pykan weights load into it one to one. Its forward never loops over
edges: the spline part is one matmul of the flattened basis ``(batch, in*(G+k))`` with the coefficient
tensor, exactly as the efficient-kan formulation does.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from pkg_shared.errors import UserError

from .spline import (
    adaptive_grid,
    b_splines,
    check_grid_order,
    coef2curve,
    curve2coef,
    extend_grid,
    subdivide_grid,
    uniform_grid,
)


class KANLayer(nn.Module):
    """One KAN layer with pykan 0.2.x initialisation (spec "Method", step 3).

    c: least squares fit to uniform noise of amplitude ``noise_scale / G`` on the G+1 interior knots;
    s_b = (scale_base_mu + scale_base_sigma * U(-1, 1)) / sqrt(n_in); s_sp = scale_sp / sqrt(n_in).
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        grid_size: int = 5,
        k: int = 3,
        noise_scale: float = 0.3,
        scale_base_mu: float = 0.0,
        scale_base_sigma: float = 1.0,
        scale_sp: float = 1.0,
        grid_eps: float = 0.02,
        grid_range: tuple[float, float] = (-1.0, 1.0),
    ) -> None:
        super().__init__()
        check_grid_order(grid_size, k)
        self.in_dim, self.out_dim, self.k, self.grid_eps = in_dim, out_dim, k, grid_eps
        self.register_buffer("grid", uniform_grid(in_dim, grid_size, k, grid_range))
        noise = (torch.rand(grid_size + 1, in_dim, out_dim) - 0.5) * noise_scale / grid_size
        self.coef = nn.Parameter(curve2coef(self.grid[:, k:-k].T, noise, self.grid, k))
        root = math.sqrt(in_dim)
        self.scale_base = nn.Parameter(
            scale_base_mu / root + scale_base_sigma * (torch.rand(in_dim, out_dim) * 2 - 1) / root
        )
        self.scale_sp = nn.Parameter(torch.full((in_dim, out_dim), scale_sp / root))
        self.register_buffer("mask", torch.ones(in_dim, out_dim))

    @property
    def grid_size(self) -> int:
        return self.grid.shape[1] - 1 - 2 * self.k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """y_j = sum_i phi_{j,i}(x_i) as two matmuls (base and spline); ``(batch, out_dim)``."""
        basis = b_splines(x, self.grid, self.k).flatten(1)  # (batch, in*(G+k))
        w_spline = (self.coef * (self.scale_sp * self.mask).unsqueeze(-1)).permute(0, 2, 1)
        return F.silu(x) @ (self.scale_base * self.mask) + basis @ w_spline.reshape(-1, self.out_dim)

    def edges(self, x: torch.Tensor) -> torch.Tensor:
        """Every edge's value phi_{j,i}(x_i): ``(batch, in_dim, out_dim)`` (pykan's ``postacts``, transposed)."""
        spline = coef2curve(x, self.grid, self.coef, self.k)
        return (self.scale_base * F.silu(x).unsqueeze(-1) + self.scale_sp * spline) * self.mask

    @torch.no_grad()
    def update_grid(self, x: torch.Tensor) -> None:
        """Move knots to data quantiles blended with a uniform grid (grid_eps), refit c (spec step 4).

        pykan 0.2.x ``update_grid_from_samples``: pykan's quantile indices, no margin, the k outer knots
        at the mean spacing of the new grid (see :func:`~pkg_kan_hea.spline.adaptive_grid`).
        """
        x_sorted = torch.sort(x, dim=0).values
        y = coef2curve(x_sorted, self.grid, self.coef, self.k)
        self.grid.copy_(extend_grid(adaptive_grid(x_sorted, self.grid_size, self.grid_eps)[0], self.k))
        self.coef.copy_(curve2coef(x_sorted, y, self.grid, self.k))

    @torch.no_grad()
    def extend(self, x: torch.Tensor, grid_size: int) -> None:
        """Grid extension (pykan ``refine``): G -> G' knots on the same range, c refit on samples ``x``."""
        check_grid_order(grid_size, self.k)
        x_sorted = torch.sort(x, dim=0).values
        y = coef2curve(x_sorted, self.grid, self.coef, self.k)
        grid = extend_grid(subdivide_grid(self.grid, self.k, grid_size), self.k)
        self.grid = grid
        self.coef = nn.Parameter(curve2coef(x_sorted, y, grid, self.k))


class KAN(nn.Module):
    """A stack of :class:`KANLayer` of widths ``[n_0, n_1, ..., n_L]`` (spec "Method", steps 1-6).

    Node biases (pykan ``node_bias``) are kept at 0 as pykan does by default (``affine_trainable=False``).
    """

    def __init__(self, width: list[int], grid_size: int = 5, k: int = 3, **layer_kwargs: float) -> None:
        super().__init__()
        if len(width) < 2 or min(width) < 1:
            raise UserError(f"width must list at least two positive layer sizes, got {width}")
        check_grid_order(grid_size, k)
        self.width = list(width)
        self.layers = nn.ModuleList(
            KANLayer(a, b, grid_size, k, **layer_kwargs) for a, b in zip(width[:-1], width[1:])
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def activations(self, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Inputs of every layer and every edge value: ``([x_0, ..., x_{L-1}], [phi_0, ..., phi_{L-1}])``."""
        inputs, edges = [], []
        for layer in self.layers:
            inputs.append(x)
            phi = layer.edges(x)
            edges.append(phi)
            x = phi.sum(1)
        return inputs, edges

    def regularization(
        self, x: torch.Tensor, lamb_l1: float = 1.0, lamb_entropy: float = 2.0
    ) -> torch.Tensor:
        """pykan's sparsity regulariser (Liu et al. 2024, eq. 2.20) on activation magnitudes.

        |phi_{j,i}| = std_batch(phi_{j,i}) / (std_batch(x_i) + 0.1); per layer: lamb_l1 * sum |phi| +
        lamb_entropy * (row + column entropies of |phi| normalised by its row / column sum + 1).
        """
        inputs, edges = self.activations(x)
        total = x.new_zeros(())
        for xin, phi in zip(inputs, edges):
            scale = (phi.std(0) / (xin.std(0) + 0.1).unsqueeze(-1)).T  # (out, in)
            p_row = scale / (scale.sum(1, keepdim=True) + 1)
            p_col = scale / (scale.sum(0, keepdim=True) + 1)
            ent_row = -(p_row * torch.log2(p_row + 1e-4)).sum(1).mean()
            ent_col = -(p_col * torch.log2(p_col + 1e-4)).sum(0).mean()
            total = total + lamb_l1 * scale.sum() + lamb_entropy * (ent_row + ent_col)
        return total

    @torch.no_grad()
    def edge_scores(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Mean |phi_{l,j,i}| over the samples, per layer ``(in, out)`` (spec "Method", step 6)."""
        return [phi.abs().mean(0) for phi in self.activations(x)[1]]

    @torch.no_grad()
    def feature_importance(self, x: torch.Tensor) -> torch.Tensor:
        """Importance of each input: edge scores propagated back from the outputs (pykan ``attribute``).

        Output nodes score 1; an edge gets its node's score times its share of the node's incoming
        mean |phi|; a node's score is the sum over its outgoing edges. In a one-layer KAN this is the
        share of each input in each output's mean |phi|, summed over outputs.
        """
        node = torch.ones(self.width[-1], device=x.device, dtype=x.dtype)
        for score in reversed(self.edge_scores(x)):
            share = score / (score.sum(0, keepdim=True) + 1e-12)
            node = (share * node).sum(1)
        return node

    @torch.no_grad()
    def update_grid(self, x: torch.Tensor) -> None:
        """Update every layer's grid on its own inputs (pykan ``update_grid_from_samples``)."""
        for layer in self.layers:
            layer.update_grid(x)
            x = layer(x)

    @torch.no_grad()
    def extend_grid(self, x: torch.Tensor, grid_size: int) -> None:
        """Grid extension of every layer to ``grid_size`` intervals, preserving the learned function."""
        for layer in self.layers:
            inputs = x
            x = layer(x)
            layer.extend(inputs, grid_size)

    @torch.no_grad()
    def prune(
        self, x: torch.Tensor, edge_threshold: float = 3e-2, node_threshold: float = 1e-2
    ) -> dict[str, int]:
        """Mask edges whose score is below ``edge_threshold`` and hidden nodes below ``node_threshold``.

        pykan ``prune_edge`` / ``prune_node`` use the same thresholds; here a pruned hidden node masks all
        its incoming and outgoing edges (the network keeps its shape). Returns counts pruned.
        """
        scores = self.edge_scores(x)
        fed = [layer.mask.max(0).values > 0 for layer in self.layers[:-1]]  # hidden nodes with an input
        edges = 0
        for layer, score in zip(self.layers, scores):
            drop = score < edge_threshold * score.max().clamp_min(1e-12)
            edges += int((drop & (layer.mask > 0)).sum())
            layer.mask[drop] = 0.0
        nodes = 0
        for idx, (left, right) in enumerate(zip(self.layers[:-1], self.layers[1:])):
            incoming = (left.mask * scores[idx]).max(0).values
            dead = incoming < node_threshold * incoming.max().clamp_min(1e-12)
            nodes += int((dead & fed[idx]).sum())
            left.mask[:, dead] = 0.0
            right.mask[dead, :] = 0.0
        return {"edges": edges, "nodes": nodes}

    @torch.no_grad()
    def compact(self) -> KAN:
        """A smaller KAN without the hidden nodes that no active edge connects to the outputs.

        pykan's ``prune`` rebuilds the network after ``prune_node`` (``get_subset`` of every layer);
        here a hidden node is removed when none of its outgoing edges is active, or when they all lead
        to removed nodes (a backward sweep from the outputs). Such a node cannot change any output,
        so the compact network computes exactly what the masked one does. Inputs and outputs are
        kept; a hidden layer keeps at least one node (with masked edges) so the widths stay valid.
        """
        keep = [torch.arange(self.width[-1], device=self.layers[-1].mask.device)]
        for layer in reversed(self.layers[1:]):
            alive = (layer.mask[:, keep[0]] > 0).any(1).nonzero().flatten()
            keep.insert(0, alive if len(alive) else alive.new_zeros(1))
        keep.insert(0, torch.arange(self.width[0], device=keep[0].device))
        first = self.layers[0]
        out = KAN([len(k) for k in keep], first.grid_size, first.k, grid_eps=first.grid_eps)
        out.to(device=first.grid.device, dtype=first.grid.dtype)
        for new, old, rows, cols in zip(out.layers, self.layers, keep[:-1], keep[1:]):
            new.grid = old.grid[rows].clone()
            new.coef = nn.Parameter(old.coef[rows][:, cols].clone())
            for name in ("scale_base", "scale_sp", "mask"):
                getattr(new, name).copy_(getattr(old, name)[rows][:, cols])
        return out


@torch.no_grad()
def load_pykan_weights(ours: KAN, theirs: nn.Module) -> KAN:
    """Copy a pykan 0.2.8 ``KAN``'s grids, coefficients, scales and masks into ours (same widths, G, k).

    pykan's node biases and scales stay at 0 and 1 unless ``affine_trainable``, and its symbolic branch
    is off unless ``fix_symbolic`` was used, so the two networks then compute the same function.
    """
    for layer, ref in zip(ours.layers, theirs.act_fun):
        layer.grid = ref.grid.detach().clone()
        layer.coef = nn.Parameter(ref.coef.detach().clone())
        for name in ("scale_base", "scale_sp", "mask"):
            getattr(layer, name).copy_(getattr(ref, name))
    return ours


def from_pykan(theirs: nn.Module) -> KAN:
    """Our :class:`KAN` computing what a (trained) pykan 0.2.8 ``KAN`` computes."""
    layers = theirs.act_fun
    width = [layer.in_dim for layer in layers] + [layers[-1].out_dim]
    return load_pykan_weights(KAN(width, layers[0].num, layers[0].k), theirs)


class EfficientKANLinear(nn.Module):
    """The efficient-kan layer (Blealtan/efficient-kan, MIT), re-implemented from its formulation.

    y = silu(x) W_b^T + B(x) (W_s * S) flattened, with W_b ``(out, in)`` Kaiming-uniform
    (a = sqrt(5) * scale_base), W_s ``(out, in, G+k)`` a least-squares fit of noise of amplitude
    scale_noise / G, S ``(out, in)`` the standalone spline scaler (Kaiming-uniform, a = sqrt(5) *
    scale_spline). Parameters: in * out * (G + k + 2).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        grid_size: int = 5,
        spline_order: int = 3,
        scale_noise: float = 0.1,
        scale_base: float = 1.0,
        scale_spline: float = 1.0,
        grid_eps: float = 0.02,
        grid_range: tuple[float, float] = (-1.0, 1.0),
    ) -> None:
        super().__init__()
        check_grid_order(grid_size, spline_order)
        self.in_features, self.out_features = in_features, out_features
        self.grid_size, self.spline_order, self.grid_eps = grid_size, spline_order, grid_eps
        self.register_buffer("grid", uniform_grid(in_features, grid_size, spline_order, grid_range))
        self.base_weight = nn.Parameter(torch.empty(out_features, in_features))
        self.spline_weight = nn.Parameter(torch.empty(out_features, in_features, grid_size + spline_order))
        self.spline_scaler = nn.Parameter(torch.empty(out_features, in_features))
        nn.init.kaiming_uniform_(self.base_weight, a=math.sqrt(5) * scale_base)
        with torch.no_grad():
            k = spline_order
            noise = (torch.rand(grid_size + 1, in_features, out_features) - 0.5) * scale_noise / grid_size
            self.spline_weight.copy_(curve2coef(self.grid[:, k:-k].T, noise, self.grid, k).permute(1, 0, 2))
        nn.init.kaiming_uniform_(self.spline_scaler, a=math.sqrt(5) * scale_spline)

    @property
    def scaled_spline_weight(self) -> torch.Tensor:
        return self.spline_weight * self.spline_scaler.unsqueeze(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        basis = b_splines(x, self.grid, self.spline_order).flatten(1)
        return F.linear(F.silu(x), self.base_weight) + F.linear(
            basis, self.scaled_spline_weight.reshape(self.out_features, -1)
        )

    @torch.no_grad()
    def update_grid(self, x: torch.Tensor, margin: float = 0.01) -> None:
        """efficient-kan ``update_grid``: its quantile indices (G+1 evenly spaced sample ranks, truncated),
        the uniform grid widened by ``margin`` on each side, and the k outer knots at the uniform grid's
        spacing; then W_s is refit by least squares to the spline part the layer computed before.

        One deliberate difference: the original writes the refit of the *scaled* weights W_s * S into W_s
        and keeps S, which changes the function unless S = 1; here S is reset to 1 after the refit, so the
        layer computes what it computed before (up to the least-squares projection onto the new knots).
        """
        k = self.spline_order
        y = coef2curve(x, self.grid, self.scaled_spline_weight.permute(1, 0, 2), k)
        inner, h = adaptive_grid(x, self.grid_size, self.grid_eps, margin, style="efficient-kan")
        self.grid.copy_(extend_grid(inner, k, h))
        self.spline_weight.copy_(curve2coef(x, y, self.grid, k).permute(1, 0, 2))
        self.spline_scaler.fill_(1.0)

    def regularization_loss(
        self, regularize_activation: float = 1.0, regularize_entropy: float = 1.0
    ) -> torch.Tensor:
        """efficient-kan's regulariser: a *proxy* on weights (mean |W_s| per edge), not on activations."""
        l1 = self.spline_weight.abs().mean(-1)
        total = l1.sum()
        p = l1 / total
        return regularize_activation * total - regularize_entropy * (p * p.log()).sum()


class EfficientKAN(nn.Module):
    """A stack of :class:`EfficientKANLinear` of widths ``[n_0, ..., n_L]``."""

    def __init__(self, width: list[int], grid_size: int = 5, k: int = 3) -> None:
        super().__init__()
        if len(width) < 2 or min(width) < 1:
            raise UserError(f"width must list at least two positive layer sizes, got {width}")
        self.width = list(width)
        self.layers = nn.ModuleList(
            EfficientKANLinear(a, b, grid_size, k) for a, b in zip(width[:-1], width[1:])
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    @torch.no_grad()
    def update_grid(self, x: torch.Tensor) -> None:
        for layer in self.layers:
            layer.update_grid(x)
            x = layer(x)

    def regularization(
        self, x: torch.Tensor, lamb_l1: float = 1.0, lamb_entropy: float = 1.0
    ) -> torch.Tensor:
        return sum(layer.regularization_loss(lamb_l1, lamb_entropy) for layer in self.layers)


class MLP(nn.Module):
    """The MLP baseline: ReLU hidden layers (spec: 2 hidden layers of 32-64)."""

    def __init__(self, width: list[int]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for a, b in zip(width[:-1], width[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.net = nn.Sequential(*layers[:-1])
        self.width = list(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
