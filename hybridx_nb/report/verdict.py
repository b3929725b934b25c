"""Section 1: the four numbers, the recommendation and the chart."""

from __future__ import annotations

import base64
from collections.abc import Mapping

from IPython.display import HTML

from hybridx_nb import __version__
from hybridx_nb.core.vocabulary import ACTION_ORDER, LABELS
from hybridx_nb.report.categories import COLORS
from hybridx_nb.report.data import ReportData
from hybridx_nb.report.html import esc, kv, rich


def _charted(counts: Mapping[str, int]) -> list[str]:
    """The categories the chart shows, in report order: every one counted, except ``unknown`` when there is none
    (a category that only exists when an export was incomplete)."""
    return [c for c in ACTION_ORDER if c in counts and (c != "unknown" or counts[c])]


_CHART_W, _ROW_H, _TOP, _AXIS = 825, 28, 16, 30  # the chart's width, each bar's row, the margins above and below


def _chart_height(bars: int) -> int:
    return _TOP + _ROW_H * bars + _AXIS


def chart_svg(counts: Mapping[str, int]) -> str:
    """Horizontal bar chart of the findings per category, as an SVG document.

    Drawn directly (bars, labels, numbers): the page needs no plotting library, which took most of a second to
    load in each run, and the chart stays sharp when printed."""
    cats = _charted(counts)
    top = max([counts[c] for c in cats] + [1])
    label_w = 16 + 7 * max([len(LABELS[c]) for c in cats] + [0])  # 12 px text: about 7 px per character at most
    bar_x = label_w + 8
    bar_w, height = _CHART_W - bar_x - 90, _chart_height(len(cats))  # 90 px right of the longest bar: its number
    rows = []
    for i, c in enumerate(cats):
        y, v = _TOP + i * _ROW_H, counts[c]
        w = max(bar_w * v / top, 2) if v else 0  # a handful among a million still shows
        rows.append(f'<text x="{label_w}" y="{y + 17}" text-anchor="end">{esc(LABELS[c])}</text>'
                    f'<rect x="{bar_x}" y="{y + 4}" width="{w:.1f}" height="{_ROW_H - 8}" fill="{COLORS[c]}"/>'
                    f'<text x="{bar_x + w + 6:.1f}" y="{y + 17}">{v:,}</text>')
    axis_y = _TOP + _ROW_H * len(cats) + 2
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_CHART_W}" height="{height}" '
            f'viewBox="0 0 {_CHART_W} {height}" font-family="Segoe UI, Helvetica, Arial, sans-serif" '
            f'font-size="12" fill="#263238">{"".join(rows)}'
            f'<line x1="{bar_x}" y1="{axis_y}" x2="{bar_x + bar_w}" y2="{axis_y}" stroke="#90a4ae"/>'
            f'<text x="{bar_x + bar_w / 2:.1f}" y="{axis_y + 20}" text-anchor="middle" fill="#546e7a">identities'
            '</text></svg>')


def chart(counts: Mapping[str, int]) -> str:
    """The chart as an ``<img>`` with a data URI and alt text that states every number."""
    cats = _charted(counts)
    alt = "Bar chart of identities per category: " + "; ".join(f"{LABELS[c]} {counts.get(c, 0):,}" for c in cats)
    data = base64.b64encode(chart_svg(counts).encode("utf-8")).decode("ascii")
    top = max([counts.get(c, 0) for c in ACTION_ORDER] + [1])
    items = "".join(f'<li><span class="hx-dot" style="background:{COLORS[c]}"></span>{esc(LABELS[c])}'
                    f'<span class="hx-bar" style="background:{COLORS[c]};width:{60 * counts.get(c, 0) / top:.0f}px">'
                    f'</span><span class="hx-v">{counts.get(c, 0):,}</span></li>' for c in cats)
    size = f'width="{_CHART_W}" height="{_chart_height(len(cats))}"'
    return (f'<figure class="hx-chart"><img src="data:image/svg+xml;base64,{data}" alt="{esc(alt)}" {size}>'
            '<figcaption>Identities per category</figcaption></figure>'
            f'<ul class="hx-chartlist" aria-hidden="true">{items}</ul>')  # the chart as a list on narrow screens


def headline(counts: Mapping[str, int]) -> dict[str, int]:
    """The four numbers of the verdict."""
    return {"match": counts.get("hard_match", 0) + counts.get("soft_match", 0),
            "duplicated": counts.get("anchor_mismatch", 0), "blocked": counts.get("match_blocked", 0),
            "new": counts.get("new_user", 0)}


def recommendation(d: ReportData) -> str:
    """One sentence: go, or what to fix first."""
    n = headline(d.counts)
    amb, orphan = d.counts.get("ambiguous", 0), d.counts.get("orphan_anchor", 0)
    strategy = d.plan.strategy
    how = {"prestamp": "pre-stamp the correct ImmutableIDs", "clear_and_regenerate":
           "turn directory sync off, correct the ImmutableIDs and turn it back on",
           "hard_delete_recreate": "hard-delete and recreate the affected users"}.get(strategy, "fix them")
    problems = []
    unknown = d.counts.get("unknown", 0)
    if unknown:
        problems.append(f"{unknown:,} identit{'ies' if unknown != 1 else 'y'} cannot be predicted from these "
                        "exports (re-export as the 'Unknown' section says)")
    if n["duplicated"]:
        problems.append(f"{n['duplicated']:,} user{'s' if n['duplicated'] != 1 else ''} would be duplicated")
    if n["blocked"]:
        problems.append(f"{n['blocked']:,} match{'es' if n['blocked'] != 1 else ''} would be refused")
    if amb:
        problems.append(f"{amb:,} identit{'ies are' if amb != 1 else 'y is'} ambiguous")
    cloud = d.plan.target == "cloud-sync"
    engine = "Entra Cloud Sync" if cloud else "Entra Connect"
    confirm = (f"provision pilot users on demand and expect {n['new']:,} new user(s)" if cloud else
               f"confirm in staging mode, user by user, that it would add {n['new']:,} new user(s)")
    wait = (f" Directory sync is switched off for the tenant first: {engine} may export not earlier than 72 h "
            "after the switch-off." if d.plan.sync_switch_off else "")
    if problems:
        return (f"Do not run {engine}'s first sync yet: {', '.join(problems)}; {how} (plan below), then "
                f"{confirm} before it exports.{wait}")
    tail = f" and review {orphan:,} orphaned cloud user(s)" if orphan else ""
    return (f"Ready for the cut-over: {n['match']:,} user(s) will be taken over cleanly; {confirm}{tail}, then "
            f"let it export.{wait}")


def verdict(d: ReportData) -> HTML:
    """Section 1: title, the four numbers, the recommendation and the chart."""
    n = headline(d.counts)
    tiles = [("match", "will match", "ok"), ("duplicated", "will be duplicated", "bad"),
             ("blocked", "are blocked", "warn"), ("new", "are new", "info")]
    tile_html = "".join(f'<div class="hx-tile hx-{cls}"><div class="hx-num">{n[k]:,}</div>'
                        f'<div class="hx-lbl">{esc(label)}</div></div>' for k, label, cls in tiles)
    bad = n["duplicated"] or n["blocked"] or d.counts.get("ambiguous", 0) or d.counts.get("unknown", 0)
    return HTML(
        f'<section class="hx-verdict" id="verdict"><div class="hx-tiles">{tile_html}</div>'
        f'<p class="hx-rec {"hx-rec-bad" if bad else "hx-rec-ok"}"><strong>Recommendation:</strong> '
        f'{esc(recommendation(d))}</p>{assumptions_box(d.assumptions)}{glance(d)}{chart(d.counts)}</section>')


def assumptions_box(assumptions: list[str]) -> str:
    """What the prediction assumed because an export did not carry it: shown whenever summary.json lists any."""
    if not assumptions:
        return ""
    items = "".join(f"<li>{esc(a)}</li>" for a in assumptions)
    return (f'<div class="hx-assumptions" role="note"><strong>Assumptions ({len(assumptions)}):</strong> this '
            f"prediction rests on what the exports did not show; each line says what was assumed and how to "
            f"confirm it.<ul>{items}</ul></div>")


def glance(d: ReportData) -> str:
    """The plan at a glance: timeline, freeze window, roles needed, top risks."""
    rows = d.glance
    if not rows:
        return ""
    return '<div class="hx-glance"><h3>Plan at a glance</h3>' + kv([(k, rich(v)) for k, v in rows]) + "</div>"


def xlsx_summary(d: ReportData) -> list[tuple[str, object]]:
    """The rows that head the XLSX summary sheet, worded for a workbook (no "below", no page sections)."""
    advice = recommendation(d).replace("(plan below)", "(the plan is in assessment.html, the fixes in "
                                                       "remediation.ps1)")
    return [("Client", d.client), ("Recommendation", advice),
            ("This workbook", "One sheet per category, those that need action first; every sheet has a frozen "
                              "header and filter arrows. The same rows are in findings.csv."),
            ("Source anchor", f"{d.anchor_setting}: {d.anchor_reason}"),
            ("Remediation strategy", d.plan.strategy),
            ("Assumptions", "; ".join(d.assumptions) or "none"),
            ("Pseudonymised", "yes: names, addresses and DNs are aliases" if d.redacted else "no"),
            ("Generated", d.generated), ("hybridx version", __version__)]
