"""The report's HTML blocks: every section, escaping, the chart, truncation, redaction, parameters."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from support.report_frames import XSS, assessment_for, findings_frame, hand_snapshot, render_all

from hybridx_nb import report
from hybridx_nb.app import paths
from hybridx_nb.core.vocabulary import ACTION_ORDER, LABELS
from hybridx_nb.report.html import table
from hybridx_nb.report.redact import Redactor


@pytest.fixture(scope="module")
def hand():
    return assessment_for(hand_snapshot(), client="Hand <b>Client</b>")


def test_every_section_in_order(hand) -> None:
    page = render_all(hand)
    ids = re.findall(r'<section[^>]* id="([a-z-]+)"', page)
    order = [i for i in ids if not i.startswith("cat-")]
    assert order == ["verdict", "tenant", "findings", "plan", "readiness", "appendix"]
    for cat, n in hand.counts.items():
        if n:
            assert f'id="cat-{cat}"' in page
            assert re.search(rf'id="cat-{cat}"><h3>.*?<span class="hx-n">{n:,}</span>', page)


def test_directory_values_are_escaped(hand) -> None:
    page = render_all(hand)
    assert XSS not in page and "<b>Client</b>" not in page
    assert html.escape(XSS) in page
    assert "Hand &lt;b&gt;Client&lt;/b&gt;" in page


def test_chart_is_an_inline_svg_with_alt_text(hand) -> None:
    v = report.prepare(hand)
    block = report.verdict(v).data
    src = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', block).group(1)
    svg = ElementTree.fromstring(base64.b64decode(src))
    ns = {"s": "http://www.w3.org/2000/svg"}
    bars = svg.findall("s:rect", ns)
    texts = [t.text for t in svg.findall("s:text", ns)]
    charted = [c for c in ACTION_ORDER if c in v.counts and (c != "unknown" or v.counts[c])]
    assert len(bars) == len(charted) and [LABELS[c] for c in charted] == texts[0:-1:2]
    assert [f"{v.counts[c]:,}" for c in charted] == texts[1:-1:2]
    widths = {c: float(bar.get("width")) for c, bar in zip(charted, bars)}
    most = max(charted, key=v.counts.get)
    assert all(widths[c] <= widths[most] for c in charted) and all((widths[c] > 0) == (v.counts[c] > 0)
                                                                    for c in charted)
    assert f'height="{svg.get("height")}"' in block  # the <img> keeps the drawing's proportions
    alt = re.search(r'alt="([^"]+)"', block).group(1)
    assert "Hard match 1" in alt and "New user 1" in alt
    assert "http" not in block


def test_chart_bars_scale_and_a_few_still_show() -> None:
    from hybridx_nb.report.verdict import chart_svg

    svg = ElementTree.fromstring(chart_svg({"hard_match": 1_000_000, "excluded": 3, "anchor_mismatch": 0}))
    widths = [float(r.get("width")) for r in svg.findall("{http://www.w3.org/2000/svg}rect")]
    assert widths[0] == 0 and 0 < widths[2] < widths[1]  # none duplicated; three excluded still visible


def test_verdict_numbers_and_recommendation(hand) -> None:
    v = report.prepare(hand)
    n = report.headline(v.counts)
    assert n == {"match": hand.counts["hard_match"] + hand.counts["soft_match"],
                 "duplicated": hand.counts["anchor_mismatch"], "blocked": hand.counts["match_blocked"],
                 "new": hand.counts["new_user"]}
    assert report.recommendation(v).startswith("Do not run")  # carol's Okta id will duplicate her
    clean = dict(v.counts, anchor_mismatch=0, match_blocked=0, ambiguous=0)
    assert report.recommendation(report.ReportData(**{**v.__dict__, "counts": clean})).startswith("Ready")


def test_big_tables_are_truncated_with_a_pointer() -> None:
    frame = findings_frame({"hard_match": 5})
    out = table(frame, {"ad_upn": "UPN"}, limit=2)
    assert out.count("<tbody>") == 2 and "Showing the first 2 of 5 rows" in out and "findings.xlsx" in out


def test_redacted_report_has_no_names(hand) -> None:
    page = render_all(hand, redactor=Redactor(b"k"))
    for word in ("Alice", "alice@", "Archer", "Carol", "contoso.com", "Staff"):
        assert word not in page, word


def test_parameters_show_references_only(hand, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HX_REPORT_KEY", "never-show-this-value")
    a = assessment_for(hand_snapshot(), redact=True, redact_key="env:HX_REPORT_KEY")
    page = render_all(a)
    assert "env:HX_REPORT_KEY" in page and "never-show-this-value" not in page
    assert "pseudonymised" in page


def test_paths_resolve_from_the_notebooks_folder(tmp_path: Path) -> None:
    (tmp_path / "hybridx_nb").mkdir()
    (tmp_path / "notebooks").mkdir()
    raw = paths.resolve_paths({"ad": "exports/ad.csv", "out": "reports/x", "entra": "/abs/e.json"},
                               tmp_path / "notebooks")
    assert raw == {"ad": str(tmp_path / "exports/ad.csv"), "out": str(tmp_path / "reports/x"),
                   "entra": "/abs/e.json"}
    assert paths.resolve_paths({"ad": "a.csv"}, tmp_path)["ad"] == str(tmp_path / "a.csv")


def test_big_categories_show_role_holders_then_federated_then_names_first(hand) -> None:
    frame = findings_frame({"hard_match": 9, "new_user": 2})
    frame.loc[7, "entra_roles"] = "Global Administrator"
    frame.loc[[1, 3, 5], "federated"] = True
    frame.loc[[0, 2, 4, 6, 8], "federated"] = False
    frame = frame.iloc[::-1].reset_index(drop=True)  # names out of order
    page = report.findings_sections(report.ReportData(**{**report.prepare(hand).__dict__, "findings": frame,
                                                         "counts": {"hard_match": 9, "new_user": 2}}), limit=5).data
    start = page.index('id="cat-hard_match"')
    block = page[start:page.index("</section>", start)]
    shown = re.findall(r"<tbody><tr><td[^>]*>User hard_match (\d)</td>", block)
    assert shown == ["7", "1", "3", "5", "0"] and "Showing the first 5 of 9 rows" in block


def test_very_long_values_are_shortened_in_the_page_and_whole_in_the_csv(tmp_path: Path) -> None:
    from hybridx_nb.app import assess

    snap = hand_snapshot()
    huge = "N" * 5_000_000  # a 5 MB display name (the hostile run used 100 MB and got a 200 MB page)
    snap.tables["ad_users"].loc[0, "display_name"] = huge
    snap.tables["entra_users"].loc[0, "display_name"] = "E" * 1_000_000
    a = assessment_for(snap)
    page = render_all(a)
    assert len(page) < 1_000_000 and huge not in page
    assert "5,000,000 characters; the whole value is in findings.csv" in page
    assess.write_findings_csv(a.findings, tmp_path / "findings.csv")
    assert huge in (tmp_path / "findings.csv").read_text(encoding="utf-8-sig")
