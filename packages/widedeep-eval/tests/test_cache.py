import pytest

from pkg_widedeep_eval import LLM, ResponseCache, StubBackend, WideDeep
from pkg_widedeep_eval.data import synthetic
from pkg_widedeep_eval.runner import evaluate_all


class Crashing(StubBackend):
    """The length stub that dies (like a killed process) after ``limit`` requests, logging what it answered."""

    def __init__(self, limit):
        super().__init__("length")
        self.limit, self.seen = limit, []

    def complete(self, messages, **kw):
        if self.calls >= self.limit:
            raise KeyboardInterrupt("simulated crash")
        self.seen.append((str(messages), kw["seed"]))
        return super().complete(messages, **kw)


def test_resume_after_crash_repeats_no_call(tmp_path):
    samples = synthetic(12, seed=3)
    path = tmp_path / "cache.sqlite"
    crashing = Crashing(limit=40)
    with pytest.raises(KeyboardInterrupt):
        evaluate_all(WideDeep(), samples, LLM(crashing, ResponseCache(path)), workers=1, quiet=True)
    assert crashing.calls == 40  # 40 answers were received before the crash

    resumed = Crashing(limit=10**9)
    llm = LLM(resumed, ResponseCache(path))  # a new process: a fresh connection to the same file
    results = evaluate_all(WideDeep(), samples, llm, workers=2, quiet=True)
    assert llm.usage.cache_hits == 40 and llm.usage.backend_calls == llm.usage.calls - 40
    assert not set(crashing.seen) & set(resumed.seen)  # nothing asked twice

    fresh = evaluate_all(WideDeep(), samples, LLM(StubBackend("length")), quiet=True)
    strip = lambda rows: [{**r, "usage": None} for r in rows]  # noqa: E731
    assert strip(results) == strip(fresh)


def test_key_separates_sampling_settings(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    backend = StubBackend("length")
    llm = LLM(backend, cache)
    messages = [{"role": "user", "content": "Start every angle name with $ and end it with &"}]
    llm.ask(messages, temperature=0.0, max_tokens=8)
    llm.ask(messages, temperature=0.0, max_tokens=8)
    llm.ask(messages, temperature=0.7, max_tokens=8)
    llm.ask(messages, temperature=0.0, max_tokens=8, seed=1)
    llm.ask(messages, temperature=0.0, max_tokens=9)
    LLM(StubBackend("hash"), cache).ask(messages, temperature=0.0, max_tokens=8)  # another model
    assert backend.calls == 4 and llm.usage.cache_hits == 1 and len(cache) == 5
    assert llm.usage.new_tokens < llm.usage.tokens  # the hit is counted in cost but not as new spend


def test_damaged_cache_is_a_data_error_naming_it(tmp_path):
    from pkg_shared.data import DataError

    path = tmp_path / "c.sqlite"
    cache = ResponseCache(path)
    LLM(StubBackend("length"), cache).ask([{"role": "user", "content": "x"}], temperature=0.0, max_tokens=8)
    cache.close()
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(DataError, match="c.sqlite"):
        ResponseCache(path)


def test_unwritable_cache_is_a_user_error(tmp_path):
    (tmp_path / "file").write_text("x")
    from pkg_shared.errors import UserError

    with pytest.raises(UserError, match="response cache"):
        ResponseCache(tmp_path / "file" / "cache.sqlite")


def test_run_seed_draws_independent_samples(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    messages = [{"role": "user", "content": "judge"}]
    first, second = StubBackend("hash"), StubBackend("hash")
    LLM(first, cache).ask(messages, temperature=1.0, max_tokens=8)
    LLM(first, cache).ask(messages, temperature=1.0, max_tokens=8)  # same run seed: a cache hit
    LLM(second, cache, run_seed=1).ask(messages, temperature=1.0, max_tokens=8)  # another draw
    assert first.calls == 1 and second.calls == 1 and len(cache) == 2
