"""Section: what the first sync changes on the cloud users it takes over (docs/domain.md §14).

Counts per attribute first, then the users who lose mail addresses (mail to them bounces after the cut-over),
then every change in a collapsed table; takeover.csv holds them all and ad-backfill.csv the values to copy into
AD before leaving staging mode.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from IPython.display import HTML

from hybridx_nb.core.columns import arrow_strings
from hybridx_nb.core.vocabulary import TAKEOVER_STATUSES
from hybridx_nb.report.data import ReportData
from hybridx_nb.report.html import ROW_LIMIT, esc, table

_LABELS = {"lost": "Lost", "primary_changed": "Primary SMTP changes", "cleared": "Cleared",
           "overwritten": "Overwritten", "set": "Set", "added": "Added", "same": "Unchanged"}


def _per_attribute(counts: dict[str, dict[str, int]]) -> pd.DataFrame:
    rows = [{"attribute": a, **{s: c.get(s, 0) for s in TAKEOVER_STATUSES}} for a, c in counts.items()]
    frame = pd.DataFrame(rows, columns=["attribute", *TAKEOVER_STATUSES])
    changed = frame[[s for s in TAKEOVER_STATUSES if s != "same"]].sum(axis=1)
    return frame.assign(_c=changed).sort_values(["_c", "attribute"], ascending=[False, True]).drop(columns="_c")


def losing_users(changes: pd.DataFrame) -> pd.DataFrame:
    """One row per user who loses addresses: the addresses (in the order of ``changes``) and how many; most first.

    Grouped by array arithmetic (a Python join per user took seconds at a million users)."""
    lost = changes[changes["status"].eq("lost").to_numpy() & changes["entra_upn"].notna().to_numpy()]
    if not len(lost):
        return pd.DataFrame(columns=["entra_upn", "ad_dn", "lost", "addresses"])
    codes, upns = pd.factorize(lost["entra_upn"])
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    values = arrow_strings(lost["cloud_value"]).take(pa.array(order)).fill_null("")
    addresses = pc.binary_join(pa.LargeListArray.from_arrays(pa.array(offsets), values),
                               pa.scalar("; ", pa.large_string()))
    grouped = pd.DataFrame({"entra_upn": upns, "ad_dn": lost["ad_dn"].to_numpy()[order[offsets[:-1]]],
                            "lost": counts, "addresses": pd.array(addresses, dtype="str")})
    return grouped.sort_values(["lost", "entra_upn"], ascending=[False, True])


def takeover_section(d: ReportData, limit: int = ROW_LIMIT) -> HTML:
    """The takeover's changes: per attribute, the users who lose addresses, then every change (collapsed)."""
    t = d.takeover
    if t is None:
        return HTML('<section id="takeover"><p class="hx-note">The takeover impact was not computed.</p></section>')
    changes = t.changes
    out = [f"<p>{t.pairs:,} cloud user(s) will be taken over (hard or soft match); {len(changes):,} change(s) to "
           f"their attributes; <strong>{t.users_losing_addresses:,} user(s) lose mail addresses</strong>.</p>"]
    per = _per_attribute(t.counts)
    out.append(table(per, {"attribute": "Entra property", **{s: _LABELS[s] for s in TAKEOVER_STATUSES}},
                     interactive=False, limit=200))
    if t.not_compared:
        items = "".join(f"<li><code>{esc(a)}</code>: {esc(why)}</li>" for a, why in t.not_compared.items())
        out.append('<div class="hx-note">Not compared, because an export did not carry the attribute (missing '
                   f"is not empty): <ul>{items}</ul></div>")
    users = losing_users(changes)
    out.append(f"<h3>Users who lose mail addresses ({len(users):,})</h3>")
    out.append(table(users, {"entra_upn": "Cloud UPN", "lost": "Addresses lost", "addresses": "Addresses",
                             "ad_dn": "AD object"}, limit=limit,
                     more="Every lost address is in takeover.csv; ad-backfill.csv copies them into AD."))
    primary = changes[changes["status"].eq("primary_changed").to_numpy()]
    if len(primary):
        out.append(f"<h3>Primary SMTP address changes ({len(primary):,})</h3>")
        out.append(table(primary, {"entra_upn": "Cloud UPN", "cloud_value": "Now", "ad_value": "After the sync"},
                         limit=limit, more="The full list is in takeover.csv."))
    out.append(f"<details><summary>Every change ({len(changes):,})</summary>")
    out.append(table(changes, {"entra_upn": "Cloud UPN", "attribute": "Property", "status": "Change",
                               "cloud_value": "Cloud value now", "ad_value": "AD value (after the sync)"},
                     limit=limit, more="The full list is in takeover.csv and the Takeover sheet of findings.xlsx."))
    out.append("</details>")
    return HTML('<section id="takeover">' + "".join(out) + "</section>")


def xlsx_extra(d: ReportData) -> dict[str, pd.DataFrame]:
    """The workbook's Takeover and Exchange sheets (pseudonymised like the page when redacted)."""
    sheets = {}
    if d.takeover is not None:
        sheets["Takeover"] = d.takeover.changes
    if d.exchange is not None:
        sheets["Exchange"] = d.exchange.findings.drop(columns=["explanation"])
    return sheets
