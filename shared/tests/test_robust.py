"""The failure mechanisms of pkg-shared: validation helpers, output checks, permissions, exit codes, Ctrl-C."""

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

from pkg_shared.claims import Claim, format_table, judge_claims, summarize
from pkg_shared.cli import App, Paper, bounded
from pkg_shared.data import (
    DataError,
    check_csr,
    check_finite,
    check_index,
    check_labels,
    check_split,
    load_npz,
    open_sqlite,
    read_table,
    require_columns,
)
from pkg_shared.errors import UserError
from pkg_shared.io import atomic_write_json, check_settings, prepare_output

PAPER = Paper(title="T", authors="A", venue="V", arxiv="0000.00000", bibtex="@misc{x}")


def test_validation_helpers_name_file_column_and_row():
    frame = pd.DataFrame({"label": [0, 1, 2], "x": [0.5, np.nan, 1.0]})
    with pytest.raises(DataError, match=r"f\.csv lacks column\(s\) \['y'\]"):
        require_columns(frame, ["label", "y"], "f.csv")
    with pytest.raises(
        DataError, match=r"f\.csv, column 'x': 1 value\(s\) are not finite numbers \(first at row 1\)"
    ):
        check_finite(frame["x"], "f.csv", "x")
    with pytest.raises(DataError, match=r"label 2 at row 2 is not one of \[0, 1\]"):
        check_labels(frame["label"], [0, 1], "f.csv", "label")
    assert check_labels([0, 1, 1], {0, 1}).tolist() == [0, 1, 1]
    with pytest.raises(DataError, match=r"index 5 at position 1 is outside \[0, 5\)"):
        check_index([0, 5], 5, "g.npz")
    with pytest.raises(DataError, match="not whole numbers"):
        check_index([0.5], 5)
    check_csr([0, 1, 3], [0, 2, 1], (2, 3))
    with pytest.raises(DataError, match="indptr"):
        check_csr([0, 2, 1], [0, 2, 1], (2, 3))
    with pytest.raises(DataError, match="length"):
        check_csr([0, 3], [0, 2, 1], (2, 3))
    with pytest.raises(DataError, match="outside"):
        check_csr([0, 1, 3], [0, 3, 1], (2, 3))
    with pytest.raises(DataError, match="the val split is empty"):
        check_split("val", 0)
    with pytest.raises(DataError, match="one class only"):
        check_split("test", 3, [1, 1, 1], both_classes=True)


def test_damaged_files_are_data_errors(tmp_path):
    np.savez(tmp_path / "a.npz", x=np.arange(1000))
    data = (tmp_path / "a.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="cut.npz"):
        load_npz(tmp_path / "cut.npz")
    np.save(tmp_path / "bare.npy", np.arange(3))
    (tmp_path / "bare.npy").rename(tmp_path / "bare.npz")
    with pytest.raises(DataError, match="bare.npz"):
        load_npz(tmp_path / "bare.npz")
    (tmp_path / "t.csv").write_text("a,b\n1,2\n3,4\n5")
    with pytest.raises(DataError, match="holds 3 rows where 4"):
        read_table(tmp_path / "t.csv", rows=4)
    with pytest.raises(DataError, match="lacks column"):
        read_table(tmp_path / "t.csv", columns=["c"])
    (tmp_path / "empty.csv").write_text("a,b\n")
    with pytest.raises(DataError, match="no rows"):
        read_table(tmp_path / "empty.csv")
    db = tmp_path / "cache.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("create table t (k text primary key, v text)")
        conn.executemany("insert into t values (?, ?)", [(str(i), "x" * 500) for i in range(200)])
    conn.close()
    assert open_sqlite(db).execute("select count(*) from t").fetchone() == (200,)
    blob = db.read_bytes()
    db.write_bytes(blob[:100] + b"\xff" * 4000 + blob[4100:])
    with pytest.raises(DataError, match="cache.sqlite"):
        open_sqlite(db).execute("select * from t").fetchall()
    (tmp_path / "not.sqlite").write_text("hello, I am text, not a database" * 10)
    with pytest.raises(DataError, match="not.sqlite"):
        open_sqlite(tmp_path / "not.sqlite")


def test_prepare_output_and_permissions(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UserError, match="cannot write the --save"):
        prepare_output(blocker / "model", kind="dir", what="--save")
    with pytest.raises(UserError, match="is a folder"):
        prepare_output(tmp_path, kind="file")
    assert prepare_output(tmp_path / "new" / "out.json") == tmp_path / "new" / "out.json"
    assert (tmp_path / "new").is_dir() and not list((tmp_path / "new").iterdir())
    path = atomic_write_json(tmp_path / "x.json", {"a": 1})
    mode = stat.S_IMODE(os.stat(path).st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask


def test_check_settings_names_the_differing_keys(tmp_path):
    check_settings(tmp_path, {"lr": 0.1, "depth": 4})
    check_settings(tmp_path, {"lr": 0.1, "depth": 4})
    with pytest.raises(UserError, match=r"depth: 4 -> 8; lr: 0\.1 -> 0\.2"):
        check_settings(tmp_path, {"lr": 0.2, "depth": 8})
    with pytest.raises(UserError, match="width: '<absent>' -> 3"):
        check_settings(tmp_path, {"lr": 0.1, "depth": 4, "width": 3})


def test_bounded_numbers():
    import argparse

    parse = bounded(int, 1, 1000)
    assert parse("7") == 7
    for bad, message in (("0", ">= 1"), ("100000000000", "<= 1000"), ("x", "whole number")):
        with pytest.raises(argparse.ArgumentTypeError, match=message):
            parse(bad)
    with pytest.raises(argparse.ArgumentTypeError, match="finite"):
        bounded(float, 0.0)("nan")


def test_kinds_headline_strict_and_expect():
    claims = [
        Claim("gain", "ours beats theirs", "Tab. 1", "gain", ">", 0.0, basis="paper direction"),
        Claim("def", "metric equals its definition", "-", "err", "<=", 1e-9, kind="check"),
        Claim("auc", "AUC in the usual range", "spec", "auc", "in", (0.74, 0.78), kind="expect"),
        Claim("post", "moved", "Fig. 2", "gain", ">", -1.0, basis="calibrated", post_hoc="was > 0.5"),
    ]
    results = judge_claims(claims, {"gain": -0.5, "err": 0.0, "auc": 0.79}, "small", {"gain": 0.1}, 3)
    by = {r.id: r for r in results}
    assert by["gain"].holds is False and by["def"].holds is True
    assert by["auc"].holds is None and by["auc"].in_range is False and by["auc"].kind == "expect"
    assert by["gain"].std == 0.1 and by["gain"].n == 3
    assert summarize(results)["paper"] == 2 and summarize(results)["checks_pass"] == 1
    table = format_table(results, width=70)
    assert "1 of 2 paper claims hold (1 fail, 0 not run); checks: 1 of 1 pass" in table
    assert "POST HOC: was > 0.5" in table and "-0.5 ± 0.1 (n=3)" in table and "[outside] auc" in table
    assert all(len(line) <= 70 for line in table.splitlines()), "long text wraps instead of running on"
    with pytest.raises(ValueError, match="kind"):
        Claim("x", "x", "x", "x", ">", 0.0, kind="opinion")
    with pytest.raises(ValueError, match="low, high"):
        Claim("x", "x", "x", "x", "in", 0.5)

    def reproduce(ctx):
        return {"gain": -0.5, "err": 1.0, "auc": 0.5}

    app = App(slug="toy", version="0", paper=PAPER, claims=claims[1:3], reproduce=reproduce)
    assert app.main(["reproduce", "--scale", "smoke", "--strict", "--quiet", "--out", "/tmp/pkg-toy"]) == 0


def test_exit_codes_user_error_bug_and_missing_file(tmp_path, capsys):
    def raising(exc):
        def reproduce(ctx):
            raise exc

        return App(slug="toy", version="0", paper=PAPER, claims=[], reproduce=reproduce)

    argv = ["reproduce", "--scale", "smoke", "--quiet", "--out", str(tmp_path)]
    assert raising(UserError("bad column")).main(argv) == 2
    assert capsys.readouterr().err.strip() == "pkg-toy: error: bad column"
    assert raising(ValueError("oops")).main(argv) == 3
    assert "internal error (a bug): ValueError: oops" in capsys.readouterr().err
    assert raising(FileNotFoundError(2, "No such file or directory", "/x/y.csv")).main(argv) == 2
    assert "/x/y.csv" in capsys.readouterr().err
    assert raising(KeyboardInterrupt()).main(argv) == 130


def test_reproduce_checks_out_and_data_dir_before_work(tmp_path, capsys):
    calls = []
    app = App(slug="toy", version="0", paper=PAPER, claims=[], reproduce=lambda ctx: calls.append(1) or {})
    blocker = tmp_path / "f"
    blocker.write_text("")
    assert app.main(["reproduce", "--out", str(blocker / "runs"), "--quiet"]) == 2
    assert (
        app.main(["reproduce", "--data-dir", str(tmp_path / "none"), "--quiet", "--out", str(tmp_path)]) == 2
    )
    assert app.main(["reproduce", "--seeds", "0", "--quiet"]) == 2
    assert not calls and len(capsys.readouterr().err.strip().splitlines()) == 3


def test_sigint_stops_reproduce_keeps_finished_seeds(tmp_path):
    """A real SIGINT to a subprocess: exit 130 at once, one line, the finished seed kept."""
    script = textwrap.dedent(
        f"""
        import sys, time
        from pkg_shared.cli import App, Paper

        def reproduce(ctx):
            if ctx.seed == 1:
                print("ready", flush=True)
                time.sleep(60)
            return {{"x": 1.0}}

        app = App(slug="toy", version="0", paper=Paper("T", "A", "V", "0", "@x"), claims=[], reproduce=reproduce)
        sys.exit(app.main(["reproduce", "--seeds", "3", "--quiet", "--out", {str(tmp_path)!r}]))
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "ready"
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and time.monotonic() - t0 < 10
    assert err.strip().splitlines() == ["pkg-toy: interrupted (finished work was kept)"]
    (partial,) = tmp_path.glob("toy/*/results.partial.json")
    assert json.loads(partial.read_text())["seeds_done"] == [0]


def test_progress_prints_status_lines_when_not_a_terminal(capsys):
    from pkg_shared.progress import progress

    items = list(progress(range(5), desc="work", interval=0.0))
    assert items == [0, 1, 2, 3, 4]
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("work: 1/5 (20%) elapsed") and lines[-1].startswith("work: 5/5 (100%)")
    list(progress(range(5), desc="quiet", interval=0.0, quiet=True))
    assert capsys.readouterr().err == ""


def test_lazy_exports_and_version():
    from pkg_shared.package import lazy_exports, version_of

    getattr_, dir_ = lazy_exports("pkg_shared", {"Claim": ".claims"})
    assert getattr_("Claim") is Claim and "Claim" in dir_()
    with pytest.raises(AttributeError):
        getattr_("Nope")
    assert version_of("pkg-shared") == __import__("pkg_shared").__version__ != "0+unknown"
    assert version_of("no-such-distribution-xyz") == "0+unknown"


def test_cli_module_imports_no_torch():
    code = (
        "import sys, pkg_shared.cli, pkg_shared.claims, pkg_shared.io, pkg_shared.data; "
        "heavy = [m for m in ('torch', 'pandas', 'sklearn', 'matplotlib') if m in sys.modules]; assert not heavy, heavy"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_plugin_is_opt_in_for_unrelated_projects(tmp_path):
    """An unrelated project with its own --slow option runs where pkg-shared is installed."""
    (tmp_path / "conftest.py").write_text(
        "def pytest_addoption(parser):\n    parser.addoption('--slow', action='store_true')\n"
    )
    (tmp_path / "test_x.py").write_text(
        "def test_x(request):\n    assert request.config.getoption('--slow')\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--slow", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout[-800:] + out.stderr[-800:]
    assert "pkg_shared" not in out.stdout


def test_results_record_the_dataset_an_experiment_resolved(tmp_path):
    from pkg_shared.testing import read_results

    def reproduce(ctx):
        assert ctx.dataset in ("auto", "cifar10-subset")
        ctx.dataset = "cifar10-subset"
        return {}

    app = App(slug="toy", version="0", paper=PAPER, claims=[], reproduce=reproduce, datasets=("auto",))
    assert app.main(["reproduce", "--scale", "smoke", "--seeds", "2", "--quiet", "--out", str(tmp_path)]) == 0
    assert read_results(tmp_path, "toy")["dataset"] == "cifar10-subset"


def test_check_index_names_the_value_in_a_2d_array():
    edges = np.array([[0, 1, 2], [1, 9, 0]])
    with pytest.raises(DataError, match=r"index 9 at position 4 is outside \[0, 3\)"):
        check_index(edges, 3, "e.npz")
