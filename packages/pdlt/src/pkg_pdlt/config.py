"""The experiments' settings (spec "Small-scale reproduction"), with presets per scale.

``small`` is the spec's protocol on 2 CPU cores (at most 5 minutes); ``full`` is its GPU protocol
(S = 10^5 networks, widths up to 512, empirical NTKs up to width 4,096); ``smoke`` runs the same code
on tiny ensembles in seconds for tests. The vertex ensembles at ``small`` use the exact ``marginal``
sampler (explicit n x n float64 weights for 10^4 networks x 40 layers take minutes of random
numbers on 2 cores); ``full`` and the NTK and correlation experiments draw the weights themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Names and limits the command line needs, kept here free of torch/scipy so that `--help` is instant.
ACTIVATION_HELP = "relu, linear, leaky_relu:<slope>, tanh, sin, swish, gelu, sigmoid or softplus"
SAMPLERS = ("weights", "marginal")
MNIST = "mnist-t10k"
MNIST_FILES = ("mnist_t10k.npz",)
MAX_DEPTH = 100_000  # kernel: one quadrature per layer, seconds at this depth
MAX_MC_DEPTH = 10_000  # montecarlo / ntk: layers of explicit networks
MAX_WIDTH = 8192  # one float64 n x n weight matrix is 0.5 GB at this width
MAX_NTK_WIDTH = 4096  # the NTK's Jacobian holds every weight of a network
MAX_SAMPLES = 10_000_000
MEMORY_BUDGET = 4 * 2**30  # bytes an ensemble's records (or one NTK chunk) may take


@dataclass(frozen=True)
class KernelConfig:
    """Fig. kernel: K^(l) for tanh (C_b = 0) and ReLU (C_b = 0) around criticality, K^(1) = 1."""

    depth: int = 200
    tanh_cw: tuple[float, ...] = (0.9, 1.0, 1.1)
    relu_cw: tuple[float, ...] = (1.9, 2.0, 2.1)
    K1: float = 1.0


@dataclass(frozen=True)
class PhaseConfig:
    """Fig. phase: log chi_perp(K*) of tanh on a (C_b, C_W) grid (K* by iterating the recursion)."""

    cb_max: float = 0.5
    cw_range: tuple[float, float] = (0.5, 4.0)
    grid: int = 41
    iterations: int = 400


@dataclass(frozen=True)
class VertexConfig:
    """Fig. vertex: kappa^(l) vs l/n, l <= min(2n, max_depth), S networks, inputs x = ones(n_0)."""

    widths: tuple[int, ...] = (16, 32, 64)
    max_depth: int = 40
    samples: int = 20_000
    sampler: str = "marginal"
    n0: int = 16
    tanh_fit_max_ratio: float = 0.25  # tanh is compared with the 1/n curve while l/n <= this
    breakdown_ratio: float = 0.35  # ReLU: the 1/n line should miss the MC beyond this l/n


@dataclass(frozen=True)
class NTKConfig:
    """Fig. ntk: empirical NTK mean and spread over networks vs the recursion, ReLU and tanh critical."""

    widths: tuple[int, ...] = (64, 256, 1024)
    depth: int = 6
    nets: int = 50
    n0: int = 16
    lam_b: float = 1.0
    lam_W: float = 1.0


@dataclass(frozen=True)
class CorrelationConfig:
    """Fig. correlation: two inputs with rho^(1) in ``rhos``, recursion vs MC at width n."""

    rhos: tuple[float, ...] = (0.2, 0.6, 0.9)
    width: int = 256
    depth: int = 20
    samples: int = 100
    n0: int = 16


@dataclass(frozen=True)
class MnistConfig:
    """Optional: K_ab for 10 MNIST digits (one per class), recursion vs MC, ReLU at criticality."""

    images: int = 10
    width: int = 256
    depth: int = 10
    samples: int = 100


@dataclass(frozen=True)
class Preset:
    kernel: KernelConfig = field(default_factory=KernelConfig)
    phase: PhaseConfig = field(default_factory=PhaseConfig)
    vertex: VertexConfig = field(default_factory=VertexConfig)
    ntk: NTKConfig = field(default_factory=NTKConfig)
    correlation: CorrelationConfig = field(default_factory=CorrelationConfig)
    mnist: MnistConfig = field(default_factory=MnistConfig)


PRESETS: dict[str, Preset] = {
    "smoke": Preset(
        phase=PhaseConfig(grid=9, iterations=100),
        vertex=VertexConfig(widths=(16,), max_depth=8, samples=500),
        ntk=NTKConfig(widths=(16, 64), depth=3, nets=10),
        correlation=CorrelationConfig(width=32, depth=4, samples=20),
        mnist=MnistConfig(images=3, width=32, depth=3, samples=20),
    ),
    "small": Preset(),
    "full": Preset(
        vertex=VertexConfig(widths=(16, 32, 64, 128, 256, 512), samples=100_000, sampler="weights"),
        ntk=NTKConfig(widths=(64, 256, 1024, 4096)),
        correlation=CorrelationConfig(samples=1000),
    ),
}
