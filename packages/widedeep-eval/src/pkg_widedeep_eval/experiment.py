"""``reproduce``: the stub-backend mechanics, the offline small model, and (full) a real model server.

- stub, every scale: WideDeep with a "longer answer wins" stub over LLMEval² (synthetic pairs at
  ``smoke``): its verdicts must equal the length rule computed straight from the data, its calls must
  be exactly ``1 + 2 N L`` per sample, a rerun on the same cache must send nothing to the backend, and a
  position-biased stub must be cancelled by the order swap. A flaky stub checks the retry accounting.
- small: SmolLM2-135M-Instruct (``fetch-model smollm2``) on 5 short dev-slice samples from different
  sources, single neuron and WideDeep side by side; every output must parse or fall back as specified.
- full: the paper's kappa gain on all of LLMEval² through ``$OPENAI_BASE_URL`` / ``$OPENAI_MODEL``.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

from pkg_shared.claims import NotRun
from pkg_shared.cli import RunContext
from pkg_shared.data import DatasetMissing
from pkg_shared.device import torch_threads

from .backends import StubBackend, TransformersBackend
from .cache import LLM, ResponseCache, default_cache
from .config import PRESETS, NetworkConfig, SmallModelRun
from .data import Sample, load_llmeval2, shortest_per_source, synthetic
from .models import smollm2_path
from .network import Narrow, SingleNeuron, WideDeep, verdict
from .parsing import FAILED, parse_aspects, parse_scores
from .runner import evaluate_all, make_backend, write_jsonl
from .scoring import agreement, format_report


def length_rule(samples: list[Sample]) -> list[str]:
    """The verdict "the longer answer (in characters) wins", computed straight from the data."""
    return [verdict(len(s.response1), len(s.response2)) for s in samples]


def expected_calls(results: list[dict[str, Any]]) -> int:
    """``sum over samples of (aspect attempts + every review's attempts)``; ``1 + 2 N L`` without retries."""
    return sum(
        r.get("aspect_attempts", 1)
        + sum(rv["attempts"] for layer in r["layers"] for n in layer for rv in n["reviews"])
        for r in results
    )


def _stub(ctx: RunContext, samples: list[Sample], mechanics: list[Sample], source: str) -> dict[str, Any]:
    """The stub claims: the length judge over ``samples`` (uncached: pure network cost), then the cache
    resume, position-bias and retry checks over the smaller ``mechanics`` set."""
    cfg = NetworkConfig()
    out: dict[str, Any] = {
        "stub_data": source,
        "stub_samples": len(samples),
        "mechanics_samples": len(mechanics),
    }

    backend = StubBackend("length")
    llm = LLM(backend)
    results = evaluate_all(WideDeep(cfg), samples, llm, quiet=ctx.quiet, desc="stub widedeep")
    write_jsonl(ctx.run.path / "stub_widedeep.jsonl", results)
    rep = agreement(results)["overall"]
    formula = sum(1 + 2 * r["width"] * cfg.layers for r in results)
    out |= {
        "stub_accuracy": rep["accuracy"],
        "stub_kappa": rep["kappa"],
        "stub_calls": llm.usage.calls,
        "stub_calls_formula": formula,
        "stub_calls_exact": llm.usage.calls == formula == backend.calls,
        "stub_tokens": llm.usage.tokens,
        "stub_matches_length_rule": [r["verdict"] for r in results] == length_rule(samples),
    }

    cache = ResponseCache(ctx.run.path / "cache.sqlite")
    first = evaluate_all(WideDeep(cfg), mechanics, LLM(StubBackend("length"), cache), quiet=True)
    rerun = LLM(StubBackend("length"), cache)
    again = evaluate_all(WideDeep(cfg), mechanics, rerun, quiet=True)
    out["rerun_backend_calls"] = rerun.usage.backend_calls
    out["rerun_cache_hits"] = rerun.usage.cache_hits
    out["rerun_identical"] = [{**r, "usage": None} for r in again] == [{**r, "usage": None} for r in first]

    pos = evaluate_all(WideDeep(cfg), mechanics, LLM(StubBackend("position"), cache), quiet=True)
    forward = [
        [rv for layer in r["layers"] for n in layer for rv in n["reviews"] if rv["order"] == "12"]
        for r in pos
    ]
    forward_verdicts = [verdict(sum(x["score1"] for x in f), sum(x["score2"] for x in f)) for f in forward]
    out["position_forward_model1_share"] = sum(v == "model1" for v in forward_verdicts) / len(pos)
    out["position_swapped_max_gap"] = max(abs(r["score"][0] - r["score"][1]) for r in pos)
    out["position_swapped_all_tie"] = all(r["verdict"] == "TIE" for r in pos)

    flaky_backend = StubBackend("length", flaky=0.2)
    flaky = LLM(flaky_backend, cache)
    fl = evaluate_all(WideDeep(cfg), mechanics, flaky, quiet=True)
    retries = flaky.usage.calls - sum(1 + 2 * r["width"] * cfg.layers for r in fl)
    out["flaky_retries"] = retries
    out["flaky_calls_consistent"] = (
        flaky.usage.calls == expected_calls(fl) == flaky_backend.calls and retries > 0
    )
    cache.close()
    return out


def _parsed_or_fallback(result: dict[str, Any], cfg: NetworkConfig) -> bool:
    """Every review parsed (its scores are what the parser reads) or fell back to (0, 0) after all attempts."""
    reviews = result.get("reviews") or [
        rv for layer in result.get("layers", []) for n in layer for rv in n["reviews"]
    ]
    for rv in reviews:
        if rv["fallback"]:
            if (rv["score1"], rv["score2"]) != (0.0, 0.0) or rv["attempts"] != cfg.score_attempts:
                return False
        else:
            parsed = parse_scores(rv["text"])  # a "21" text is stored with its labels swapped back
            if parsed == FAILED or parsed != (rv["score1"], rv["score2"]):
                return False
    if "aspects" in result:
        terminator = "@" if result["family"] == "Code" else "&"
        found = parse_aspects(result["aspect_output"], terminator)
        if result["aspect_fallback"]:
            return not found and result["aspects"] == list(cfg.fallback_aspects)
        return bool(found) and result["aspects"] == found[: len(result["aspects"])]
    return True


def _small_model(ctx: RunContext, run: SmallModelRun, dev: list[Sample] | None) -> dict[str, Any]:
    keys = ("small_all_parsed_or_fallback", "small_calls_exact", "small_widedeep_kappa", "small_single_kappa")
    path = smollm2_path()
    reason = None
    if dev is None:
        reason = "LLMEval² is not in the data root (set --data-dir or $PKG_DATA_DIR)"
    elif importlib.util.find_spec("transformers") is None or importlib.util.find_spec("gguf") is None:
        reason = "needs the 'local' extra: pip install 'pkg-widedeep-eval[local]'"
    elif not path.is_file():
        reason = f"no model at {path}: run `pkg-widedeep-eval fetch-model smollm2`"
    if reason:
        return dict.fromkeys(keys, NotRun(reason))
    samples = shortest_per_source(dev, run.n_samples, run.max_prompt_chars)
    cfg = run.network
    cache = ResponseCache(default_cache())  # shared with `evaluate`: an interrupted run resumes
    with torch_threads(1):
        llm = LLM(TransformersBackend(path, "cpu", ctx.quiet), cache)
        single = evaluate_all(SingleNeuron(cfg), samples, llm, quiet=ctx.quiet, desc="smollm2 single")
        single_usage = llm.usage.as_dict()
        wide = evaluate_all(WideDeep(cfg), samples, llm, quiet=ctx.quiet, desc="smollm2 widedeep")
    cache.close()
    write_jsonl(ctx.run.path / "smollm2_single.jsonl", single)
    write_jsonl(ctx.run.path / "smollm2_widedeep.jsonl", wide)
    reports = {"single": agreement(single), "widedeep": agreement(wide)}
    if not ctx.quiet:
        print(format_report(reports, per_dataset=False))
    formula = sum(1 + 2 * r["width"] * cfg.layers for r in wide) + sum(2 for _ in single)
    w, s = reports["widedeep"]["overall"], reports["single"]["overall"]
    return {
        "small_ids": [x.id for x in samples],
        "small_sources": [x.dataset for x in samples],
        "small_all_parsed_or_fallback": all(_parsed_or_fallback(r, cfg) for r in single + wide),
        "small_calls": llm.usage.calls,
        "small_calls_formula": formula,
        "small_calls_exact": llm.usage.calls == formula,
        "small_widedeep_accuracy": w["accuracy"],
        "small_widedeep_kappa": w["kappa"],
        "small_widedeep_calls": w["calls"],
        "small_widedeep_tokens": w["tokens"],
        "small_widedeep_fallback_rate": w["fallback_rate"],
        "small_widedeep_aspect_fallbacks": sum(r["aspect_fallback"] for r in wide),
        "small_single_accuracy": s["accuracy"],
        "small_single_kappa": s["kappa"],
        "small_single_calls": single_usage["calls"],
        "small_single_tokens": single_usage["tokens"],
        "small_single_fallback_rate": s["fallback_rate"],
    }


def _full(ctx: RunContext, samples: list[Sample] | None) -> dict[str, Any]:
    model = os.environ.get("OPENAI_MODEL")
    if samples is None or not os.environ.get("OPENAI_BASE_URL") or not model:
        return {
            "full_kappa_gain": NotRun(
                "needs LLMEval² and a model server: set $OPENAI_BASE_URL and $OPENAI_MODEL"
            )
        }
    llm = LLM(make_backend("openai", model, concurrency=16), ResponseCache(default_cache()))
    narrow = evaluate_all(
        Narrow(NetworkConfig(), k=3), samples, llm, workers=16, quiet=ctx.quiet, desc="narrow"
    )
    wide = evaluate_all(WideDeep(NetworkConfig()), samples, llm, workers=16, quiet=ctx.quiet, desc="widedeep")
    write_jsonl(ctx.run.path / "full_narrow.jsonl", narrow)
    write_jsonl(ctx.run.path / "full_widedeep.jsonl", wide)
    kn, kw = agreement(narrow)["overall"]["kappa"], agreement(wide)["overall"]["kappa"]
    return {"full_narrow_kappa": kn, "full_widedeep_kappa": kw, "full_kappa_gain": kw - kn}


def reproduce(ctx: RunContext) -> dict[str, Any]:
    """Run the parts of :data:`~pkg_widedeep_eval.config.PRESETS` for ``ctx.scale``; the measured values."""
    preset = PRESETS[ctx.scale]
    try:
        benchmark: list[Sample] | None = load_llmeval2(ctx.data_dir, "all")
        dev: list[Sample] | None = load_llmeval2(ctx.data_dir, "dev")
    except DatasetMissing:
        benchmark = dev = None
    if preset.stub_samples is not None:
        pairs = synthetic(preset.stub_samples, ctx.seed)
        out = _stub(ctx, pairs, pairs, "synthetic")
        out["stub_accuracy_llmeval2"] = NotRun("smoke runs the stub on synthetic pairs; use --scale small")
    elif benchmark is not None and dev is not None:
        out = _stub(ctx, benchmark, dev, "llmeval2")
        out["stub_accuracy_llmeval2"] = out["stub_accuracy"]
    else:
        pairs = synthetic(200, ctx.seed)
        out = _stub(ctx, pairs, pairs, "synthetic")
        out["stub_accuracy_llmeval2"] = NotRun(
            "LLMEval² is not in the data root (set --data-dir or $PKG_DATA_DIR)"
        )
    if preset.small_model is not None:
        out |= _small_model(ctx, preset.small_model, dev)
    if preset.full_backend:
        out |= _full(ctx, benchmark)
    ctx.log(**{k: v for k, v in out.items() if isinstance(v, (int, float, bool, str))})
    return out
