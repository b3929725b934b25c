"""The section "Since the last assessment" (``hybridx assess --previous DIR``): what was fixed, what is still open or
regressed, and, for the runbook step "Verify with hybridx", exactly which in-scope AD users do not hard-match yet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from IPython.display import HTML

from hybridx_nb.core.vocabulary import DIFF_STATUSES, LABELS
from hybridx_nb.report.html import ROW_LIMIT, esc, kv, table

_COLUMNS = {"person": "Name", "ad_upn": "AD UPN", "entra_upn": "Cloud UPN", "before": "Before", "after": "Now"}
_NAMES = ("person", "ad_upn", "entra_upn", "ad_dn")


def not_hard_matching(findings: pd.DataFrame) -> pd.DataFrame:
    """In-scope AD users whose category is not ``hard_match``: who the runbook's last check would still name."""
    f = findings
    return f[f["ad_dn"].notna() & ~f["category"].isin(["hard_match", "excluded"])]


def since_section(a: Any, redacted: bool = False, limit: int = ROW_LIMIT) -> HTML:
    """Counts per status, the category moves, the changed identities, and who does not hard-match yet."""
    since = getattr(a, "since", None)
    if since is None:
        return HTML('<section id="since"><p class="hx-note">No previous assessment was given (run with '
                    '<code>--previous DIR</code> to see what changed since then).</p></section>')
    c = since.counts
    out = [kv([(s.replace("_", " "), f"{c[s]:,}") for s in DIFF_STATUSES]
              + [("ImmutableID changes", f"{c['anchor_changes']:,}"),
                 ("Readiness rows fixed / added", f"{c['readiness_fixed']:,} / {c['readiness_added']:,}"),
                 ("Previous assessment", Path(str(getattr(a.params, "previous", "") or "")).name)])]
    moved = since.transitions[since.transitions["before"] != since.transitions["after"]]
    if len(moved):
        out.append("<h3>Category moves</h3>")
        out.append(kv((f"{LABELS.get(r.before, r.before)} → {LABELS.get(r.after, r.after)}", f"{r.n:,}")
                      for r in moved.itertuples()))
    changed = since.changed()
    changed = changed[changed["status"].ne("unchanged")]
    hide = list(_NAMES) if redacted else []
    note = ('<p class="hx-note">Names are left out of this pseudonymised report; since-last.csv has them.</p>'
            if redacted else "")
    for status in ("fixed", "regressed", "still_open", "new", "gone"):
        part = changed[changed["status"].eq(status)].drop(columns=hide)
        if len(part):
            out.append(f"<h3>{esc(status.replace('_', ' ').capitalize())} <span class=\"hx-n\">({len(part):,})"
                       "</span></h3>" + note)
            out.append(table(part, _COLUMNS if not redacted else {"before": "Before", "after": "Now"},
                             detail={"action": "Fix"} if status != "fixed" and not redacted else None, limit=limit,
                             more="Every changed identity is in since-last.csv."))
    left = not_hard_matching(a.prediction.findings)
    out.append(f'<h3>Runbook check: in-scope AD users that do not hard-match yet <span class="hx-n">'
               f"({len(left):,})</span></h3>")
    if len(left):
        cols = {"ad_upn": "AD UPN", "category": "Category", "entra_upn": "Cloud UPN"}
        shown = left.drop(columns=[c for c in ("ad_upn", "entra_upn") if redacted])
        # the Fix sentences name people: a pseudonymised report leaves them out (findings.xlsx has them aliased)
        out.append(table(shown, cols if not redacted else {"category": "Category"},
                         detail=None if redacted else {"action": "Fix"},
                         limit=limit, more="The full list is findings.csv (every category but hard_match)."))
    else:
        out.append('<p class="hx-note">Every in-scope AD user hard-matches: the runbook\'s check passes.</p>')
    return HTML('<section id="since">' + "".join(out) + "</section>")
