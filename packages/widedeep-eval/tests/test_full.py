"""The ``full`` part (the paper's claims) end to end against the stub server on 127.0.0.1."""

from pkg_shared.cli import RunContext
from pkg_shared.io import RunDir
from pkg_widedeep_eval.data import synthetic
from pkg_widedeep_eval.experiment import _full


def test_full_part_through_http(server, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_MODEL", "judge")
    run = RunDir.create(tmp_path, "widedeep-eval", 0)
    ctx = RunContext("full", 0, "cpu", run, tmp_path, "llmeval2", quiet=True)
    out = _full(ctx, synthetic(2, seed=0), workers=4)
    # the server always scores Assistant 1 higher: both orders cancel, every verdict is TIE for both methods
    assert out["full_kappa_gain"] == 0 and out["full_kappa_gain_lower"] == 0
    assert set(out["full_methods"]) == {"narrow (k=3)", "widedeep"}
    assert out["full_methods"]["narrow (k=3)"]["calls_per_sample"] == 6
    assert (run.path / "full_widedeep_s0.jsonl").is_file()
    sent = len(server.requests)
    ctx2 = RunContext(
        "full", 1, "cpu", RunDir.create(tmp_path, "widedeep-eval", 1), tmp_path, "llmeval2", quiet=True
    )
    _full(ctx2, synthetic(2, seed=0), workers=4)
    assert len(server.requests) == 2 * sent  # seed 1 is an independent draw: nothing from seed 0's cache


def test_full_part_not_run_without_a_server(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    run = RunDir.create(tmp_path, "widedeep-eval", 0)
    ctx = RunContext("full", 0, "cpu", run, tmp_path, "llmeval2", quiet=True)
    out = _full(ctx, synthetic(2, seed=0), workers=4)
    assert "OPENAI_BASE_URL" in out["full_kappa_gain_lower"].reason
    assert "data root" in _full(ctx, None, workers=4)["full_accuracy_gain_lower"].reason
