import pytest

from pkg_shared.errors import UserError
from pkg_widedeep_eval import LLM, NetworkConfig, Response, Sample, StubBackend, WideDeep, neighbours
from pkg_widedeep_eval.network import Narrow, SingleNeuron, truncate_middle

SAMPLE = Sample(
    7, "What is the capital of France?", "Paris.", "It is Berlin, a large city.", "model1", "webgpt"
)


class Scripted:
    """A backend answering with ``reply(prompt_text, seed)`` and remembering every request."""

    name = "scripted"

    def __init__(self, reply, model="m"):
        self.reply, self.model, self.requests = reply, model, []

    def complete(self, messages, *, temperature, max_tokens, n=1, seed=0):
        prompt = "\n".join(m["content"] for m in messages)
        self.requests.append((messages, temperature, seed))
        return Response([self.reply(prompt, seed)] * n, 100, 10)


def test_window_neighbours():
    assert [neighbours(i, 4) for i in range(4)] == [[1], [0, 2], [1, 3], [2]]
    assert neighbours(0, 1) == [] and neighbours(2, 5, window=2) == [0, 1, 3, 4]


def test_position_bias_cancels_to_tie():
    r = WideDeep().evaluate(SAMPLE, LLM(StubBackend("position")))
    assert r["score"][0] == r["score"][1] and r["verdict"] == "TIE"
    forward = [rv for layer in r["layers"] for n in layer for rv in n["reviews"] if rv["order"] == "12"]
    assert all(rv["score1"] > rv["score2"] for rv in forward)  # the bias is there before swapping back


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_call_count_and_tokens(layers):
    backend = StubBackend("length")
    llm = LLM(backend)
    r = WideDeep(NetworkConfig(layers=layers)).evaluate(SAMPLE, llm)
    n = r["width"]
    assert 2 <= n <= 4 and r["aspects"] == list(StubBackend.ASPECTS[:n])
    assert r["usage"]["calls"] == 1 + 2 * n * layers == backend.calls == llm.usage.calls
    assert r["reviews_total"] == 2 * n * layers and len(r["layer_scores"]) == layers
    assert (
        r["usage"]["tokens"]
        == llm.usage.tokens
        == r["usage"]["prompt_tokens"] + r["usage"]["completion_tokens"]
    )
    assert r["verdict"] == "model2"  # the longer answer, whatever its position


def test_token_accounting_against_known_costs():
    backend = Scripted(
        lambda p, s: (
            "$A& $B& $C&" if "Start every angle" in p else "Score of Assistant 1: 2\nScore of Assistant 2: 5"
        )
    )
    llm = LLM(backend)
    r = WideDeep().evaluate(SAMPLE, llm)
    calls = 1 + 2 * 3 * 2
    assert r["usage"] == {"calls": calls, "cache_hits": 0, "backend_calls": calls, "prompt_tokens": 100 * calls,
                          "completion_tokens": 10 * calls, "new_tokens": 110 * calls, "tokens": 110 * calls}  # fmt: skip
    assert r["score"] == [3.5, 3.5]  # (2, 5) forward and (5, 2) swapped back average out


def test_retry_then_zero_fallback_and_default_aspects():
    backend = Scripted(lambda p, s: "no idea")
    cfg = NetworkConfig(aspect_attempts=3, score_attempts=2)
    r = WideDeep(cfg).evaluate(SAMPLE, LLM(backend))
    assert r["aspect_fallback"] and r["aspects"] == ["Accuracy", "Relevance"] and r["aspect_attempts"] == 3
    reviews = [rv for layer in r["layers"] for n in layer for rv in n["reviews"]]
    assert all(
        rv["fallback"] and (rv["score1"], rv["score2"]) == (0.0, 0.0) and rv["attempts"] == 2
        for rv in reviews
    )
    assert r["usage"]["calls"] == 3 + 2 * 2 * 2 * 2 and r["verdict"] == "TIE" and r["score_fallbacks"] == 8
    # retries are distinct requests (different seeds), so a cache cannot replay the failed answer
    seeds = [s for _, _, s in backend.requests]
    assert seeds[:3] == [0, 1, 2] and seeds[3:5] == [0, 1]


def test_retry_succeeds_on_second_attempt():
    backend = Scripted(
        lambda p, s: (
            "$X&"
            if "Start every angle" in p
            else ("Score of Assistant 1: 9\nScore of Assistant 2: 1" if s % 10 == 1 else "hm")
        )
    )
    r = WideDeep(NetworkConfig(layers=1)).evaluate(SAMPLE, LLM(backend))
    (neuron,) = r["layers"][0]
    assert [rv["attempts"] for rv in neuron["reviews"]] == [2, 2]
    assert [(rv["score1"], rv["score2"]) for rv in neuron["reviews"]] == [(9.0, 1.0), (1.0, 9.0)]


def test_discussion_sees_neighbours_with_swapped_labels():
    def reply(prompt, seed):
        if "Start every angle" in prompt:
            return "$Alpha& $Beta& $Gamma&"
        return f"Evaluation evidence: Assistant 1 is better (neuron {seed // 10}).\nScore of Assistant 1: 6\nScore of Assistant 2: 4"

    backend = Scripted(reply)
    r = WideDeep(NetworkConfig(layers=2)).evaluate(SAMPLE, LLM(backend))
    layer2 = r["layers"][1]
    assert [n["aspects"] for n in layer2] == [
        ["Alpha", "Beta"],
        ["Alpha", "Beta", "Gamma"],
        ["Beta", "Gamma"],
    ]
    assert [n["neighbours"] for n in layer2] == [[1], [0, 2], [1]]
    second = [m for m, _, _ in backend.requests if "Historical Evaluations" in m[-1]["content"]]
    assert len(second) == 6
    forward, reverse = second[0][1]["content"], second[1][1]["content"]
    # neuron 0 forward: own reviews of neuron 0, others = neuron 1's; reversed order: labels swapped inside
    assert "(neuron 1)" in forward and "(neuron 2)" not in forward and "Alpha, Beta" in forward
    own_fwd = forward.split("[The Start of Your Historical Evaluations]")[1].split("[The End of Your")[0]
    own_rev = reverse.split("[The Start of Your Historical Evaluations]")[1].split("[The End of Your")[0]
    assert (
        own_fwd.replace("Assistant 1", "#").replace("Assistant 2", "Assistant 1").replace("#", "Assistant 2")
        == own_rev
    )
    assert reverse.index("It is Berlin") < reverse.index("Paris.")  # answers shown reversed


def test_limited_width_and_truncation():
    backend = StubBackend("length")
    long = Sample(1, "x" * 5000, "a", "bb", None, "code-contests")
    r = WideDeep(NetworkConfig(width=2, max_query_chars=500)).evaluate(long, LLM(backend))
    assert r["width"] == 2 and r["truncated"] and r["family"] == "Code"
    text, cut = truncate_middle("abcdefghij" * 100, 200)
    assert cut and len(text) <= 200 and text.startswith("abc") and "characters cut" in text
    assert truncate_middle("short", 200) == ("short", False)


def test_baselines_call_counts():
    llm = LLM(StubBackend("length"))
    assert SingleNeuron().evaluate(SAMPLE, llm)["usage"]["calls"] == 2
    r = Narrow(k=3).evaluate(SAMPLE, llm)
    assert r["usage"]["calls"] == 6 and r["reviews_total"] == 6 and r["verdict"] == "model2"
    with pytest.raises(UserError):
        Narrow(k=0)
