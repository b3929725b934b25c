"""The demo tenant after the consultant's work: some fixes applied, everything resolved for the cut-over, and
the state Graph shows after Entra Connect's first sync (docs/domain.md §13), each as a new snapshot.

These are simulations for the verify commands' tests and demos; they follow the demo's ground truth (``truth``),
not hybridx's engine, so a disagreement between prediction and "what happened" can be planted on purpose.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from hybridx_nb.core import anchors
from hybridx_nb.demo.constants import INITIAL_DOMAIN
from hybridx_nb.demo.tenant import DemoTenant
from hybridx_nb.snapshot.store import Snapshot, build_snapshot

SYNC_TIME = "2026-09-01T06:30:00Z"


def _rebuild(snap: Snapshot, **tables: pd.DataFrame) -> Snapshot:
    merged = {**{n: f for n, f in snap.tables.items() if n != "rejected"}, **tables}
    return build_snapshot(merged, snap.tenant, {n: snap.sources.get(n, "hybridx demo (after)") for n in merged})


def in_scope(tenant: DemoTenant) -> pd.Series:
    """Mask over ``ad_users``: the AD users Entra Connect synchronises (not the planted system objects)."""
    excluded = tenant.truth.loc[tenant.truth["category"].eq("excluded"), "ad_dn"].dropna()
    return ~tenant.snapshot["ad_users"]["dn"].isin(set(excluded))


def apply_anchor_fixes(snap: Snapshot, fixes: pd.DataFrame) -> Snapshot:
    """``fixes`` (entra_id, new_immutable_id), as remediation.ps1 -Apply writes them, applied to the cloud users."""
    users = snap["entra_users"].copy()
    new = users["id"].map(fixes.drop_duplicates("entra_id").set_index("entra_id")["new_immutable_id"])
    users["immutable_id"] = new.fillna(users["immutable_id"]).astype("str")
    return _rebuild(snap, entra_users=users)


def resolve_all(tenant: DemoTenant) -> Snapshot:
    """Every identity ready for the cut-over: each in-scope AD user's cloud counterpart (same UPN, else the holder
    of its anchor, else the same primary SMTP) carries its objectGUID anchor and no role; competing cloud users
    lose the anchor and the shared address. What a consultant's finished remediation leaves behind."""
    snap = tenant.snapshot
    ad = snap["ad_users"][in_scope(tenant).to_numpy()]
    anchor = anchors.guid_to_immutable_id_series(ad["object_guid"])
    users = snap["entra_users"].copy()
    keys = [(ad["upn"].str.lower(), users["upn"].str.lower()), (anchor, users["immutable_id"]),
            (ad["mail"].str.lower(), users["mail"].str.lower())]
    pairs = pd.concat([pd.DataFrame({"k": a.to_numpy(), "ad": np.arange(len(ad))}).dropna().merge(
        pd.DataFrame({"k": c.to_numpy(), "cl": np.arange(len(users))}).dropna(), on="k").assign(prio=i)
        for i, (a, c) in enumerate(keys)], ignore_index=True)
    primary = pairs.sort_values(["ad", "prio"]).drop_duplicates("ad").drop_duplicates("cl")
    rest = np.setdiff1d(pairs["cl"].unique(), primary["cl"].to_numpy())
    imm = users["immutable_id"].to_numpy(dtype=object)
    imm[rest] = None
    imm[primary["cl"].to_numpy()] = anchor.to_numpy(dtype=object)[primary["ad"].to_numpy()]
    users["immutable_id"] = pd.Series(imm, dtype="str")
    users.loc[rest, "mail"] = None
    users.loc[rest, "proxy_addresses"] = pd.Series([[]] * len(rest), index=rest, dtype=object)
    roles = snap["entra_role_members"]
    keep = ~roles["principal_id"].isin(set(users["id"].iloc[primary["cl"].to_numpy()]))
    return _rebuild(snap, entra_users=users, entra_role_members=roles[keep.to_numpy()])


def _error(prop: str, value: str) -> str:
    return json.dumps([{"category": "PropertyConflict", "occurredDateTime": SYNC_TIME,
                        "propertyCausingError": prop, "value": value}])


def simulate_first_sync(tenant: DemoTenant, overrides: dict[str, str] | None = None) -> Snapshot:
    """Graph's users after the first sync, following the demo's truth per AD user, except where ``overrides``
    (AD DN → ``took_over``, ``duplicate``, ``created`` or ``not_synced``) says otherwise.

    A takeover stamps the anchor on the cloud user and marks it synced; a duplicate is a new synced user
    ``<local><4 digits>@<initial domain>`` with the anchor and a PropertyConflict error; a new user is created with
    its own UPN; blocked, ambiguous and excluded identities are left as they were."""
    snap, truth = tenant.snapshot, tenant.truth
    ad = snap["ad_users"].set_index("dn")
    users = snap["entra_users"].copy()
    for col in ("on_prem_last_sync", "on_prem_provisioning_errors", "service_provisioning_errors"):
        users[col] = None
    users["on_prem_provisioning_errors"] = "[]"
    users["service_provisioning_errors"] = "[]"
    outcome = truth["category"].map({"hard_match": "took_over", "soft_match": "took_over",
                                     "anchor_mismatch": "duplicate", "new_user": "created"})
    rows = truth.assign(outcome=outcome)[truth["ad_dn"].notna()]
    for dn, what in (overrides or {}).items():
        rows.loc[rows["ad_dn"].eq(dn), "outcome"] = what
    rows = rows[rows["outcome"].notna() & rows["outcome"].ne("not_synced")]
    anchor = anchors.guid_to_immutable_id_series(rows["ad_dn"].map(ad["object_guid"]))
    by_id = pd.Series(np.arange(len(users)), index=users["id"])
    over = rows["outcome"].eq("took_over") & rows["entra_id"].notna()
    at = by_id.reindex(rows.loc[over, "entra_id"]).to_numpy()
    users.loc[at, "immutable_id"] = anchor[over].to_numpy()
    users.loc[at, "on_prem_sync_enabled"] = True
    users.loc[at, "on_prem_last_sync"] = SYNC_TIME
    new = rows[rows["outcome"].isin(["duplicate", "created"]) | (rows["outcome"].eq("took_over")
                                                                   & rows["entra_id"].isna())]
    src = ad.loc[new["ad_dn"]]
    dup = new["outcome"].eq("duplicate").to_numpy()
    local = src["upn"].str.replace(r"@.*$", "", regex=True).to_numpy()
    digits = pd.Series(np.arange(len(new)) % 9000 + 1000).astype(str).to_numpy()
    upn = np.where(dup, pd.Series(local).str.cat(digits).to_numpy() + "@" + INITIAL_DOMAIN, src["upn"].to_numpy())
    created = pd.DataFrame({
        "id": anchors.immutable_id_to_guid_series(anchor[new.index]).map(_flip).to_numpy(),
        "upn": upn, "mail": np.where(dup, None, src["mail"].to_numpy()),
        "proxy_addresses": [[] if d else list(p) for d, p in zip(dup, src["proxy_addresses"])],
        "immutable_id": anchor[new.index].to_numpy(), "on_prem_sync_enabled": True, "account_enabled": True,
        "user_type": "Member", "display_name": src["display_name"].to_numpy(), "creation_type": None,
        "on_prem_last_sync": SYNC_TIME,
        "on_prem_provisioning_errors": [_error("UserPrincipalName", u) if d else "[]"
                                        for d, u in zip(dup, src["upn"])],
        "service_provisioning_errors": "[]"})
    return _rebuild(snap, entra_users=pd.concat([users, created], ignore_index=True))


def _flip(guid: str) -> str:
    """A new object id derived from (not equal to) the anchor's GUID, so tests can find it again."""
    return guid[:8][::-1] + guid[8:]
