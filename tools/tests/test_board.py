"""The board, tested as a person sees it: built from the committed results, opened in headless Chromium.

Run by ``nox -s board`` (skipped when neither Playwright nor a Chromium is installed: see README "The board").
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import board  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    entries = board.build(out)
    return out, entries


def test_numbers_on_the_board_equal_the_committed_results(site):
    out, entries = site
    claims = json.loads((out / "claims.json").read_text())
    for e in entries:
        for run_name, results in e["runs"].items():
            mine = [c for c in claims if c["package"] == e["package"] and c["run"] == run_name]
            assert [c["id"] for c in mine] == [c["id"] for c in results["claims"]]
            assert [c["holds"] for c in mine] == [c["holds"] for c in results["claims"]]
            assert [c["measured"] for c in mine] == [c["measured"] for c in results["claims"]]


def test_bad_results_file_is_one_line_exit_2(tmp_path):
    root = tmp_path / "repo"
    (root / "tools").mkdir(parents=True)
    shutil.copy(ROOT / "tools" / "papers.json", root / "tools")
    slug = next(p.parent.name for p in sorted(ROOT.glob("packages/*/pyproject.toml")))
    pkg = root / "packages" / slug
    (pkg / "results").mkdir(parents=True)
    shutil.copy(ROOT / "packages" / slug / "pyproject.toml", pkg)
    (pkg / "results" / "small.json").write_text("{broken")
    with pytest.raises(board.BoardError, match="small.json"):
        board.collect(root)
    fake = {"package": f"pkg-{slug}", "scale": "small", "seeds": [0], "device": "cpu", "summary": {},
            "claims": [{"id": "not-a-declared-claim"}]}  # fmt: skip
    (pkg / "results" / "small.json").write_text(json.dumps(fake))
    with pytest.raises(board.BoardError, match="claim ids differ"):
        board.collect(root)
    script = ROOT / "tools" / "board.py"
    proc = subprocess.run([sys.executable, str(script), "--out", str(tmp_path / "site")], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def test_in_a_browser(site):
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the board group)")
    if CHROMIUM is None:
        pytest.skip("no Chromium: apt-get install chromium")
    out, entries = site
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto((out / "index.html").as_uri())
        rows = page.locator("#board tbody tr")
        assert rows.count() == len(entries) == 52
        for e in entries:
            row = page.locator(f'#board tbody tr[data-slug="{e["slug"]}"]')
            assert row.count() == 1
            if e["summary"]:
                s = e["summary"]
                assert row.locator(".counts").inner_text() == f"{s['hold']}/{s['paper']}"
                assert row.locator(".cell").count() == s["paper"]
        page.select_option("#verdict", "fails")
        shown = {r.get_attribute("data-slug") for r in rows.all() if r.is_visible()}
        assert shown == {e["slug"] for e in entries if e["summary"] and e["summary"]["fail"] > 0}
        page.select_option("#verdict", "")
        page.fill("#q", "hopfield")
        assert {r.get_attribute("data-slug") for r in rows.all() if r.is_visible()} == {"hopfield"}
        page.fill("#q", "")
        page.click("#board th:nth-child(1)")
        page.click("#board th:nth-child(1)")  # descending
        assert rows.first.get_attribute("data-slug") == entries[-1]["slug"]
        page.click("#board th:nth-child(1)")
        shots = ROOT / "docs"
        shots.mkdir(exist_ok=True)
        page.screenshot(path=str(shots / "board.png"), full_page=False)
        links = page.locator("a[href$='.html']")
        hrefs = {links.nth(i).get_attribute("href") for i in range(links.count())}
        assert hrefs and all((out / h).is_file() for h in hrefs), (
            "every package link resolves to a built page"
        )
        for href in sorted(hrefs):
            page.goto((out / href).as_uri())
            assert page.locator("h1").inner_text().startswith("pkg-")
            for img in page.locator("img.plot").all():
                assert page.evaluate("(i) => i.naturalWidth", img.element_handle()) > 0
            assert page.locator("a[href='index.html']").count() == 1
        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        page.goto((out / "index.html").as_uri())
        assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 40
        browser.close()
