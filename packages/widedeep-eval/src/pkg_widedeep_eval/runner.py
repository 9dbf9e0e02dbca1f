"""Running an evaluator over many samples: backend choice, worker threads, progress bar, JSONL out."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from tqdm import tqdm

from pkg_shared.errors import UserError
from pkg_shared.io import atomic_write_bytes

from .backends import Backend, OpenAIBackend, StubBackend, TransformersBackend
from .cache import LLM
from .data import Sample
from .models import smollm2_path
from .network import Narrow, SingleNeuron, WideDeep

BACKENDS = ("stub", "smollm2", "transformers", "openai")


def make_backend(
    name: str,
    model: str | None = None,
    *,
    device: str = "cpu",
    model_dir: str | Path | None = None,
    base_url: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    concurrency: int = 8,
    timeout: float = 120.0,
    retries: int = 5,
    quiet: bool = False,
    score_mode: str = "generate",
) -> Backend:
    """One backend by name: ``stub`` (``model`` = its mode), ``smollm2``, ``transformers`` (``model`` = a
    folder or ``.gguf`` file) or ``openai`` (``model`` = the served name)."""
    if name == "stub":
        return StubBackend(model or "length")
    if name == "smollm2":
        path = smollm2_path(model_dir)
        if not path.is_file():
            raise UserError(f"SmolLM2 is not at {path}: run `pkg-widedeep-eval fetch-model smollm2` first")
        return TransformersBackend(path, device, quiet, score_mode)
    if name == "transformers":
        if not model:
            raise UserError("the transformers backend needs --model PATH (a model folder or a .gguf file)")
        return TransformersBackend(model, device, quiet, score_mode)
    if name == "openai":
        return OpenAIBackend(model or "", base_url, api_key_env, concurrency, timeout, retries)
    raise UserError(f"unknown backend {name!r} ({', '.join(BACKENDS)})")


def evaluate_all(
    evaluator: WideDeep | SingleNeuron | Narrow,
    samples: Sequence[Sample],
    llm: LLM,
    workers: int = 1,
    quiet: bool = False,
    desc: str | None = None,
) -> list[dict[str, Any]]:
    """Evaluate every sample (``workers`` threads), in input order; the bar shows calls, hits, tokens.

    The first error (an unreachable server, say) stops the run; what was cached stays cached.
    """
    results: list[dict[str, Any] | None] = [None] * len(samples)
    bar = tqdm(
        total=len(samples),
        desc=desc or evaluator.method,
        disable=quiet or not sys.stderr.isatty(),
        unit="sample",
        dynamic_ncols=True,
    )

    def one(index: int) -> int:
        results[index] = evaluator.evaluate(samples[index], llm)
        return index

    with bar, ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        pending = {pool.submit(one, i) for i in range(len(samples))}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                if future.exception() is not None:
                    for other in pending:
                        other.cancel()
                    raise future.exception()  # type: ignore[misc]
                bar.update(1)
            u = llm.usage
            bar.set_postfix(calls=u.calls, hits=u.cache_hits, tokens=u.tokens, refresh=False)
    return [r for r in results if r is not None]


def write_jsonl(path: str | Path, rows: Sequence[dict[str, Any]]) -> Path:
    """All ``rows`` as JSON Lines, written atomically."""
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return atomic_write_bytes(path, text.encode("utf-8"))
