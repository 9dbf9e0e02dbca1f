"""Monte Carlo ensembles of random finite-width MLPs, and their empirical NTKs (book Ch. 2, 4, 8).

:func:`ensemble` draws S independent networks z^(1) = b + W x, z^(l+1) = b + W sigma(z^(l)) with
W ~ N(0, C_W/n_{l-1}), b ~ N(0, C_b) and records, for every layer and every network, the Gram
matrix z_a . z_b / n_l of its inputs' preactivations and the neuron mean of z_a^4 (float64). Two
samplers give the same ensemble:

- ``weights``: the weights themselves, S networks at once as batched matmuls (``torch.bmm``), in
  chunks so that S_chunk x n x n fits the memory budget;
- ``marginal``: the exact conditional law of one layer given the previous one, W h ~ N(0, C_W G)
  row by row with G = h_a . h_b / n (rotation invariance of Gaussian weights): the same joint
  distribution of every layer's preactivations at n times less cost, used for large CPU ensembles.

:func:`empirical_ntk` computes Theta = sum_params lambda (dz/dtheta)^2 for many networks with
``torch.func`` (functional_call + vmap + jacrev), lambda_b for biases and lambda_W/n_{l-1} for weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, jacrev, vmap

from pkg_shared.errors import UserError
from pkg_shared.progress import progress

from .activations import Activation, get_activation
from .config import MEMORY_BUDGET, SAMPLERS
from .theory import check_hyperparameters

MIN_SAMPLES = 10
CHUNK_ELEMENTS = 2**23


@dataclass
class Ensemble:
    """Per layer l (0-based) and network s: ``gram[l, s]`` (m x m) and ``fourth[l, s]`` (m,)."""

    gram: torch.Tensor
    fourth: torch.Tensor
    widths: tuple[int, ...]


def _check(samples: int, widths: Sequence[int]) -> None:
    if samples < MIN_SAMPLES:
        raise UserError(f"need at least {MIN_SAMPLES} networks for a standard error, got {samples}")
    if not widths or min(widths) < 1:
        raise UserError("depth and every width must be >= 1")


def _psd_root(C: torch.Tensor) -> torch.Tensor:
    """R with R R^T = C for a batch of PSD matrices (the square root itself when 1 x 1)."""
    if C.shape[-1] == 1:
        return C.clamp_min(0).sqrt()
    evals, evecs = torch.linalg.eigh(C)
    return evecs * evals.clamp_min(0).sqrt().unsqueeze(-2)


def ensemble(
    act: Activation | str,
    C_b: float,
    C_W: float,
    X: torch.Tensor,
    widths: Sequence[int],
    samples: int,
    *,
    sampler: str = "weights",
    generator: torch.Generator | None = None,
    chunk_elements: int = CHUNK_ELEMENTS,
    quiet: bool = True,
    desc: str = "networks",
) -> Ensemble:
    """Draw ``samples`` networks with layer widths ``widths`` = (n_1, ..., n_L) on inputs X (m, n_0).

    Runs on ``X``'s device and in float64; shows progress over chunks of networks unless ``quiet``.
    Raises :class:`UserError` naming the limit when the records would exceed ``MEMORY_BUDGET`` bytes.
    """
    act = get_activation(act)
    check_hyperparameters(C_b, C_W)
    _check(samples, widths)
    if sampler not in SAMPLERS:
        raise UserError(f"unknown sampler '{sampler}' (one of {', '.join(SAMPLERS)})")
    X = X.to(torch.float64)
    m, n0 = X.shape
    dev = X.device
    L = len(widths)
    need = 8 * L * samples * (m * m + m)
    if need > MEMORY_BUDGET:
        raise UserError(
            f"{samples} networks x {L} layers x {m} input(s) need {need / 2**30:.1f} GiB of records; "
            f"the limit is {MEMORY_BUDGET / 2**30:.0f} GiB: use fewer --samples or a smaller --depth"
        )
    gram = torch.empty(L, samples, m, m, dtype=torch.float64, device=dev)
    fourth = torch.empty(L, samples, m, dtype=torch.float64, device=dev)
    fan = (n0, *widths)
    chunk = max(1, chunk_elements // max(a * b for a, b in zip(fan[:-1], fan[1:])))
    if sampler == "marginal":
        chunk = max(1, chunk_elements // (max(widths) * m))

    def normal(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, dtype=torch.float64, device=dev, generator=generator)

    for start in progress(range(0, samples, chunk), quiet=quiet, desc=desc):
        S = min(chunk, samples - start)
        h = X.T.expand(S, n0, m)  # the previous layer's activations (S, n_in, m)
        for layer, (n_in, n_out) in enumerate(zip(fan[:-1], fan[1:])):
            b = np.sqrt(C_b) * normal(S, n_out, 1)
            if sampler == "weights":
                z = torch.bmm(np.sqrt(C_W / n_in) * normal(S, n_out, n_in), h.contiguous()) + b
            else:
                root = _psd_root(C_W * h.transpose(1, 2) @ h / n_in)
                z = normal(S, n_out, m) @ root.transpose(1, 2) + b
            gram[layer, start : start + S] = z.transpose(1, 2) @ z / n_out
            fourth[layer, start : start + S] = (z**4).mean(dim=1)
            h = act.torch_fn(z)
    return Ensemble(gram, fourth, tuple(widths))


def bootstrap_weights(
    samples: int, replicates: int, generator: torch.Generator | None, device: torch.device | str
) -> torch.Tensor:
    """(replicates, samples) resampling counts / samples: each row re-weights the networks."""
    idx = torch.randint(samples, (replicates, samples), generator=generator, device=device)
    counts = torch.zeros(replicates, samples, dtype=torch.float64, device=device)
    counts.scatter_add_(1, idx, torch.ones_like(idx, dtype=torch.float64))
    return counts / samples


@dataclass
class Moments:
    """Per layer: kernel estimate E[z_a^2], excess kurtosis kappa and their bootstrap standard errors."""

    K: np.ndarray
    K_se: np.ndarray
    kappa: np.ndarray
    kappa_se: np.ndarray


def moments(
    ens: Ensemble, replicates: int = 200, generator: torch.Generator | None = None, a: int = 0
) -> Moments:
    """kappa^(l) = E[z^4] / (3 E[z^2]^2) - 1 for input ``a``, averaged over networks and neurons.

    Standard errors: bootstrap over networks (the independent units; neurons of one net are not).
    """
    m2, m4 = ens.gram[:, :, a, a], ens.fourth[:, :, a]  # (L, S)
    S = m2.shape[1]
    w = bootstrap_weights(S, replicates, generator, m2.device)
    m2_b, m4_b = w @ m2.T, w @ m4.T  # (B, L)
    kappa = m4.mean(1) / (3 * m2.mean(1) ** 2) - 1
    kappa_b = m4_b / (3 * m2_b**2) - 1
    np_ = lambda t: t.cpu().numpy()  # noqa: E731
    return Moments(np_(m2.mean(1)), np_(m2_b.std(0)), np_(kappa), np_(kappa_b.std(0)))


def correlation(
    ens: Ensemble, a: int, b: int, replicates: int = 200, generator: torch.Generator | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """rho^(l) = E[z_a z_b] / sqrt(E[z_a^2] E[z_b^2]) per layer, with bootstrap standard errors."""
    g = ens.gram
    w = bootstrap_weights(g.shape[1], replicates, generator, g.device)

    def rho(weights: torch.Tensor) -> torch.Tensor:
        ab, aa, bb = (weights @ g[:, :, i, j].T for i, j in ((a, b), (a, a), (b, b)))
        return ab / (aa * bb).sqrt()

    mean = rho(torch.full((1, g.shape[1]), 1.0 / g.shape[1], dtype=torch.float64, device=g.device))[0]
    return mean.cpu().numpy(), rho(w).std(0).cpu().numpy()


class RandomMLP(nn.Module):
    """The book's MLP (eq. 2.5): ``widths`` = (n_1, ..., n_L), initialised at (C_b, C_W); returns z^(L)."""

    def __init__(self, n0: int, widths: Sequence[int], act: Activation | str, C_b: float, C_W: float) -> None:
        super().__init__()
        self.act = get_activation(act)
        fan = (n0, *widths)
        self.layers = nn.ModuleList(nn.Linear(i, o, dtype=torch.float64) for i, o in zip(fan[:-1], fan[1:]))
        self.C_b, self.C_W = C_b, C_W
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        with torch.no_grad():
            for layer in self.layers:
                layer.weight.normal_(0.0, np.sqrt(self.C_W / layer.in_features), generator=generator)
                layer.bias.normal_(0.0, np.sqrt(self.C_b), generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.layers[0](x)
        for layer in self.layers[1:]:
            z = layer(self.act.torch_fn(z))
        return z


def empirical_ntk(
    act: Activation | str,
    C_b: float,
    C_W: float,
    x: torch.Tensor,
    widths: Sequence[int],
    nets: int,
    *,
    lam_b: float = 1.0,
    lam_W: float = 1.0,
    generator: torch.Generator | None = None,
    chunk_elements: int = 2**24,
) -> np.ndarray:
    """Theta^(L) of the first output neuron for ``nets`` independent networks on one input x (n_0,).

    Theta = sum_l [lambda_b sum_i (dz/db_i^(l))^2 + lambda_W/n_{l-1} sum_ij (dz/dW_ij^(l))^2] (eq. 8.x),
    with parameters drawn directly as stacked tensors and ``vmap(jacrev(functional_call))``.
    """
    check_hyperparameters(C_b, C_W)
    _check(nets, widths)
    x = x.to(torch.float64)
    with torch.device("meta"):
        base = RandomMLP(x.shape[-1], widths, act, C_b, C_W)
    shapes = {k: v.shape for k, v in base.named_parameters()}
    per_net = sum(int(np.prod(s)) for s in shapes.values())
    if 3 * 8 * per_net > MEMORY_BUDGET:  # parameters, Jacobian and squares of one network, float64
        raise UserError(
            f"one network of widths {list(widths)} has {per_net:,} parameters: its NTK needs "
            f"{3 * 8 * per_net / 2**30:.1f} GiB, above the {MEMORY_BUDGET / 2**30:.0f} GiB limit"
        )
    chunk = max(1, chunk_elements // per_net)
    scale = {k: np.sqrt(C_W / s[1]) if k.endswith("weight") else np.sqrt(C_b) for k, s in shapes.items()}
    rate = {k: lam_W / s[1] if k.endswith("weight") else lam_b for k, s in shapes.items()}

    def output(params: dict[str, torch.Tensor]) -> torch.Tensor:
        return functional_call(base, params, (x,))[0]

    thetas = []
    for start in range(0, nets, chunk):
        S = min(chunk, nets - start)
        params = {
            k: scale[k] * torch.randn(S, *s, dtype=torch.float64, device=x.device, generator=generator)
            for k, s in shapes.items()
        }
        jac = vmap(jacrev(output))(params)
        thetas.append(sum(rate[k] * jac[k].pow(2).flatten(1).sum(1) for k in jac))
    return torch.cat(thetas).cpu().numpy()
