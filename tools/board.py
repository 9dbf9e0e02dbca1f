"""Build the reproducibility board: a static site showing which of the 52 papers' claims hold.

    python tools/board.py [--out site]

Everything comes from the repository: ``tools/papers.json`` (the 52 papers), each package's
``[tool.pkg-zoo]`` table, its declared claims (``pkg_<slug>.cli.app``, imported without torch), its
committed results (``packages/<slug>/results/*.json``: ``small.json`` and, where committed, ``full*.json``
or ``gpu*.json``) with their plots, and its README. No network, no server: open ``site/index.html``.

Writes ``index.html`` (one row per paper, filters, sortable columns, search), ``<slug>.html`` per
package, ``claims.json`` (every package's claims in one file) and ``plots/<slug>/*.png``. A results file
that does not parse, or whose claim ids differ from the package's declared claims, stops the build with
one line naming the file (exit 2); a package without committed results shows "no results yet".
"""

from __future__ import annotations

import argparse
import html
import importlib
import json
import re
import shutil
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import catalogue  # noqa: E402

VERDICTS = ("holds", "fails", "not run")


class BoardError(Exception):
    """Bad input to the board: shown as one line, exit 2."""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def declared_claims(slug: str) -> list[Any] | None:
    try:
        return list(importlib.import_module("pkg_" + slug.replace("-", "_") + ".cli").app.claims)
    except ImportError:
        return None


def paper_of(slug: str) -> Any:
    try:
        return importlib.import_module("pkg_" + slug.replace("-", "_") + ".cli").app.paper
    except ImportError:
        return None


def load_runs(folder: Path, slug: str, declared: list[Any] | None) -> dict[str, dict[str, Any]]:
    """``{"small": results, "full": ..., "gpu": ...}`` from ``results/*.json``, each checked."""
    runs: dict[str, dict[str, Any]] = {}
    for path in sorted((folder / "results").glob("*.json")):
        try:
            data = catalogue.load_results(path)
        except catalogue.ResultsError as e:
            raise BoardError(str(e)) from None
        if declared is not None:
            ids, want = {c["id"] for c in data["claims"]}, {c.id for c in declared}
            if ids != want:
                extra, missing = sorted(ids - want), sorted(want - ids)
                raise BoardError(
                    f"{path}: claim ids differ from pkg-{slug}'s declared claims (extra {extra}, missing {missing})"
                )
        runs[path.stem] = data
    return runs


def collect(root: Path = ROOT) -> list[dict[str, Any]]:
    """One entry per paper of ``tools/papers.json``, with its package and results where they exist."""
    papers = json.loads((root / "tools" / "papers.json").read_text())
    entries = []
    for paper in papers:
        slug = paper["slug"]
        folder = root / "packages" / slug
        entry: dict[str, Any] = {**paper, "package": f"pkg-{slug}", "exists": folder.is_dir(), "runs": {}}
        if folder.is_dir():
            meta = tomllib.loads((folder / "pyproject.toml").read_text())
            zoo = meta.get("tool", {}).get("pkg-zoo", {})
            entry.update(task=zoo.get("task", ""), status=zoo.get("status", "scaffold"))
            declared = declared_claims(slug)
            entry["runs"] = load_runs(folder, slug, declared)
            pub = paper_of(slug)
            entry["arxiv"] = getattr(pub, "arxiv", "") or ""
            entry["readme"] = (folder / "README.md").read_text() if (folder / "README.md").is_file() else ""
            entry["plots"] = sorted((folder / "results" / "plots").glob("*.png"))
        else:
            entry.update(task="", status="not started", arxiv="", readme="", plots=[])
        small = entry["runs"].get("small")
        entry["summary"] = small["summary"] if small else None
        entry["verdict"] = verdict_of(small)
        entries.append(entry)
    return entries


def verdict_of(results: dict[str, Any] | None) -> str:
    """``fails`` when a paper claim fails, ``holds`` when every judged one holds, else ``not run`` / ``no results``."""
    if results is None:
        return "no results"
    s = results["summary"]
    if s["fail"]:
        return "fails"
    if s["hold"]:
        return "holds"
    return "not run"


CSS = """
:root { --hold: #1a7f37; --fail: #cf222e; --notrun: #8c959f; --bg: #fff; --fg: #1f2328; --muted: #59636e; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg);
       margin: 0 auto; padding: 1rem; max-width: 1400px; }
h1 { font-size: 1.5rem; margin: .2rem 0; } h2 { font-size: 1.15rem; margin-top: 1.6rem; }
p.lead { color: var(--muted); margin-top: 0; }
.controls { display: flex; flex-wrap: wrap; gap: .5rem; margin: .8rem 0; }
.controls input, .controls select { font: inherit; padding: .3rem .5rem; border: 1px solid #d0d7de; border-radius: 6px; }
.controls input { flex: 1 1 14rem; }
.controls select { max-width: 100%; min-width: 0; flex: 0 1 auto; }
table { border-collapse: collapse; width: 100%; }
.scroll { overflow-x: auto; max-width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #eaeef2; vertical-align: top; }
th { position: sticky; top: 0; background: #f6f8fa; cursor: pointer; user-select: none; white-space: nowrap; }
th[aria-sort="ascending"]::after { content: " \\25B2"; } th[aria-sort="descending"]::after { content: " \\25BC"; }
td.cells { min-width: 8rem; }
.cell { display: inline-block; width: .95rem; height: .95rem; margin: 1px; border-radius: 2px; }
.holds { background: var(--hold); } .fails { background: var(--fail); } .not-run { background: var(--notrun); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 1rem; font-size: .8rem; color: #fff; white-space: nowrap; }
.badge.holds { background: var(--hold); } .badge.fails { background: var(--fail); }
.badge.not-run, .badge.no-results { background: var(--notrun); }
.muted { color: var(--muted); } .small { font-size: .85rem; }
.kind { font-size: .75rem; padding: 0 .35rem; border: 1px solid #d0d7de; border-radius: .6rem; }
.posthoc { color: #9a6700; font-weight: 600; }
img.plot { max-width: 100%; height: auto; border: 1px solid #eaeef2; margin: .3rem 0; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; font-size: .8rem; white-space: pre-wrap; }
@media (max-width: 760px) {
  .hide-narrow { display: none; }
  #board td:nth-child(2) { min-width: 9rem; }
  th, td { padding: .3rem .25rem; font-size: .85rem; }
  body { padding: .5rem; }
}
"""

JS = """
const rows = Array.from(document.querySelectorAll('#board tbody tr'));
const q = document.getElementById('q'), task = document.getElementById('task');
const status = document.getElementById('status'), verdict = document.getElementById('verdict');
function apply() {
  const text = q.value.toLowerCase();
  let shown = 0;
  for (const r of rows) {
    const ok = (!text || r.dataset.search.includes(text)) && (!task.value || r.dataset.task === task.value)
      && (!status.value || r.dataset.status === status.value) && (!verdict.value || r.dataset.verdict === verdict.value);
    r.hidden = !ok; if (ok) shown++;
  }
  document.getElementById('count').textContent = shown + ' of ' + rows.length + ' papers';
}
[q, task, status, verdict].forEach(el => el.addEventListener('input', apply));
document.querySelectorAll('#board th').forEach((th, i) => th.addEventListener('click', () => {
  const asc = th.getAttribute('aria-sort') !== 'ascending';
  document.querySelectorAll('#board th').forEach(h => h.removeAttribute('aria-sort'));
  th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
  const body = document.querySelector('#board tbody');
  const key = r => r.children[i].dataset.sort ?? r.children[i].textContent.trim().toLowerCase();
  const num = v => (v !== '' && !isNaN(v)) ? Number(v) : v;
  rows.sort((a, b) => { const x = num(key(a)), y = num(key(b)); return (x > y ? 1 : x < y ? -1 : 0) * (asc ? 1 : -1); });
  rows.forEach(r => body.appendChild(r));
}));
apply();
"""


def page(title: str, body: str) -> str:
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


def claim_cells(results: dict[str, Any] | None) -> str:
    if results is None:
        return '<span class="muted small">no results yet</span>'
    cells = []
    for c in results["claims"]:
        if c.get("kind", "paper") != "paper":
            continue
        v = {True: "holds", False: "fails", None: "not-run"}[c.get("holds")]
        cells.append(f'<span class="cell {v}" title="{esc(c["id"])}: {v.replace("-", " ")}"></span>')
    return "".join(cells)


def wall(results: dict[str, Any] | None) -> str:
    return catalogue.wall(results.get("wall_seconds")) if results else ""


def index_html(entries: list[dict[str, Any]]) -> str:
    tasks = sorted({e["task"] for e in entries if e["task"]})
    statuses = sorted({e["status"] for e in entries})
    counted = [e for e in entries if e["summary"]]
    held = sum(e["summary"]["hold"] for e in counted)
    total = sum(e["summary"]["paper"] for e in counted)
    rows = []
    for e in entries:
        small, s = e["runs"].get("small"), e["summary"]
        counts = f"{s['hold']}/{s['paper']}" if s else ""
        link = (
            f'<a href="{esc(e["slug"])}.html">{esc(e["package"])}</a>' if e["exists"] else esc(e["package"])
        )
        other = ", ".join(k for k in e["runs"] if k != "small")
        env = (small or {}).get("env", {})
        commit = str(env.get("git_sha") or "")[:8] + (" +uncommitted" if env.get("git_dirty") else "")
        load = ((small or {}).get("load") or {}).get("before")
        search = " ".join([e["title"], e["package"], e["task"], e["status"]]).lower()
        rows.append(
            f'<tr data-task="{esc(e["task"])}" data-status="{esc(e["status"])}" data-verdict="{esc(e["verdict"])}"'
            f' data-search="{esc(search)}" data-slug="{esc(e["slug"])}">'
            f'<td data-sort="{e["n"]}">{e["n"]}</td><td>{esc(e["title"])}</td>'
            f'<td class="hide-narrow">{esc(e["task"])}</td><td>{link}</td><td>{esc(e["status"])}</td>'
            f'<td><span class="badge {esc(e["verdict"].replace(" ", "-"))}">{esc(e["verdict"])}</span></td>'
            f'<td class="cells" data-sort="{s["hold"] / max(s["paper"], 1) if s else -1}">{claim_cells(small)}'
            f' <span class="small counts">{counts}</span></td>'
            f'<td class="hide-narrow">{esc(small["scale"] if small else "")}{" + " + esc(other) if other else ""}</td>'
            f'<td class="hide-narrow">{len(small["seeds"]) if small else ""}</td>'
            f'<td class="hide-narrow">{esc(small["device"] if small else "")}</td>'
            f'<td class="hide-narrow" data-sort="{(small or {}).get("wall_seconds", -1)}" title="load average before the run: {esc(load)}">{wall(small)}</td>'
            f'<td class="hide-narrow">{esc(str((small or {}).get("date", ""))[:10])}</td>'
            f'<td class="hide-narrow small"><code>{esc(commit)}</code></td></tr>'
        )
    options = lambda values: "".join(f'<option value="{esc(v)}">{esc(v)}</option>' for v in values)  # noqa: E731
    body = f"""
<h1>pkg-zoo reproducibility board</h1>
<p class="lead">Which claims of which papers hold, on numbers measured by each package's
<code>reproduce --scale small</code> run on a CPU (committed results). Paper claims only: our own checks and
expected ranges are on each package's page. {held} of {total} paper claims hold across
{len(counted)} packages with results; {len(entries)} papers in all.
<a href="claims.json">claims.json</a> holds every claim in one file.</p>
<div class="controls">
<input id="q" type="search" placeholder="search title, package, task" aria-label="search">
<select id="task" aria-label="task"><option value="">every task</option>{options(tasks)}</select>
<select id="status" aria-label="status"><option value="">every status</option>{options(statuses)}</select>
<select id="verdict" aria-label="verdict"><option value="">every verdict</option>{options(("holds", "fails", "not run", "no results"))}</select>
<span id="count" class="muted small"></span>
</div>
<div class="scroll"><table id="board"><thead><tr><th>#</th><th>paper</th><th class="hide-narrow">task</th><th>package</th>
<th>status</th><th>verdict</th><th>paper claims</th><th class="hide-narrow">scale</th><th class="hide-narrow">seeds</th>
<th class="hide-narrow">device</th><th class="hide-narrow">wall</th><th class="hide-narrow">date</th>
<th class="hide-narrow">commit</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table></div>
<p class="muted small">Legend: <span class="cell holds"></span> holds <span class="cell fails"></span> fails
<span class="cell not-run"></span> not run (needs full scale or data that was absent). A verdict "fails" means at
least one paper claim did not hold on the measured numbers: a finding, reported as measured.</p>
<script>{JS}</script>"""
    return page("pkg-zoo reproducibility board", body)


def readme_sections(text: str, pattern: str) -> list[tuple[str, str]]:
    """The README's ``##``/``###`` sections whose heading matches ``pattern`` (side-by-side, bench...)."""
    out = []
    for m in re.finditer(r"^(#{2,3}) (.+?)\n(.*?)(?=^#{2,3} |\Z)", text, flags=re.M | re.S):
        if re.search(pattern, m.group(2), flags=re.I):
            out.append((m.group(2), m.group(3).strip()))
    return out


def claims_table(results: dict[str, Any]) -> str:
    rows = []
    order = {"paper": 0, "check": 1, "expect": 2}
    for c in sorted(results["claims"], key=lambda c: order.get(c.get("kind", "paper"), 3)):
        notes = [esc(c.get("basis") or ""), esc(c.get("note") or "")]
        if c.get("dataset"):
            notes.insert(0, f"dataset {esc(c['dataset'])}")
        if c.get("post_hoc"):
            notes.append(f'<span class="posthoc">post hoc: {esc(c["post_hoc"])}</span>')
        v = catalogue.verdict(c).replace("**", "")
        cls = {"holds": "holds", "fails": "fails"}.get(v, "not-run")
        rows.append(
            f'<tr data-claim="{esc(c["id"])}"><td><span class="kind">{esc(c.get("kind", "paper"))}</span></td>'
            f"<td><b>{esc(c['id'])}</b><br>{esc(c['text'])}</td><td>{esc(c.get('where', ''))}</td>"
            f"<td>{esc(catalogue.fmt(c.get('paper_value')))}</td><td>{esc(catalogue.measured(c))}</td>"
            f'<td><code>{esc(c.get("rule", ""))}</code></td><td><span class="badge {cls}">{esc(v)}</span></td>'
            f'<td class="small">{"<br>".join(n for n in notes if n)}</td></tr>'
        )
    return (
        '<div class="scroll"><table><thead><tr><th>kind</th><th>claim</th><th>where</th><th>paper</th><th>measured (mean ± sd)</th>'
        f"<th>rule</th><th>verdict</th><th>basis / notes</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def package_html(e: dict[str, Any]) -> str:
    parts = [
        '<p><a href="index.html">&larr; all papers</a></p>',
        f"<h1>{esc(e['package'])}</h1>",
        f'<p class="lead">{esc(e["title"])} &middot; {esc(e["task"])} &middot; status {esc(e["status"])}</p>',
    ]
    links = [
        f'<a href="https://github.com/pkg-zoo/pkg-zoo/tree/main/packages/{esc(e["slug"])}#readme">README</a>'
    ]
    if e["arxiv"]:
        links.append(f'<a href="https://arxiv.org/abs/{esc(e["arxiv"])}">paper (arXiv:{esc(e["arxiv"])})</a>')
    links.append(f'<a href="https://pypi.org/project/{esc(e["package"])}/">PyPI: {esc(e["package"])}</a>')
    parts.append(f"<p>{' &middot; '.join(links)}</p>")
    parts.append(
        f"<p><code>pip install {esc(e['package'])} &amp;&amp; {esc(e['package'])} reproduce</code></p>"
    )
    if not e["runs"]:
        parts.append('<p class="muted">No results yet.</p>')
    for name, results in e["runs"].items():
        env = results.get("env", {})
        parts.append(
            f"<h2>{esc(name)} run: {esc(catalogue.counts(results))}</h2>"
            f'<p class="small muted">dataset {esc(results.get("dataset"))}, scale {esc(results["scale"])}, seeds '
            f"{esc(results['seeds'])}, device {esc(results['device'])}, wall {esc(wall(results))}, "
            f"load average before the run {esc((results.get('load') or {}).get('before'))}, "
            f"{esc(env.get('platform', ''))}, python {esc(env.get('python', ''))}, torch {esc(env.get('torch', ''))}, "
            f"version {esc(results.get('version', ''))}, {esc(results.get('date', ''))}, "
            f"commit <code>{esc(str(env.get('git_sha') or '')[:10])}</code>"
            f"{' (with uncommitted changes)' if env.get('git_dirty') else ''}</p>"
        )
        parts.append(claims_table(results))
    if e["plots"]:
        parts.append("<h2>Plots of the committed run</h2>")
        for png in e["plots"]:
            parts.append(f'<figure><img class="plot" src="plots/{esc(e["slug"])}/{esc(png.name)}" alt="{esc(png.stem)}">'
                         f"<figcaption class=\"small muted\">{esc(png.stem)}</figcaption></figure>")  # fmt: skip
    for heading, text in readme_sections(e["readme"], r"side.by.side|reference|bench|speed"):
        parts.append(f"<h2>From the README: {esc(heading)}</h2><pre>{esc(text)}</pre>")
    return page(f"{e['package']}: reproducibility", "\n".join(parts))


def claims_json(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for e in entries:
        for run, results in e["runs"].items():
            for c in results["claims"]:
                out.append(
                    {"package": e["package"], "paper": e["title"], "run": run, "scale": results["scale"],
                     "seeds": results["seeds"], "device": results["device"], "dataset": results.get("dataset"),
                     "commit": results.get("env", {}).get("git_sha"), **c}
                )  # fmt: skip
    return out


def build(out: Path, root: Path = ROOT) -> list[dict[str, Any]]:
    entries = collect(root)
    out.mkdir(parents=True, exist_ok=True)
    (out / "index.html").write_text(index_html(entries))
    (out / "claims.json").write_text(json.dumps(claims_json(entries), indent=1) + "\n")
    for e in entries:
        if not e["exists"]:
            continue
        (out / f"{e['slug']}.html").write_text(package_html(e))
        if e["plots"]:
            target = out / "plots" / e["slug"]
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            for png in e["plots"]:
                shutil.copyfile(png, target / png.name)
    return entries


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="board.py", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", default=str(ROOT / "site"), help="folder to write the site into (default: site/)"
    )
    args = parser.parse_args(argv)
    try:
        entries = build(Path(args.out))
    except BoardError as e:
        print(f"board: error: {e}", file=sys.stderr)
        return 2
    with_results = sum(bool(e["runs"]) for e in entries)
    print(f"board: {len(entries)} papers, {with_results} with results -> {Path(args.out) / 'index.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
