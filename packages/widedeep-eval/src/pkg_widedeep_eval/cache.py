"""A persistent response cache (SQLite) and the call and token accounting of a run.

Every request is keyed by backend, model, messages and sampling settings (temperature, max_tokens,
``n``, and the attempt/sample index ``seed``, offset by the run's seed), and its response is committed as
soon as it arrives: a rerun, or a run resumed after a crash or Ctrl-C, repeats no call and loses no
finished one. The file is opened through ``pkg_shared.data.open_sqlite``, so a damaged cache is one error
line naming it (exit 2), never a crash in the middle of a run.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from pkg_shared.data import open_sqlite
from pkg_shared.errors import UserError
from pkg_shared.io import prepare_output

from .backends import Backend, Response, Stopped
from .templates import Messages

RUN_SEED_STRIDE = 1_000_000_000
"""A run with seed ``r`` asks with sampling seed ``r * RUN_SEED_STRIDE + seed``: an independent draw."""


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

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_dict(self) -> dict[str, int]:
        return {**asdict(self), "tokens": self.tokens}


class ResponseCache:
    """``key -> Response`` in one SQLite file (WAL journal; safe to share between threads).

    The file is checked with ``PRAGMA quick_check`` before use: a damaged or non-SQLite file raises
    :class:`pkg_shared.data.DataError` naming it.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = prepare_output(path, what="response cache")
        open_sqlite(self.path, what="response cache").close()  # integrity check (DataError if damaged)
        try:
            # our own connection: the workers share it (check_same_thread=False) under self._lock
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # each insert survives a crash of this process
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, texts TEXT NOT NULL, "
                "prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL)"
            )
            columns = [row[1] for row in self._db.execute("PRAGMA table_info(responses)")]
        except (sqlite3.Error, OSError) as e:
            raise UserError(f"cannot use the response cache {self.path}: {e}") from None
        if columns != ["key", "texts", "prompt_tokens", "completion_tokens"]:
            raise UserError(f"{self.path} is an SQLite file but not a response cache (columns {columns})")
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
        if row is None:
            return None
        try:
            return Response(json.loads(row[0]), int(row[1]), int(row[2]))
        except (ValueError, TypeError):
            raise UserError(
                f"response cache {self.path} holds an unreadable entry; remove the file"
            ) from None

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
    """A backend behind the cache, counting every call into the run's :class:`Usage` (and a sample's).

    ``run_seed`` offsets every sampling seed (see :data:`RUN_SEED_STRIDE`), so that runs with different
    seeds draw, and cache, independent samples. :meth:`stop` (Ctrl-C) makes every later :meth:`ask` raise
    :class:`Stopped` before it sends anything and wakes a backend waiting to retry.
    """

    def __init__(self, backend: Backend, cache: ResponseCache | None = None, run_seed: int = 0) -> None:
        self.backend, self.cache, self.run_seed = backend, cache, run_seed
        self.usage = Usage()
        self._lock = threading.Lock()
        self.stopped = threading.Event()

    def stop(self) -> None:
        """Send no new request from now on (requests already in flight finish and are cached)."""
        self.stopped.set()
        cancel = getattr(self.backend, "cancel", None)
        if cancel is not None:
            cancel()

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
        if self.stopped.is_set():
            raise Stopped
        seed = self.run_seed * RUN_SEED_STRIDE + seed
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
