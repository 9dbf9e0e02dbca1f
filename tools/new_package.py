"""Scaffold ``packages/<slug>/`` from ``tools/template/``: ``uv run nox -s new -- <slug> [--title T]``.

The slug must be lower case letters, digits and single dashes (``kan-hea``); an existing package is never
overwritten. The new package passes the repository's contract tests as generated; the README catalogue
is regenerated and ``uv lock`` updated (``--no-lock`` skips that, for tests).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "template"
SLUG_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def render(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="new_package", description=__doc__)
    parser.add_argument("slug")
    parser.add_argument("--title", default=None, help="the paper's title (default: from the slug)")
    parser.add_argument("--no-lock", action="store_true", help="do not run `uv lock` afterwards")
    args = parser.parse_args(argv)
    root = Path.cwd()
    if not SLUG_RE.match(args.slug):
        print(
            f"new_package: error: bad slug {args.slug!r} (lower case, digits, single dashes)", file=sys.stderr
        )
        return 2
    target = root / "packages" / args.slug
    if target.exists():
        print(f"new_package: error: {target} exists; not overwriting it", file=sys.stderr)
        return 2
    module = "pkg_" + args.slug.replace("-", "_")
    values = {"slug": args.slug, "module": module, "title": args.title or args.slug.replace("-", " ").title()}
    staging = target.with_name(f".{args.slug}.new")
    shutil.rmtree(staging, ignore_errors=True)
    for src in TEMPLATE.rglob("*.tmpl"):
        rel = Path(str(src.relative_to(TEMPLATE)).replace("__module__", module).removesuffix(".tmpl"))
        dest = staging / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(render(src.read_text(), values))
    staging.rename(target)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import catalogue

    catalogue.write_all(root)
    if not args.no_lock and shutil.which("uv"):
        subprocess.run(["uv", "lock", "-q"], cwd=root, check=False)
    print(f"created {target.relative_to(root)} (pkg-{args.slug}); next: read ../shared/papers/{args.slug}.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
