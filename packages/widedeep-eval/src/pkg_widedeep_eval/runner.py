"""Running an evaluator over many samples: backend choice, worker threads, progress, JSONL out.

Ctrl-C (SIGINT) stops a run at once: no queued sample starts, no new request is sent (requests already
in flight finish and go into the response cache), the worker pool is shut down without waiting for
queued items, and the ``KeyboardInterrupt`` goes on to the command line (one line, exit 130). Rerunning
the same command resumes from the cache.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from pkg_shared.errors import UserError
from pkg_shared.io import atomic_write_bytes
from pkg_shared.progress import progress

from .backends import Backend, OpenAIBackend, StubBackend, TransformersBackend
from .cache import LLM
from .config import BACKENDS
from .data import Sample
from .models import smollm2_path
from .network import Narrow, SingleNeuron, WideDeep


def make_backend(
    name: str,
    model: str | None = None,
    *,
    device: str = "cpu",
    data_dir: str | Path | None = None,
    base_url: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    concurrency: int = 8,
    timeout: float = 120.0,
    retries: int = 5,
    quiet: bool = False,
    score_mode: str = "generate",
) -> Backend:
    """One backend by name: ``stub`` (``model`` = its mode), ``smollm2`` (from the data root ``data_dir``),
    ``transformers`` (``model`` = a folder or ``.gguf`` file) or ``openai`` (``model`` = the served name)."""
    if name == "stub":
        return StubBackend(model or "length")
    if name == "smollm2":
        path = smollm2_path(data_dir)
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


def _completed(pending: set[Future[int]]) -> Iterator[Future[int]]:
    """Yield the futures as they finish (the progress display counts them)."""
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        yield from done


def evaluate_all(
    evaluator: WideDeep | SingleNeuron | Narrow,
    samples: Sequence[Sample],
    llm: LLM,
    workers: int = 1,
    quiet: bool = False,
    desc: str | None = None,
) -> list[dict[str, Any]]:
    """Evaluate every sample (``workers`` threads), in input order; progress shows calls, hits, tokens.

    The first error (an unreachable server, say) stops the run; so does Ctrl-C (see the module
    docstring). What was cached stays cached.
    """
    if workers < 1:
        raise UserError(f"workers must be >= 1, got {workers}")
    results: list[dict[str, Any] | None] = [None] * len(samples)

    def one(index: int) -> int:
        results[index] = evaluator.evaluate(samples[index], llm)
        return index

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="widedeep")
    futures = {pool.submit(one, i) for i in range(len(samples))}
    try:
        bar = progress(
            _completed(futures), quiet=quiet, desc=desc or evaluator.method, total=len(samples), unit="sample"
        )
        for future in bar:
            error = future.exception()
            if error is not None:
                raise error
            u = llm.usage
            bar.set_postfix(calls=u.calls, hits=u.cache_hits, tokens=u.tokens)
    except BaseException:  # Ctrl-C or a failed sample: stop at once, never wait for the queue
        llm.stop()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [r for r in results if r is not None]


def write_jsonl(path: str | Path, rows: Sequence[dict[str, Any]]) -> Path:
    """All ``rows`` as JSON Lines, written atomically."""
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return atomic_write_bytes(path, text.encode("utf-8"))
