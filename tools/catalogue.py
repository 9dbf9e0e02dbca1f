"""Render the README's package catalogue from each package's ``[tool.pkg-zoo]`` table.

    python tools/catalogue.py          # rewrite the table in README.md
    python tools/catalogue.py --check  # exit 1 when README.md is out of date (a repository test does this)

Each ``packages/<slug>/pyproject.toml`` carries::

    [tool.pkg-zoo]
    paper = "Layer Normalization (Ba, Kiros, Hinton 2016)"
    task = "normalisation layers"
    result = "what `reproduce --scale small` measured, in a few words"
    status = "complete"   # or "partial", "scaffold"
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- catalogue:start -->", "<!-- catalogue:end -->"
FIELDS = ("paper", "task", "result", "status")


def rows(root: Path = ROOT) -> list[dict[str, str]]:
    out = []
    for pyproject in sorted(root.glob("packages/*/pyproject.toml")):
        meta = tomllib.loads(pyproject.read_text())
        zoo = meta.get("tool", {}).get("pkg-zoo", {})
        missing = [f for f in FIELDS if not zoo.get(f)]
        if missing:
            raise SystemExit(f"{pyproject}: [tool.pkg-zoo] lacks {missing}")
        out.append({"package": meta["project"]["name"], "slug": pyproject.parent.name, **zoo})
    return out


def table(root: Path = ROOT) -> str:
    lines = ["| package | paper | task | small-scale result | status |", "|---|---|---|---|---|"]
    for r in rows(root):
        link = f"[{r['package']}](packages/{r['slug']}/)"
        lines.append(f"| {link} | {r['paper']} | {r['task']} | {r['result']} | {r['status']} |")
    return "\n".join(lines)


def render(readme: str, root: Path = ROOT) -> str:
    if START not in readme or END not in readme:
        raise SystemExit(f"README.md lacks the markers {START} ... {END}")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table(root)}\n{END}{tail}"


def main(argv: list[str]) -> int:
    readme = ROOT / "README.md"
    text = readme.read_text()
    new = render(text)
    if "--check" in argv:
        if new != text:
            print("README.md catalogue is out of date: run python tools/catalogue.py", file=sys.stderr)
            return 1
        return 0
    readme.write_text(new)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
