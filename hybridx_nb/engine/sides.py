"""The two sides as the matcher sees them: AD users and cloud users with their match keys, anchors and the reason an object is out of scope; and the anchor attribute Entra Connect will use."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core import anchors, columns
from hybridx_nb.core.vocabulary import ANCHOR_SETTINGS
from hybridx_nb.engine.detail import (
    join_lists,
    pick,
    take,
)
from hybridx_nb.engine.scope import system_object_reason
from hybridx_nb.snapshot.store import Snapshot


def primary_smtp(proxies: pd.Series, mail: pd.Series) -> pd.Series:
    """The primary SMTP address: the ``SMTP:`` entry (upper-case prefix) of proxy addresses, else ``mail``."""
    lists = columns.one_array(proxies.array.__arrow_array__())
    flat, parents = pc.list_flatten(lists), pc.list_parent_indices(lists)
    hit = pc.starts_with(flat, "SMTP:").fill_null(False)
    rows = parents.filter(hit).to_numpy()  # ascending: the parents of a flattened list array are in order
    first = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]]) if len(rows) else np.zeros(0, np.int64)
    found = np.full(len(mail), -1)
    found[rows[first]] = np.arange(len(first))
    smtp = pd.Series(pd.array(pc.utf8_slice_codeunits(flat.filter(hit), 5).take(pa.array(first)), dtype="str"))
    return take(smtp, found).set_axis(mail.index).fillna(mail).replace("", np.nan)


def prepare_ad(users: pd.DataFrame) -> pd.DataFrame:
    """AD users with their primary SMTP, match keys, both anchor forms and the exclusion reason."""
    sam = users["sam_account_name"]
    guid_b64 = anchors.guid_to_immutable_id_series(users["object_guid"])
    system = system_object_reason(users)
    excluded = system.mask(system.isna() & guid_b64.isna(), "objectGUID " + users["object_guid"] + " is not a GUID")
    smtp = primary_smtp(users["proxy_addresses"], users["mail"])
    return pd.DataFrame({
        "dn": users["dn"], "object_guid": users["object_guid"], "upn": users["upn"], "sam": sam, "mail": smtp,
        "display_name": users["display_name"], "mail_nickname": users["mail_nickname"],
        "guid_b64": guid_b64, "cg": users["consistency_guid"], "excluded": excluded,
        "smtp_key": columns.lower_text(smtp), "upn_key": columns.lower_text(users["upn"]),
    })


def resolve_anchor(ad: pd.DataFrame, anchor: str) -> tuple[str, str]:
    """The anchor attribute Entra Connect will use, and why, in plain words."""
    choice = {a.lower(): a for a in ANCHOR_SETTINGS}.get(str(anchor).lower())
    if choice is None:
        raise ValueError(f"anchor setting {anchor!r} is not one of {', '.join(ANCHOR_SETTINGS)}")
    if choice != "auto":
        return choice, f"{choice} was chosen explicitly"
    filled = int((ad["excluded"].isna() & ad["cg"].notna()).sum())
    if filled:
        return "objectGUID", (f"auto (express install): {filled} in-scope AD user(s) already have "
                              "mS-DS-ConsistencyGuid set, so Entra Connect falls back to objectGUID")
    return "mS-DS-ConsistencyGuid", ("auto (express install): no in-scope AD user has mS-DS-ConsistencyGuid set, "
                                     "so Entra Connect uses it and fills it from objectGUID")


def set_expected(ad: pd.DataFrame, setting: str) -> None:
    has_cg = ad["cg"].notna()
    if setting == "objectGUID":
        ad["expected"] = ad["guid_b64"]
        ad["anchor_source"] = pd.Series("objectGUID", index=ad.index, dtype="str")
    else:
        ad["expected"] = ad["cg"].where(has_cg, ad["guid_b64"])
        ad["anchor_source"] = pick(ad.index, [(has_cg, "mS-DS-ConsistencyGuid")], "objectGUID")
    for col in ("expected", "anchor_source"):
        ad[col] = ad[col].where(ad["excluded"].isna())


def prepare_cloud(snap: Snapshot) -> pd.DataFrame:
    """Entra users with primary SMTP, match keys, roles, licences, federation and the exclusion reason."""
    users = snap["entra_users"]
    smtp = primary_smtp(users["proxy_addresses"], users["mail"])
    roles = snap["entra_role_members"]
    by_user = roles.drop_duplicates(["principal_id", "role_name"]).sort_values("role_name")
    role_text = join_lists(by_user["principal_id"], by_user["role_name"])
    domains = snap["entra_domains"]
    fed_names = domains.loc[domains["authentication_type"].str.lower() == "federated", "name"].str.lower()
    upn_domain = columns.lower_text(users["upn"]).str.replace(r"^.*@", "", regex=True)
    federated = pd.Series(columns.isin(upn_domain, fed_names), dtype="boolean")
    if not snap.has("entra_domains"):
        federated[:] = pd.NA
    is_guest = (users["user_type"].str.lower() == "guest").fillna(False).to_numpy(dtype=bool)
    opi = anchors.normalize_guid_series(users["on_prem_object_identifier"])
    return pd.DataFrame({
        "id": users["id"], "upn": users["upn"], "mail": smtp, "display_name": users["display_name"],
        "imm": users["immutable_id"], "opi": opi.where(opi.notna(), users["on_prem_object_identifier"]),
        "sync": users["on_prem_sync_enabled"], "enabled": users["account_enabled"],
        "roles": users["id"].map(role_text) if len(role_text) else pd.Series(np.nan, index=users.index, dtype="str"),
        "licenses": join_list_column(users["assigned_licenses"]), "federated": federated,
        "excluded": pick(users.index, [(is_guest, "a guest user")], None),
        "smtp_key": columns.lower_text(smtp), "upn_key": columns.lower_text(users["upn"]),
    })


def join_list_column(values: pd.Series) -> pd.Series:
    joined = pc.binary_join(pa.chunked_array(values.array.__arrow_array__()), ";")
    return pd.Series(pd.array(joined, dtype="str"), index=values.index).replace("", np.nan)
