"""The WideDeep evaluator network and its two baselines (paper Sec. 3; official ``inference-WideDeep.py``).

Every neuron is one LLM call with a role. For a sample (query ``Q``, answers ``A1``, ``A2``):

1. layer 0 lists the angles ("aspects") that decide between ``A1`` and ``A2``; width ``N`` = their number;
2. layer 1 has one neuron per aspect ``a_i``, scoring both answers 1-10 from that angle;
3. in layer ``l >= 2`` neuron ``i`` rereads its own earlier reviews and those of its neighbours
   ``j`` with ``|j - i| <= window`` of layer ``l - 1`` (one round of discussion), and rescores from the
   union of their aspects, which becomes its aspects in the next layer;
4. every neuron runs twice, on ``(A1, A2)`` and on ``(A2, A1)``; the reversed review gets its labels and
   scores swapped back, which cancels position bias;
5. ``S_k`` = mean of answer ``k``'s scores over layers x neurons x both orders; the verdict is
   ``model1`` if ``S1 > S2``, ``model2`` if ``S2 > S1``, else ``TIE``.

Calls per sample: ``1 + 2 N L`` for ``L`` neuron layers, plus retries of unparsable outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pkg_shared.errors import UserError

from .cache import LLM, Usage
from .config import NetworkConfig
from .data import Sample
from .parsing import FAILED, parse_aspects, parse_scores, swap_labels
from .templates import (
    Family,
    Messages,
    aspect_prompt,
    discussion_prompt,
    family_of,
    neuron_prompt,
    single_prompt,
)

SLOTS = 1000
"""Neuron ``i`` of neuron layer ``l`` (0-based) is slot ``SLOTS * l + i`` (its sampling seeds, see ``_score``)."""


def verdict(s1: float, s2: float) -> str:
    """``model1`` if ``s1 > s2``, ``model2`` if ``s2 > s1``, else ``TIE`` (paper Sec. 3)."""
    return "model1" if s1 > s2 else "model2" if s2 > s1 else "TIE"


def neighbours(i: int, width: int, window: int = 1) -> list[int]:
    """Neurons ``j != i`` with ``|j - i| <= window`` among ``0..width-1`` (official ``win_size = 2``)."""
    return [j for j in range(max(0, i - window), min(width, i + window + 1)) if j != i]


def truncate_middle(text: str, limit: int | None) -> tuple[str, bool]:
    """``text`` with its middle replaced by a marker so that it has at most ``limit`` characters."""
    if limit is None or len(text) <= limit:
        return text, False
    marker = "\n[... {} characters cut ...]\n"
    cut = len(text) - limit + len(marker) + 8
    head = (len(text) - cut) // 2
    return text[:head] + marker.format(cut) + text[head + cut :], True


@dataclass
class Review:
    """One neuron's review in one answer order; text and scores are in the original labels."""

    order: str  # "12": (A1, A2) as shown; "21": (A2, A1) shown, swapped back
    text: str
    score1: float
    score2: float
    attempts: int
    fallback: bool

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _State:
    """What one sample's evaluation accumulates."""

    usage: Usage = field(default_factory=Usage)
    reviews: list[Review] = field(default_factory=list)


def _score(llm: LLM, messages: Messages, cfg: NetworkConfig, state: _State, slot: int) -> Review:
    """Ask until ``Score of Assistant k`` parses (``cfg.score_attempts`` calls), else ``(0, 0)``.

    Attempt ``t`` of neuron slot ``slot`` uses seed ``slot * score_attempts + t``: two neurons that happen
    to receive the same prompt still draw (and cache) independent samples.
    """
    text = ""
    for attempt in range(cfg.score_attempts):
        r = llm.ask(
            messages,
            temperature=cfg.score_temperature,
            max_tokens=cfg.max_tokens,
            seed=slot * cfg.score_attempts + attempt,
            usage=state.usage,
        )
        text = r.texts[0]
        scores = parse_scores(text)
        if scores != FAILED:
            return Review("12", text, scores[0], scores[1], attempt + 1, False)
    return Review("12", text, 0.0, 0.0, cfg.score_attempts, True)


def _both_orders(
    llm: LLM,
    build: Callable[[bool], Messages],
    cfg: NetworkConfig,
    state: _State,
    slot: int,
) -> list[Review]:
    """Run one neuron on (A1, A2) and on (A2, A1); swap the second review's labels and scores back."""
    forward = _score(llm, build(False), cfg, state, slot)
    back = _score(llm, build(True), cfg, state, slot)
    reverse = Review("21", swap_labels(back.text), back.score2, back.score1, back.attempts, back.fallback)
    state.reviews += [forward, reverse]
    return [forward, reverse]


def _summary(sample: Sample, state: _State, family: Family, truncated: bool, **extra: Any) -> dict[str, Any]:
    n = len(state.reviews)
    s1 = sum(r.score1 for r in state.reviews) / n
    s2 = sum(r.score2 for r in state.reviews) / n
    return {
        "id": sample.id,
        "dataset": sample.dataset,
        "family": family.name,
        **extra,
        "score": [s1, s2],
        "verdict": verdict(s1, s2),
        "human": sample.human,
        "truncated": truncated,
        "reviews_total": n,
        "score_fallbacks": sum(r.fallback for r in state.reviews),
        "usage": state.usage.as_dict(),
    }


class WideDeep:
    """The wide and deep evaluator network (see the module docstring); ``config`` holds its settings."""

    method = "widedeep"

    def __init__(self, config: NetworkConfig | None = None) -> None:
        self.config = config or NetworkConfig()

    def aspects(
        self, llm: LLM, family: Family, q: str, a1: str, a2: str, state: _State
    ) -> tuple[list[str], str, int, bool]:
        """Layer 0: the aspects, the last raw output, the calls made, and whether the fallback was used."""
        cfg = self.config
        messages = aspect_prompt(family, q, a1, a2, cfg.width)
        text = ""
        for attempt in range(cfg.aspect_attempts):
            r = llm.ask(
                messages,
                temperature=cfg.aspect_temperature,
                max_tokens=cfg.max_tokens,
                seed=attempt,
                usage=state.usage,
            )
            text = r.texts[0]
            found = parse_aspects(text, family.terminator)
            if found:
                width = len(found) if cfg.width is None else min(cfg.width, len(found))
                return found[:width], text, attempt + 1, False
        return list(cfg.fallback_aspects), text, cfg.aspect_attempts, True

    def evaluate(self, sample: Sample, llm: LLM) -> dict[str, Any]:
        cfg, family, state = self.config, family_of(sample.dataset), _State()
        q, truncated = truncate_middle(sample.query, cfg.max_query_chars)
        a1, a2 = sample.response1, sample.response2
        aspects, aspect_text, aspect_attempts, aspect_fallback = self.aspects(llm, family, q, a1, a2, state)
        width = len(aspects)
        layers: list[list[dict[str, Any]]] = []

        # layer 1: one neuron per aspect
        texts: list[list[str]] = []  # texts[i]: neuron i's reviews so far, original labels
        current: list[list[str]] = []  # reviews of the previous layer, per neuron
        views = [[a] for a in aspects]  # each neuron's aspects
        layer: list[dict[str, Any]] = []
        for i, aspect in enumerate(aspects):
            reviews = _both_orders(
                llm,
                lambda swap, a=aspect: neuron_prompt(family, q, *((a2, a1) if swap else (a1, a2)), a),
                cfg,
                state,
                slot=i,
            )
            layer.append({"aspects": [aspect], "reviews": [r.as_dict() for r in reviews]})
            texts.append([r.text for r in reviews])
            current.append([r.text for r in reviews])
        layers.append(layer)

        # layers 2..L: discussion with the neighbours of the previous layer
        for depth in range(1, cfg.layers):
            layer, nxt, new_views = [], [], []
            for i in range(width):
                window = sorted([i, *neighbours(i, width, cfg.window)])
                union = list(dict.fromkeys(a for j in window for a in views[j]))
                own = list(texts[i])
                others = [t for j in window if j != i for t in current[j]]

                def build(swap: bool, own=own, others=others, union=union) -> Messages:
                    if swap:
                        return discussion_prompt(
                            family,
                            q,
                            a2,
                            a1,
                            [swap_labels(t) for t in own],
                            [swap_labels(t) for t in others],
                            ", ".join(union),
                        )
                    return discussion_prompt(family, q, a1, a2, own, others, ", ".join(union))

                reviews = _both_orders(llm, build, cfg, state, slot=SLOTS * depth + i)
                layer.append(
                    {
                        "aspects": union,
                        "neighbours": [j for j in window if j != i],
                        "reviews": [r.as_dict() for r in reviews],
                    }
                )
                nxt.append([r.text for r in reviews])
                new_views.append(union)
            for i in range(width):
                texts[i] += nxt[i]
            current, views = nxt, new_views
            layers.append(layer)

        per_layer = []
        for layer in layers:
            rs = [r for neuron in layer for r in neuron["reviews"]]
            per_layer.append([sum(r["score1"] for r in rs) / len(rs), sum(r["score2"] for r in rs) / len(rs)])
        return _summary(
            sample,
            state,
            family,
            truncated,
            method=self.method,
            aspects=aspects,
            aspect_output=aspect_text,
            aspect_attempts=aspect_attempts,
            aspect_fallback=aspect_fallback,
            width=width,
            layers=layers,
            layer_scores=per_layer,
        )


class SingleNeuron:
    """Baseline: one general judge (no aspect, no discussion), run in both orders: 2 calls per sample."""

    method = "single"

    def __init__(self, config: NetworkConfig | None = None) -> None:
        self.config = config or NetworkConfig()

    def evaluate(self, sample: Sample, llm: LLM) -> dict[str, Any]:
        cfg, family, state = self.config, family_of(sample.dataset), _State()
        q, truncated = truncate_middle(sample.query, cfg.max_query_chars)
        a1, a2 = sample.response1, sample.response2
        reviews = _both_orders(
            llm, lambda swap: single_prompt(family, q, *((a2, a1) if swap else (a1, a2))), cfg, state, slot=0
        )
        return _summary(
            sample, state, family, truncated, method=self.method, reviews=[r.as_dict() for r in reviews]
        )


class Narrow:
    """Baseline: a single-layer "narrow" network, ``k`` independent samples of the general judge averaged.

    Sample ``m`` is neuron slot ``m`` (seeds ``m * score_attempts + attempt``), so with sampling (temperature > 0) the ``k``
    judgements differ and each is cached on its own: ``2 k`` calls per sample plus retries.
    """

    method = "narrow"

    def __init__(self, config: NetworkConfig | None = None, k: int = 3) -> None:
        if k < 1:
            raise UserError(f"k must be >= 1, got {k}")
        self.config, self.k = config or NetworkConfig(), k

    def evaluate(self, sample: Sample, llm: LLM) -> dict[str, Any]:
        cfg, family, state = self.config, family_of(sample.dataset), _State()
        q, truncated = truncate_middle(sample.query, cfg.max_query_chars)
        a1, a2 = sample.response1, sample.response2
        for m in range(self.k):
            _both_orders(
                llm,
                lambda swap: single_prompt(family, q, *((a2, a1) if swap else (a1, a2))),
                cfg,
                state,
                slot=m,
            )
        return _summary(
            sample,
            state,
            family,
            truncated,
            method=self.method,
            k=self.k,
            reviews=[r.as_dict() for r in state.reviews],
        )


def make_evaluator(method: str, config: NetworkConfig, k: int = 3) -> WideDeep | SingleNeuron | Narrow:
    """``widedeep``, ``single`` or ``narrow`` (with ``k`` samples)."""
    if method == "widedeep":
        return WideDeep(config)
    if method == "single":
        return SingleNeuron(config)
    if method == "narrow":
        return Narrow(config, k)
    raise UserError(f"unknown method {method!r} (widedeep, single, narrow)")
