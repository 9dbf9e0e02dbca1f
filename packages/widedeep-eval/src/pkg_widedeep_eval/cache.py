"""A persistent response cache (SQLite) and the call and token accounting of a run.

Every request is keyed by backend, model, messages and sampling settings (temperature, max_tokens,
``n``, and the attempt/sample index ``seed``), and its response is committed as soon as it arrives: a
rerun, or a run resumed after a crash, repeats no call and loses no finished one.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from pkg_shared.errors import UserError

from .backends import Backend, Response
from .templates import Messages


def default_cache() -> Path:
    """``$PKG_WIDEDEEP_CACHE``, else ``<cache>/pkg-zoo/widedeep-eval/responses.sqlite``."""
    if os.environ.get("PKG_WIDEDEEP_CACHE"):
        return Path(os.environ["PKG_WIDEDEEP_CACHE"]).expanduser()
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "pkg-zoo" / "widedeep-eval" / "responses.sqlite"


@dataclass
class Usage:
    """Counts for one sample or one run.

    ``calls``: requests the evaluator made (cache hits included; the paper's cost unit);
    ``cache_hits``: of those, answered from the cache; ``backend_calls``: sent to the model now;
    ``prompt_tokens`` / ``completion_tokens``: of all ``calls`` (what a fresh run pays);
    ``new_tokens``: prompt + completion tokens of ``backend_calls`` only.
    """

    calls: int = 0
    cache_hits: int = 0
    backend_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    new_tokens: int = 0

    def add(self, response: Response, hit: bool) -> None:
        self.calls += 1
        self.cache_hits += int(hit)
        self.backend_calls += int(not hit)
        self.prompt_tokens += response.prompt_tokens
        self.completion_tokens += response.completion_tokens
        if not hit:
            self.new_tokens += response.prompt_tokens + response.completion_tokens

    def merge(self, other: Usage) -> None:
        for key, value in asdict(other).items():
            setattr(self, key, getattr(self, key) + value)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_dict(self) -> dict[str, int]:
        return {**asdict(self), "tokens": self.tokens}


class ResponseCache:
    """``key -> Response`` in one SQLite file (WAL journal; safe to share between threads)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # each insert survives a crash of this process
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, texts TEXT NOT NULL, "
                "prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL)"
            )
        except (sqlite3.Error, OSError) as e:
            raise UserError(f"cannot open the response cache {self.path}: {e}") from None
        self._lock = threading.Lock()

    @staticmethod
    def key(backend: Backend, messages: Messages, **sampling: float | int) -> str:
        blob = json.dumps(
            {"backend": backend.name, "model": backend.model, "messages": messages, **sampling},
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def get(self, key: str) -> Response | None:
        with self._lock:
            row = self._db.execute(
                "SELECT texts, prompt_tokens, completion_tokens FROM responses WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else Response(json.loads(row[0]), row[1], row[2])

    def put(self, key: str, response: Response) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)",
                (key, json.dumps(response.texts), response.prompt_tokens, response.completion_tokens),
            )

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class LLM:
    """A backend behind the cache, counting every call into the run's :class:`Usage` (and a sample's)."""

    def __init__(self, backend: Backend, cache: ResponseCache | None = None) -> None:
        self.backend, self.cache = backend, cache
        self.usage = Usage()
        self._lock = threading.Lock()

    def ask(
        self,
        messages: Messages,
        *,
        temperature: float,
        max_tokens: int,
        n: int = 1,
        seed: int = 0,
        usage: Usage | None = None,
    ) -> Response:
        sampling = {"temperature": temperature, "max_tokens": max_tokens, "n": n, "seed": seed}
        key = ResponseCache.key(self.backend, messages, **sampling) if self.cache is not None else ""
        response = self.cache.get(key) if self.cache is not None else None
        hit = response is not None
        if response is None:
            response = self.backend.complete(messages, **sampling)
            if len(response.texts) != n:
                raise UserError(f"{self.backend.name} returned {len(response.texts)} completions, asked {n}")
            if self.cache is not None:
                self.cache.put(key, response)
        with self._lock:
            self.usage.add(response, hit)
        if usage is not None:
            usage.add(response, hit)
        return response
