"""Reading an LLM's free text back into aspects and scores, and swapping the two answers' labels.

These are the three pieces of text handling the network relies on (paper Sec. 3, official
``parse_aspect_from_review`` / ``parse_score_from_review``): layer 0 lists angles between ``$`` and ``&``
(``@`` for code tasks), every neuron ends with ``Score of Assistant 1: s1`` / ``Score of Assistant 2: s2``,
and a review written with the answers in reversed order has its labels swapped back before anyone reads it.
"""

from __future__ import annotations

import re

FAILED = (-1.0, -1.0)
"""What :func:`parse_scores` returns when either score line is missing (the official sentinel)."""

_SCORE = {k: re.compile(rf"Score of (?:the )?Assistant {k}:\s*([\d\.]+)", re.IGNORECASE) for k in (1, 2)}
_PLACEHOLDER = "\x00ASSISTANT\x00"


def parse_aspects(text: str, terminator: str = "&") -> list[str]:
    """Angles written as ``$name<terminator>`` in ``text``, in order, stripped, without duplicates.

    ``terminator`` is ``&`` for every task family except code, which uses ``@`` (code often holds ``&``).
    Newlines inside one angle are dropped, as in the official parser.
    """
    found = re.findall(r"\$(.*?)" + re.escape(terminator), text, flags=re.DOTALL)
    aspects: list[str] = []
    for raw in found:
        name = raw.replace("\n", "").strip()
        if name and name not in aspects:
            aspects.append(name)
    return aspects


def _number(text: str) -> float | None:
    try:
        return float(text.rstrip("."))
    except ValueError:
        return None


def parse_scores(text: str) -> tuple[float, float]:
    """``(score of Assistant 1, score of Assistant 2)`` from a review, or :data:`FAILED` = ``(-1, -1)``.

    Accepts ``Score of the Assistant 2: 7.5`` as well as ``Score of Assistant 2: 7``; the first match of
    each line wins. A trailing full stop (``8.``) is not part of the number.
    """
    scores = []
    for k in (1, 2):
        match = _SCORE[k].search(text)
        value = _number(match.group(1)) if match else None
        if value is None:
            return FAILED
        scores.append(value)
    return scores[0], scores[1]


def swap_labels(text: str) -> str:
    """Exchange every "Assistant 1" and "Assistant 2" in ``text`` (a review written in reversed order)."""
    return (
        text.replace("Assistant 1", _PLACEHOLDER)
        .replace("Assistant 2", "Assistant 1")
        .replace(_PLACEHOLDER, "Assistant 2")
    )
