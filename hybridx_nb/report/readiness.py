"""Section 5: directory readiness (the checks IdFix used to make), summarised then listed."""

from __future__ import annotations

from IPython.display import HTML

from hybridx_nb.report.data import ReportData
from hybridx_nb.report.html import ROW_LIMIT, table


def readiness_section(d: ReportData, limit: int = ROW_LIMIT) -> HTML:
    """Section 5: directory readiness (IdFix rules): a summary per attribute and error, then the first rows."""
    r = d.readiness
    resolved = r[r["resolved"].notna().to_numpy()] if r is not None and "resolved" in r.columns else None
    r = r[r["resolved"].isna().to_numpy()] if resolved is not None else r
    note = (f'<p class="hx-note">{len(resolved):,} more row(s) are resolved by the anchor fix (a duplicate\'s '
            "own addresses held by its own cloud user): marked so in readiness.csv, with no edit proposed.</p>"
            if resolved is not None and len(resolved) else "")
    if r is None or not len(r):
        return HTML('<section id="readiness"><p class="hx-ok">No readiness problems found in the AD data.</p>'
                    f"{note}</section>")
    summary = (r.groupby(["ATTRIBUTE", "ERROR"], observed=True).size().rename("objects").reset_index()
               .sort_values("objects", ascending=False))
    cols = {"DISTINGUISHEDNAME": "AD object", "ATTRIBUTE": "Attribute", "ERROR": "Error", "VALUE": "Value",
            "UPDATE": "Suggested value"}
    overview = table(summary, {"ATTRIBUTE": "Attribute", "ERROR": "Error", "objects": "Objects"},
                     interactive=False, limit=50)
    rows = table(r, cols, detail={"description": "Why"}, limit=limit,
                 more="The full list is in readiness.csv (IdFix columns).")
    return HTML(f'<section id="readiness"><p>{len(r):,} problem(s) on {r["DISTINGUISHEDNAME"].nunique():,} '
                f"object(s).</p>{note}{overview}{rows}</section>")
