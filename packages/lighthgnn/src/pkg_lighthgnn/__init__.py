"""LightHGNN: Distilling Hypergraph Neural Networks into MLPs for 100x Faster Inference.

Yifan Feng, Yihe Luo, Shihui Ying, Yue Gao; ICLR 2024; arXiv:2402.04296. Implemented: HGNN / HGNN+ teachers
on dhg hypergraphs (with the hand-computed operators they are checked against), the MLP student,
LightHGNN (soft-label distillation over all vertices) and LightHGNN+ (hyperedge reliability from the
teacher's entropy change under feature noise, Bernoulli sampling per epoch, hyperedge-level soft labels),
the paper and official KD variants, the topology-aware score, the transductive and production settings,
loaders for CC-Cora, CC-Citeseer, Cora-CA, Planetoid Cora/Citeseer and the ``hypergraph_sbm`` generator,
and the inference-speed benchmark.
"""

from .config import PRESETS, SplitConfig, StudentConfig, TeacherConfig
from .data import DATASETS, HypergraphData, hypergraph_sbm, load_dataset, split_by_num
from .distill import HighOrderConstraint, hyperedge_kd_loss, hyperedge_reliability, kd_loss, topology_score
from .features import CSRFeatures, as_features
from .hypergraph import build_hypergraph, hgnn_operator, hgnnp_operator
from .model import StudentMLP, Teacher
from .training import run_production, run_transductive, train_student, train_teacher

__version__ = "0.1.0"
__all__ = [
    "DATASETS",
    "PRESETS",
    "CSRFeatures",
    "HighOrderConstraint",
    "HypergraphData",
    "SplitConfig",
    "StudentConfig",
    "StudentMLP",
    "Teacher",
    "TeacherConfig",
    "__version__",
    "as_features",
    "build_hypergraph",
    "hgnn_operator",
    "hgnnp_operator",
    "hyperedge_kd_loss",
    "hyperedge_reliability",
    "hypergraph_sbm",
    "kd_loss",
    "load_dataset",
    "run_production",
    "run_transductive",
    "split_by_num",
    "topology_score",
    "train_student",
    "train_teacher",
]
