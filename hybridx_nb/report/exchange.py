"""Section: Hybrid Exchange readiness of the users the first sync takes over (docs/domain.md §15)."""

from __future__ import annotations

from IPython.display import HTML

from hybridx_nb.core.vocabulary import EXCHANGE_FINDINGS, EXCHANGE_LABELS
from hybridx_nb.report.data import ReportData
from hybridx_nb.report.html import ROW_LIMIT, esc, table


def exchange_section(d: ReportData, limit: int = ROW_LIMIT) -> HTML:
    """The mailbox states of the matched users, then each finding with its explanation, fix and users."""
    x = d.exchange
    if x is None:
        return HTML('<section id="exchange"><p class="hx-note">Not computed.</p></section>')
    out = []
    for note in x.notes:
        out.append(f'<div class="hx-note hx-warnnote">{esc(note)}</div>')
    states = (x.states.groupby(["onprem_state", "cloud_state"]).size().rename("users").reset_index()
              .sort_values("users", ascending=False))
    out.append(table(states, {"onprem_state": "On-premises", "cloud_state": "Exchange Online", "users": "Users"},
                     interactive=False, limit=50))
    f = x.findings
    if not len(f):
        out.append('<p class="hx-ok">No Hybrid Exchange finding among the users to take over.</p>')
    for name in EXCHANGE_FINDINGS:
        rows = f[f["finding"].eq(name).to_numpy()]
        if not len(rows):
            continue
        out.append(f'<h3 id="exchange-{name}">{esc(EXCHANGE_LABELS[name])} ({len(rows):,})</h3>')
        out.append(f"<p>{esc(rows['explanation'].iloc[0])}</p>")
        out.append(table(rows, {"entra_upn": "Cloud UPN", "ad_dn": "AD object", "onprem_state": "On-premises",
                                "cloud_state": "Exchange Online", "ad_exchange_guid": "AD msExchMailboxGuid",
                                "cloud_exchange_guid": "Cloud ExchangeGuid"},
                         detail={"cloud_legacy_dn": "Cloud LegacyExchangeDN", "routing_address": "Routing address"},
                         limit=limit, more="exchange-plan.csv holds every fix; exchange-fixes.ps1 applies them."))
    return HTML('<section id="exchange">' + "".join(out) + "</section>")
