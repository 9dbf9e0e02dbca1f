"""Wider and Deeper LLM Networks are Fairer LLM Evaluators.

Paper: Xinghua Zhang, Bowen Yu, Haiyang Yu, Yangyu Lv, Tingwen Liu, Fei Huang, Hongbo Xu, Yongbin Li;
arXiv:2308.01862 (2023). Implemented: the WideDeep evaluator network (aspect layer, neuron layers with
neighbour discussion, both answer orders, mean aggregation), the single-neuron and narrow baselines,
stub / OpenAI-compatible HTTP / transformers (incl. GGUF) backends, a SQLite response cache with call
and token accounting, and LLMEval² accuracy and Cohen's kappa.

The API is exported lazily, so that ``import pkg_widedeep_eval.cli`` (``--help``) loads neither httpx nor
scikit-learn nor torch.
"""

from pkg_shared.package import lazy_exports, version_of

__version__ = version_of("pkg-widedeep-eval")

_EXPORTS = {
    "LLM": ".cache",
    "Narrow": ".network",
    "NetworkConfig": ".config",
    "OpenAIBackend": ".backends",
    "Response": ".backends",
    "ResponseCache": ".cache",
    "Sample": ".data",
    "SingleNeuron": ".network",
    "StubBackend": ".backends",
    "TransformersBackend": ".backends",
    "Usage": ".cache",
    "WideDeep": ".network",
    "agreement": ".scoring",
    "kappa": ".scoring",
    "load_llmeval2": ".data",
    "neighbours": ".network",
    "parse_aspects": ".parsing",
    "parse_scores": ".parsing",
    "read_pairs": ".data",
    "reproduce": ".experiment",
    "swap_labels": ".parsing",
    "verdict": ".network",
}
__all__ = [*_EXPORTS, "__version__"]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
