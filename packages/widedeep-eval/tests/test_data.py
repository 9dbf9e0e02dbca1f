import json
import re

import pytest

from pkg_shared.data import DataError, DatasetMissing
from pkg_widedeep_eval.data import load_llmeval2, read_pairs, shortest_per_source, synthetic

GOOD = {"id": 1, "query": "q", "response1": "a", "response2": "b", "human": "TIE", "dataset": "shp"}


def write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_reads_pairs_and_ignores_blank_lines(tmp_path):
    p = write(
        tmp_path / "p.jsonl",
        [json.dumps(GOOD), "", json.dumps({"query": "q2", "response1": "x", "response2": "y"})],
    )
    samples = read_pairs(p).samples
    assert len(samples) == 2 and samples[0].human == "TIE" and samples[1].human is None and samples[1].id == 3


@pytest.mark.parametrize(
    "bad, reason",
    [
        ("{not json", "Expecting property name"),
        (json.dumps({"query": "q", "response1": "a"}), "missing field(s) response2"),
        (json.dumps({**GOOD, "human": "model3"}), "human must be one of"),
        (json.dumps({**GOOD, "query": 5}), "field query must be a string"),
        ("[1, 2]", "not a JSON object"),
    ],
)
def test_malformed_line_names_its_number(tmp_path, bad, reason):
    p = write(tmp_path / "p.jsonl", [json.dumps(GOOD), json.dumps(GOOD), bad, json.dumps(GOOD)])
    with pytest.raises(DataError, match=r"p.jsonl:3: .*" + re.escape(reason[:20])):
        read_pairs(p)
    report = read_pairs(p, skip_bad=True)
    assert len(report.samples) == 3 and [n for n, _ in report.skipped] == [3]


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(DatasetMissing):
        read_pairs(tmp_path / "nope.jsonl")
    with pytest.raises(DataError, match="no usable line"):
        read_pairs(write(tmp_path / "e.jsonl", ["{", ""]), skip_bad=True)
    with pytest.raises(DatasetMissing, match="llmeval2_benchmark.jsonl"):
        load_llmeval2(tmp_path)


def test_synthetic_and_selection():
    pairs = synthetic(50, seed=1)
    assert pairs == synthetic(50, seed=1) and {p.human for p in pairs} <= {"model1", "model2", "TIE"}
    picked = shortest_per_source(pairs, 3, 10_000)
    assert len(picked) == 3 and len({p.dataset for p in picked}) == 3


@pytest.mark.data
def test_llmeval2_counts(data_dir):
    full = load_llmeval2(data_dir, "all")
    dev = load_llmeval2(data_dir, "dev")
    assert len(full) == 2553 and len(dev) == 150
    counts = {h: sum(s.human == h for s in full) for h in ("model1", "model2", "TIE")}
    assert counts == {"model1": 1050, "model2": 1021, "TIE": 482}
    assert len({s.dataset for s in dev}) == 15
