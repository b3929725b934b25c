"""The demo tenant's directory attributes, their drift between AD and the cloud, and its Exchange states.

Every AD user gets the attributes the default sync rules flow (title, department, address, phones, employeeID,
manager, extensionAttribute1); Okta copied them to the matched cloud users, so a pair without drift has nothing
to change. On top, fixed shares of the bulk hard matches carry the drift a real tenant has (docs/domain.md §14):
aliases added in the cloud (``lost`` on takeover), titles edited in the cloud (``overwritten``), mail set by Okta
only (``cleared``: AD's mail is empty), mobile numbers only the cloud has, a manager changed in the cloud. And each
pair has an Exchange state (docs/domain.md §15): mailbox on-premises, in the cloud with a remote mailbox, on both
sides, in the cloud without a remote mailbox, a wrong ExchangeGuid, a missing X500, a licence that would create a
cloud mailbox, or no mailbox. ``takeover_truth`` and ``exchange_truth`` say what the engine must find.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core import anchors
from hybridx_nb.core.columns import one_array
from hybridx_nb.demo.constants import DOMAIN

TITLES = {"Sales": "Account Executive", "Marketing": "Marketing Manager", "Finance": "Financial Analyst",
          "Engineering": "Software Engineer", "Operations": "Operations Specialist", "HR": "HR Business Partner",
          "Legal": "Counsel", "Support": "Support Engineer"}
HOME_MDB = ("CN=DB01,CN=Databases,CN=Exchange Administrative Group (FYDIBOHF23SPDLT),CN=Administrative Groups,"
            "CN=Contoso,CN=Microsoft Exchange,CN=Services,CN=Configuration,DC=contoso,DC=com")
ONPREM_LEGACY = "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn="
CLOUD_LEGACY = "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn="
ROUTING_DOMAIN = "contoso.mail.onmicrosoft.com"
#: Takeover drift: (case, residue of the bulk hard match's position modulo the prime).
DRIFT = {"cloud_alias": (37, 1), "cloud_title": (23, 2), "okta_mail_only": (41, 3), "cloud_mobile": (29, 4),
         "manager_changed": (31, 5)}
#: Exchange states planted on bulk hard matches (first match wins); the rest: remote_ok, onprem, none by share.
EXCHANGE = {"both": (53, 7), "cloud_no_remote": (59, 8), "guid_mismatch": (61, 9), "licence_only": (67, 10),
            "x500_missing": (71, 11)}
#: What each Exchange state must produce (docs/domain.md §15).
EXPECTED = {"remote_ok": (), "onprem": (), "none": (), "both": ("mailbox_both_sides",),
            "cloud_no_remote": ("no_remote_mailbox", "x500_missing"), "guid_mismatch": ("exchange_guid_mismatch",),
            "licence_only": ("licence_creates_mailbox",), "x500_missing": ("x500_missing",)}
_STR = pa.large_string()


def _s(values: object, index: pd.Index) -> pd.Series:
    return pd.Series(pd.array(values, dtype="str"), index=index)


def _append(lists: pd.Series, mask: np.ndarray, values: pd.Series) -> pd.Series:
    """Each list with ``values[i]`` appended where ``mask[i]``."""
    arr = one_array(lists.array.__arrow_array__())
    n = len(arr)
    extra = pa.array(np.where(mask, values.to_numpy(dtype=object, na_value=None), None), pa.string())
    extra_lists = pa.ListArray.from_arrays(pa.array(np.concatenate([[0], np.cumsum(extra.is_valid())]), pa.int32()),
                                           extra.drop_null())
    parents = np.concatenate([pc.list_parent_indices(arr).to_numpy(), pc.list_parent_indices(extra_lists).to_numpy()])
    flat = pa.concat_arrays([pc.list_flatten(arr).cast(pa.string()), pc.list_flatten(extra_lists)])
    order = np.argsort(parents, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(np.bincount(parents, minlength=n))]).astype(np.int32)
    out = pa.ListArray.from_arrays(pa.array(offsets), flat.take(pa.array(order)))
    return pd.Series(pd.arrays.ArrowExtensionArray(out), index=lists.index)


def _guids(rng: np.random.Generator, n: int) -> pd.Series:
    """``n`` random version-4 GUID strings (as ``tenant.random_guids``, which imports this module)."""
    hexdigits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    digits = rng.integers(0, 16, size=(n, 32), dtype=np.uint8)
    digits[:, 12], digits[:, 16] = 4, 8 | (digits[:, 16] & 3)
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    text[:, [i for i in range(36) if i not in (8, 13, 18, 23)]] = hexdigits[digits]
    return anchors.ascii_rows_to_series(text, 36, np.ones(n, dtype=bool), pd.RangeIndex(n))


def add_attributes(tables: dict[str, pd.DataFrame], truth: pd.DataFrame, rng: np.random.Generator
                   ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Fill the attribute and Exchange columns of ``tables`` in place, plant the drift; returns the takeover
    truth (one row per planted change), the Exchange truth (one row per pair) and the Exchange Online mailboxes."""
    ad = tables["ad_users"] = tables["ad_users"].reset_index(drop=True)
    cloud = tables["entra_users"] = tables["entra_users"].reset_index(drop=True)
    n = len(ad)
    dept = ad["dn"].str.extract(r",OU=([^,]+),OU=Staff,", expand=False).fillna("Operations").astype("str")
    number = pd.Series(np.arange(n) + 1000, index=ad.index).astype("str")
    ad["title"] = dept.map(TITLES).fillna("Specialist").astype("str")
    ad["department"], ad["company"] = dept, _s(["Contoso Ltd"] * n, ad.index)
    ad["office"] = "Redmond B" + (pd.Series(np.arange(n) % 5 + 1)).astype("str")
    for col, value in (("street_address", "1 Contoso Way"), ("city", "Redmond"), ("state", "WA"),
                       ("postal_code", "98052"), ("country_code", "US"), ("country", "United States")):
        ad[col] = _s([value] * n, ad.index)
    ad["telephone_number"] = "+1 425 555 " + number.str.zfill(4).str.slice(-4)
    ad["mobile"] = ("+1 206 555 " + number.str.zfill(4).str.slice(-4)).where(np.arange(n) % 5 < 3)
    ad["employee_id"] = "E" + number.str.zfill(6)
    ad["extension_attribute_1"] = "CC-" + dept.str.slice(0, 3).str.upper()
    # the pairs, as the truth table names them
    pair = truth[truth["category"].isin(["hard_match", "soft_match"])]
    ai = pd.Index(ad["dn"]).get_indexer(pair["ad_dn"])
    ci = pd.Index(cloud["id"]).get_indexer(pair["entra_id"])
    # each department's head: its first bulk hard match, so that the manager has a cloud user too
    bulk = ai[(pair["case"] == "bulk_hard_match").to_numpy()]
    heads = pd.Series(ad["dn"].to_numpy()[bulk], index=dept.to_numpy()[bulk]).groupby(level=0).first()
    ad["manager"] = dept.map(heads).where(ad["dn"] != dept.map(heads)).astype("str")
    copy = {"given_name": "given_name", "surname": "surname", "job_title": "title", "department": "department",
            "company_name": "company", "office_location": "office", "street_address": "street_address",
            "city": "city", "state": "state", "postal_code": "postal_code", "usage_location": "country_code",
            "country": "country", "business_phone": "telephone_number", "mobile_phone": "mobile",
            "employee_id": "employee_id", "extension_attribute_1": "extension_attribute_1"}
    for c_col, a_col in copy.items():
        values = pd.Series(pd.NA, index=cloud.index, dtype="str")
        values.iloc[ci] = ad[a_col].iloc[ai].to_numpy()
        cloud[c_col] = values
    becomes = pd.Series(cloud["id"].iloc[ci].to_numpy(), index=ad["dn"].iloc[ai].to_numpy())
    manager = pd.Series(pd.NA, index=cloud.index, dtype="str")
    manager.iloc[ci] = ad["manager"].iloc[ai].map(becomes).to_numpy()
    cloud["manager_id"] = manager
    return _plant(ad, cloud, pair, ai, ci, rng)


def _bulk_positions(pair: pd.DataFrame) -> np.ndarray:
    """Position of each pair among the bulk hard matches (-1 for the others)."""
    bulk = (pair["case"] == "bulk_hard_match").to_numpy()
    pos = np.full(len(pair), -1)
    pos[bulk] = np.arange(int(bulk.sum()))
    return pos


def _plant(ad: pd.DataFrame, cloud: pd.DataFrame, pair: pd.DataFrame, ai: np.ndarray, ci: np.ndarray,
           rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    pos = _bulk_positions(pair)
    hit = {case: (pos >= 0) & (pos % m == r) for case, (m, r) in DRIFT.items()}
    rows = []
    local = cloud["upn"].iloc[ci].str.replace(r"@.*$", "", regex=True).reset_index(drop=True)

    def record(case: str, attribute: str, status: str, cloud_value: pd.Series) -> None:
        m = hit[case]
        rows.append(pd.DataFrame({"case": case, "entra_id": pair["entra_id"].to_numpy()[m], "attribute": attribute,
                                  "status": status, "cloud_value": cloud_value.to_numpy()[m]}))

    alias = "smtp:" + local + ".sales@" + DOMAIN
    mask = np.zeros(len(cloud), bool)
    mask[ci[hit["cloud_alias"]]] = True
    values = pd.Series(pd.NA, index=cloud.index, dtype="str")
    values.iloc[ci] = alias.to_numpy()
    cloud["proxy_addresses"] = _append(cloud["proxy_addresses"], mask, values)
    record("cloud_alias", "proxyAddresses", "lost", alias)
    title = "Senior " + ad["title"].iloc[ai].reset_index(drop=True)
    cloud.loc[ci[hit["cloud_title"]], "job_title"] = title[hit["cloud_title"]].to_numpy()
    record("cloud_title", "jobTitle", "overwritten", title)
    record("okta_mail_only", "mail", "cleared", cloud["mail"].iloc[ci].reset_index(drop=True))
    ad.loc[ai[hit["okta_mail_only"]], "mail"] = pd.NA
    phone = "+1 206 555 7" + pd.Series(np.arange(len(pair)) % 1000).astype("str").str.zfill(3)
    ad.loc[ai[hit["cloud_mobile"]], "mobile"] = pd.NA
    cloud.loc[ci[hit["cloud_mobile"]], "mobile_phone"] = phone[hit["cloud_mobile"]].to_numpy()
    record("cloud_mobile", "mobilePhone", "cleared", phone)
    other = cloud["id"].iloc[ci[0]] if len(ci) else None
    moved = hit["manager_changed"] & (cloud["manager_id"].iloc[ci].to_numpy() != other)
    hit["manager_changed"] = moved
    cloud.loc[ci[moved], "manager_id"] = other
    record("manager_changed", "manager", "overwritten", pd.Series([cloud["upn"].iloc[ci[0]] if len(ci) else None]
                                                                   * len(pair)))
    exchange_truth, exo = _exchange(ad, cloud, pair, ai, ci, pos, rng)
    x500 = exchange_truth["state"].isin(["both", "cloud_no_remote", "x500_missing"]).to_numpy()
    rows.append(pd.DataFrame({"case": "x500_only_in_cloud", "entra_id": exchange_truth["entra_id"][x500],
                              "attribute": "proxyAddresses", "status": "lost",
                              "cloud_value": "X500:" + exchange_truth["cloud_legacy_dn"][x500]}))
    return pd.concat(rows, ignore_index=True), exchange_truth, exo


def _exchange(ad: pd.DataFrame, cloud: pd.DataFrame, pair: pd.DataFrame, ai: np.ndarray, ci: np.ndarray,
              pos: np.ndarray, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    planted = [(pos >= 0) & (pos % m == r) for m, r in EXCHANGE.values()]
    share = np.arange(len(pair)) % 10
    state = np.select(planted + [share < 7, share < 9], list(EXCHANGE) + ["remote_ok", "onprem"], "none")
    state = np.where(pair["category"].to_numpy() == "soft_match", "none", state)  # soft matches: no Exchange
    k = len(pair)
    sam = ad["sam_account_name"].iloc[ai].to_numpy(dtype=object)
    local = cloud["upn"].iloc[ci].str.replace(r"@.*$", "", regex=True).to_numpy(dtype=object)
    cloud_guid = _guids(rng, k).to_numpy(dtype=object)
    hexes = _guids(rng, k).str.replace("-", "").to_numpy(dtype=object)
    cloud_legacy = np.array([CLOUD_LEGACY + h + "-" + (loc or "")[:12] for h, loc in zip(hexes, local)], object)
    in_cloud = np.isin(state, ["remote_ok", "both", "cloud_no_remote", "guid_mismatch", "x500_missing"])
    onprem = np.isin(state, ["onprem", "both", "licence_only"])
    remote = np.isin(state, ["remote_ok", "guid_mismatch", "x500_missing"])

    def put(frame: pd.DataFrame, rows: np.ndarray, col: str, mask: np.ndarray, values: object) -> None:
        if col not in frame or frame[col].dtype != "str":
            frame[col] = pd.Series(pd.NA, index=frame.index, dtype="str")
        vals = np.broadcast_to(np.asarray(values, dtype=object), mask.shape)
        frame.loc[rows[mask], col] = vals[mask]

    put(ad, ai, "recipient_type_details", onprem, "1")
    put(ad, ai, "recipient_display_type", onprem, "1073741824")
    put(ad, ai, "home_mdb", onprem, HOME_MDB)
    put(ad, ai, "exchange_guid", onprem, _guids(rng, k).to_numpy(dtype=object))
    put(ad, ai, "recipient_type_details", remote, "2147483648")
    put(ad, ai, "recipient_display_type", remote, "-2147483642")
    put(ad, ai, "remote_recipient_type", remote, "4")
    put(ad, ai, "target_address", remote, np.array(["SMTP:" + (loc or "") + "@" + ROUTING_DOMAIN for loc in local],
                                                    object))
    wrong = _guids(rng, k).to_numpy(dtype=object)
    put(ad, ai, "exchange_guid", remote, np.where(state == "guid_mismatch", wrong, cloud_guid))
    put(ad, ai, "legacy_exchange_dn", onprem | remote, np.array([ONPREM_LEGACY + (s or "") for s in sam], object))
    # the cloud mailbox's X500 is on both sides for remote mailboxes set up right, only in the cloud otherwise
    x500 = pd.Series(["X500:" + v for v in cloud_legacy], dtype="str")
    full = pd.Series(pd.NA, index=ad.index, dtype="str")
    full.iloc[ai] = x500.to_numpy()
    mask = np.zeros(len(ad), bool)
    mask[ai[np.isin(state, ["remote_ok", "guid_mismatch"])]] = True
    ad["proxy_addresses"] = _append(ad["proxy_addresses"], mask, full)
    cfull = pd.Series(pd.NA, index=cloud.index, dtype="str")
    cfull.iloc[ci] = x500.to_numpy()
    cmask = np.zeros(len(cloud), bool)
    cmask[ci[in_cloud]] = True
    cloud["proxy_addresses"] = _append(cloud["proxy_addresses"], cmask, cfull)
    put(cloud, ci, "exchange_assigned", in_cloud | (state == "licence_only"), "Enabled")
    put(cloud, ci, "exchange_provisioned", in_cloud, "Success")
    put(cloud, ci, "exchange_provisioned", state == "licence_only", "PendingInput")
    exo = pd.DataFrame({
        "entra_id": cloud["id"].iloc[ci[in_cloud]].to_numpy(), "upn": cloud["upn"].iloc[ci[in_cloud]].to_numpy(),
        "primary_smtp": cloud["mail"].iloc[ci[in_cloud]].to_numpy(), "recipient_type_details": "UserMailbox",
        "exchange_guid": cloud_guid[in_cloud], "legacy_exchange_dn": cloud_legacy[in_cloud],
        "email_addresses": cloud["proxy_addresses"].iloc[ci[in_cloud]].to_numpy()})
    expected = [";".join(EXPECTED[s]) for s in state]
    truth = pd.DataFrame({"entra_id": pair["entra_id"].to_numpy(), "ad_dn": pair["ad_dn"].to_numpy(),
                          "state": state, "expected": expected, "cloud_exchange_guid": cloud_guid,
                          "cloud_legacy_dn": cloud_legacy})
    return truth, exo
