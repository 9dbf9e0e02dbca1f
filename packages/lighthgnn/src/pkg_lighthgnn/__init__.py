"""LightHGNN: Distilling Hypergraph Neural Networks into MLPs for 100x Faster Inference.

Yifan Feng, Yihe Luo, Shihui Ying, Yue Gao; ICLR 2024; arXiv:2402.04296. Implemented: HGNN / HGNN+ teachers
on dhg hypergraphs (with the hand-computed operators they are checked against), the MLP student,
LightHGNN (soft-label distillation over all vertices) and LightHGNN+ (hyperedge reliability from the
teacher's entropy change under feature noise, Bernoulli sampling per epoch, hyperedge-level soft labels),
the paper and official KD variants, the topology-aware score, the transductive and production settings,
loaders for CC-Cora, CC-Citeseer, Cora-CA, Planetoid Cora/Citeseer and the ``hypergraph_sbm`` generator,
and the inference-speed benchmark.

The API is exported lazily: ``import pkg_lighthgnn`` (and the command line's ``--help``) imports no torch,
dhg or scipy; ``from pkg_lighthgnn import Teacher`` imports the module that holds it.
"""

from pkg_shared.package import lazy_exports, version_of

__version__ = version_of("pkg-lighthgnn")

_EXPORTS = {
    "DATASETS": ".config",
    "PRESETS": ".config",
    "SplitConfig": ".config",
    "StudentConfig": ".config",
    "SyntheticConfig": ".config",
    "TeacherConfig": ".config",
    "HypergraphData": ".data",
    "hypergraph_sbm": ".data",
    "load_dataset": ".data",
    "split_by_num": ".data",
    "HighOrderConstraint": ".distill",
    "hyperedge_kd_loss": ".distill",
    "hyperedge_reliability": ".distill",
    "kd_loss": ".distill",
    "topology_score": ".distill",
    "CSRFeatures": ".features",
    "as_features": ".features",
    "build_hypergraph": ".hypergraph",
    "hgnn_operator": ".hypergraph",
    "hgnnp_operator": ".hypergraph",
    "StudentMLP": ".model",
    "Teacher": ".model",
    "run_production": ".training",
    "run_transductive": ".training",
    "student_loss": ".training",
    "train_student": ".training",
    "train_teacher": ".training",
}
__all__ = ["__version__", *_EXPORTS]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
