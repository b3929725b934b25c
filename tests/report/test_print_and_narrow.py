"""The report on paper and on a narrow screen, in a real headless Chromium.

Paper: ``chromium --print-to-pdf`` of the demo report, pages counted and page breaks checked from the PDF's text (a
table row never parted from its Why/Fix line, no heading alone at the bottom of a page, no Detail column).
Narrow: a 420 px wide window: cards stacked, the chart as a list, nothing wider than the window, no text clipped.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path

import pytest
from conftest import require
from support.report_frames import demo_report

CHROMIUM = "/usr/bin/chromium"
#: The 300-user demo printed by Chromium (no header and footer): 24 pages when issue 14 was filed. The page keeps
#: growing with new sections (takeover, Hybrid Exchange), so the test compares the same page printed with and
#: without its print rules, and also keeps an absolute ceiling.
PAGES_CEILING = {"A4": 16, "Letter": 17}

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):
    if not Path(CHROMIUM).is_file():
        require("HYBRIDX_REQUIRE_BROWSER", f"headless Chromium not found at {CHROMIUM}")
    result, _ = demo_report(tmp_path_factory.mktemp("print-demo"))
    return result


def _without_print_rules(html: Path, out: Path) -> Path:
    """The page with its ``@media print`` blocks removed (what it printed like before the print layout)."""
    page, parts, i = html.read_text(encoding="utf-8"), [], 0
    while (j := page.find("@media print", i)) >= 0:
        parts.append(page[i:j])
        k, depth = page.index("{", j) + 1, 1
        while depth:
            depth += {"{": 1, "}": -1}.get(page[k], 0)
            k += 1
        i = k
    out.write_text("".join(parts) + page[i:], encoding="utf-8")
    return out


def _pdf(html: Path, out: Path, paper: str) -> list[str]:
    """The report printed by Chromium on ``paper`` (the page's own @page size, swapped for the other size): the
    text of each page."""
    pypdf = pytest.importorskip("pypdf")
    page = html.read_text(encoding="utf-8")
    size = re.search(r"@page\{size:(A4|Letter)", page)
    variant = out.with_suffix(".html")
    variant.write_text(page.replace(size.group(0), f"@page{{size:{paper}") if size else
                       page.replace("</head>", f"<style>@page{{size:{paper}}}</style></head>", 1), encoding="utf-8")
    pdf = out.with_suffix(".pdf")
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--no-pdf-header-footer", f"--print-to-pdf={pdf}", variant.as_uri()],
                   check=True, capture_output=True, timeout=120)
    reader = pypdf.PdfReader(pdf)
    width, height = (float(x) for x in reader.pages[0].mediabox[2:])
    expected = {"A4": (595, 842), "Letter": (612, 792)}[paper]
    assert abs(width - expected[0]) < 2 and abs(height - expected[1]) < 2, (paper, width, height)
    return [unicodedata.normalize("NFKC", p.extract_text()) for p in reader.pages]  # ligatures: "ﬁ" → "fi"


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_prints_in_about_half_the_pages(report, tmp_path: Path, paper: str) -> None:
    pages = _pdf(report.html, tmp_path / paper, paper)
    plain = _pdf(_without_print_rules(report.html, tmp_path / f"plain-{paper}.html"), tmp_path / f"plain-{paper}", paper)
    assert len(pages) <= min(len(plain) / 2, PAGES_CEILING[paper]), (len(pages), len(plain))
    text = "\n".join(pages)
    assert "1. Verdict" in text and re.search(r"\d\. Appendix", text) and "Why:" in text
    assert "Detail" not in text.split("Runbook")[0]  # the findings tables print without their Detail column
    assert "The printed report shows the first 8 rows" in text


def test_page_breaks_keep_rows_and_headings_together(report, tmp_path: Path) -> None:
    pages = _pdf(report.html, tmp_path / "breaks", "A4")
    headings = {h.strip() for h in re.findall(r"<h[234][^>]*>(.*?)</h[234]>",
                                              re.sub(r"<span[^>]*>.*?</span>", "",
                                                     report.html.read_text(encoding="utf-8")))}
    headings = {re.sub(r"<[^>]+>", "", h).strip() for h in headings} - {""}
    for number, page in enumerate(pages, start=1):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        # a record's Why/Fix line starts a page only when its row is on the page before: never
        body = [line for line in lines if not re.match(r"^(Name|Step|AD object|Table)\b.*\b(UPN|Category|Attribute|"
                                                       r"Source)\b", line)]
        assert not body[0].startswith(("Why:", "Fix:", "Note:")), (number, body[:2])
        # no heading is the last thing on a page
        last = lines[-1]
        assert not any(last == h or last.startswith(h + " ") and len(last) < len(h) + 8 for h in headings), \
            (number, last)


@pytest.fixture(scope="module")
def narrow(report):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        page = browser.new_page(viewport={"width": 420, "height": 900})
        page.goto(report.html.as_uri())
        page.wait_for_load_state("load")
        for summary in page.locator("details > summary").all():  # the collapsed tables too
            summary.click()
        yield page
        browser.close()


def test_narrow_screen_has_no_sideways_scroll_and_no_clipped_text(narrow) -> None:
    page = narrow
    assert page.evaluate("document.documentElement.scrollWidth") <= 420
    wide = page.evaluate("""() => {
        const out = [];
        for (const el of document.querySelectorAll('main *')) {
            const style = getComputedStyle(el);
            if (style.display === 'none' || style.visibility === 'hidden' || !el.getClientRects().length) continue;
            const r = el.getBoundingClientRect();
            if (r.right > window.innerWidth + 1 || r.left < -1) out.push(el.tagName + '.' + el.className + ' ' + r.right);
            const clips = ['hidden', 'clip', 'auto', 'scroll'].includes(style.overflowX);
            if (clips && el.scrollWidth > el.clientWidth + 1) out.push('clipped ' + el.tagName + '.' + el.className);
        }
        return out.slice(0, 10);
    }""")
    assert wide == []


def test_narrow_screen_stacks_cards_and_lists_the_chart(narrow) -> None:
    page = narrow
    tiles = [t.bounding_box() for t in page.locator(".hx-tile").all()]
    assert len(tiles) == 4 and len({round(t["x"]) for t in tiles}) == 1  # one above the other
    assert all(t["width"] > 300 for t in tiles)
    assert not page.locator("figure.hx-chart img").is_visible()
    items = page.locator(".hx-chartlist li")
    assert items.count() >= 5 and items.first.is_visible()
    assert "Duplicate (wrong ImmutableID)" in page.locator(".hx-chartlist").inner_text()
    why = page.locator("#cat-anchor_mismatch tr.hx-detail td").first
    assert why.bounding_box()["width"] > 300  # the Why/Fix line as wide as the screen
    cell = page.locator("#cat-anchor_mismatch td[data-label='AD UPN']").first
    assert cell.evaluate("td => getComputedStyle(td, '::before').content").startswith('"AD UPN')
