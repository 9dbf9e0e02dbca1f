"""The LLMs a neuron can call, behind one small interface: ``stub``, ``openai`` (HTTP), ``transformers``.

A backend turns chat ``messages`` into ``n`` completions and says how many tokens that cost::

    backend.complete(messages, temperature=0.0, max_tokens=512, n=1, seed=0) -> Response

``seed`` is the attempt (or sample) index; sampling backends derive their randomness from it so that a
rerun asks for, and caches, exactly the same things. Caching and accounting live in :mod:`.cache`.
"""

from __future__ import annotations

import datetime
import email.utils
import hashlib
import os
import random
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from pkg_shared.errors import UserError

from .templates import Messages


@dataclass(frozen=True)
class Response:
    """``n`` completion texts and the tokens the call cost (prompt counted once, as in OpenAI usage)."""

    texts: list[str]
    prompt_tokens: int
    completion_tokens: int


class Backend(Protocol):
    """What every backend provides; ``name`` and ``model`` are part of the response cache's key."""

    name: str
    model: str

    def complete(
        self, messages: Messages, *, temperature: float, max_tokens: int, n: int = 1, seed: int = 0
    ) -> Response: ...


class Stopped(Exception):
    """Raised inside a worker once the run was stopped (Ctrl-C): no new request is sent."""


class BackendUnavailable(UserError):
    """The model server did not answer after every retry (what was already cached is kept)."""


# -------------------------------------------------------------------------------------------- stub
_ANSWER = {
    k: re.compile(rf"\[The Start of Assistant {k}'s [^\]]+\]\n(.*?)\n\[The End of Assistant {k}'s", re.S)
    for k in (1, 2)
}


def _digest(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")


def _words(text: str) -> int:
    return len(text.split())


class StubBackend:
    """A deterministic fake LLM for tests and the mechanics claims (no model, no network).

    Layer-0 prompts get 2-4 canned angles (chosen by a hash of the prompt). Scoring prompts get a review
    whose scores follow ``mode``:

    - ``length``: ``s_k = 1 + 9 |A_k| / (|A_1| + |A_2|)`` (characters): the longer answer wins wherever it
      is shown, so the verdict is the "longer is better" rule;
    - ``position``: always 8 for Assistant 1 and 3 for Assistant 2 (pure position bias);
    - ``hash``: a score per answer text from a hash (a position-independent random judge).

    ``flaky`` is the chance that one completion is unparsable (decided by a hash of prompt and seed), to
    exercise retries. Tokens are counted as whitespace-separated words. ``calls`` counts requests.
    """

    name = "stub"
    ASPECTS = ("Accuracy", "Relevance", "Helpfulness", "Level of Detail")

    def __init__(self, mode: str = "length", flaky: float = 0.0, model: str | None = None) -> None:
        if mode not in ("length", "position", "hash"):
            raise UserError(f"unknown stub mode {mode!r} (length, position, hash)")
        if not 0.0 <= flaky < 1.0:
            raise UserError(f"flaky must be in [0, 1), got {flaky}")
        self.mode, self.flaky = mode, flaky
        self.model = model or f"stub-{mode}" + (f"-flaky{flaky:g}" if flaky else "")
        self.calls = 0
        self._lock = threading.Lock()

    def _scores(self, prompt: str) -> tuple[float, float]:
        answers = [m.group(1) if (m := _ANSWER[k].search(prompt)) else "" for k in (1, 2)]
        if self.mode == "position":
            return 8.0, 3.0
        if self.mode == "hash":
            return tuple(float(1 + _digest("score", a) % 10) for a in answers)  # type: ignore[return-value]
        total = len(answers[0]) + len(answers[1])
        if total == 0:
            return 5.0, 5.0
        return 1 + 9 * len(answers[0]) / total, 1 + 9 * len(answers[1]) / total

    def _one(self, prompt: str, seed: int, index: int) -> str:
        if self.flaky and (_digest("flaky", prompt, str(seed), str(index)) % 10_000) < self.flaky * 10_000:
            return "I cannot decide."
        if "Start every angle name with $" in prompt:
            term = "@" if "end it with @" in prompt else "&"
            k = 2 + _digest("aspects", prompt) % 3
            return "\n".join(f"${a}{term} how the {a.lower()} compares" for a in self.ASPECTS[:k])
        s1, s2 = self._scores(prompt)
        return (
            f"Evaluation evidence: judged by the stub ({self.mode}).\n"
            f"Score of Assistant 1: {s1!r}\nScore of Assistant 2: {s2!r}"
        )

    def complete(
        self, messages: Messages, *, temperature: float, max_tokens: int, n: int = 1, seed: int = 0
    ) -> Response:
        with self._lock:
            self.calls += 1
        prompt = "\n".join(m["content"] for m in messages)
        texts = [self._one(prompt, seed, i) for i in range(n)]
        return Response(texts, _words(prompt), sum(_words(t) for t in texts))


# ------------------------------------------------------------------------------------------ openai
RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
MAX_RETRY_AFTER = 3600.0
"""The longest ``Retry-After`` honoured (seconds); a later date waits this long."""


def retry_after_seconds(value: str, now: datetime.datetime | None = None) -> float | None:
    """The wait an HTTP ``Retry-After`` header asks for, in seconds, or None when it is not readable.

    Both forms of RFC 9110 are read: delay-seconds (``"120"``) and an HTTP-date
    (``"Wed, 21 Oct 2026 07:28:00 GMT"``, via :func:`email.utils.parsedate_to_datetime`); a date in the
    past means 0. The result is capped at :data:`MAX_RETRY_AFTER`.
    """
    value = value.strip()
    if not value:
        return None
    if value.replace(".", "", 1).isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 850 / asctime dates without a zone are GMT
        when = when.replace(tzinfo=datetime.UTC)
    now = now or datetime.datetime.now(datetime.UTC)
    return min(max(0.0, (when - now).total_seconds()), MAX_RETRY_AFTER)


class OpenAIBackend:
    """Any OpenAI-compatible ``POST {base_url}/chat/completions`` (OpenAI, vLLM, llama.cpp, Ollama).

    ``base_url`` defaults to ``$OPENAI_BASE_URL``; the key is read from the environment variable
    ``api_key_env`` (``OPENAI_API_KEY``) and never stored. At most ``concurrency`` requests are in flight.
    A request that times out, loses its connection or gets HTTP 429/5xx is retried ``retries`` times with
    exponential backoff (``backoff * 2**k`` seconds plus jitter, or the server's ``Retry-After`` in seconds
    or as an HTTP-date); then :class:`BackendUnavailable` is raised. Other HTTP errors (a bad key, an
    unknown model) fail at once. :meth:`cancel` (Ctrl-C) ends every wait for a retry at once and sends no
    further request.
    """

    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        concurrency: int = 8,
        timeout: float = 120.0,
        retries: int = 5,
        backoff: float = 1.0,
        send_seed: bool = False,
    ) -> None:
        base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not base_url:
            raise UserError(
                "the openai backend needs --base-url or $OPENAI_BASE_URL (e.g. http://127.0.0.1:8000/v1)"
            )
        if not model:
            raise UserError("the openai backend needs --model (the served model's name)")
        if retries < 0 or concurrency < 1 or not timeout > 0 or backoff < 0:
            raise UserError(
                f"openai backend: need retries >= 0, concurrency >= 1, timeout > 0, backoff >= 0 "
                f"(got {retries}, {concurrency}, {timeout}, {backoff})"
            )
        self.model, self.base_url = model, base_url.rstrip("/")
        self.retries, self.backoff, self.send_seed = retries, backoff, send_seed
        key = os.environ.get(api_key_env, "")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)
        self._slots = threading.BoundedSemaphore(concurrency)
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        """Stop: no new request, and any wait for a retry ends at once."""
        self._cancelled.set()

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        problem = ""
        for attempt in range(self.retries + 1):
            if self._cancelled.is_set():
                raise Stopped
            wait = self.backoff * 2**attempt * (1 + 0.1 * random.random())
            try:
                with self._slots:
                    r = self._client.post("/chat/completions", json=body)
            except (httpx.TimeoutException, httpx.TransportError) as e:
                problem = f"{type(e).__name__}: {e}"
            else:
                if r.status_code == 200:
                    try:
                        return r.json()
                    except ValueError:
                        problem = "the reply is not JSON"
                elif r.status_code in RETRY_STATUS:
                    problem = f"HTTP {r.status_code}"
                    asked = retry_after_seconds(r.headers.get("retry-after", ""))
                    if asked is not None:
                        wait = asked
                else:
                    raise UserError(f"{self.base_url}: HTTP {r.status_code}: {r.text[:200].strip()}")
            if attempt < self.retries and self._cancelled.wait(wait):
                raise Stopped
        raise BackendUnavailable(
            f"{self.base_url} did not answer after {self.retries} retries ({problem}); "
            "responses already received stay in the cache, so rerunning resumes from there"
        )

    def complete(
        self, messages: Messages, *, temperature: float, max_tokens: int, n: int = 1, seed: int = 0
    ) -> Response:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": temperature,
            "max_tokens": max_tokens,
            "n": n,
        }
        if self.send_seed:
            body["seed"] = seed
        reply = self._post(body)
        try:
            texts = [c["message"].get("content") or "" for c in reply["choices"]]
        except (KeyError, TypeError, AttributeError):
            raise UserError(f"{self.base_url}: reply has no choices[].message: {str(reply)[:200]}") from None
        usage = reply.get("usage") or {}
        return Response(texts, int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0)))


# ------------------------------------------------------------------------------------ transformers
class TransformersBackend:
    """A local causal LM through transformers: a model folder, or a ``.gguf`` file (``gguf_file=``).

    GGUF weights are de-quantised to float32 by transformers (SmolLM2-135M-Instruct: 134.5M parameters).
    Prompts go through the tokenizer's chat template. ``temperature == 0`` is greedy decoding; otherwise
    sampling seeded by ``seed``. One generation runs at a time (a lock), on ``device``. The weights are
    loaded on the first request, so a run answered entirely from the cache never loads them.

    ``score_mode="expected"`` (an extension, off by default; the spec's scoring mode for weak models):
    a scoring prompt is not answered by free generation; instead the reply is forced to
    ``Score of Assistant 1: `` and the score is the expectation of 1..10 under the next-token
    distribution (digits are single tokens; ``P(10) = P("1") P("0" | "1")``), then the same for Assistant
    2 after the rounded first score. The reply therefore always parses; it carries no evidence text and
    counts no completion tokens. Aspect prompts are still generated.
    """

    SCORE_LINE = "Score of Assistant 2: <score>"

    name = "transformers"

    def __init__(
        self, path: str | Path, device: str = "cpu", quiet: bool = False, score_mode: str = "generate"
    ) -> None:
        if score_mode not in ("generate", "expected"):
            raise UserError(f"unknown score mode {score_mode!r} (generate, expected)")
        path = Path(path).expanduser()
        if not path.exists():
            raise UserError(f"model path does not exist: {path}")
        try:
            import torch
            from transformers.utils import logging as hf_logging
        except ImportError:
            raise UserError(
                "the transformers backend needs the 'local' extra: pip install 'pkg-widedeep-eval[local]'"
            ) from None
        if quiet:
            hf_logging.disable_progress_bar()
        if path.is_file():
            if path.suffix != ".gguf":
                raise UserError(f"{path} is a file but not a .gguf; give a model folder or a GGUF file")
            folder, kwargs = path.parent, {"gguf_file": path.name}
        else:
            folder, kwargs = path, {}
        self.score_mode, self.device, self.quiet = score_mode, device, quiet
        self.model = path.name + ("+expected-score" if score_mode == "expected" else "")
        self._path, self._folder, self._kwargs = path, folder, kwargs
        self._torch = torch
        self._lock, self._load_lock = threading.Lock(), threading.Lock()
        self._loaded = False

    def _load(self) -> None:
        """Load tokenizer and weights on the first request (a fully cached run never loads them)."""
        with self._load_lock:
            if self._loaded:
                return
            from transformers import AutoModelForCausalLM, AutoTokenizer

            before = os.environ.get("TQDM_DISABLE")
            if self.quiet:  # the GGUF de-quantisation shows its own tqdm bar, which reads this variable
                os.environ["TQDM_DISABLE"] = "1"
            try:
                self.tokenizer = AutoTokenizer.from_pretrained(self._folder, **self._kwargs)
                self.lm = AutoModelForCausalLM.from_pretrained(
                    self._folder, dtype=self._torch.float32, **self._kwargs
                ).to(self.device)
            except (OSError, ValueError, ImportError) as e:
                raise UserError(
                    f"cannot load a causal LM from {self._path}: {str(e).splitlines()[0]}"
                ) from None
            finally:
                if before is None:
                    os.environ.pop("TQDM_DISABLE", None)
                else:
                    os.environ["TQDM_DISABLE"] = before
            self.lm.eval()
            self._digits = [self.tokenizer.convert_tokens_to_ids(str(d)) for d in range(10)]
            self._loaded = True

    def complete(
        self, messages: Messages, *, temperature: float, max_tokens: int, n: int = 1, seed: int = 0
    ) -> Response:
        self._load()
        if self.score_mode == "expected" and self.SCORE_LINE in messages[-1]["content"]:
            return self._expected_scores(messages, n)
        torch = self._torch
        inputs = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        ).to(self.device)
        n_prompt = int(inputs["input_ids"].shape[1])
        sampling = temperature > 0
        options: dict[str, Any] = {"max_new_tokens": max_tokens, "do_sample": sampling}
        if sampling:
            options |= {"temperature": temperature, "top_p": 1.0, "top_k": 0, "num_return_sequences": n}
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = self.tokenizer.eos_token_id
        with self._lock, torch.inference_mode():
            if sampling:
                torch.manual_seed(seed)
            out = self.lm.generate(**inputs, pad_token_id=pad, **options)
        new = out[:, n_prompt:]
        stop = {pad, self.tokenizer.eos_token_id}
        n_new = sum(1 for row in new.tolist() for t in row if t not in stop)
        texts = [t.strip() for t in self.tokenizer.batch_decode(new, skip_special_tokens=True)]
        if not sampling:  # greedy: one generation stands for all n identical completions
            texts = texts[:1] * n
        return Response(texts, n_prompt, n_new)

    def _next_digits(self, text: str) -> list[float]:
        """Probabilities of the next token being "0".."9" after ``text`` (one forward pass)."""
        ids = self.tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"].to(self.device)
        with self._lock, self._torch.inference_mode():
            logits = self.lm(input_ids=ids).logits[0, -1]
        return self._torch.softmax(logits.float(), -1)[self._digits].tolist()

    def _expected(self, prefix: str) -> float:
        p = self._next_digits(prefix)
        q = self._next_digits(prefix + "1")
        ten = q[0] / max(q[0] + 1.0 - sum(q), 1e-12)  # "0" against "not a digit" after "1"
        mass = {k: p[k] for k in range(2, 10)} | {1: p[1] * (1 - ten), 10: p[1] * ten}
        total = sum(mass.values())
        return sum(k * m for k, m in mass.items()) / total if total > 0 else 5.5

    def _expected_scores(self, messages: Messages, n: int) -> Response:
        prompt = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        head = prompt + "Evaluation evidence: scored from next-token probabilities.\nScore of Assistant 1: "
        s1 = self._expected(head)
        s2 = self._expected(head + f"{round(s1)}\nScore of Assistant 2: ")
        text = f"Evaluation evidence: scored from next-token probabilities.\nScore of Assistant 1: {s1:.4f}\nScore of Assistant 2: {s2:.4f}"
        n_prompt = len(self.tokenizer(prompt, add_special_tokens=False)["input_ids"])
        return Response([text] * n, n_prompt, 0)
