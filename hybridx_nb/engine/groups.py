"""Groups and contacts on the first sync (docs/domain.md §11): what happens to each AD group or contact, and to
each cloud group or contact Okta's Universal Sync created.

- A mail-enabled AD group or an AD contact is soft-matched to the cloud object of the same kind that holds one of
  its SMTP addresses (proxyAddresses, or mail): ``soft_match``; several candidates: ``ambiguous``.
- An AD group that is not mail-enabled cannot be matched at all: when a cloud group of the same name exists (the
  one Universal Sync created), the sync creates a second one next to it: ``recreated``; otherwise ``new``.
- A mail-enabled AD object with no cloud counterpart: ``new``. A cloud object nothing claims: ``cloud_only``.
Only the snapshot's optional tables are read; without ``entra_groups``/``entra_contacts`` there is no prediction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hybridx_nb.snapshot.store import Snapshot

GROUP_COLUMNS = ["kind", "outcome", "ad_dn", "ad_name", "entra_id", "entra_name", "mail_enabled", "matched_on",
                 "okta_created", "note"]
_NOTES = {
    "soft_match": "soft-matched on a proxy address: the cloud object takes AD's values",
    "ambiguous": "several cloud objects hold its addresses: the match depends on order; resolve by hand",
    "recreated": "not mail-enabled: cannot be matched; the sync creates a second group next to the cloud one",
    "new": "no cloud counterpart: the sync creates it",
    "cloud_only": "no AD object claims it: it stays as it is",
}


def _smtp(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """(key, lower-case SMTP address) for every SMTP proxy address and the mail of each row."""
    proxies = frame[[key, "proxy_addresses"]].explode("proxy_addresses").dropna()
    proxies = proxies[proxies["proxy_addresses"].astype("str").str.lower().str.startswith("smtp:")]
    out = pd.concat([
        pd.DataFrame({key: proxies[key], "addr": proxies["proxy_addresses"].astype("str").str[5:]}),
        pd.DataFrame({key: frame[key], "addr": frame["mail"]}).dropna(),
    ], ignore_index=True)
    out["addr"] = out["addr"].astype("str").str.strip().str.lower()
    return out[out["addr"].ne("")].drop_duplicates()


def predict_groups(snap: Snapshot) -> pd.DataFrame | None:
    """One row per AD group/contact and per unclaimed cloud group/contact; None without cloud groups/contacts."""
    if not (snap.has("entra_groups") or snap.has("entra_contacts")):
        return None
    ad = snap["ad_mail_objects"] if snap.has("ad_mail_objects") else pd.DataFrame(
        columns=["dn", "object_class", "mail", "proxy_addresses", "display_name"])
    ad = ad.assign(kind=ad["object_class"].astype("str").str.lower().map({"group": "group", "contact": "contact"}))
    ad = ad[ad["kind"].notna()].reset_index(drop=True)
    groups = snap["entra_groups"] if snap.has("entra_groups") else None
    contacts = snap["entra_contacts"] if snap.has("entra_contacts") else None
    cloud = pd.concat([
        groups.assign(kind="group") if groups is not None else None,
        contacts.assign(kind="contact", mail_enabled=True) if contacts is not None else None,
    ], ignore_index=True)
    cloud["mail_enabled"] = cloud["mail_enabled"].astype("boolean").fillna(False)
    ad_addr, cloud_addr = _smtp(ad.assign(row=ad.index), "row"), _smtp(
        cloud[cloud["mail_enabled"].to_numpy(dtype=bool)].assign(crow=lambda c: c.index), "crow")
    pairs = ad_addr.merge(cloud_addr, on="addr")
    pairs = pairs[ad.loc[pairs["row"], "kind"].to_numpy() == cloud.loc[pairs["crow"], "kind"].to_numpy()]
    per_ad = pairs.groupby("row")["crow"].agg(["nunique", "first"])
    first_addr = pairs.groupby("row")["addr"].first()
    has_addr = ad.index.isin(ad_addr["row"])
    outcome = np.full(len(ad), "new", dtype=object)
    crow = np.full(len(ad), -1)
    matched_on = pd.Series(np.nan, index=ad.index, dtype="str")
    if len(per_ad):
        rows = per_ad.index.to_numpy()
        outcome[rows] = np.where(per_ad["nunique"].to_numpy() > 1, "ambiguous", "soft_match")
        crow[rows] = per_ad["first"].to_numpy()
        matched_on.loc[rows] = "address " + first_addr.loc[rows]
    # AD groups without any SMTP address: matched by nothing; a same-name cloud group is created again.
    plain = (ad["kind"].eq("group").to_numpy() & ~has_addr)
    names = cloud[cloud["kind"].eq("group") & ~cloud["mail_enabled"].to_numpy(dtype=bool)]
    name_key = names["display_name"].astype("str").str.strip().str.lower()
    first_row = pd.Series(names.index, index=name_key.to_numpy()).groupby(level=0).first()
    ad_names = ad["display_name"].astype("str").str.strip().str.lower()
    same = plain & ad_names.isin(first_row.index).to_numpy()
    outcome[same] = "recreated"
    if same.any():
        crow[same] = first_row.loc[ad_names[same].to_numpy()].to_numpy()
    matched_on[same] = "display name"
    claimed = np.zeros(len(cloud), dtype=bool)
    claimed[crow[crow >= 0]] = True
    take = np.where(crow >= 0, crow, 0)
    ad_rows = pd.DataFrame({
        "kind": ad["kind"], "outcome": outcome, "ad_dn": ad["dn"], "ad_name": ad["display_name"],
        "entra_id": cloud["id"].to_numpy()[take] if len(cloud) else np.nan,
        "entra_name": cloud["display_name"].to_numpy()[take] if len(cloud) else np.nan,
        "mail_enabled": has_addr, "matched_on": matched_on,
        "okta_created": cloud["on_prem_sync_enabled"].astype("boolean").to_numpy()[take] if len(cloud) else pd.NA,
    })
    ad_rows.loc[crow < 0, ["entra_id", "entra_name", "okta_created"]] = pd.NA
    rest = cloud[~claimed]
    cloud_rows = pd.DataFrame({
        "kind": rest["kind"], "outcome": "cloud_only", "ad_dn": np.nan, "ad_name": np.nan, "entra_id": rest["id"],
        "entra_name": rest["display_name"], "mail_enabled": rest["mail_enabled"].to_numpy(dtype=bool),
        "matched_on": np.nan, "okta_created": rest["on_prem_sync_enabled"].astype("boolean")})
    out = pd.concat([ad_rows, cloud_rows], ignore_index=True)
    out["note"] = out["outcome"].map(_NOTES)
    out["okta_created"] = out["okta_created"].astype("boolean")
    return out.reindex(columns=GROUP_COLUMNS).reset_index(drop=True)


def group_counts(frame: pd.DataFrame | None) -> dict[str, int]:
    """Rows per outcome (empty when groups and contacts were not collected)."""
    if frame is None:
        return {}
    counts = frame["outcome"].value_counts()
    return {k: int(counts.get(k, 0)) for k in _NOTES}
