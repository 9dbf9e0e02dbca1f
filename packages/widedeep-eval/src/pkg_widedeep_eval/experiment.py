"""``reproduce``: the stub-backend checks, the offline small model, and (full) a real model server.

- stub, every scale: WideDeep with a "longer answer wins" stub over LLMEval² (``--dataset llmeval2``;
  synthetic pairs with ``--dataset synthetic``): its verdicts must equal the length rule computed straight
  from the data, its calls must be exactly ``1 + 2 N L`` per sample, a rerun on the same cache must send
  nothing to the backend, and a position-biased stub must be cancelled by the order swap. A flaky stub
  checks the retry accounting; the single-neuron and narrow baselines run on the same pairs for the cost
  comparison. These are checks of this implementation, not the paper's claims.
- small: SmolLM2-135M-Instruct (``fetch-model smollm2``) on 5 short dev-slice samples from different
  sources, single neuron and WideDeep side by side; every output must parse or fall back as specified.
- full: the paper's claims (WideDeep vs the narrow network, kappa and accuracy) on all of LLMEval²
  through ``$OPENAI_BASE_URL`` / ``$OPENAI_MODEL``, one independent draw per seed.

Everything but the ``full`` part is deterministic (the stub is a pure function of its prompt, SmolLM2
decodes greedily), so ``small`` runs one seed.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping, Sequence
from typing import Any

from pkg_shared.claims import NotRun
from pkg_shared.cli import RunContext
from pkg_shared.data import DatasetMissing
from pkg_shared.io import RunDir

from .backends import StubBackend, TransformersBackend
from .cache import LLM, ResponseCache
from .config import PRESETS, NetworkConfig, SmallModelRun
from .data import Sample, load_llmeval2, shortest_per_source, synthetic
from .models import smollm2_path
from .network import Narrow, SingleNeuron, WideDeep, verdict
from .parsing import FAILED, parse_aspects, parse_scores
from .runner import evaluate_all, make_backend, write_jsonl
from .scoring import agreement, format_report, paired_gain

NO_DATA = "LLMEval² is not in the data root (set --data-dir or $PKG_DATA_DIR)"
CACHE = "responses.sqlite"
"""The response cache of the SmolLM2 and full parts: ``<--out>/widedeep-eval/responses.sqlite``, shared by
the runs under the same ``--out``, so an interrupted ``reproduce`` resumes where it stopped."""


def length_rule(samples: Sequence[Sample]) -> list[str]:
    """The verdict "the longer answer (in characters) wins", computed straight from the data."""
    return [verdict(len(s.response1), len(s.response2)) for s in samples]


def expected_calls(results: list[dict[str, Any]]) -> int:
    """``sum over samples of (aspect attempts + every review's attempts)``; ``1 + 2 N L`` without retries."""
    return sum(
        r.get("aspect_attempts", 1)
        + sum(rv["attempts"] for layer in r["layers"] for n in layer for rv in n["reviews"])
        for r in results
    )


def _method_row(rows: list[dict[str, Any]]) -> dict[str, float]:
    o = agreement(rows)["overall"]
    return {
        "accuracy": o["accuracy"],
        "kappa": o["kappa"],
        "calls_per_sample": o["calls"] / len(rows),
        "tokens_per_sample": o["tokens"] / len(rows),
    }


def _stub(ctx: RunContext, samples: list[Sample], mechanics: list[Sample], source: str) -> dict[str, Any]:
    """The stub checks: the length judge over ``samples`` (uncached: pure network cost), then the
    baselines, the cache resume, position-bias and retry checks over the smaller ``mechanics`` set."""
    cfg = NetworkConfig()
    out: dict[str, Any] = {
        "stub_data": source,
        "stub_samples": len(samples),
        "mechanics_samples": len(mechanics),
    }
    ctx.status(f"stub: WideDeep over {len(samples)} {source} pairs")
    backend = StubBackend("length")
    llm = LLM(backend)
    results = evaluate_all(WideDeep(cfg), samples, llm, quiet=ctx.quiet, desc="stub widedeep")
    write_jsonl(ctx.run.path / "stub_widedeep.jsonl", results)
    rep = agreement(results)
    formula = sum(1 + 2 * r["width"] * cfg.layers for r in results)
    out |= {
        "stub_accuracy": rep["overall"]["accuracy"],
        "stub_kappa": rep["overall"]["kappa"],
        "stub_calls": llm.usage.calls,
        "stub_calls_formula": formula,
        "stub_calls_per_sample": llm.usage.calls / len(samples),
        "stub_tokens": llm.usage.tokens,
        "stub_per_source_accuracy": {k: v["accuracy"] for k, v in rep["per_dataset"].items()},
    }
    widedeep_rule = [r["verdict"] for r in results] == length_rule(samples)

    ctx.status(f"stub: baselines, cache resume, position bias and retries over {len(mechanics)} pairs")
    single_backend, narrow_backend = StubBackend("length"), StubBackend("length")
    single = evaluate_all(SingleNeuron(cfg), mechanics, LLM(single_backend), quiet=True)
    narrow = evaluate_all(Narrow(cfg, k=3), mechanics, LLM(narrow_backend), quiet=True)
    by_id = {r["id"]: r for r in results}
    wide_m = [by_id[s.id] for s in mechanics if s.id in by_id]  # the mechanics set is part of the judged one
    if len(wide_m) != len(mechanics):
        wide_m = evaluate_all(WideDeep(cfg), mechanics, LLM(StubBackend("length")), quiet=True)
    out["stub_methods"] = {
        "single": _method_row(single),
        "narrow (k=3)": _method_row(narrow),
        "widedeep": _method_row(wide_m),
    }
    rule = length_rule(mechanics)
    out["stub_matches_length_rule"] = (
        widedeep_rule and [r["verdict"] for r in single] == rule and [r["verdict"] for r in narrow] == rule
    )
    out["stub_calls_exact"] = (
        llm.usage.calls == formula == backend.calls
        and single_backend.calls == 2 * len(mechanics)
        and narrow_backend.calls == 2 * 3 * len(mechanics)
    )

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
    path = smollm2_path(ctx.data_dir)
    reason = None
    if dev is None:
        reason = NO_DATA
    elif importlib.util.find_spec("transformers") is None or importlib.util.find_spec("gguf") is None:
        reason = "needs the 'local' extra: pip install 'pkg-widedeep-eval[local]'"
    elif not path.is_file():
        reason = f"no model at {path}: run `pkg-widedeep-eval fetch-model smollm2`"
    if reason:
        ctx.status(f"SmolLM2 part not run: {reason}")
        return dict.fromkeys(keys, NotRun(reason))
    samples = shortest_per_source(dev, run.n_samples, run.max_prompt_chars)
    cfg = run.network
    ctx.status(f"SmolLM2-135M: single neuron and WideDeep on {len(samples)} dev samples")
    cache = ResponseCache(ctx.run.path.parent / CACHE)  # greedy decoding: run_seed 0 for every seed
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
        "small_methods": {"SmolLM2 single": _method_row(single), "SmolLM2 widedeep": _method_row(wide)},
        "small_widedeep_accuracy": w["accuracy"],
        "small_widedeep_kappa": w["kappa"],
        "small_widedeep_fallback_rate": w["fallback_rate"],
        "small_widedeep_aspect_fallbacks": sum(r["aspect_fallback"] for r in wide),
        "small_single_accuracy": s["accuracy"],
        "small_single_kappa": s["kappa"],
        "small_single_calls": single_usage["calls"],
        "small_single_fallback_rate": s["fallback_rate"],
    }


def _full(ctx: RunContext, samples: list[Sample] | None, workers: int) -> dict[str, Any]:
    keys = ("full_kappa_gain_lower", "full_accuracy_gain_lower")
    model = os.environ.get("OPENAI_MODEL")
    if samples is None:
        return dict.fromkeys(keys, NotRun(NO_DATA))
    if not os.environ.get("OPENAI_BASE_URL") or not model:
        return dict.fromkeys(keys, NotRun("needs a model server: set $OPENAI_BASE_URL and $OPENAI_MODEL"))
    ctx.status(f"full: narrow (k=3) and WideDeep on {len(samples)} samples through {model}")
    cache = ResponseCache(ctx.run.path.parent / CACHE)
    llm = LLM(make_backend("openai", model, concurrency=workers), cache, run_seed=ctx.seed)
    narrow = evaluate_all(
        Narrow(NetworkConfig(), k=3), samples, llm, workers=workers, quiet=ctx.quiet, desc="narrow"
    )
    wide = evaluate_all(
        WideDeep(NetworkConfig()), samples, llm, workers=workers, quiet=ctx.quiet, desc="widedeep"
    )
    cache.close()
    write_jsonl(ctx.run.path / f"full_narrow_s{ctx.seed}.jsonl", narrow)
    write_jsonl(ctx.run.path / f"full_widedeep_s{ctx.seed}.jsonl", wide)
    gains = paired_gain(narrow, wide, seed=ctx.seed)
    return {
        "full_methods": {"narrow (k=3)": _method_row(narrow), "widedeep": _method_row(wide)},
        "full_narrow_kappa": gains["kappa_base"],
        "full_widedeep_kappa": gains["kappa_new"],
        "full_kappa_gain": gains["kappa_gain"],
        "full_kappa_gain_se": gains["kappa_se"],
        "full_kappa_gain_lower": gains["kappa_gain"] - 2 * gains["kappa_se"],
        "full_narrow_accuracy": gains["accuracy_base"],
        "full_widedeep_accuracy": gains["accuracy_new"],
        "full_accuracy_gain": gains["accuracy_gain"],
        "full_accuracy_gain_se": gains["accuracy_se"],
        "full_accuracy_gain_lower": gains["accuracy_gain"] - 2 * gains["accuracy_se"],
    }


def reproduce(ctx: RunContext) -> dict[str, Any]:
    """Run the parts of :data:`~pkg_widedeep_eval.config.PRESETS` for ``ctx.scale``; the measured values."""
    preset = PRESETS[ctx.scale]
    benchmark: list[Sample] | None = None
    dev: list[Sample] | None = None
    if ctx.dataset == "llmeval2":
        try:
            benchmark = load_llmeval2(ctx.data_dir, "all")
            dev = load_llmeval2(ctx.data_dir, "dev")
        except DatasetMissing as e:
            ctx.status(f"{e}; the stub checks run on synthetic pairs, the LLMEval² parts are not run")
    if benchmark is not None and dev is not None:
        judged = benchmark if preset.stub_samples is None else dev[: preset.stub_samples]
        mechanics = dev if preset.mechanics_samples is None else dev[: preset.mechanics_samples]
        out = _stub(ctx, judged, mechanics, "llmeval2")
        out["stub_accuracy_llmeval2"] = (
            out["stub_accuracy"]
            if preset.stub_samples is None
            else NotRun(f"--scale {ctx.scale} judges {len(judged)} samples; use --scale small")
        )
    else:
        pairs = synthetic(preset.stub_samples or 200, ctx.seed)
        out = _stub(ctx, pairs, pairs[: preset.mechanics_samples or 200], "synthetic")
        out["stub_accuracy_llmeval2"] = NotRun(
            NO_DATA if ctx.dataset == "llmeval2" else "--dataset synthetic: no LLMEval² labels"
        )
    if preset.small_model is not None:
        out |= _small_model(ctx, preset.small_model, dev)
    if preset.full_backend:
        out |= _full(ctx, benchmark, preset.full_workers)
    ctx.log(**{k: v for k, v in out.items() if isinstance(v, (int, float, bool, str))})
    return out


def report(per_seed: Sequence[Mapping[str, Any]], measured: Mapping[str, Any], run: RunDir) -> None:
    """The run's figures in ``plots/`` (see :mod:`.figures`)."""
    from .figures import write_figures

    write_figures(per_seed, run.plots)
