"""HTML building blocks of the assessment report, called by the notebook (one call per section).

Every value that comes from a directory goes through ``html.escape`` (``_e``) before it reaches the page: a display
name such as ``<img src=x onerror=alert(1)>`` shows as text. The page is self-contained: CSS and the small table
script are inline, the chart is a PNG data URI, nothing loads from a network. Big categories are summarised (first
rows, with a pointer to findings.csv / findings.xlsx) so that a million-user tenant still gives a page of a few MB.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import html
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from IPython.display import HTML

from hybridx_nb import __version__
from hybridx_nb.core.errors import HybridxError
from hybridx_nb.report.redact import Redactor

#: Rows of one category (or of the plan / readiness) shown in the HTML; the rest is in CSV/XLSX.
ROW_LIMIT = 100

#: Order of the findings sections: what needs action first.
ACTION_ORDER = ("anchor_mismatch", "match_blocked", "ambiguous", "orphan_anchor", "new_user", "soft_match",
                "hard_match", "cloud_only", "excluded")
LABELS = {
    "hard_match": "Hard match", "soft_match": "Soft match", "anchor_mismatch": "Duplicate (wrong ImmutableID)",
    "match_blocked": "Match blocked", "ambiguous": "Ambiguous", "new_user": "New user",
    "orphan_anchor": "Orphaned cloud user", "cloud_only": "Cloud only", "excluded": "Excluded",
}
EXPLAIN = {
    "anchor_mismatch": "The cloud user has an ImmutableID that is not this AD user's anchor, but the mail address "
                       "or UPN matches: Entra Connect will create a second, duplicate user and the person loses "
                       "access to the mailbox and licences of the first.",
    "match_blocked": "A match Entra ID will refuse (admin role, tenant setting, federated domain or "
                     "onPremisesObjectIdentifier pointing elsewhere): a sync error, or a duplicate once resolved.",
    "ambiguous": "Several objects compete for the same identity; Entra Connect's result depends on order. "
                 "Resolve by hand.",
    "orphan_anchor": "A cloud user with an ImmutableID that no AD user will claim: it stays cloud-managed and "
                     "orphaned after the cut-over.",
    "new_user": "AD users with no cloud counterpart: Entra Connect creates them (the Adds in staging mode).",
    "soft_match": "No ImmutableID yet; the mail address or UPN matches, so the first sync takes the user over and "
                  "stamps the anchor.",
    "hard_match": "The ImmutableID already equals the AD anchor: the first sync takes the user over cleanly.",
    "cloud_only": "Cloud users without ImmutableID and without an AD counterpart: left alone by the sync.",
    "excluded": "System accounts and guests the sync does not touch.",
}
#: Categories that need nothing done: shown collapsed and without a why/fix line per row (the note says it once).
NO_ACTION = ("hard_match", "cloud_only", "excluded")
_COLORS = {"hard_match": "#2e7d32", "soft_match": "#66bb6a", "anchor_mismatch": "#c62828",
           "match_blocked": "#ef6c00", "ambiguous": "#f9a825", "new_user": "#1565c0", "orphan_anchor": "#8e24aa",
           "cloud_only": "#78909c", "excluded": "#b0bec5"}
_PERSON = {"person": "Name", "ad_upn": "AD UPN", "entra_upn": "Cloud UPN"}
_WHY_FIX = {"reason": "Why", "action": "Fix"}
_CATEGORY_COLUMNS = {
    "anchor_mismatch": {"immutable_id": "Current ImmutableID", "anchor_kind": "What it is",
                        "anchor_detail": "Detail", "expected_immutable_id": "Expected ImmutableID",
                        "duplicate_upn": "Duplicate will be", "match_via": "Matched via"},
    "match_blocked": {"block_reason": "Blocked by", "entra_roles": "Roles", "match_via": "Matched via"},
    "ambiguous": {"candidates": "Competing objects", "immutable_id": "ImmutableID"},
    "orphan_anchor": {"immutable_id": "ImmutableID", "anchor_kind": "What it is", "anchor_detail": "Detail"},
    "new_user": {"ad_dn": "AD object", "expected_immutable_id": "Anchor"},
    "soft_match": {"match_via": "Matched via", "expected_immutable_id": "Anchor to stamp"},
    "hard_match": {"anchor_source": "Anchor", "immutable_id": "ImmutableID"},
    "cloud_only": {"entra_mail": "Mail", "account_enabled": "Enabled"},
    "excluded": {"ad_dn": "AD object"},
}
_FEATURE_TEXT = {
    "softMatchOnUpnEnabled": "Soft match on UPN",
    "blockSoftMatchEnabled": "Block soft match",
    "blockCloudObjectTakeoverThroughHardMatchEnabled": "Block cloud object takeover through hard match",
}
_READ_ONLY_MODES = {"user_sync", "universal_sync"}


def _e(value: object) -> str:
    """Escape anything for HTML text or attribute values; missing values become an empty string."""
    if value is None or (not isinstance(value, (list, tuple, dict)) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")
_ITEM = re.compile(r"^\s*(?:\d+[.)]|[-*])\s+")


def rich(text: object) -> Markup:
    """Plain text with the little Markdown the runbook uses (``**bold**``, ```code```, numbered or dashed lines),
    escaped first, so nothing in it can become markup of its own."""
    lines = [line for line in _e(text).splitlines() if line.strip()]

    def inline(line: str) -> str:
        return _CODE.sub(r"<code>\1</code>", _BOLD.sub(r"<strong>\1</strong>", line))

    out, items, ordered = [], [], False
    for line in lines + [""]:
        if line and _ITEM.match(line):
            numbered = bool(re.match(r"^\s*\d", line))
            item = inline(_ITEM.sub("", line, count=1))
            if ordered and not numbered:  # a dashed line under a numbered step belongs to that step
                items[-1] = (items[-1][:-5] + f"<ul><li>{item}</li></ul></li>").replace("</ul><ul>", "")
            else:
                ordered = ordered or numbered
                items.append(f"<li>{item}</li>")
            continue
        if items:
            tag = "ol" if ordered else "ul"
            out.append(f"<{tag}>{''.join(items)}</{tag}>")
            items, ordered = [], False
        if line:
            out.append(f"<p>{inline(line)}</p>" if len(lines) > 1 else inline(line))
    return Markup("".join(out))


class ReportInputError(HybridxError):
    """A parameter or input problem shown as a short message in the cell output, not as a traceback."""

    def _render_traceback_(self) -> list[str]:  # IPython uses this instead of the traceback
        return [f"hybridx: {line}" if i == 0 else f"  {line}" for i, line in enumerate(str(self).splitlines())]


class clean_errors:
    """``with report.clean_errors():`` turns a HybridxError into a short message in the notebook output."""

    def __enter__(self) -> "clean_errors":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is not None and isinstance(exc, HybridxError) and not isinstance(exc, ReportInputError):
            raise ReportInputError(str(exc)) from None
        return False


def resolve_paths(raw: dict[str, Any], cwd: Path | None = None) -> dict[str, Any]:
    """Relative input/output paths made absolute: against the working folder, or against the repository root when
    the notebook was opened from ``notebooks/`` by hand (JupyterLab starts the kernel there)."""
    cwd = Path(cwd or Path.cwd())
    base = cwd.parent if cwd.name == "notebooks" and (cwd.parent / "hybridx_nb").is_dir() else cwd
    out = dict(raw)
    for name in ("snapshot", "ad", "entra", "okta", "okta_app_users", "tenant", "out"):
        value = out.get(name)
        if value and not Path(value).expanduser().is_absolute():
            out[name] = str((base / Path(value).expanduser()).resolve())
    return out


# ---------------------------------------------------------------------------------------------------------------
# What the page shows (redacted when asked)
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class ReportData:
    """The frames and facts the report renders, already pseudonymised when ``redact`` is on."""

    client: str
    counts: dict[str, int]
    findings: pd.DataFrame
    actions: pd.DataFrame
    readiness: pd.DataFrame
    domains: pd.DataFrame
    tenant: Any
    anchor_setting: str
    anchor_reason: str
    assumptions: list[str]
    plan: Any
    runbook: list[Any]
    plan_notes: list[str]
    manifest: dict[str, Any]
    sources: dict[str, str]
    inputs: dict[str, int]
    rejected: pd.DataFrame
    parameters: dict[str, Any]
    timings: dict[str, float]
    redacted: bool = False
    generated: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))


def prepare(a: Any, redactor: Redactor | None = None) -> ReportData:
    """Collect what the report needs from an ``assess.Assessment``; pseudonymise it when ``a.params.redact``."""
    params = a.params
    if redactor is None and getattr(params, "redact", False):
        with clean_errors():
            redactor = Redactor.from_reference(getattr(params, "redact_key", None))
    snap, plan = a.snapshot, a.plan
    findings = a.prediction.findings
    actions = getattr(plan, "actions", pd.DataFrame())
    readiness = a.readiness
    domains = snap["entra_domains"]
    runbook = list(getattr(plan, "runbook", []))
    notes = list(getattr(plan, "notes", []))
    anchor_reason, assumptions = a.prediction.anchor_reason, list(a.prediction.assumptions)
    rejected = snap.rejected
    if redactor is not None:
        findings = redactor.findings(findings)
        actions = redactor.actions(actions)
        readiness = redactor.readiness(readiness)
        domains = domains.assign(name=redactor.series(domains["name"], "domain"))
        rejected = redactor.frame(rejected, {"key": "text", "reason": "text"})
        runbook = [dataclasses.replace(step, **{f: redactor.text(getattr(step, f)) for f in
                                                ("title", "who", "where", "do", "verify", "rollback")})
                   for step in runbook]
        notes = redactor.texts(notes)
        anchor_reason, assumptions = redactor.text(anchor_reason), redactor.texts(assumptions)
    public = params.public() if hasattr(params, "public") else dataclasses.asdict(params)
    inputs = {name: len(frame) for name, frame in sorted(snap.tables.items()) if name != "rejected"}
    return ReportData(
        client=str(params.client), counts=dict(a.counts), findings=findings, actions=actions, readiness=readiness,
        domains=domains, tenant=snap.tenant, anchor_setting=a.prediction.anchor_setting, anchor_reason=anchor_reason,
        assumptions=assumptions, plan=plan, runbook=runbook, plan_notes=notes, manifest=dict(snap.manifest or {}),
        sources=dict(snap.sources), inputs=inputs, rejected=rejected, parameters=public,
        timings=dict(a.timings), redacted=redactor is not None)


# ---------------------------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------------------------
def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return _e(value)


def table(frame: pd.DataFrame, columns: Mapping[str, str] | None = None, *, detail: Mapping[str, str] | None = None,
          total: int | None = None, limit: int = ROW_LIMIT, more: str = "", interactive: bool = True,
          caption: str = "") -> str:
    """An HTML table of the first ``limit`` rows, every cell escaped; sortable and filterable in the browser.

    ``detail`` columns (long sentences such as the reason and the fix) go into a full-width line under each row.
    Each record is its own ``<tbody>`` so that sorting and filtering keep a row and its detail line together.
    """
    columns = dict(columns) if columns is not None else {c: c for c in frame.columns}
    columns = {c: label for c, label in columns.items() if c in frame.columns}
    detail = {c: label for c, label in (detail or {}).items() if c in frame.columns}
    total = len(frame) if total is None else total
    shown = frame.head(limit)
    head = "".join(f'<th scope="col">{_e(label)}</th>' for label in columns.values())

    def values(cols: Mapping[str, str]) -> list[list[object]]:
        return [shown[c].astype(object).where(shown[c].notna(), None).tolist() for c in cols]

    body = []
    if len(shown):
        main, extra = values(columns), values(detail)
        for i in range(len(shown)):
            row = "<tr>" + "".join(f"<td>{_cell(col[i])}</td>" for col in main) + "</tr>"
            if detail:
                bits = " ".join(f'<span class="hx-dl">{_e(label)}:</span> {_cell(col[i])}'
                                for label, col in zip(detail.values(), extra) if col[i] is not None)
                row += f'<tr class="hx-detail"><td colspan="{len(columns)}">{bits}</td></tr>' if bits else ""
            body.append(f"<tbody>{row}</tbody>")
    else:
        body.append(f'<tbody><tr><td colspan="{max(len(columns), 1)}" class="hx-empty">none</td></tr></tbody>')
    note = ""
    if total > len(shown):
        note = (f'<p class="hx-more">Showing the first {len(shown):,} of {total:,} rows. '
                f'{more or "The full list is in findings.csv and findings.xlsx."}</p>')
    tools = ""
    if interactive and len(shown) > 5:
        tools = ('<div class="hx-tools"><input type="search" class="hx-filter" placeholder="Filter these rows…" '
                 'aria-label="Filter rows"><span class="hx-count"></span></div>')
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    cls = "hx-table hx-sortable" if interactive else "hx-table"
    return (f'<div class="hx-tablewrap">{tools}<div class="hx-scroll"><table class="{cls}">{cap}<thead><tr>{head}'
            f'</tr></thead>{"".join(body)}</table></div>{note}</div>')


def _kv(rows: Iterable[tuple[str, object]]) -> str:
    """A two-column facts table; values are escaped unless wrapped in ``Markup``."""
    out = "".join(f'<tr><th scope="row">{_e(k)}</th><td>{v if isinstance(v, Markup) else _e(v)}</td></tr>'
                  for k, v in rows)
    return f'<table class="hx-facts"><tbody>{out}</tbody></table>'


class Markup(str):
    """HTML built here from escaped parts: inserted as it is."""


# ---------------------------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------------------------
def chart_png(counts: Mapping[str, int]) -> bytes:
    """Horizontal bar chart of the findings per category, as PNG bytes."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cats = [c for c in ACTION_ORDER if c in counts][::-1]
    values = [counts[c] for c in cats]
    fig, ax = plt.subplots(figsize=(7.5, 3.4), dpi=110)
    bars = ax.barh([LABELS[c] for c in cats], values, color=[_COLORS[c] for c in cats])
    top = max(values + [1])
    for bar, v in zip(bars, values):
        ax.text(bar.get_width() + top * 0.01, bar.get_y() + bar.get_height() / 2, f"{v:,}", va="center",
                fontsize=9, color="#263238")
    ax.set_xlim(0, top * 1.15)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=9)
    ax.set_xlabel("identities", fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def chart(counts: Mapping[str, int]) -> str:
    """The chart as an ``<img>`` with a data URI and alt text that states every number."""
    alt = "Bar chart of identities per category: " + "; ".join(
        f"{LABELS[c]} {counts.get(c, 0):,}" for c in ACTION_ORDER if c in counts)
    data = base64.b64encode(chart_png(counts)).decode("ascii")
    return (f'<figure class="hx-chart"><img src="data:image/png;base64,{data}" alt="{_e(alt)}" '
            f'width="825" height="374"><figcaption>Identities per category</figcaption></figure>')


def headline(counts: Mapping[str, int]) -> dict[str, int]:
    """The four numbers of the verdict."""
    return {"match": counts.get("hard_match", 0) + counts.get("soft_match", 0),
            "duplicated": counts.get("anchor_mismatch", 0), "blocked": counts.get("match_blocked", 0),
            "new": counts.get("new_user", 0)}


def recommendation(d: ReportData) -> str:
    """One sentence: go, or what to fix first."""
    n = headline(d.counts)
    amb, orphan = d.counts.get("ambiguous", 0), d.counts.get("orphan_anchor", 0)
    strategy = getattr(d.plan, "strategy", "")
    how = {"prestamp": "pre-stamp the correct ImmutableIDs", "clear_and_regenerate":
           "turn directory sync off, correct the ImmutableIDs and turn it back on",
           "hard_delete_recreate": "hard-delete and recreate the affected users"}.get(strategy, "fix them")
    problems = []
    if n["duplicated"]:
        problems.append(f"{n['duplicated']:,} user{'s' if n['duplicated'] != 1 else ''} would be duplicated")
    if n["blocked"]:
        problems.append(f"{n['blocked']:,} match{'es' if n['blocked'] != 1 else ''} would be refused")
    if amb:
        problems.append(f"{amb:,} identit{'ies are' if amb != 1 else 'y is'} ambiguous")
    if problems:
        return (f"Do not run Entra Connect's first sync yet: {', '.join(problems)}; {how} (plan below), then "
                f"confirm in staging mode that it would add exactly {n['new']:,} user(s) before leaving staging.")
    tail = f" and review {orphan:,} orphaned cloud user(s)" if orphan else ""
    return (f"Ready for the cut-over: {n['match']:,} user(s) will be taken over cleanly; confirm in staging mode "
            f"that Entra Connect would add exactly {n['new']:,} user(s){tail}, then leave staging.")


def verdict(d: ReportData) -> HTML:
    """Section 1: title, the four numbers, the recommendation and the chart."""
    n = headline(d.counts)
    tiles = [("match", "will match", "ok"), ("duplicated", "will be duplicated", "bad"),
             ("blocked", "are blocked", "warn"), ("new", "are new", "info")]
    tile_html = "".join(f'<div class="hx-tile hx-{cls}"><div class="hx-num">{n[k]:,}</div>'
                        f'<div class="hx-lbl">{_e(label)}</div></div>' for k, label, cls in tiles)
    bad = n["duplicated"] or n["blocked"] or d.counts.get("ambiguous", 0)
    return HTML(
        f'<section class="hx-verdict" id="verdict"><div class="hx-tiles">{tile_html}</div>'
        f'<p class="hx-rec {"hx-rec-bad" if bad else "hx-rec-ok"}"><strong>Recommendation:</strong> '
        f'{_e(recommendation(d))}</p>{chart(d.counts)}</section>')


def _yes_no(value: object) -> str:
    return "unknown" if value is None else ("on" if value else "off")


def tenant_facts(d: ReportData) -> HTML:
    """Section 2: federated domains, sync flags (and which are assumed), Okta mode, role holders, anchor."""
    t = d.tenant
    fed = d.domains[d.domains["authentication_type"].astype("str").str.casefold() == "federated"]["name"] \
        if len(d.domains) else pd.Series([], dtype="str")
    assumed = set(t.assumed()) if hasattr(t, "assumed") else set()
    rows: list[tuple[str, object]] = [
        ("Tenant", " ".join(x for x in (t.display_name, f"({t.tenant_id})" if t.tenant_id else None) if x)
         or "unknown"),
        ("Federated domains", ", ".join(fed.dropna()) if len(fed)
         else ("none" if len(d.domains) else "unknown (no domain list collected)")),
        ("Directory synchronisation (organisation)", _yes_no(t.org_sync_enabled)),
    ]
    for name, text in _FEATURE_TEXT.items():
        value = t.feature(name) if hasattr(t, "feature") else None
        rows.append((text, _yes_no(value) + (" (assumed: Entra's default, not collected)" if name in assumed else "")))
    mode = t.okta_provisioning_mode
    risk = "unknown (Okta not collected)" if not mode else mode
    if mode in _READ_ONLY_MODES:
        risk = (f"{mode}: Okta makes every provisioned user appear synced from AD, and Graph refuses to edit them "
                "until directory synchronisation is turned off for the tenant. Fixes must wait for that.")
    rows.append(("Okta provisioning mode", risk))
    rows.append(("Source anchor", f"{d.anchor_setting}: {d.anchor_reason}"))
    out = [_kv(rows)]
    if d.assumptions:
        out.append("<h3>Assumptions</h3><ul>" + "".join(f"<li>{_e(x)}</li>" for x in d.assumptions) + "</ul>")
    f = d.findings
    if "entra_roles" in f.columns:
        holders = f[f["entra_roles"].notna() & (f["entra_roles"].astype("str") != "")]
        out.append(f"<h3>Admin role holders ({len(holders):,})</h3>")
        out.append('<p class="hx-note">Entra ID never soft-matches a user holding an admin role and, since '
                   "June 2026, does not hard-match one either: remove the roles before the first sync and re-add "
                   "them after the match.</p>")
        holders = holders.assign(person=holders["ad_display_name"].fillna(holders["entra_display_name"]))
        out.append(table(holders, {**_PERSON, "entra_roles": "Roles", "category": "Category"},
                         detail={"action": "Fix"}, more="The full list is in findings.csv (column entra_roles)."))
    return HTML(f'<section id="tenant">{"".join(out)}</section>')


def _action_keys(frame: pd.DataFrame) -> pa.Table:
    """Sort keys of every row: role holders first, then federated users, then by name, then row order."""
    n = len(frame)
    roles = frame["entra_roles"].notna().to_numpy() if "entra_roles" in frame else np.zeros(n, dtype=bool)
    fed = (frame["federated"].fillna(False).astype(bool).to_numpy() if "federated" in frame
           else np.zeros(n, dtype=bool))
    name = (frame["entra_upn"].fillna(frame["ad_upn"]) if "entra_upn" in frame and "ad_upn" in frame
            else pd.Series([""] * n, dtype="str"))
    return pa.table({"roles": roles, "fed": fed, "name": pa.array(name.astype("str").array), "row": np.arange(n)})


_ACTION_ORDER_KEYS = [("roles", "descending"), ("fed", "descending"), ("name", "ascending"), ("row", "ascending")]


def _first_in_action_order(keys: pa.Table, positions: np.ndarray, limit: int) -> np.ndarray:
    """The positions of the first ``limit`` rows in action order, without sorting the whole category."""
    picked = keys.take(positions)
    top = pc.select_k_unstable(picked, k=min(limit, len(positions)), sort_keys=_ACTION_ORDER_KEYS)
    return picked["row"].take(top).to_numpy()


def findings_sections(d: ReportData, limit: int = ROW_LIMIT) -> HTML:
    """Section 3: one block per category, action first, each with its reason and fix."""
    parts = ['<nav class="hx-toc">' + " ".join(
        f'<a href="#cat-{c}">{_e(LABELS[c])} <b>{d.counts.get(c, 0):,}</b></a>' for c in ACTION_ORDER
        if d.counts.get(c, 0)) + "</nav>"]
    f = d.findings
    keys = _action_keys(f) if len(f) else None
    category = f["category"]
    for cat in ACTION_ORDER:
        positions = np.flatnonzero((category == cat).to_numpy(dtype=bool, na_value=False)) if len(f) else []
        n = len(positions)
        if not n:
            continue
        frame = f.take(_first_in_action_order(keys, positions, limit))
        frame = frame.assign(person=frame["ad_display_name"].fillna(frame["entra_display_name"]))
        cols = {**_PERSON, **_CATEGORY_COLUMNS.get(cat, {})}
        more = f"All {n:,} rows: findings.csv, or sheet {cat!r} of findings.xlsx."
        if cat in ("new_user", "excluded"):
            cols.pop("entra_upn")
        if cat == "cloud_only":
            cols.pop("ad_upn")
        rows = table(frame, cols, detail=None if cat in NO_ACTION else _WHY_FIX, total=n, limit=limit, more=more)
        if cat in NO_ACTION:
            rows = f"<details><summary>No action needed: show the first {min(n, limit):,} rows</summary>{rows}</details>"
        parts.append(f'<section class="hx-cat" id="cat-{cat}"><h3><span class="hx-dot" style="background:'
                     f'{_COLORS[cat]}"></span>{_e(LABELS[cat])} <span class="hx-n">{n:,}</span></h3>'
                     f'<p class="hx-note">{_e(EXPLAIN[cat])}</p>{rows}</section>')
    return HTML('<section id="findings">' + "".join(parts) + "</section>")


def plan_section(d: ReportData, limit: int = ROW_LIMIT) -> HTML:
    """Section 4: strategy and why, the numbers staging mode must show, the runbook, the per-user changes."""
    plan = d.plan
    out = [_kv([("Strategy", getattr(plan, "strategy", "")), ("Why", rich(getattr(plan, "strategy_reason", "")))])]
    for note in d.plan_notes:
        out.append(f'<div class="hx-note hx-warnnote">{rich(note)}</div>')
    expected = getattr(plan, "expected", {}) or {}
    if expected:
        out.append("<h3>What Entra Connect's staging mode must show</h3>")
        out.append(_kv((k.replace("_", " "), f"{v:,}" if isinstance(v, int) else v) for k, v in expected.items()))
    if d.runbook:
        out.append("<h3>Runbook</h3><ol class=\"hx-runbook\">")
        for s in d.runbook:
            out.append(f"<li><h4>{rich(s.title)}</h4>" + _kv([(k, rich(v)) for k, v in (
                ("Who", s.who), ("Where", s.where), ("Do", s.do), ("Verify", s.verify), ("Roll back", s.rollback))])
                + "</li>")
        out.append("</ol>")
    acts = d.actions
    if acts is not None and len(acts):
        out.append(f"<h3>Changes per user ({len(acts):,})</h3>")
        cols = {"step": "Step", "entra_upn": "Cloud UPN", "ad_dn": "AD object", "category": "Category",
                "strategy": "Strategy", "current_immutable_id": "Current ImmutableID",
                "new_immutable_id": "New ImmutableID"}
        out.append(table(acts, cols, detail={"note": "Note"}, limit=limit,
                         more="The full list is in remediation.csv; the script is remediation.ps1 (dry run by "
                              "default), undo with rollback.csv."))
    elif not d.runbook:
        out.append('<p class="hx-note">No remediation plan; the fixes per user are in the findings above.</p>')
    return HTML('<section id="plan">' + "".join(out) + "</section>")


def readiness_section(d: ReportData, limit: int = ROW_LIMIT) -> HTML:
    """Section 5: directory readiness (IdFix rules): a summary per attribute and error, then the first rows."""
    r = d.readiness
    if r is None or not len(r):
        return HTML('<section id="readiness"><p class="hx-ok">No readiness problems found in the AD data.</p>'
                    "</section>")
    summary = (r.groupby(["ATTRIBUTE", "ERROR"], observed=True).size().rename("objects").reset_index()
               .sort_values("objects", ascending=False))
    cols = {"DISTINGUISHEDNAME": "AD object", "ATTRIBUTE": "Attribute", "ERROR": "Error", "VALUE": "Value",
            "UPDATE": "Suggested value"}
    overview = table(summary, {"ATTRIBUTE": "Attribute", "ERROR": "Error", "objects": "Objects"},
                     interactive=False, limit=50)
    rows = table(r, cols, detail={"description": "Why"}, limit=limit,
                 more="The full list is in readiness.csv (IdFix columns).")
    return HTML(f'<section id="readiness"><p>{len(r):,} problem(s) on {r["DISTINGUISHEDNAME"].nunique():,} '
                f"object(s).</p>{overview}{rows}</section>")


def appendix(d: ReportData) -> HTML:
    """Section 6: where the data came from, parameters (references only), timings, version."""
    m = d.manifest
    tables = m.get("tables", {})
    rows = []
    for name in sorted(set(d.inputs) | set(tables)):
        meta = tables.get(name, {})
        rows.append({"table": name, "source": d.sources.get(name) or meta.get("source", ""),
                     "rows": d.inputs.get(name, meta.get("rows")), "sha256": (meta.get("sha256") or "")[:16]})
    prov = table(pd.DataFrame(rows), {"table": "Table", "source": "Source", "rows": "Rows",
                                      "sha256": "SHA-256 (first 16)"}, interactive=False, limit=100)
    facts = [("hybridx version", __version__), ("Snapshot created", m.get("created", "not saved as a snapshot")),
             ("Snapshot written by", m.get("hybridx_version", "")), ("Report generated", d.generated),
             ("Rows set aside (rejected)", f"{len(d.rejected):,}")]
    params = {k: v for k, v in d.parameters.items() if k != "out"}
    out = [_kv(facts), "<h3>Sources</h3>", prov]
    if len(d.rejected):
        out += ["<h3>Rows set aside</h3>", table(d.rejected, {"table": "Table", "source": "Source", "line": "Line",
                                                            "key": "Key", "reason": "Reason"},
                                                 more="The full list is in rejected.csv.")]
    out += ["<h3>Parameters</h3>", _kv((k, "" if v is None else v) for k, v in params.items()),
            "<h3>Timings (seconds)</h3>", _kv(d.timings.items())]
    return HTML('<section id="appendix">' + "".join(out) + "</section>")


CSS = """
:root{--ink:#1f2933;--muted:#52606d;--line:#d9e2ec;--bg:#f5f7fa;--accent:#1f3a5f}
body{font-family:-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:#fff;
 margin:0;line-height:1.45;font-size:14px}
main{max-width:1180px;margin:0 auto;padding:24px 32px 48px}
.jp-Cell{margin:0;padding:0}.jp-OutputArea-prompt,.jp-InputPrompt,.jp-Collapser,a.anchor-link{display:none}
.jp-RenderedMarkdown h2{border-bottom:2px solid var(--accent);padding-bottom:4px;margin-top:36px;color:var(--accent)}
.jp-RenderedMarkdown p{color:var(--muted);max-width:80ch}
.hx-header h1{margin:0 0 4px;font-size:26px;color:var(--accent)}.hx-sub{margin:0 0 18px;color:var(--muted)}
.hx-badge{background:#fff3cd;border:1px solid #e0c36a;border-radius:3px;padding:1px 6px;font-size:12px}
.hx-tiles{display:flex;gap:12px;flex-wrap:wrap;margin:8px 0 14px}
.hx-tile{flex:1 1 180px;border-radius:6px;padding:12px 16px;border:1px solid var(--line);background:var(--bg)}
.hx-num{font-size:30px;font-weight:700}.hx-lbl{color:var(--muted)}
.hx-ok .hx-num{color:#2e7d32}.hx-bad .hx-num{color:#c62828}.hx-warn .hx-num{color:#ef6c00}.hx-info .hx-num{color:#1565c0}
.hx-rec{padding:12px 16px;border-radius:6px;font-size:15px;margin:0 0 12px}
.hx-rec-bad{background:#fdecea;border-left:5px solid #c62828}.hx-rec-ok{background:#e8f5e9;border-left:5px solid #2e7d32}
.hx-chart{margin:8px 0}.hx-chart img{max-width:100%;height:auto}.hx-chart figcaption{color:var(--muted);font-size:12px}
table.hx-facts{border-collapse:collapse;margin:8px 0 12px;width:100%;max-width:1000px}
.hx-facts th{text-align:left;font-weight:600;width:30%;vertical-align:top;padding:5px 10px 5px 0;color:var(--muted)}
.hx-facts td{padding:5px 0;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
.hx-tablewrap{margin:8px 0 16px}.hx-scroll{overflow-x:auto;border:1px solid var(--line);border-radius:4px}
table.hx-table{border-collapse:collapse;width:100%;font-size:12.5px}
.hx-table caption{text-align:left;font-weight:600;padding:4px}
.hx-table th{background:var(--accent);color:#fff;text-align:left;padding:6px 8px;position:sticky;top:0;white-space:nowrap}
.hx-sortable th{cursor:pointer}.hx-sortable th::after{content:" \\2195";opacity:.5}
.hx-sortable th[aria-sort=ascending]::after{content:" \\2191";opacity:1}.hx-sortable th[aria-sort=descending]::after{content:" \\2193";opacity:1}
.hx-table td{padding:5px 8px;border-top:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere;max-width:420px}
.hx-table tbody:nth-of-type(even){background:#fafbfc}.hx-table tr.hx-detail td{border-top:0;padding-top:0;
 color:var(--muted);max-width:none}.hx-dl{font-weight:600;color:var(--ink)}.hx-empty{color:var(--muted);font-style:italic}
.hx-tools{display:flex;gap:10px;align-items:center;margin:4px 0}
.hx-filter{padding:4px 8px;border:1px solid var(--line);border-radius:4px;min-width:260px}.hx-count{color:var(--muted);font-size:12px}
.hx-more,.hx-note{color:var(--muted);font-size:13px}.hx-warnnote{background:#fff8e1;padding:6px 10px;border-radius:4px;color:var(--ink)}
.hx-cat h3{display:flex;align-items:center;gap:8px;margin:22px 0 2px}.hx-n{color:var(--muted);font-weight:400}
.hx-dot{width:12px;height:12px;border-radius:50%;display:inline-block}
.hx-toc{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0}.hx-toc a{border:1px solid var(--line);border-radius:14px;
 padding:2px 10px;text-decoration:none;color:var(--accent);font-size:13px}
.hx-runbook>li{margin:0 0 12px}.hx-runbook h4{margin:6px 0 2px}.hx-facts td p{margin:0 0 4px}
.hx-facts td ol,.hx-facts td ul{margin:0;padding-left:20px}.hx-facts td li{margin:0 0 4px}
code{font-family:ui-monospace,SFMono-Regular,Consolas,monospace;font-size:12px;background:#f0f3f7;padding:1px 4px;
 border-radius:3px;overflow-wrap:anywhere}
@media print{main{max-width:none;padding:0}.hx-tools,.hx-toc{display:none}.hx-scroll{overflow:visible;border:0}
 .hx-table th{position:static;color:#000;background:#e4e7eb}tr,.hx-tile,figure{break-inside:avoid}
 .jp-RenderedMarkdown h2{break-after:avoid}}
"""

JS = r"""
(function(){if(window.hxTables)return;window.hxTables=true;
function txt(td){return td?td.textContent.trim():"";}
function cmp(a,b){var x=parseFloat(a.replace(/,/g,"")),y=parseFloat(b.replace(/,/g,""));
 if(!isNaN(x)&&!isNaN(y)&&/^[\d,.\-]+$/.test(a)&&/^[\d,.\-]+$/.test(b))return x-y;return a.localeCompare(b);}
document.addEventListener("click",function(ev){var th=ev.target.closest&&ev.target.closest("table.hx-sortable th");
 if(!th)return;var table=th.closest("table"),i=Array.prototype.indexOf.call(th.parentNode.children,th);
 var asc=th.getAttribute("aria-sort")!=="ascending";Array.prototype.forEach.call(th.parentNode.children,function(h){h.removeAttribute("aria-sort");});
 th.setAttribute("aria-sort",asc?"ascending":"descending");var recs=Array.prototype.slice.call(table.tBodies);
 recs.sort(function(a,b){var c=cmp(txt(a.rows[0].cells[i]),txt(b.rows[0].cells[i]));return asc?c:-c;});
 recs.forEach(function(r){table.appendChild(r);});});
document.addEventListener("input",function(ev){var box=ev.target;if(!box.classList||!box.classList.contains("hx-filter"))return;
 var wrap=box.closest(".hx-tablewrap"),q=box.value.toLowerCase(),n=0,rows=wrap.querySelectorAll("tbody");
 rows.forEach(function(r){var hit=!q||r.textContent.toLowerCase().indexOf(q)>=0;r.style.display=hit?"":"none";if(hit)n++;});
 wrap.querySelector(".hx-count").textContent=q?n+" of "+rows.length+" rows":"";});})();
"""


def title(d: ReportData) -> HTML:
    """The page's CSS and script (once), then the title block."""
    redacted = '<span class="hx-badge">pseudonymised</span>' if d.redacted else ""
    return HTML(f"<style>{CSS}</style><script>{JS}</script>"
                f'<header class="hx-header"><h1>Entra Connect first-sync assessment: {_e(d.client)}</h1>'
                f'<p class="hx-sub">Generated {_e(d.generated)} · hybridx {_e(__version__)} {redacted}</p></header>')


def xlsx_summary(d: ReportData) -> list[tuple[str, object]]:
    """The rows that head the XLSX summary sheet."""
    return [("Client", d.client), ("Generated", d.generated), ("hybridx version", __version__),
            ("Pseudonymised", "yes" if d.redacted else "no"), ("Recommendation", recommendation(d)),
            ("Source anchor", f"{d.anchor_setting}: {d.anchor_reason}"),
            ("Remediation strategy", getattr(d.plan, "strategy", ""))]
