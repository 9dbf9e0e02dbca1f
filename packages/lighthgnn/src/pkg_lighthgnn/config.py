"""Hyperparameters: the paper's defaults (official ``trans_config.yaml`` / ``prod_config.yaml``) and presets.

Teacher (spec Method 2): two dhg convolutions, hidden 32, ReLU, dropout 0.5 after layer 1, Adam lr 0.01,
weight decay 5e-4, 200 full-batch epochs, best-validation state kept. Student (Method 3-5): Linear(d, 128) ->
ReLU -> BatchNorm -> Dropout(0.5) -> Linear(128, C), same optimiser, lambda = 0, tau = 1, noise level 1.0.
Splits (Method 7-8): 20 training and 100 validation vertices per class, the rest test; production keeps 10%
of the test vertices observed (``test_ind_ratio = 0.9``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

TEACHERS = ("hgnn", "hgnnp")
STUDENTS = ("mlp", "light_hgnn", "light_hgnnp")
KD_VARIANTS = ("paper", "official")
SETTINGS = ("trans", "prod")

# Datasets (spec Data): name -> (folder of the data root, file, public source). Kept here, free of numpy and
# scipy, so that the command line can list them without importing the loaders.
HYPERGCN = "https://github.com/malllabiisc/HyperGCN (data/cocitation, data/coauthorship; see SOURCE.md)"
PLANETOID = "https://github.com/kimiyoung/planetoid (data/ind.*; see SOURCE.md)"
REAL = {
    "cc-cora": ("hypergraph-cocitation", "cora.npz", HYPERGCN),
    "cc-citeseer": ("hypergraph-cocitation", "citeseer.npz", HYPERGCN),
    "ca-cora": ("hypergraph-coauthorship", "cora.npz", HYPERGCN),
    "cora": ("planetoid", "cora.npz", PLANETOID),
    "citeseer": ("planetoid", "citeseer.npz", PLANETOID),
    "pubmed": ("planetoid", "pubmed.npz", PLANETOID + "; PubMed is not in the project's copy"),
}
GRAPHS = ("cora", "citeseer", "pubmed")
DATASETS = ("synthetic", *REAL)
DATA_FILES = {name: [f"{folder}/{file}"] for name, (folder, file, _) in REAL.items()}


@dataclass(frozen=True)
class TeacherConfig:
    """HGNN / HGNN+ teacher (spec Method 2)."""

    kind: str = "hgnn"
    hid: int = 32
    dropout: float = 0.5
    lr: float = 0.01
    weight_decay: float = 5e-4
    epochs: int = 200


@dataclass(frozen=True)
class StudentConfig:
    """MLP student and the distillation loss (spec Method 3-5).

    ``lamb`` weighs the cross-entropy on training labels against the distillation terms, ``tau`` is the
    temperature, ``noise`` the feature-noise level of the reliability score (``hc_noise_level``) and
    ``kd_variant`` ``paper`` (the KL divergence as written) or ``official`` (the official code's
    ``log_target=True`` quirk, see :mod:`pkg_lighthgnn.distill`).
    """

    kind: str = "light_hgnnp"
    hid: int = 128
    dropout: float = 0.5
    lr: float = 0.01
    weight_decay: float = 5e-4
    epochs: int = 200
    lamb: float = 0.0
    tau: float = 1.0
    noise: float = 1.0
    kd_variant: str = "paper"


@dataclass(frozen=True)
class SplitConfig:
    """Per-class split sizes and the production setting's share of unobserved test vertices."""

    num_train: int = 20
    num_val: int = 100
    test_ind_ratio: float = 0.9


@dataclass(frozen=True)
class SyntheticConfig:
    """``hypergraph_sbm`` stand-in (spec Data): a co-citation-like hypergraph with noisy bag-of-words."""

    n: int = 2500
    n_classes: int = 6
    n_edges: int = 1500
    edge_size_range: tuple[int, int] = (2, 6)
    purity: float = 0.5
    d: int = 500
    feat_noise: float = 0.65


@dataclass(frozen=True)
class SpeedConfig:
    """Inference-speed experiment (spec Method 9, Small-scale): N hyperedges of size 2..10, d = 256, C = 10."""

    num_v: tuple[int, ...] = (5_000, 10_000, 20_000, 40_000, 55_000)
    d: int = 256
    n_classes: int = 10
    edge_size_range: tuple[int, int] = (2, 10)
    repeats: int = 5
    cold_repeats: int = 2


@dataclass(frozen=True)
class Preset:
    """One scale of ``reproduce``: seeds come from the CLI; datasets, epochs and the speed grid from here."""

    teacher: TeacherConfig = field(default_factory=TeacherConfig)
    student: StudentConfig = field(default_factory=StudentConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    synthetic: SyntheticConfig = field(default_factory=SyntheticConfig)
    speed: SpeedConfig = field(default_factory=SpeedConfig)
    datasets: tuple[str, ...] = ("cc-cora", "cc-citeseer", "ca-cora", "synthetic")
    kd_variants: tuple[str, ...] = KD_VARIANTS
    production: tuple[str, ...] = ()


PRESETS: dict[str, Preset] = {
    "smoke": Preset(
        teacher=TeacherConfig(epochs=10),
        student=StudentConfig(epochs=10),
        synthetic=SyntheticConfig(n=600, n_classes=3, n_edges=300, d=90),
        speed=SpeedConfig(num_v=(500, 1_000), repeats=1, cold_repeats=1),
        datasets=("synthetic",),
        kd_variants=("paper",),
        production=("synthetic",),
    ),
    # small: 3 seeds in 5 CPU minutes. The official-KD students (judged by no claim) run at full only, so
    # that the production setting fits (a cut for cost, made before the run).
    "small": Preset(
        speed=SpeedConfig(num_v=(5_000, 20_000, 55_000), repeats=5, cold_repeats=2),
        kd_variants=("paper",),
        production=("cc-cora", "cc-citeseer", "ca-cora"),
    ),
    "full": Preset(
        speed=SpeedConfig(num_v=(5_000, 10_000, 20_000, 40_000, 55_000, 200_000)),
        datasets=("cc-cora", "cc-citeseer", "ca-cora", "cora", "citeseer", "synthetic"),
        production=("cc-cora", "cc-citeseer", "ca-cora"),
    ),
}
