"""What every export reader shares: decoding bytes, sniffing the format, PowerShell's CSV, header synonyms,
placeholder detection and the ``ReadResult`` every reader returns.

Windows tools write many encodings (UTF-8 with or without BOM, UTF-16 LE from ``-Encoding Unicode``), headers in
any case, and type names where data should be (``System.Byte[]``). All of that is handled here once, so that the
per-format readers only map fields.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core.columns import arrow_text, one_array, string_bytes
from hybridx_nb.core.errors import InputError
from hybridx_nb.snapshot import schema
from hybridx_nb.snapshot.coverage import Coverage
from hybridx_nb.snapshot.store import TenantFacts
from hybridx_nb.sources.powershell_csv import blank
from hybridx_nb.sources.text import EXPORTS_DOC

B64_RE = r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)"


@dataclass
class ReadResult:
    """What a reader gives back: canonical frames, rows set aside, and provenance for the manifest."""

    tables: dict[str, pd.DataFrame]
    rejected: pd.DataFrame
    source: str
    tenant: TenantFacts | None = None
    sources: dict[str, str] = field(default_factory=dict)  # per table, when it differs from ``source``
    coverage: Coverage = field(default_factory=Coverage)  # which attributes the export carried
    files: dict[str, str] = field(default_factory=dict)  # export file name → SHA-256 of what was read


# ---------------------------------------------------------------------------------------------------------------
# Bytes → text, and which format
# ---------------------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------------------
# PowerShell's CSV
# ---------------------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------------------------------------------


def _filtered_lists(parts: pa.Array, n: int, index: pd.Index) -> pd.Series:
    flat = pc.utf8_trim_whitespace(pc.list_flatten(parts))
    parents = pc.list_parent_indices(parts).to_numpy()
    keep = pc.not_equal(flat, "").fill_null(False).to_numpy(zero_copy_only=False)
    counts = np.bincount(parents[keep], minlength=n)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), flat.filter(pa.array(keep)).cast(pa.string()))
    return pd.Series(pd.arrays.ArrowExtensionArray(lists), index=index)


def lists_from_python(values: list[object] | pa.Array, index: pd.Index | None = None) -> pd.Series:
    """An Arrow list column from Python (or Arrow) lists (``None``/non-lists → ``[]``), items trimmed, empties
    dropped."""
    try:
        parts = (values.cast(pa.list_(pa.large_string())) if isinstance(values, pa.Array)
                 else pa.array(values, type=pa.list_(pa.large_string())))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        cleaned = [[str(x) for x in v if x is not None] if isinstance(v, list) else None for v in values]
        parts = pa.array(cleaned, type=pa.list_(pa.large_string()))
    return _filtered_lists(parts, len(values), index if index is not None else pd.RangeIndex(len(values)))


def consistency_guid(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """mS-DS-ConsistencyGuid as base64 of its bytes: a GUID string is converted (AD byte order), base64 kept.

    Returns the column and a mask of the values that are neither (to be rejected).
    """
    from hybridx_nb.core import anchors

    text = values.str.strip()
    is_guid = text.str.fullmatch(anchors.GUID_RE.pattern).fillna(False).to_numpy(dtype=bool)
    is_b64 = text.str.fullmatch(B64_RE).fillna(False).to_numpy(dtype=bool) & ~is_guid
    out = text.where(is_b64)
    if is_guid.any():
        out[is_guid] = anchors.guid_to_immutable_id_series(text[is_guid])
    bad = ~(is_guid | is_b64 | blank(values))
    return out, bad


def frame_of(records: list[dict], fields: Mapping[str, tuple[str, ...]]) -> dict[str, list[object]]:
    """Columns from JSON records: ``fields`` maps a column to its key path (``("profile", "login")``).

    Each key path is walked once for all records (a shared prefix such as ``profile`` once for all its fields).
    """
    walked: dict[tuple[str, ...], list[object]] = {}
    for keys in sorted({tuple(k[:i]) for k in fields.values() for i in range(1, len(k) + 1)}, key=len):
        if len(keys) == 1:
            walked[keys] = list(map(dict.get, records, repeat(keys[0])))
        else:
            key = keys[-1]
            walked[keys] = [v.get(key) if isinstance(v, dict) else None for v in walked[keys[:-1]]]
    return {name: walked[tuple(keys)] for name, keys in fields.items()}


def text_column(values: list[object], index: pd.Index | None = None) -> pd.Series:
    """A str column from JSON scalars (bools as ``true``/``false``, other non-strings as their JSON text)."""
    try:
        arr = pa.array(values, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        arr = _json_text(values)
    return pd.Series(pd.array(arr, dtype="str"), index=index)


def _json_text(values: list[object]) -> pa.Array:
    with contextlib.suppress(pa.ArrowInvalid, pa.ArrowTypeError):
        inferred = pa.array(values)
        if pa.types.is_boolean(inferred.type) or pa.types.is_null(inferred.type):  # the usual case: a flag
            return inferred.cast(pa.string())
    return pa.array([v if v is None or isinstance(v, str) else "true" if v is True else "false" if v is False
                     else json.dumps(v) for v in values], type=pa.string())


def rejected(table: str, source: str, mask: np.ndarray, reason: str | pd.Series, *, line: pd.Series | None,
             key: pd.Series) -> pd.DataFrame:
    """Rejected rows for the rows of ``mask`` (``reason``, ``line`` and ``key`` aligned with the mask)."""
    if not mask.any():
        return schema.empty("rejected")
    return schema.rejected_rows(table, source, reason[mask] if isinstance(reason, pd.Series) else reason,
                                line=line[mask] if line is not None else None, key=key[mask], n=int(mask.sum()))


def concat(frames: list[pd.DataFrame], table: str) -> pd.DataFrame:
    """Concatenate canonical frames of one table (an empty list gives the empty frame)."""
    frames = [f for f in frames if len(f)]
    return schema.conform(table, pd.concat(frames, ignore_index=True)) if frames else schema.empty(table)


def all_bad(path: Path, what: str, rejected_frame: pd.DataFrame, total: int) -> InputError:
    """The error when every row of a file was rejected: a file like that is the wrong file, not bad rows."""
    sample = rejected_frame.head(3)
    reasons = "; ".join(f"line {r.line}: {r.reason}" if pd.notna(r.line) else str(r.reason)
                        for r in sample.itertuples())
    return InputError(path, f"none of the {total} {what} could be read ({reasons})",
                      fix=f"check that this is the right file and re-run the export as in {EXPORTS_DOC}")


# ---------------------------------------------------------------------------------------------------------------
# AD objects (CSV and LDIF)
# ---------------------------------------------------------------------------------------------------------------

#: Canonical AD field → names it goes by in exports and LDAP (first = the name the docs use).
AD_FIELDS: dict[str, tuple[str, ...]] = {
    "dn": ("DistinguishedName", "dn"),
    "object_guid": ("ObjectGUID", "GUID"),
    "consistency_guid": ("mS-DS-ConsistencyGuid", "ConsistencyGuid", "msDSConsistencyGuid"),
    "sam_account_name": ("SamAccountName", "sAMAccountName"),
    "upn": ("UserPrincipalName", "UPN"),
    "mail": ("mail", "EmailAddress"),
    "proxy_addresses": ("proxyAddresses",),
    "display_name": ("DisplayName",),
    "given_name": ("GivenName",),
    "surname": ("Surname", "sn"),
    "mail_nickname": ("mailNickname",),
    "target_address": ("targetAddress",),
    "enabled": ("Enabled",),
    "user_account_control": ("userAccountControl",),
    "object_class": ("ObjectClass",),
    "is_critical_system_object": ("isCriticalSystemObject",),
    "is_deleted": ("isDeleted", "Deleted"),
    # the attributes the default sync rules flow (docs/domain.md §14) and on-premises Exchange's (§15)
    "title": ("title",), "department": ("department",), "company": ("company",),
    "office": ("physicalDeliveryOfficeName", "Office"), "street_address": ("streetAddress",),
    "city": ("l", "City"), "state": ("st", "State"), "postal_code": ("postalCode",),
    "country_code": ("c", "Country"), "country": ("co",),
    "telephone_number": ("telephoneNumber", "OfficePhone"), "mobile": ("mobile", "MobilePhone"),
    "fax": ("facsimileTelephoneNumber", "Fax"), "employee_id": ("employeeID",), "manager": ("manager",),
    **{f"extension_attribute_{i}": (f"extensionAttribute{i}",) for i in range(1, 16)},
    "hide_from_address_lists": ("msExchHideFromAddressLists",),
    "recipient_type_details": ("msExchRecipientTypeDetails",),
    "recipient_display_type": ("msExchRecipientDisplayType",),
    "remote_recipient_type": ("msExchRemoteRecipientType",),
    "exchange_guid": ("msExchMailboxGuid",), "archive_guid": ("msExchArchiveGUID",),
    "home_mdb": ("homeMDB",), "legacy_exchange_dn": ("legacyExchangeDN",),
}
#: AD fields read as plain text that the canonical table keeps under the same name.
AD_TEXT_FIELDS = tuple(f for f in AD_FIELDS if f in schema.AD_USERS.names and f not in (
    "dn", "object_guid", "consistency_guid", "proxy_addresses", "enabled", "is_critical_system_object",
    "object_class", "hide_from_address_lists", "exchange_guid", "archive_guid", "is_deleted"))
#: Binary AD attributes that hold a GUID (kept as GUID strings).
AD_GUID_FIELDS = ("exchange_guid", "archive_guid")
USER_CLASSES = ("user", "inetorgperson")
MAIL_CLASSES = ("group", "contact")


def guid_text(values: pd.Series) -> pd.Series:
    """A binary GUID attribute as a GUID string: given as a GUID string (``[guid]`` in PowerShell) or as base64
    of its bytes (LDIF ``::``); anything else is left missing."""
    from hybridx_nb.core import anchors

    arr = schema.blank_as_missing(one_array(arrow_text(values.str.strip())))
    if arr.null_count == len(arr):  # no mailbox GUIDs in this export: nothing to convert
        return schema.missing_text(values.index)
    text = pd.Series(pd.array(arr, dtype="str"), index=values.index)
    as_guid = anchors.normalize_guid_series(text)
    if as_guid.isna().sum() == arr.null_count:  # every value is a GUID string
        return as_guid
    return as_guid.fillna(anchors.immutable_id_to_guid_series(text.where(as_guid.isna())))


def enabled_from_uac(values: pd.Series) -> pd.Series:
    """``enabled`` from userAccountControl: bit 2 (ACCOUNTDISABLE) clear."""
    uac = pd.to_numeric(values, errors="coerce").astype("Int64")
    return ((uac & 2) == 0).astype("boolean")


def bool_text(values: pd.Series) -> pd.Series:
    """True/False text (any case) as a nullable boolean; anything else is missing."""
    text = pa.chunked_array(values.astype("str").str.strip().str.lower().array.__arrow_array__())
    code = pc.index_in(text, value_set=pa.array(["true", "1", "false", "0"])).fill_null(-1).to_numpy()
    return pd.Series(pd.arrays.BooleanArray(code < 2, code < 0), index=values.index)


def dns_domain(dn: pd.Series) -> pd.Series:
    """The DNS domain of each DN from its ``DC=`` components (``CN=a,DC=corp,DC=example`` → ``corp.example``).

    A directory has a handful of domains, so each distinct ``DC=`` tail is spelled out once."""
    tail = pc.struct_field(pc.extract_regex(arrow_text(dn), r"(?i)(?:^|,)\s*(?P<tail>DC=.*)$"), [0])
    tails = pc.dictionary_encode(one_array(tail))
    names = pc.utf8_lower(pc.utf8_trim(pc.replace_substring_regex(tails.dictionary, r"(?i)\s*,?\s*DC=", "."), "."))
    domain = pc.take(names, tails.indices)
    return pd.Series(pd.array(domain.cast(pa.large_string()), dtype="str"), index=dn.index)


def finish_ad_objects(path: Path, source: str, frame: pd.DataFrame, reason: pd.Series, *,
                      class_exported: bool) -> ReadResult:
    """Route AD rows to ``ad_users``, ``ad_mail_objects`` or ``rejected``.

    ``frame`` has canonical column names (``object_guid`` as found, ``consistency_guid`` already base64,
    ``source_line``); ``reason`` holds a rejection reason the format reader found, or NaN. When the export
    carried objectClass (``class_exported``), a row without one is rejected rather than taken for a user.
    """
    from hybridx_nb.core import anchors

    total = len(frame)
    raw_guid = frame["object_guid"]
    frame["object_guid"] = anchors.normalize_guid_series(raw_guid)
    reason = add_reason(reason, blank(frame["dn"]), "missing distinguishedName")
    reason = add_reason(reason, blank(raw_guid), "missing objectGUID")
    reason = add_reason(reason, frame["object_guid"].isna().to_numpy(),
                        lambda rows: "objectGUID '" + raw_guid.iloc[rows].str.slice(0, 60) + "' is not a GUID")
    if class_exported:
        reason = add_reason(reason, blank(frame["object_class"]), "no objectClass in this record, so it cannot be "
                            "told from a computer or another non-user object")
    klass = frame["object_class"].fillna("user").str.lower()
    other = ~klass.isin(USER_CLASSES + MAIL_CLASSES).to_numpy()
    reason = add_reason(reason, other, lambda rows: "not a user object (" + frame["object_class"].iloc[rows] + ")")
    line, key = frame["source_line"], frame["dn"].fillna(raw_guid)
    ok = reason.isna().to_numpy()
    users = ok & klass.isin(USER_CLASSES).to_numpy()
    dup = duplicated([frame["object_guid"]], users & frame["object_guid"].notna().to_numpy())
    if dup.any():
        first_line = frame[users].groupby("object_guid")["source_line"].first()
        reason = reason.mask(pd.Series(dup, index=frame.index),
                             "duplicate objectGUID (first on line "
                             + frame["object_guid"].map(first_line).astype("Int64").astype("str") + ")")
        users &= ~dup
    frame["domain"] = dns_domain(frame["dn"])
    user_frame = schema.conform("ad_users", kept(frame, users))
    mail = ok & klass.isin(MAIL_CLASSES).to_numpy()
    mail_frame = schema.conform("ad_mail_objects", frame[mail].assign(object_class=klass[mail]))
    rej = rejected("ad_users", source, ~(users | mail), reason, line=line, key=key)
    if total and not (users.any() or mail.any()):
        raise all_bad(path, "AD objects", rej, total)
    tables = {"ad_users": user_frame}
    if mail.any():
        tables["ad_mail_objects"] = mail_frame
    return ReadResult(tables, rej, source)


# ---------------------------------------------------------------------------------------------------------------
# JSON records
# ---------------------------------------------------------------------------------------------------------------


def kept(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """The rows of ``frame`` where ``rows`` is true; the frame itself when that is every row, as in most exports
    (at a million rows the copy of every column costs a quarter of a second and a gigabyte of fresh memory)."""
    return frame if rows.all() else frame[rows]


def duplicated(columns: list[pd.Series], among: np.ndarray) -> np.ndarray:
    """Rows of ``among`` whose values (all ``columns`` together; missing counts as a value) came before."""
    codes = np.zeros(len(among), np.int64)
    for col in columns:
        c, uniques = pd.factorize(col, use_na_sentinel=False)
        codes = codes * (len(uniques) + 1) + c
    rows = np.flatnonzero(among)
    _, first = np.unique(codes[rows], return_index=True)
    dup = among.copy()
    dup[rows[first]] = False
    return dup


def add_reason(reason: pd.Series, where: np.ndarray, text: str | Callable[[np.ndarray], pd.Series]) -> pd.Series:
    """``reason`` with ``text`` on the rows that have none yet and where ``where`` holds. ``text`` may be a
    function of those row positions: a sentence quoting each row's value is then written for those rows only,
    not for a million rows to keep a few."""
    rows = np.flatnonzero(reason.isna().to_numpy() & where)
    if not len(rows):
        return reason
    out = reason.copy()
    out.iloc[rows] = np.asarray(text(rows), dtype=object) if callable(text) else text
    return out


def reject_incomplete(frame: pd.DataFrame, required: Mapping[str, str], unique: tuple[str, ...],
                      reason: pd.Series | None = None) -> pd.Series:
    """Reasons for rows missing a required value (column → name in the file) or repeating the unique key."""
    reason = reason if reason is not None else pd.Series(np.nan, index=frame.index, dtype="str")
    for col, name in required.items():
        reason = reason.mask(reason.isna() & blank(frame[col]), f"missing {name}")
    ok = reason.isna().to_numpy()
    dup = pd.Series(ok & duplicated([frame[c] for c in unique], ok), index=frame.index)
    return reason.mask(dup, "duplicate " + "/".join(required.get(c, c) for c in unique)
                       + " (kept the first)")


def detect_separator(values: pd.Series, candidates: str = ";|") -> str:
    """The separator a multi-valued column was joined with: the candidate that occurs most (default first)."""
    chunks = [string_bytes(chunk) for chunk in arrow_text(values).chunks]
    counts = {c: sum(int(np.count_nonzero(b == ord(c))) for b in chunks) for c in candidates}  # ASCII: bytes
    return max(candidates, key=lambda c: counts[c])


def split_list(values: pd.Series, separator: str) -> pd.Series:
    """A joined multi-valued str column as an Arrow list column; items trimmed, empty items dropped."""
    arr = one_array(arrow_text(values)).cast(pa.large_string())
    parts = pc.split_pattern(arr.fill_null(""), separator)
    return _filtered_lists(parts, len(values), values.index)
