"""Section 2: tenant facts that change what the first sync does, and which were assumed."""

from __future__ import annotations

import pandas as pd
from IPython.display import HTML

from hybridx_nb.core.vocabulary import READ_ONLY_MODES
from hybridx_nb.report.categories import PERSON
from hybridx_nb.report.data import ReportData
from hybridx_nb.report.html import kv, table

_FEATURE_TEXT = {
    "softMatchOnUpnEnabled": "Soft match on UPN",
    "blockSoftMatchEnabled": "Block soft match",
    "blockCloudObjectTakeoverThroughHardMatchEnabled": "Block cloud object takeover through hard match",
}


def _yes_no(value: object) -> str:
    return "unknown" if value is None else ("on" if value else "off")


def tenant_facts(d: ReportData) -> HTML:
    """Section 2: federated domains, sync flags (and which are assumed), Okta mode, role holders, anchor."""
    t = d.tenant
    fed = d.domains[d.domains["authentication_type"].astype("str").str.casefold() == "federated"]["name"] \
        if len(d.domains) else pd.Series([], dtype="str")
    assumed = set(t.assumed())
    rows: list[tuple[str, object]] = [
        ("Tenant", " ".join(x for x in (t.display_name, f"({t.tenant_id})" if t.tenant_id else None) if x)
         or "unknown"),
        ("Federated domains", ", ".join(fed.dropna()) if len(fed)
         else ("none" if len(d.domains) else "unknown (no domain list collected)")),
        ("Directory synchronisation (organisation)", _yes_no(t.org_sync_enabled)),
    ]
    for name, text in _FEATURE_TEXT.items():
        value = t.feature(name)
        rows.append((text, _yes_no(value) + (" (assumed: Entra's default, not collected)" if name in assumed else "")))
    mode = t.okta_provisioning_mode
    okta_given = any(d.inputs.get(name) for name in ("okta_users", "okta_app_users")) or any(
        name in d.sources for name in ("okta_users", "okta_app_users"))
    risk = mode or ("unknown: the Okta exports hold users and app users, not the Office 365 app's provisioning "
                    "mode (add okta.provisioningMode to tenant.json)" if okta_given else "unknown (Okta not collected)")
    if mode in READ_ONLY_MODES:
        risk = (f"{mode}: Okta makes every provisioned user appear synced from AD, and Graph refuses to edit them "
                "until directory synchronisation is turned off for the tenant. Fixes must wait for that.")
    rows.append(("Okta provisioning mode", risk))
    rows.append(("Source anchor", f"{d.anchor_setting}: {d.anchor_reason}"))
    out = [kv(rows)]
    if d.assumptions:
        out.append(f'<p class="hx-note">{len(d.assumptions)} assumption(s) this prediction rests on are listed in '
                   'the verdict (<a href="#verdict">Assumptions</a>) and the appendix.</p>')
    f = d.findings
    if "entra_roles" in f.columns:
        holders = f[f["entra_roles"].notna() & (f["entra_roles"].astype("str") != "")]
        out.append(f"<h3>Admin role holders ({len(holders):,})</h3>")
        out.append('<p class="hx-note">Microsoft: Entra Connect does not match an on-premises user with a '
                   "cloud user that holds an admin role, by hard or soft match alike. Remove the roles before the "
                   "first sync and re-add them after the match. If the first sync already ran: remove the roles, "
                   "hard-delete the quarantined object the sync created from AD, run a sync, re-add the roles.</p>")
        holders = holders.assign(person=holders["ad_display_name"].fillna(holders["entra_display_name"]))
        out.append(table(holders, {**PERSON, "entra_roles": "Roles", "category": "Category"},
                         detail={"action": "Fix"}, more="The full list is in findings.csv (column entra_roles)."))
    return HTML(f'<section id="tenant">{"".join(out)}</section>')
