"""Render the README catalogue and each package README's results table from the committed results.

    python tools/catalogue.py                       # rewrite README.md's catalogue and every package's results block
    python tools/catalogue.py --check               # exit 1 when any of them is out of date (a repository test does this)
    python tools/catalogue.py install SLUG RESULTS  # copy a run's results.json to packages/SLUG/results/small.json

The numbers come from ``packages/<slug>/results/small.json``: the ``results.json`` of the package's latest
``reproduce --scale small`` CPU run (``nox -s claims`` refreshes them all). No result number is typed by
hand. Each ``packages/<slug>/pyproject.toml`` carries::

    [tool.pkg-zoo]
    paper = "Layer Normalization (Ba, Kiros, Hinton 2016)"
    task = "normalisation layers"
    status = "complete"   # or "partial", "scaffold"

    [tool.pkg-zoo.headline]   # optional: measured values shown in the catalogue row, label = metric
    "LN - BN acc, batch 4" = "ln_minus_bn_acc_b4"
"""

from __future__ import annotations

import json
import shutil
import sys
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
try:  # the table formatting is pkg-shared's, so README, board and `reproduce` print claims alike
    from pkg_shared.claims import ClaimResult, fmt, headline, measured_text
    from pkg_shared.claims import verdict as claims_verdict
except ImportError:  # a Python without pkg-shared installed (nox's own): the source tree's copy
    sys.path.insert(0, str(ROOT / "shared" / "src"))
    from pkg_shared.claims import ClaimResult, fmt, headline, measured_text
    from pkg_shared.claims import verdict as claims_verdict
START, END = "<!-- catalogue:start -->", "<!-- catalogue:end -->"
RESULTS_START, RESULTS_END = "<!-- results:start -->", "<!-- results:end -->"
FIELDS = ("paper", "task", "status")
RESULTS_FILE = Path("results") / "small.json"


class ResultsError(Exception):
    """A results file that cannot be used (does not parse, lacks keys)."""


def load_results(path: Path) -> dict[str, Any] | None:
    """The committed results of a package, None when it has none yet."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ResultsError(f"{path}: not valid JSON ({e})") from None
    missing = {"package", "scale", "seeds", "device", "claims", "summary"} - set(data)
    if missing:
        raise ResultsError(f"{path}: lacks {sorted(missing)}")
    return data


def rows(root: Path = ROOT) -> list[dict[str, Any]]:
    out = []
    for pyproject in sorted(root.glob("packages/*/pyproject.toml")):
        meta = tomllib.loads(pyproject.read_text())
        zoo = meta.get("tool", {}).get("pkg-zoo", {})
        missing = [f for f in FIELDS if not zoo.get(f)]
        if missing:
            raise SystemExit(f"{pyproject}: [tool.pkg-zoo] lacks {missing}")
        results = load_results(pyproject.parent / RESULTS_FILE)
        out.append(
            {"package": meta["project"]["name"], "slug": pyproject.parent.name, "results": results, **zoo}
        )
    return out


def result(claim: dict[str, Any]) -> ClaimResult:
    """A committed claim (``ClaimResult.as_dict()``) back as the object pkg-shared formats."""
    return ClaimResult(**{f.name: claim[f.name] for f in fields(ClaimResult) if f.name in claim})


def measured(claim: dict[str, Any]) -> str:
    """``mean ± sd (n=3)``, as the ``reproduce`` table prints it."""
    return measured_text(result(claim))


def verdict(claim: dict[str, Any]) -> str:
    """The ``reproduce`` table's verdict, a failure in bold."""
    text = claims_verdict(result(claim))
    return "**fails**" if text == "FAILS" else text


def wall(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, s = divmod(round(seconds), 60)
    return f"{minutes} min {s} s" if minutes else f"{s} s"


def counts(results: dict[str, Any]) -> str:
    """The ``reproduce`` headline: paper claims that hold, then our checks."""
    return headline([result(c) for c in results["claims"]])


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def results_block(results: dict[str, Any] | None, slug: str) -> str:
    """The README's results section body, rendered from ``results/small.json``."""
    if results is None:
        return (
            "No results yet: run `nox -s claims` (or `pkg-{slug} reproduce`) and commit `results/small.json`."
        )
    env = results.get("env", {})
    load = (results.get("load") or {}).get("before")
    machine = (
        f"{env.get('platform', '?')}, {env.get('cpu_count', '?')} CPUs, "
        f"python {env.get('python', '?')}, torch {env.get('torch', '?')}"
    )
    lines = [
        f"Generated from [`results/small.json`](results/small.json) (`pkg-{slug} reproduce --scale small`,"
        f" version {results.get('version', '?')}, {results.get('date', '?')}, commit {str(env.get('git_sha') or '?')[:10]}"
        + (" with uncommitted changes" if env.get("git_dirty") else "")
        + ").",
        "",
        f"- dataset **{results.get('dataset')}**, scale **{results['scale']}**, seeds {results['seeds']},"
        f" device {results['device']}, {results.get('threads') or 'default'} thread(s)",
        f"- machine: {machine}; load average before the run {load}; wall time {wall(results.get('wall_seconds'))}",
        f"- **{counts(results)}**",
        "",
        "| kind | claim | where | paper | measured (mean ± sd over seeds) | rule | verdict | basis / note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    order = {"paper": 0, "check": 1, "expect": 2}
    for c in sorted(results["claims"], key=lambda c: order.get(c.get("kind", "paper"), 3)):
        notes = [c.get("basis") or "", c.get("note") or ""]
        if c.get("dataset"):
            notes.insert(0, f"dataset {c['dataset']}")
        if c.get("post_hoc"):
            notes.append(f"**post hoc:** {c['post_hoc']}")
        lines.append(
            "| "
            + " | ".join(
                _cell(x)
                for x in (
                    c.get("kind", "paper"),
                    f"`{c['id']}`: {c['text']}",
                    c.get("where", ""),
                    fmt(c.get("paper_value")),
                    measured(c),
                    f"`{c.get('rule', '')}`",
                    verdict(c),
                    "; ".join(n for n in notes if n),
                )
            )
            + " |"
        )
    return "\n".join(lines)


def render_package_readme(text: str, slug: str, results: dict[str, Any] | None) -> str:
    """The README with its results block regenerated (unchanged when it lacks the markers: a contract
    test requires them, and one package's missing markers must not stop the others' regeneration)."""
    if RESULTS_START not in text or RESULTS_END not in text:
        return text
    head, rest = text.split(RESULTS_START, 1)
    _, tail = rest.split(RESULTS_END, 1)
    return f"{head}{RESULTS_START}\n{results_block(results, slug)}\n{RESULTS_END}{tail}"


def result_cell(row: dict[str, Any]) -> str:
    results = row["results"]
    if results is None:
        return "no results yet"
    parts = []
    means, stds = results.get("measured", {}), results.get("std", {})
    for label, metric in row.get("headline", {}).items():
        value = means.get(metric)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            sd = stds.get(metric)
            parts.append(
                f"{label} {fmt(value)}" + (f" ± {sd:.2g}" if sd and len(results["seeds"]) > 1 else "")
            )
    n = len(results["seeds"])
    parts.append(
        f"{results.get('dataset')}, {n} seed{'s' * (n != 1)}, {results['device']}, {wall(results.get('wall_seconds'))}"
    )
    return f"**{counts(results)}**; " + "; ".join(parts)


def table(root: Path = ROOT) -> str:
    lines = [
        "| package | paper | task | small-scale result (from results/small.json) | status |",
        "|---|---|---|---|---|",
    ]
    for r in rows(root):
        link = f"[{r['package']}](packages/{r['slug']}/)"
        lines.append(f"| {link} | {r['paper']} | {r['task']} | {_cell(result_cell(r))} | {r['status']} |")
    return "\n".join(lines)


def render(readme: str, root: Path = ROOT) -> str:
    if START not in readme or END not in readme:
        raise SystemExit(f"README.md lacks the markers {START} ... {END}")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table(root)}\n{END}{tail}"


def stale(root: Path = ROOT) -> list[Path]:
    """Files whose generated parts differ from what the committed results give (rewritten unless checking)."""
    out = []
    readme = root / "README.md"
    if render(readme.read_text(), root) != readme.read_text():
        out.append(readme)
    for r in rows(root):
        path = root / "packages" / r["slug"] / "README.md"
        text = path.read_text()
        if render_package_readme(text, r["slug"], r["results"]) != text:
            out.append(path)
    return out


def write_all(root: Path = ROOT) -> None:
    readme = root / "README.md"
    readme.write_text(render(readme.read_text(), root))
    for r in rows(root):
        path = root / "packages" / r["slug"] / "README.md"
        path.write_text(render_package_readme(path.read_text(), r["slug"], r["results"]))


def install(slug: str, source: Path, root: Path = ROOT) -> Path:
    """Copy a run's ``results.json`` (a file or a run folder) to ``packages/<slug>/results/small.json``,
    and its ``plots/*.png`` to ``packages/<slug>/results/plots/`` (the board shows them)."""
    source = source / "results.json" if source.is_dir() else source
    data = load_results(source)
    if data is None:
        raise SystemExit(f"no results at {source}")
    if data["scale"] != "small":
        raise SystemExit(f"{source}: scale {data['scale']}, not small")
    target = root / "packages" / slug / RESULTS_FILE
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(source, target)
    plots = target.parent / "plots"
    shutil.rmtree(plots, ignore_errors=True)
    pngs = sorted((source.parent / "plots").glob("*.png"))
    if pngs:
        plots.mkdir()
        for png in pngs:
            shutil.copyfile(png, plots / png.name)
    return target


def main(argv: list[str]) -> int:
    try:
        if argv[:1] == ["install"]:
            if len(argv) != 3:
                print("usage: catalogue.py install SLUG RESULTS_JSON_OR_RUN_FOLDER", file=sys.stderr)
                return 2
            print(install(argv[1], Path(argv[2])))
            write_all()
            return 0
        if "--check" in argv:
            files = stale()
            if files:
                names = ", ".join(str(p.relative_to(ROOT)) for p in files)
                print(f"out of date: {names}: run python tools/catalogue.py", file=sys.stderr)
                return 1
            return 0
        write_all()
        return 0
    except ResultsError as e:
        print(f"catalogue.py: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
