"""Section 4: the remediation strategy, the numbers staging mode must show, the runbook and the changes."""

from __future__ import annotations

from IPython.display import HTML

from hybridx_nb.report.data import ReportData
from hybridx_nb.report.html import ROW_LIMIT, kv, rich, table


def plan_section(d: ReportData, limit: int = ROW_LIMIT) -> HTML:
    """Section 4: strategy and why, the numbers staging mode must show, the runbook, the per-user changes."""
    plan = d.plan
    out = [kv([("Strategy", plan.strategy), ("Why", rich(plan.strategy_reason))])]
    for note in d.plan_notes:
        out.append(f'<div class="hx-note hx-warnnote">{rich(note)}</div>')
    expected = plan.expected
    if expected:
        out.append("<h3>What Entra Connect's staging mode must show</h3>")
        out.append(kv((k.replace("_", " "), f"{v:,}" if isinstance(v, int) else v) for k, v in expected.items()))
    if d.runbook:
        out.append("<h3>Runbook</h3><ol class=\"hx-runbook\">")
        for s in d.runbook:
            out.append(f"<li><h4>{rich(s.title)}</h4>" + kv([(k, rich(v)) for k, v in (
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
