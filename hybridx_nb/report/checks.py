"""Stand-alone pages of the verify commands (``staging-check.html``), with the report's look: the same CSS, script
and table helpers, one self-contained file that opens offline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from hybridx_nb import __version__
from hybridx_nb.core.vocabulary import STAGING_PROBLEMS, STAGING_STATUSES
from hybridx_nb.report.html import ROW_LIMIT, esc, kv, table
from hybridx_nb.report.page import _asset

STATUS_TEXT = {
    "duplicate": "Duplicates: Adds whose UPN or primary SMTP a cloud user with another ImmutableID holds",
    "delete": "Deletes: leaving staging would delete these objects in Entra ID",
    "unexpected_add": "Adds the prediction did not expect",
    "unexpected_update": "Updates the prediction did not expect",
    "missing": "Predicted exports that are missing",
    "blocked": "Users whose match is predicted blocked",
    "review": "Users to decide by hand (ambiguous)",
    "expected_add": "Adds as predicted",
    "expected_update": "Updates as predicted",
}
COLUMNS = {"operation": "Operation", "upn": "UPN", "display_name": "Name", "predicted": "Predicted",
           "source_anchor": "sourceAnchor", "cloud_upn": "Cloud user", "cloud_immutable_id": "Its ImmutableID",
           "matched_by": "Joined by"}


def page(title: str, sections: Iterable[str], subtitle: str = "") -> str:
    """A whole HTML document around ``sections`` (already-escaped HTML)."""
    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_asset("report.css")}</style>'
            f'<script>{_asset("report.js")}</script></head><body><main><header class="hx-header"><h1>{esc(title)}</h1>'
            f'<p class="hx-sub">{esc(subtitle)} Generated {generated} · hybridx {esc(__version__)}</p></header>'
            + "".join(sections) + "</main></body></html>")


def staging_page(check: object, client: str, sources: dict[str, str], limit: int = ROW_LIMIT) -> str:
    """staging-check.html: the verdict, the counts, then every problem status with its users."""
    rows: pd.DataFrame = check.rows  # type: ignore[attr-defined]
    counts: dict[str, int] = check.counts  # type: ignore[attr-defined]
    safe = check.safe  # type: ignore[attr-defined]
    box = "hx-rec-ok" if safe else "hx-rec-bad"
    out = [f'<section id="verdict"><div class="hx-rec {box}">{esc(check.verdict)}</div>']  # type: ignore[attr-defined]
    out.append(kv([(STATUS_TEXT[s], f"{counts[s]:,}") for s in STAGING_STATUSES]))
    out.append(kv([(k, v) for k, v in sources.items()]) + "</section>")
    for status in (*STAGING_PROBLEMS, *STAGING_STATUSES[:2]):
        part = rows[rows["status"].eq(status)]
        if not len(part) and status not in ("duplicate", "delete"):
            continue
        out.append(f'<section id="{status}"><h2>{esc(STATUS_TEXT[status])} '
                   f'<span class="hx-n">({len(part):,})</span></h2>')
        out.append(table(part, COLUMNS, detail={"reason": "Why", "ad_dn": "AD object"}, limit=limit,
                         more="Every row is in staging-check.csv."))
        out.append("</section>")
    return page(f"Entra Connect staging check: {client}", out,
                "The pending export of Entra Connect's Entra ID connector, user by user, against hybridx's "
                "prediction.")


def write_page(html: str, path: Path) -> Path:
    """Write atomically (a reader never sees half a page)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
