"""What the first sync changes on every cloud user it takes over: per attribute, AD's value against the cloud's.

A hard or soft match makes the cloud user managed from AD: every attribute the default sync rules flow takes
AD's value, and a value only the cloud has is gone (docs/domain.md §14 has the mapping and its sources). For each
predicted ``hard_match``/``soft_match`` pair and each mapped attribute this module says ``same``,
``overwritten`` (AD has another value), ``cleared`` (AD empty, the cloud has one) or ``set`` (the cloud is empty).
proxyAddresses are compared value by value: a cloud address AD lacks is ``lost`` (mail to it bounces after the
cut-over) unless Entra recalculates it (its ``*.onmicrosoft.com`` routing addresses), an AD address the cloud lacks
is ``added``, and a changed primary SMTP address is ``primary_changed``. The manager is compared through the
match: AD's manager is the same person as the cloud's when the AD manager's own pair joins that cloud user.

An attribute a side's export did not carry is not compared at all (``not_compared``): missing is not empty.
Pure and vectorised: Arrow takes and compares over whole columns, one pass per attribute.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core.columns import lower, one_array
from hybridx_nb.core.vocabulary import TAKEOVER_STATUSES
from hybridx_nb.engine.sides import primary_smtp
from hybridx_nb.snapshot.carried import carried_columns, not_carried_rows
from hybridx_nb.snapshot.schema import null_text
from hybridx_nb.snapshot.store import Snapshot


@dataclass(frozen=True)
class Flow:
    """One attribute flow of the default rules: Entra property (and column) ← AD attribute (and column)."""

    entra: str
    entra_col: str
    ad: str
    ad_col: str
    kind: str = "text"     # text | nocase (case-insensitive) | bool | hide (inverted flag) | manager
    null_flows: bool = True  # False: an empty AD value leaves the cloud value alone (unverified, §14)


FLOWS: tuple[Flow, ...] = (
    Flow("userPrincipalName", "upn", "userPrincipalName", "upn", "nocase"),
    Flow("accountEnabled", "account_enabled", "userAccountControl", "enabled", "bool"),
    Flow("displayName", "display_name", "displayName", "display_name"),
    Flow("givenName", "given_name", "givenName", "given_name"),
    Flow("surname", "surname", "sn", "surname"),
    Flow("mail", "mail", "mail", "mail", "nocase"),
    Flow("mailNickname", "mail_nickname", "mailNickname", "mail_nickname"),
    Flow("jobTitle", "job_title", "title", "title"),
    Flow("department", "department", "department", "department"),
    Flow("companyName", "company_name", "company", "company"),
    Flow("officeLocation", "office_location", "physicalDeliveryOfficeName", "office"),
    Flow("streetAddress", "street_address", "streetAddress", "street_address"),
    Flow("city", "city", "l", "city"),
    Flow("state", "state", "st", "state"),
    Flow("postalCode", "postal_code", "postalCode", "postal_code"),
    Flow("country", "country", "co", "country"),
    Flow("usageLocation", "usage_location", "c", "country_code", null_flows=False),
    Flow("businessPhones", "business_phone", "telephoneNumber", "telephone_number"),
    Flow("mobilePhone", "mobile_phone", "mobile", "mobile"),
    Flow("faxNumber", "fax_number", "facsimileTelephoneNumber", "fax"),
    Flow("employeeId", "employee_id", "employeeID", "employee_id"),
    Flow("manager", "manager_id", "manager", "manager", "manager"),
    Flow("showInAddressList", "show_in_address_list", "msExchHideFromAddressLists", "hide_from_address_lists",
         "hide"),
    *(Flow(f"extensionAttribute{i}", f"extension_attribute_{i}", f"extensionAttribute{i}",
           f"extension_attribute_{i}") for i in range(1, 16)),
)
PROXY = Flow("proxyAddresses", "proxy_addresses", "proxyAddresses", "proxy_addresses")
COLUMNS = ("entra_id", "entra_upn", "ad_dn", "ad_object_guid", "category", "attribute", "ad_attribute", "status",
           "cloud_value", "ad_value")
#: Entra keeps these addresses whatever AD says: its proxy calculation adds the routing address of the initial
#: domain (docs/domain.md §14).
MOERA_RE = r"(?i)^smtp:[^@]+@[^@]+\.onmicrosoft\.com$"
_STR = pa.large_string()


@dataclass
class Takeover:
    """The changes (``COLUMNS``, one row per user × changed attribute or address) and the counts."""

    changes: pd.DataFrame
    counts: dict[str, dict[str, int]]            # attribute → status → pairs
    not_compared: dict[str, str] = field(default_factory=dict)  # attribute → why
    pairs: int = 0
    users_losing_addresses: int = 0

    def summary(self) -> dict[str, object]:
        """The summary.json block."""
        return {"pairs": self.pairs, "changes": int(len(self.changes)),
                "users_losing_addresses": self.users_losing_addresses, "per_attribute": self.counts,
                "not_compared": self.not_compared}


def _arrow(values: pd.Series) -> pa.ChunkedArray:
    arr = values.array
    if hasattr(arr, "_pa_array"):
        return arr._pa_array
    return pa.chunked_array([pa.array(values.to_numpy(dtype=object, na_value=None), from_pandas=True)])


def _text(values: pd.Series, rows: pa.Array) -> pa.Array:
    """Rows of a column as large_string (booleans as true/false); a column without values is not taken (most of
    the extension attributes, fax …: no memory for them)."""
    arr = _arrow(values)
    if arr.null_count == len(arr):
        return null_text(len(rows))
    if pa.types.is_boolean(arr.type):
        arr = arr.cast(pa.string())
    return one_array(pc.take(arr, rows)).cast(_STR)


def index_in(values: pd.Series, keys: pd.Series) -> np.ndarray:
    """Position of each value in ``keys`` (-1 where absent), hashed in Arrow."""
    found = pc.index_in(_arrow(values).cast(_STR), value_set=one_array(_arrow(keys)).cast(_STR))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def index_in_keys(values: pa.Array, keys: pd.Series, fold: bool = False, block: int = 1 << 18) -> np.ndarray:
    """``index_in`` (the first such key; ``fold``: case-insensitive) for values that repeat a lot, such as
    managers: the distinct values are hashed and the keys probed against them a block at a time, not every key
    hashed (and, with ``fold``, lower-cased) at once."""
    values = lower(values) if fold else values
    distinct = pc.unique(values)
    if len(distinct) * 4 > len(keys):  # hardly repeated: hashing the keys is the cheaper side
        whole = _arrow(keys).cast(_STR)
        return (pc.index_in(values, value_set=lower(whole) if fold else whole).fill_null(-1)
                .to_numpy(zero_copy_only=False).astype(np.int64))
    first = np.full(len(distinct), -1, np.int64)
    for start in range(0, len(keys), block):
        part = _arrow(keys.iloc[start:start + block]).cast(_STR)
        hit = pc.index_in(lower(part) if fold else part, value_set=distinct)
        hit = hit.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        rows = np.flatnonzero(hit >= 0)
        codes, at = np.unique(hit[rows], return_index=True)  # each value's first row in this block
        new = first[codes] < 0
        first[codes[new]] = start + rows[at[new]]
    at = pc.index_in(values, value_set=distinct).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return np.where(at >= 0, first[np.maximum(at, 0)], -1)


def member(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``np.isin`` for int64 keys, hashed in Arrow (numpy sorts both sides)."""
    if not len(values):
        return np.zeros(0, dtype=bool)
    return pc.is_in(pa.array(values), value_set=pa.array(keys)).to_numpy(zero_copy_only=False)


def take_text(values: pd.Series, rows: np.ndarray) -> pd.Series:
    """Rows of a column as a pandas str column, taken in Arrow (no Python objects)."""
    return pd.Series(pd.array(_text(values, pa.array(rows)), dtype="str"))


def matched_rows(findings: pd.DataFrame, ad: pd.DataFrame, cloud: pd.DataFrame,
                 rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """The AD row ``ai``, cloud row ``ci``, category and row of ``findings`` (``finding``) of every hard and soft
    match: from the engine's ``rows`` (``Prediction.rows``) when given, else looked up by objectGUID and id (both
    unique in a snapshot)."""
    joined = findings["category"].isin(["hard_match", "soft_match"]).to_numpy()
    at = np.flatnonzero(joined)
    if rows is not None:
        out = pd.DataFrame({"ai": rows["ad_row"].to_numpy()[at], "ci": rows["cloud_row"].to_numpy()[at],
                            "category": findings["category"].to_numpy()[at], "finding": at})
    else:
        picked = findings.loc[joined, ["ad_object_guid", "entra_id", "category"]]  # not a copy of every finding
        out = pd.DataFrame({"ai": index_in(picked["ad_object_guid"], ad["object_guid"]),
                            "ci": index_in(picked["entra_id"], cloud["id"]), "category": picked["category"].to_numpy(),
                            "finding": at})
    return out[(out["ai"] >= 0).to_numpy() & (out["ci"] >= 0).to_numpy()].reset_index(drop=True)


def _status(a: pa.Array, c: pa.Array, nocase: bool, null_flows: bool) -> np.ndarray:
    """Status code per pair (index into TAKEOVER_STATUSES)."""
    av = a.is_valid().to_numpy(zero_copy_only=False)
    cv = c.is_valid().to_numpy(zero_copy_only=False)
    left, right = (lower(a), lower(c)) if nocase else (a, c)
    eq = pc.equal(left, right).fill_null(False).to_numpy(zero_copy_only=False)
    code = np.full(len(a), TAKEOVER_STATUSES.index("same"), np.int8)
    code[av & cv & ~eq] = TAKEOVER_STATUSES.index("overwritten")
    code[av & ~cv] = TAKEOVER_STATUSES.index("set")
    if null_flows:
        code[~av & cv] = TAKEOVER_STATUSES.index("cleared")
    return code


def _manager(pairs: pd.DataFrame, ad: pd.DataFrame, cloud: pd.DataFrame, rows_ad: pa.Array,
             rows_cloud: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """(expected cloud manager id, cloud manager id, AD manager DN, cloud manager UPN) per pair."""
    ad_manager = _text(ad["manager"], rows_ad)
    m_ad = index_in_keys(ad_manager, ad["dn"], fold=True)
    # the cloud user each AD user becomes: its pair's cloud user; AD users outside a pair become new objects
    becomes = np.full(len(ad), -1, np.int64)
    becomes[pairs["ai"].to_numpy()] = pairs["ci"].to_numpy()
    target = np.where(m_ad >= 0, becomes[np.maximum(m_ad, 0)], -1)
    ids = one_array(_arrow(cloud["id"])).cast(_STR)
    expected = pc.if_else(pa.array(target >= 0), pc.take(ids, pa.array(np.maximum(target, 0))),
                          pc.binary_join_element_wise(pa.scalar("new object for ", _STR), ad_manager,
                                                      pa.scalar("", _STR)))
    current = _text(cloud["manager_id"], rows_cloud)
    m_cloud = index_in_keys(current, cloud["id"])
    upns = one_array(_arrow(cloud["upn"])).cast(_STR)
    shown = pc.if_else(pa.array(m_cloud >= 0), pc.take(upns, pa.array(np.maximum(m_cloud, 0))), current)
    return expected, current, ad_manager, shown


_BLOCK = 1 << 18  # pairs whose address lists are joined and compared at once


def _lists(column: pa.ChunkedArray, rows: np.ndarray, at: np.ndarray) -> pa.Array:
    """The lists of ``column`` of the pairs ``at`` (``rows``: each pair's row of the column)."""
    return one_array(pc.take(column, pa.array(rows[at])))


def _flat(column: pa.ChunkedArray, rows: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, pa.Array]:
    """(pair index, value) of every item of the lists of the pairs ``at``."""
    taken = _lists(column, rows, at)
    return at[pc.list_parent_indices(taken).to_numpy().astype(np.int64)], pc.list_flatten(taken).cast(_STR)


def _proxies(ad: pd.DataFrame, cloud: pd.DataFrame, rows_ad: pa.Array, rows_cloud: pa.Array,
             primaries: tuple[pa.Array, pa.Array] | None = None
             ) -> tuple[list[tuple[np.ndarray, str, pa.Array, pa.Array]], dict[str, int]]:
    """Lost and added addresses, and the primary SMTP change, as (pair rows, status, cloud value, AD value);
    ``primaries``: each pair's AD and cloud primary SMTP address, when the engine has worked them out."""
    sides = [(_arrow(frame["proxy_addresses"]), rows.to_numpy(zero_copy_only=False))
             for frame, rows in ((ad, rows_ad), (cloud, rows_cloud))]
    sizes = [pc.list_value_length(column).fill_null(0).to_numpy()[rows] for column, rows in sides]
    # pairs holding the same addresses in the same order are not compared value by value; only lists of one
    # length can be the same (the cloud's extra onmicrosoft.com address usually tells them apart at once). The
    # lists are joined a block of pairs at a time: all at once, at a million pairs, they are 0.8 GB.
    same = np.zeros(len(rows_ad), dtype=bool)
    alike = np.flatnonzero(sizes[0] == sizes[1])
    for start in range(0, len(alike), _BLOCK):
        block = alike[start:start + _BLOCK]
        joined = [lower(pc.binary_join(_lists(column, rows, block), "\x1f")) for column, rows in sides]
        same[block] = pc.equal(*joined).fill_null(False).to_numpy(zero_copy_only=False)
    differ = np.flatnonzero(~same)
    pa_idx, pa_val = _flat(*sides[0], differ)
    pc_idx, pc_val = _flat(*sides[1], differ)
    codes = pc.dictionary_encode(pa.concat_arrays([lower(pa_val), lower(pc_val)])).indices
    codes = codes.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    width = int(codes.max()) + 1 if len(codes) else 1
    ad_keys = pa_idx * width + codes[:len(pa_val)]
    cloud_keys = pc_idx * width + codes[len(pa_val):]
    moera = pc.match_substring_regex(pc_val, MOERA_RE).fill_null(False).to_numpy(zero_copy_only=False)
    lost = ~member(cloud_keys, ad_keys) & ~moera
    added = ~member(ad_keys, cloud_keys)
    out = [(pc_idx[lost], "lost", pc_val.filter(pa.array(lost)), pa.nulls(int(lost.sum()), _STR)),
           (pa_idx[added], "added", pa.nulls(int(added.sum()), _STR), pa_val.filter(pa.array(added)))]
    n = len(rows_ad)
    if primaries is None:
        ad_primary, cloud_primary = (
            primary_smtp(pd.Series(pd.arrays.ArrowExtensionArray(_lists(*side, np.arange(n)))),
                         pd.Series(pd.array(_text(frame["mail"], rows), dtype="str")))
            for side, frame, rows in ((sides[0], ad, rows_ad), (sides[1], cloud, rows_cloud)))
        primaries = (one_array(_arrow(ad_primary)), one_array(_arrow(cloud_primary)))
    a, c = (side.cast(_STR) for side in primaries)
    changed = _status(a, c, True, True) != TAKEOVER_STATUSES.index("same")
    rows = np.flatnonzero(changed)
    out.append((rows, "primary_changed", c.take(pa.array(rows)), a.take(pa.array(rows))))
    unchanged = int(sizes[1].sum()) - len(pc_val) + int((member(cloud_keys, ad_keys) | moera).sum())
    counts = {"lost": int(lost.sum()), "added": int(added.sum()), "primary_changed": int(changed.sum()),
              "same": unchanged}
    users_losing = int(len(np.unique(pc_idx[lost]))) if n else 0
    counts["users_losing"] = users_losing
    return out, counts


def takeover_impact(snap: Snapshot, findings: pd.DataFrame, rows: pd.DataFrame | None = None) -> Takeover:
    """The takeover's changes for every hard and soft match of ``findings`` (see the module docstring); ``rows``:
    the engine's rows of each finding (``Prediction.rows``), spares looking the pairs up."""
    ad, cloud = snap["ad_users"], snap["entra_users"]
    pairs = matched_rows(findings, ad, cloud, rows)
    rows_ad, rows_cloud = pa.array(pairs["ai"].to_numpy()), pa.array(pairs["ci"].to_numpy())
    have_ad, have_cloud = carried_columns(snap, "ad_users"), carried_columns(snap, "entra_users")
    parts: list[tuple[np.ndarray, str, str, pa.Array, pa.Array]] = []
    counts: dict[str, dict[str, int]] = {}
    not_compared: dict[str, str] = {}
    users_losing = 0
    for flow in (*FLOWS, PROXY):
        missing = [side for side, col, have in (("AD", flow.ad_col, have_ad), ("Entra", flow.entra_col, have_cloud))
                   if col not in have]
        if missing:
            not_compared[flow.entra] = f"not in the {' and '.join(missing)} export"
            continue
        if flow is PROXY:
            found, tally = _proxies(ad, cloud, rows_ad, rows_cloud, _engine_primaries(findings, pairs))
            parts += [(idx, status, flow, cv, av) for idx, status, cv, av in found]
            counts[flow.entra] = {k: v for k, v in tally.items() if k != "users_losing"}
            users_losing = tally["users_losing"]
            continue
        if flow.kind == "manager":
            a, c, a_shown, c_shown = _manager(pairs, ad, cloud, rows_ad, rows_cloud)
        else:
            a, c = _text(ad[flow.ad_col], rows_ad), _text(cloud[flow.entra_col], rows_cloud)
            if flow.kind == "hide":  # hidden from address lists on-premises = not shown in the cloud
                a = pc.if_else(pc.is_valid(a), pc.if_else(pc.equal(a, "true"), pa.scalar("false", _STR),
                                                          pa.scalar("true", _STR)), pa.nulls(len(a), _STR))
            a_shown, c_shown = a, c
        code = _status(a, c, flow.kind == "nocase", flow.null_flows)
        # a partial export: records that lacked the key are not compared (docs/domain.md §14)
        skip = not_carried_rows(snap, "ad_users", flow.ad_col)[pairs["ai"].to_numpy()] | not_carried_rows(
            snap, "entra_users", flow.entra_col)[pairs["ci"].to_numpy()]
        code[skip] = len(TAKEOVER_STATUSES)
        names = (*TAKEOVER_STATUSES, "not_compared")
        counts[flow.entra] = {s: int(n) for s, n in zip(names, np.bincount(code, minlength=len(names))) if n}
        rows = np.flatnonzero((code != TAKEOVER_STATUSES.index("same")) & ~skip)
        if len(rows):
            status = pa.array(np.array(TAKEOVER_STATUSES, dtype=object)[code[rows]], _STR)
            parts.append((rows, status, flow, c_shown.take(pa.array(rows)), a_shown.take(pa.array(rows))))
    changes = _frame(parts, pairs, ad, cloud)
    return Takeover(changes, counts, not_compared, len(pairs), users_losing)


def _engine_primaries(findings: pd.DataFrame, pairs: pd.DataFrame) -> tuple[pa.Array, pa.Array] | None:
    """Each pair's AD and cloud primary SMTP address from the engine's findings (``ad_mail``, ``entra_mail``: the
    same ``sides.primary_smtp`` of the same values), or None when ``findings`` lacks them."""
    if not {"ad_mail", "entra_mail"} <= set(findings.columns):
        return None
    at = pa.array(pairs["finding"].to_numpy())
    return _text(findings["ad_mail"], at), _text(findings["entra_mail"], at)


def _frame(parts: list, pairs: pd.DataFrame, ad: pd.DataFrame, cloud: pd.DataFrame) -> pd.DataFrame:
    """One row per change, with who it is; most urgent status first, then by cloud UPN."""
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in COLUMNS})
    idx = np.concatenate([p[0] for p in parts]).astype(np.int64)
    status = pa.concat_arrays([p[1] if isinstance(p[1], pa.Array) else pa.array([p[1]] * len(p[0]), _STR)
                               for p in parts])
    entra = pa.array(np.repeat([p[2].entra for p in parts], [len(p[0]) for p in parts]).astype(object), _STR)
    ad_attr = pa.array(np.repeat([p[2].ad for p in parts], [len(p[0]) for p in parts]).astype(object), _STR)
    cloud_value = pa.concat_arrays([p[3].cast(_STR) for p in parts])
    ad_value = pa.concat_arrays([p[4].cast(_STR) for p in parts])
    rows_ad, rows_cloud = pa.array(pairs["ai"].to_numpy()[idx]), pa.array(pairs["ci"].to_numpy()[idx])
    frame = pd.DataFrame({
        "entra_id": pd.array(_text(cloud["id"], rows_cloud), dtype="str"),
        "entra_upn": pd.array(_text(cloud["upn"], rows_cloud), dtype="str"),
        "ad_dn": pd.array(_text(ad["dn"], rows_ad), dtype="str"),
        "ad_object_guid": pd.array(_text(ad["object_guid"], rows_ad), dtype="str"),
        "category": pd.array(pairs["category"].to_numpy()[idx], dtype="str"),
        "attribute": pd.array(entra, dtype="str"), "ad_attribute": pd.array(ad_attr, dtype="str"),
        "status": pd.array(status, dtype="str"),
        "cloud_value": pd.array(cloud_value, dtype="str"), "ad_value": pd.array(ad_value, dtype="str"),
    })
    rank = pc.index_in(status, value_set=pa.array(TAKEOVER_STATUSES, _STR)).to_numpy(zero_copy_only=False)
    upn_order = pd.factorize(frame["entra_upn"], sort=True)[0]
    order = np.lexsort((np.arange(len(frame)), upn_order, rank))
    return frame.take(order).reset_index(drop=True)
