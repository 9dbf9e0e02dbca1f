"""LLMEval² from the data root, pairs files in JSON Lines, and a synthetic stand-in for offline runs.

LLMEval² (``<data root>/llmeval2/llmeval2_benchmark.jsonl``): 2,553 lines with keys ``id, query,
response1, response2, human (model1 | model2 | TIE), dataset``; ``dev_slice_ids.json`` lists a
150-sample slice, 10 per source. There is no training split (the evaluators are zero-shot).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from pkg_shared.data import DataError, DatasetMissing, require_files

DATASET = "llmeval2"
FILES = ("llmeval2_benchmark.jsonl", "dev_slice_ids.json")
SOURCE = "github.com/AlibabaResearch/DAMO-ConvAI commit 621d6e6, WideDeep/evaluation_data/LLMEval2_benchmark.json.zip"
N_BENCHMARK = 2553
N_DEV = 150
REQUIRED = ("query", "response1", "response2")
HUMAN = ("model1", "model2", "TIE")


@dataclass(frozen=True)
class Sample:
    """One pairwise comparison; ``human`` is ``None`` when the input has no label."""

    id: int | str
    query: str
    response1: str
    response2: str
    human: str | None = None
    dataset: str | None = None


@dataclass
class ReadReport:
    """What :func:`read_pairs` kept and what it skipped (line numbers, 1-based)."""

    samples: list[Sample]
    skipped: list[tuple[int, str]]


def _sample(obj: object, line: int) -> Sample:
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    missing = [k for k in REQUIRED if k not in obj]
    if missing:
        raise ValueError(f"missing field(s) {', '.join(missing)}")
    for k in REQUIRED:
        if not isinstance(obj[k], str):
            raise ValueError(f"field {k} must be a string")
    human = obj.get("human")
    if human is not None and human not in HUMAN:
        raise ValueError(f"human must be one of {', '.join(HUMAN)}, got {human!r}")
    return Sample(
        obj.get("id", line), obj["query"], obj["response1"], obj["response2"], human, obj.get("dataset")
    )


def read_pairs(
    path: str | Path, skip_bad: bool = False, hint: str = " (use --skip-bad to skip such lines)"
) -> ReadReport:
    """Read a JSON Lines file of pairs (keys ``query, response1, response2``; optional ``id, human, dataset``).

    A malformed line (not UTF-8, bad JSON, a missing field, a bad label) raises :class:`DataError` naming
    its line number (followed by ``hint``), or with ``skip_bad`` is skipped and listed in
    :attr:`ReadReport.skipped`. Blank lines are ignored.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DatasetMissing(f"file not found: {path}")
    samples, skipped = [], []
    with path.open("rb") as f:
        for n, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
                if not line.strip():
                    continue
                samples.append(_sample(json.loads(line), n))
            except ValueError as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
                reason = str(e).split(": line")[0]
                if not skip_bad:
                    raise DataError(f"{path}:{n}: {reason}{hint}") from None
                skipped.append((n, reason))
    if not samples:
        raise DataError(f"{path}: no usable line")
    return ReadReport(samples, skipped)


def load_llmeval2(root: str | Path | None = None, ids: str = "all") -> list[Sample]:
    """LLMEval² from the data root: ``ids="all"`` (2,553 samples) or ``"dev"`` (the 150-sample slice)."""
    if ids not in ("all", "dev"):
        raise DataError(f"unknown id selection {ids!r} (all, dev)")
    folder = require_files(DATASET, FILES, root=root, source=SOURCE)
    path = folder / FILES[0]
    samples = read_pairs(path, hint=" (truncated or damaged?)").samples
    if len(samples) != N_BENCHMARK:
        raise DataError(
            f"{path} holds {len(samples)} samples where LLMEval² has {N_BENCHMARK} (truncated or another file?)"
        )
    by_id = {s.id: s for s in samples}
    if len(by_id) != len(samples):
        raise DataError(f"{path}: sample ids are not unique")
    if ids == "all":
        return samples
    slice_path = folder / FILES[1]
    try:
        wanted = json.loads(slice_path.read_bytes().decode("utf-8"))["ids"]
        if not isinstance(wanted, list):
            raise TypeError("'ids' is not a list")
    except (ValueError, KeyError, TypeError) as e:
        raise DataError(f"{slice_path}: expected {{'ids': [...]}} (truncated or damaged? {e})") from None
    missing = [i for i in wanted if i not in by_id]
    if missing:
        raise DataError(f"{slice_path}: ids not in the benchmark: {missing[:5]}")
    if len(wanted) != N_DEV:
        raise DataError(f"{slice_path} lists {len(wanted)} ids where the dev slice has {N_DEV}")
    return [by_id[i] for i in wanted]


def shortest_per_source(samples: list[Sample], n: int, max_chars: int) -> list[Sample]:
    """Up to ``n`` samples from different sources: the shortest of each source, shortest sources first.

    Only samples whose query + answers hold at most ``max_chars`` characters are candidates (this keeps
    the small-model prompts under ~1,024 tokens).
    """
    best: dict[str | None, Sample] = {}
    for s in samples:
        size = len(s.query) + len(s.response1) + len(s.response2)
        if size > max_chars:
            continue
        old = best.get(s.dataset)
        if old is None or size < len(old.query) + len(old.response1) + len(old.response2):
            best[s.dataset] = s
    ranked = sorted(
        best.values(), key=lambda s: (len(s.query) + len(s.response1) + len(s.response2), str(s.id))
    )
    return ranked[:n]


def synthetic(n: int, seed: int = 0) -> list[Sample]:
    """``n`` made-up pairs shaped like LLMEval² (sources, three labels, varied lengths), for offline runs.

    Labels follow length 80% of the time, so a length judge is right often but not always.
    """
    rng = random.Random(seed)
    sources = ["webgpt", "summeval", "openmeva", "bagel", "hellaswag", "hh-rlhf", "mt-bench", "code-contests"]
    words = [
        "the",
        "answer",
        "states",
        "a",
        "fact",
        "and",
        "explains",
        "why",
        "it",
        "holds",
        "with",
        "an",
        "example",
        "and",
        "a",
        "short",
        "summary",
    ]
    out = []
    for i in range(n):
        a, b = (rng.randint(3, 40) for _ in range(2))
        if rng.random() < 0.15:
            b = a
        longer = "model1" if a > b else "model2" if b > a else "TIE"
        other = rng.choice([h for h in HUMAN if h != longer])
        human = longer if rng.random() < 0.8 else other
        text = [" ".join(rng.choice(words) for _ in range(k)) for k in (a, b)]
        out.append(Sample(i, f"question {i}: why?", text[0], text[1], human, sources[i % len(sources)]))
    return out
