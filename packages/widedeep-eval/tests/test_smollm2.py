"""The real offline model (slow; skipped without the 'local' extra or without `fetch-model smollm2`)."""

import importlib.util

import pytest

from pkg_shared.testing import read_results
from pkg_widedeep_eval.cli import main
from pkg_widedeep_eval.models import smollm2_path

needs_model = pytest.mark.skipif(
    importlib.util.find_spec("transformers") is None or not smollm2_path().is_file(),
    reason="needs pkg-widedeep-eval[local] and `pkg-widedeep-eval fetch-model smollm2`",
)


@pytest.mark.slow
@needs_model
def test_smollm2_backend_generates_and_counts_tokens():
    from pkg_widedeep_eval import TransformersBackend

    backend = TransformersBackend(smollm2_path())
    r = backend.complete([{"role": "user", "content": "Say hello."}], temperature=0.0, max_tokens=8)
    assert len(r.texts) == 1 and r.texts[0] and r.prompt_tokens > 5 and 0 < r.completion_tokens <= 8
    again = backend.complete([{"role": "user", "content": "Say hello."}], temperature=0.0, max_tokens=8)
    assert again == r  # greedy decoding is deterministic


@pytest.mark.slow
@pytest.mark.data
def test_reproduce_small(run_cli, tmp_path, data_dir):
    code, out, err = run_cli(
        main, "reproduce", "--scale", "small", "--data-dir", data_dir, "--out", tmp_path, "--quiet"
    )
    assert code == 0, err
    claims = {c["id"]: c for c in read_results(tmp_path, "widedeep-eval")["claims"]}
    assert all(c["holds"] is not False for c in claims.values()), claims
    assert claims["stub_accuracy_llmeval2"]["holds"] is True


@pytest.mark.slow
@needs_model
def test_expected_score_mode_always_parses():
    from pkg_widedeep_eval import TransformersBackend, parse_scores
    from pkg_widedeep_eval.templates import FAMILIES, neuron_prompt

    backend = TransformersBackend(smollm2_path(), score_mode="expected")
    messages = neuron_prompt(FAMILIES["QA"], "Capital of France?", "Paris.", "Berlin.", "Accuracy")
    r = backend.complete(messages, temperature=0.0, max_tokens=8)
    s1, s2 = parse_scores(r.texts[0])
    assert 1.0 <= s1 <= 10.0 and 1.0 <= s2 <= 10.0 and r.completion_tokens == 0
