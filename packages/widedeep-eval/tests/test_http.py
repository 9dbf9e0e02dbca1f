"""The OpenAI-compatible backend against a stub server on 127.0.0.1 (see conftest.py)."""

import datetime
import email.utils

import pytest

from pkg_shared.errors import UserError
from pkg_widedeep_eval import LLM, ResponseCache
from pkg_widedeep_eval.backends import BackendUnavailable, OpenAIBackend, Stopped, retry_after_seconds

MESSAGES = [{"role": "user", "content": "judge"}]


def backend(url, **kw):
    return OpenAIBackend("judge-model", url, backoff=0.01, timeout=5, **kw)


def test_request_body_key_and_usage(server, monkeypatch):
    monkeypatch.setenv("TEST_KEY", "sk-test")
    r = backend(server.url, api_key_env="TEST_KEY").complete(MESSAGES, temperature=0.0, max_tokens=64, n=2)
    assert r.texts == [server.review] * 2 and (r.prompt_tokens, r.completion_tokens) == (31, 12)
    path, headers, body = server.requests[0]
    assert path == "/v1/chat/completions" and headers["Authorization"] == "Bearer sk-test"
    assert body == {
        "model": "judge-model",
        "messages": MESSAGES,
        "temperature": 0.0,
        "max_tokens": 64,
        "n": 2,
    }


def test_retries_429_and_5xx(server):
    server.script = [429, 503, 500]
    r = backend(server.url).complete(MESSAGES, temperature=1.0, max_tokens=8)
    assert r.texts == [server.review] and len(server.requests) == 4


def test_retries_dropped_connection(server):
    server.script = ["drop", "drop"]
    r = backend(server.url).complete(MESSAGES, temperature=1.0, max_tokens=8)
    assert r.texts == [server.review] and len(server.requests) == 3


def test_gives_up_after_retries_keeping_the_cache(server, tmp_path):
    llm = LLM(backend(server.url, retries=2), ResponseCache(tmp_path / "c.sqlite"))
    llm.ask(MESSAGES, temperature=0.0, max_tokens=8)
    server.script = [503] * 10
    with pytest.raises(BackendUnavailable, match="after 2 retries .*HTTP 503.*stay in the cache"):
        llm.ask([{"role": "user", "content": "another"}], temperature=0.0, max_tokens=8)
    assert len(server.requests) == 1 + 3
    again = LLM(backend(server.url), ResponseCache(tmp_path / "c.sqlite"))
    assert again.ask(MESSAGES, temperature=0.0, max_tokens=8).texts == [server.review]
    assert again.usage.cache_hits == 1 and len(server.requests) == 4  # served from the cache


def test_client_errors_fail_at_once(server):
    server.script = [401]
    with pytest.raises(UserError, match="HTTP 401"):
        backend(server.url).complete(MESSAGES, temperature=0.0, max_tokens=8)
    assert len(server.requests) == 1


def test_unreachable_server(dead_url):
    with pytest.raises(BackendUnavailable, match="ConnectError"):
        backend(dead_url, retries=1).complete(MESSAGES, temperature=0.0, max_tokens=8)


def test_needs_a_base_url(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(UserError, match="OPENAI_BASE_URL"):
        OpenAIBackend("m")


def test_retry_after_forms():
    now = datetime.datetime(2026, 10, 21, 7, 28, 0, tzinfo=datetime.UTC)
    assert retry_after_seconds("120", now) == 120.0 and retry_after_seconds("1.5", now) == 1.5
    assert retry_after_seconds("Wed, 21 Oct 2026 07:28:30 GMT", now) == 30.0  # IMF-fixdate
    assert retry_after_seconds("Wednesday, 21-Oct-26 07:29:00 GMT", now) == 60.0  # RFC 850
    assert retry_after_seconds("Wed Oct 21 07:28:05 2026", now) == 5.0  # asctime, no zone: GMT
    assert retry_after_seconds("Wed, 21 Oct 2026 07:00:00 GMT", now) == 0.0  # in the past
    assert retry_after_seconds("Fri, 21 Oct 2099 07:00:00 GMT", now) == 3600.0  # capped
    assert retry_after_seconds("soon", now) is None and retry_after_seconds("", now) is None


def test_retry_after_http_date_is_honoured(server):
    """A 503 with ``Retry-After: <HTTP-date 30 s ahead>`` waits ~30 s, not the 0.01 s backoff."""
    ahead = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=30)
    server.script = [(503, email.utils.format_datetime(ahead, usegmt=True)), (429, "2")]
    b = backend(server.url)
    waits = []
    b._cancelled.wait = lambda seconds: waits.append(seconds) or False  # record instead of sleeping
    assert b.complete(MESSAGES, temperature=0.0, max_tokens=8).texts == [server.review]
    assert 27 <= waits[0] <= 30 and waits[1] == 2.0 and len(server.requests) == 3


def test_cancel_ends_a_retry_wait_at_once(server):
    server.script = [(503, "3000")]
    b = backend(server.url)
    b.cancel()
    with pytest.raises(Stopped):
        b.complete(MESSAGES, temperature=0.0, max_tokens=8)
    assert len(server.requests) == 0  # cancelled before sending anything


def test_impossible_settings_are_user_errors(server):
    for bad in ({"retries": -1}, {"concurrency": 0}, {"timeout": 0}):
        with pytest.raises(UserError):
            OpenAIBackend("m", server.url, **bad)
