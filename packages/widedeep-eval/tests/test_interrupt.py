"""Ctrl-C: a real SIGINT to a subprocess evaluating against a slow stub server on 127.0.0.1."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

PAIRS = [
    {"query": "Capital of France?", "response1": "Paris.", "response2": "Berlin.", "human": "model1"},
    {"query": "2+2?", "response1": "4, since two and two make four.", "response2": "5", "human": "model1"},
]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigint_stops_new_requests_keeps_the_cache_and_exits_130(server, tmp_path):
    server.delay = 0.3  # every reply takes 0.3 s; the run would make 12 x 18 requests (> 30 s on 2 workers)
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({**PAIRS[i % 2], "id": i}) + "\n" for i in range(12)))
    out = tmp_path / "v.jsonl"
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pkg_widedeep_eval", "evaluate", "--input", pairs, "--backend", "openai",
         "--model", "judge", "--base-url", server.url, "--workers", "2", "--output", out, "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while len(server.requests) < 6 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    sent_at_signal = len(server.requests)
    t0 = time.monotonic()
    _, err = proc.communicate(timeout=30)
    stopped_in = time.monotonic() - t0
    time.sleep(0.5)  # any request still to come would arrive now

    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["pkg-widedeep-eval: interrupted (finished work was kept)"]
    assert stopped_in < 5, f"took {stopped_in:.1f} s to stop"
    # no new request after the signal (at most one per worker that was between two requests)
    assert len(server.requests) - sent_at_signal <= 2 and len(server.requests) < 40
    assert not out.exists()  # no partial verdict file pretending to be complete
    with sqlite3.connect(tmp_path / "v.cache.sqlite") as db:  # the answers received are kept
        kept = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    assert sent_at_signal - 2 <= kept <= len(server.requests)
