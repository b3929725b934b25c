"""Section 3: one block per category, what needs action first, each row with its reason and fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from IPython.display import HTML

from hybridx_nb.core.vocabulary import ACTION_ORDER, LABELS, NO_ACTION, XLSX_FULL
from hybridx_nb.report.categories import CATEGORY_COLUMNS, COLORS, EXPLAIN, PERSON, WHY_FIX
from hybridx_nb.report.data import ReportData
from hybridx_nb.report.groups import groups_section
from hybridx_nb.report.html import ROW_LIMIT, esc, table


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


OKTA_SENDS_WRONG = "Okta also sends the wrong value: fix the Okta app user together with Entra (okta-apply)"


def okta_note(frame: pd.DataFrame) -> pd.Series:
    """For duplicates: what Okta sends at sign-in. Agreeing with the wrong cloud value is a risk, not comfort."""
    if "okta_agrees" not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype="str")
    agrees = frame["okta_agrees"].astype("boolean")
    sent = frame["okta_app_immutable_id"].astype("str") if "okta_app_immutable_id" in frame else None
    other = ("Okta's app user holds another value (" + sent.fillna("none") + ")") if sent is not None else \
        pd.Series("Okta's app user holds another value", index=frame.index)
    out = pd.Series(np.where(agrees.fillna(False).to_numpy(dtype=bool), OKTA_SENDS_WRONG, other.to_numpy()),
                    index=frame.index, dtype="str")
    return out.where(agrees.notna().to_numpy(), "not linked to an Okta app user")


def findings_sections(d: ReportData, limit: int = ROW_LIMIT) -> HTML:
    """Section 3: one block per category, action first, each with its reason and fix."""
    parts = ['<nav class="hx-toc">' + " ".join(
        f'<a href="#cat-{c}">{esc(LABELS[c])} <b>{d.counts.get(c, 0):,}</b></a>' for c in ACTION_ORDER
        if d.counts.get(c, 0)) + "</nav>"]
    f = d.findings
    keys = _action_keys(f) if len(f) else None
    category = f["category"]
    in_workbook = XLSX_FULL.get(str(d.parameters.get("xlsx", "all")), ACTION_ORDER)
    for cat in ACTION_ORDER:
        positions = np.flatnonzero((category == cat).to_numpy(dtype=bool, na_value=False)) if len(f) else []
        n = len(positions)
        if not n:
            continue
        frame = f.take(_first_in_action_order(keys, positions, limit))
        frame = frame.assign(person=frame["ad_display_name"].fillna(frame["entra_display_name"]))
        cols = {**PERSON, **CATEGORY_COLUMNS.get(cat, {})}
        if cat == "anchor_mismatch":
            frame, cols = frame.assign(okta_note=okta_note(frame)), {**cols, "okta_note": "Okta at sign-in"}
        more = (f"All {n:,} rows: findings.csv, or sheet {cat!r} of findings.xlsx." if cat in in_workbook
                else f"All {n:,} rows: findings.csv and findings.parquet.")
        if cat in ("new_user", "excluded"):
            cols.pop("entra_upn")
        if cat == "cloud_only":
            cols.pop("ad_upn")
        rows = table(frame, cols, detail=None if cat in NO_ACTION else WHY_FIX, total=n, limit=limit, more=more)
        if cat in NO_ACTION:
            rows = f"<details><summary>No action needed: show the first {min(n, limit):,} rows</summary>{rows}</details>"
        parts.append(f'<section class="hx-cat" id="cat-{cat}"><h3><span class="hx-dot" style="background:'
                     f'{COLORS[cat]}"></span>{esc(LABELS[cat])} <span class="hx-n">{n:,}</span></h3>'
                     f'<p class="hx-note">{esc(EXPLAIN[cat])}</p>{rows}</section>')
    parts.append(groups_section(d, limit))
    return HTML('<section id="findings">' + "".join(parts) + "</section>")
