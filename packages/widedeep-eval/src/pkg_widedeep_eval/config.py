"""Settings of the evaluator network (the official defaults) and of the runs at each scale."""

from __future__ import annotations

from dataclasses import dataclass, field

from pkg_shared.errors import UserError

BACKENDS = ("stub", "smollm2", "transformers", "openai")
METHODS = ("widedeep", "single", "narrow")


@dataclass(frozen=True)
class NetworkConfig:
    """One WideDeep network (paper Sec. 3; official ``inference-WideDeep.py``).

    ``width``: neurons per layer; ``None`` = every aspect layer 0 parses (the official default), an
    integer caps it (and asks layer 0 for that many, the "limited" variant, official width 2).
    ``layers``: neuron layers after the aspect layer (official 2: one round of discussion).
    ``window``: a neuron in layer l >= 2 reads the neurons ``j`` with ``|j - i| <= window`` (official
    ``win_size = 2`` gives 1). ``aspect_attempts`` / ``score_attempts``: calls made until the output parses
    (official 10 each). ``aspect_temperature`` 0 (greedy, official); ``score_temperature`` 1.0 (the API
    default the official code leaves in place). ``max_tokens`` 512 (official). ``fallback_aspects`` when
    layer 0 never parses; scores fall back to ``(0, 0)``. ``max_query_chars``: longer queries lose their
    middle (marked) so that small-context models fit; ``None`` keeps everything.
    """

    width: int | None = None
    layers: int = 2
    window: int = 1
    aspect_attempts: int = 10
    score_attempts: int = 10
    aspect_temperature: float = 0.0
    score_temperature: float = 1.0
    max_tokens: int = 512
    fallback_aspects: tuple[str, ...] = ("Accuracy", "Relevance")
    max_query_chars: int | None = None

    def __post_init__(self) -> None:
        if self.width is not None and self.width < 1:
            raise UserError(f"width must be >= 1 or None (auto), got {self.width}")
        if self.layers < 1 or self.window < 0:
            raise UserError(f"layers must be >= 1 and window >= 0 (got {self.layers}, {self.window})")
        if self.aspect_attempts < 1 or self.score_attempts < 1 or self.max_tokens < 1:
            raise UserError("attempts and max_tokens must be >= 1")
        if self.max_query_chars is not None and self.max_query_chars < 64:
            raise UserError(f"max_query_chars must be >= 64, got {self.max_query_chars}")
        if not 0.0 <= self.aspect_temperature <= 2.0 or not 0.0 <= self.score_temperature <= 2.0:
            raise UserError("temperatures must lie in [0, 2]")


@dataclass(frozen=True)
class SmallModelRun:
    """The offline small-model part of ``reproduce --scale small`` (spec: 5 short dev samples)."""

    n_samples: int = 5
    max_prompt_chars: int = 1600
    network: NetworkConfig = field(
        default_factory=lambda: NetworkConfig(
            width=2, layers=2, aspect_attempts=1, score_attempts=1, score_temperature=0.0, max_tokens=48
        )
    )


@dataclass(frozen=True)
class Preset:
    """What ``reproduce`` runs at one scale.

    ``stub_samples``: pairs the stub judges (``None``: every LLMEval² sample); ``mechanics_samples``:
    pairs of the cache / swap / retry checks (``None``: the 150-sample dev slice). With
    ``--dataset synthetic`` both are synthetic pairs (200 where ``None``).
    """

    stub_samples: int | None
    mechanics_samples: int | None
    small_model: SmallModelRun | None
    full_backend: bool = False  # run the paper's protocol on an OpenAI-compatible server
    full_workers: int = 16


PRESETS = {
    "smoke": Preset(stub_samples=40, mechanics_samples=40, small_model=None),
    "small": Preset(stub_samples=None, mechanics_samples=None, small_model=SmallModelRun()),
    "full": Preset(stub_samples=None, mechanics_samples=None, small_model=SmallModelRun(), full_backend=True),
}
