"""A real headless Chromium opens the HTML report from disk: no console errors, the chart shows, the planted
script in a display name stays text, tables sort and filter offline; a screenshot is kept as a test artifact."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import require
from support.report_frames import XSS, demo_report, hand_report

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        require("HYBRIDX_REQUIRE_BROWSER", f"headless Chromium not found at {CHROMIUM}")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _open(browser, html: Path):
    """A page showing ``html`` from disk, with the console errors, dialogs and network requests it caused."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    events: dict[str, list[str]] = {"console": [], "dialog": [], "pageerror": [], "request": []}
    page.on("console", lambda m: events["console"].append(f"{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: events["pageerror"].append(str(e)))
    page.on("dialog", lambda d: (events["dialog"].append(d.message), d.dismiss()))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else events["request"].append(r.url))
    page.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation', "
                         "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")
    page.goto(html.as_uri())
    page.wait_for_load_state("load")
    return page, events


@pytest.fixture(scope="module")
def page_of(browser, tmp_path_factory: pytest.TempPathFactory):
    """The demo tenant's report."""
    report, _ = demo_report(tmp_path_factory.mktemp("browser-demo"))
    page, events = _open(browser, report.html)
    yield page, events, report
    page.close()


@pytest.fixture(scope="module")
def hand_page(browser, tmp_path_factory: pytest.TempPathFactory):
    """The hand-built tenant's report: its new user's display name is a script."""
    report = hand_report(tmp_path_factory.mktemp("browser-hand"))
    page, events = _open(browser, report.html)
    yield page, events
    page.close()


def test_no_console_errors_and_nothing_from_the_network(page_of) -> None:
    page, events, _ = page_of
    assert events["console"] == [] and events["pageerror"] == []
    assert events["request"] == []


def test_chart_is_visible(page_of) -> None:
    page, _, _ = page_of
    img = page.locator("figure.hx-chart img")
    assert img.count() == 1
    assert img.evaluate("i => i.complete && i.naturalWidth") > 0
    img.scroll_into_view_if_needed()
    assert img.is_visible()
    box, viewport = img.bounding_box(), page.viewport_size
    assert box["width"] > 100 and 0 <= box["y"] < viewport["height"]
    assert "Hard match" in img.get_attribute("alt")


def test_planted_script_stays_text(hand_page) -> None:
    page, events = hand_page
    assert events["dialog"] == [] and events["console"] == [] and events["pageerror"] == []
    cell = page.get_by_text(XSS, exact=True).first
    cell.scroll_into_view_if_needed()
    assert cell.is_visible()
    assert page.locator("img[src=x]").count() == 0


def test_tables_sort_and_filter_offline(page_of) -> None:
    page, _, _ = page_of
    wrap = page.locator("#cat-hard_match .hx-tablewrap")
    assert not wrap.is_visible()  # no action needed: collapsed until asked for
    page.locator("#cat-hard_match summary").click()
    names = wrap.locator("tbody tr:first-child td:nth-child(2)")
    header = wrap.locator("th").nth(1)
    header.click()
    assert header.get_attribute("aria-sort") == "ascending"
    texts = names.all_inner_texts()
    assert texts != sorted(texts, reverse=True)
    header.click()
    assert header.get_attribute("aria-sort") == "descending" and names.all_inner_texts() == texts[::-1]
    total = wrap.locator("tbody").count()
    wrap.locator("input.hx-filter").fill(texts[0])
    visible = wrap.locator("tbody:visible").count()
    assert 1 <= visible < total
    assert "of" in wrap.locator(".hx-count").inner_text()
    wrap.locator("input.hx-filter").fill("")
    assert wrap.locator("tbody:visible").count() == total


def test_screenshot(page_of, artifacts_dir: Path) -> None:
    page, _, report = page_of
    page.evaluate("window.scrollTo(0, 0)")
    shot = artifacts_dir / "demo-assessment.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    shutil.copy(report.html, artifacts_dir / "demo-assessment.html")


def test_content_security_policy_is_set_and_nothing_violates_it(page_of, hand_page) -> None:
    """The page works (sort/filter and the chart are tested above on the same page) under its CSP, and the
    browser reports no violation: the inline styles, the data: chart and the hashed script are all allowed."""
    for page, events in (page_of[:2], hand_page):
        policy = page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
        assert "default-src 'none'" in policy and "script-src 'sha256-" in policy and "img-src data:" in policy
        assert page.evaluate("window.__csp") == [] and events["console"] == [] and events["pageerror"] == []
        assert page.evaluate("window.hxTables") is True  # the hashed script ran


def test_content_security_policy_blocks_a_script_that_was_not_hashed(browser, page_of, tmp_path: Path) -> None:
    _, _, report = page_of
    text = report.html.read_text(encoding="utf-8")
    planted = tmp_path / "planted.html"
    planted.write_text(text.replace("</body>", "<script>window.__planted = 1;</script></body>"), encoding="utf-8")
    page, events = _open(browser, planted)
    try:
        assert page.evaluate("window.__planted") is None
        assert any(v.startswith("script-src") for v in page.evaluate("window.__csp"))
        assert page.evaluate("window.hxTables") is True  # the report's own script still runs
    finally:
        page.close()
