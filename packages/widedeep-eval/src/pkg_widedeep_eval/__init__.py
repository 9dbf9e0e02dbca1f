"""Wider and Deeper LLM Networks are Fairer LLM Evaluators.

Paper: Xinghua Zhang, Bowen Yu, Haiyang Yu, Yangyu Lv, Tingwen Liu, Fei Huang, Hongbo Xu, Yongbin Li;
arXiv:2308.01862 (2023). Implemented: the WideDeep evaluator network (aspect layer, neuron layers with
neighbour discussion, both answer orders, mean aggregation), the single-neuron and narrow baselines,
stub / OpenAI-compatible HTTP / transformers (incl. GGUF) backends, a SQLite response cache with call
and token accounting, and LLMEval² accuracy and Cohen's kappa.
"""

from .backends import OpenAIBackend, Response, StubBackend, TransformersBackend
from .cache import LLM, ResponseCache, Usage
from .config import NetworkConfig
from .data import Sample, load_llmeval2, read_pairs
from .network import Narrow, SingleNeuron, WideDeep, neighbours, verdict
from .parsing import parse_aspects, parse_scores, swap_labels
from .scoring import agreement, kappa

__version__ = "0.1.0"
__all__ = [
    "LLM",
    "Narrow",
    "NetworkConfig",
    "OpenAIBackend",
    "Response",
    "ResponseCache",
    "Sample",
    "SingleNeuron",
    "StubBackend",
    "TransformersBackend",
    "Usage",
    "WideDeep",
    "__version__",
    "agreement",
    "kappa",
    "load_llmeval2",
    "neighbours",
    "parse_aspects",
    "parse_scores",
    "read_pairs",
    "swap_labels",
    "verdict",
]
