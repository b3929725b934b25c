"""Groups and contacts (Okta's Universal Sync): what the first sync does to each, counted and listed."""

from __future__ import annotations

from IPython.display import HTML

from hybridx_nb.report.data import ReportData
from hybridx_nb.report.html import ROW_LIMIT, esc, kv, table

_LABELS = {"soft_match": "Soft-matched on a proxy address", "recreated": "Cannot be matched: created again",
           "ambiguous": "Ambiguous", "new": "New (created by the sync)", "cloud_only": "Cloud only"}


def groups_section(d: ReportData, limit: int = ROW_LIMIT) -> str:
    """Counts per outcome and the groups/contacts that need action first (recreated, ambiguous, matched)."""
    g = d.groups
    if g is None:
        return ('<section class="hx-cat" id="cat-groups"><h3>Groups and contacts</h3><p class="hx-note">Not '
                "assessed: no Entra groups or contacts were collected (give the Graph /groups and /contacts "
                "exports, or collect live). Okta's Universal Sync also creates groups and contacts.</p></section>")
    counts = g["outcome"].value_counts()
    rows = [(label, f"{int(counts.get(k, 0)):,}") for k, label in _LABELS.items()]
    mode = d.tenant.okta_provisioning_mode
    intro = ("Mail-enabled groups and contacts soft-match on their proxy addresses; groups that are not "
             "mail-enabled cannot be matched at all, so the sync creates them again next to the cloud group Okta "
             "made." + (" This tenant's Okta provisions in Universal Sync mode, which creates groups and contacts."
                        if mode == "universal_sync" else ""))
    order = {"recreated": 0, "ambiguous": 1, "soft_match": 2, "new": 3, "cloud_only": 4}
    shown = g.assign(_o=g["outcome"].map(order)).sort_values(["_o", "entra_name", "ad_name"], kind="stable")
    cols = {"kind": "Kind", "outcome": "Outcome", "ad_name": "AD name", "ad_dn": "AD object",
            "entra_name": "Cloud name", "matched_on": "Matched on"}
    listing = table(shown, cols, detail={"note": "What happens"}, limit=limit,
                    more="The full list is in groups-contacts.csv.")
    return (f'<section class="hx-cat" id="cat-groups"><h3>Groups and contacts <span class="hx-n">{len(g):,}</span>'
            f'</h3><p class="hx-note">{esc(intro)}</p>{kv(rows)}{listing}</section>')


def groups_html(d: ReportData) -> HTML:
    return HTML(groups_section(d))
