"""The canonical tables: every source produces them, the snapshot stores them, the engine reads them.

Each table is defined once here: its columns, their types, which are required. ``conform`` turns a frame a
reader or collector built into the canonical shape (adds missing optional columns, casts types) and refuses a
frame that lacks a required column or holds a value the type cannot take.

Value conventions:
- ``str`` columns use pandas' ``str`` dtype (Arrow-backed, missing = NaN); empty strings are made missing, and
  nothing else is changed: a UPN with a leading tab or a trailing CR is kept so readiness can report it.
- ``list`` columns are Arrow ``list<string>`` (``pd.ArrowDtype``); an absent multi-valued attribute is ``[]``.
- ``object_guid`` is the canonical GUID string (lower case, 8-4-4-4-12), as every admin tool shows it.
- ``consistency_guid`` is base64 of the raw bytes of mS-DS-ConsistencyGuid (the ImmutableID form). It is kept
  as bytes rather than as a GUID because in the wild it may hold anything, such as the ASCII of a GUID string.
- Booleans are nullable (``boolean``): ``on_prem_sync_enabled`` is true, false, or null (never synced).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core.columns import arrow_text, one_array

LIST_DTYPE = pd.ArrowDtype(pa.list_(pa.string()))
_DTYPES = {"str": "str", "bool": "boolean", "list": LIST_DTYPE, "int": "Int64"}


class SchemaError(ValueError):
    """A frame that does not fit its canonical table."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "str" | "bool" | "list" | "int"
    required: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    key: str | None = None
    optional: bool = field(default=False)  # a snapshot may lack this table altogether

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


def _c(name: str, kind: str = "str", required: bool = False, doc: str = "") -> Column:
    return Column(name, kind, required, doc)


AD_USERS = Table("ad_users", "On-premises AD user objects (user and inetOrgPerson).", (
    _c("dn", required=True, doc="distinguishedName"),
    _c("object_guid", required=True, doc="objectGUID as a canonical GUID string"),
    _c("consistency_guid", doc="mS-DS-ConsistencyGuid: base64 of its raw bytes"),
    _c("sam_account_name", doc="sAMAccountName"),
    _c("upn", doc="userPrincipalName"),
    _c("mail"),
    _c("proxy_addresses", "list", doc="proxyAddresses, each with its prefix (SMTP: primary, smtp: secondary)"),
    _c("display_name"),
    _c("given_name"),
    _c("surname"),
    _c("mail_nickname", doc="mailNickname (Exchange schema; missing without it)"),
    _c("target_address", doc="targetAddress (Exchange schema)"),
    _c("enabled", "bool"),
    _c("object_class", doc="most specific class: user, inetOrgPerson"),
    _c("is_critical_system_object", "bool"),
    _c("is_deleted", "bool", doc="isDeleted: a tombstone or recycled object (a search with the Show Deleted control)"),
    _c("domain", doc="DNS domain the object came from (several domains in one forest)"),
    _c("source_line", "int", doc="line or record number in the export file, for messages"),
    # the attributes Entra Connect's default rules flow to the cloud user (docs/domain.md §14); optional: an
    # export that did not carry one leaves it unknown (see ``carried``), never empty
    _c("title"), _c("department"), _c("company"), _c("office", doc="physicalDeliveryOfficeName"),
    _c("street_address", doc="streetAddress"), _c("city", doc="l"), _c("state", doc="st"),
    _c("postal_code", doc="postalCode"), _c("country_code", doc="c (two letters): usageLocation"),
    _c("country", doc="co (the country's name): country"), _c("telephone_number", doc="telephoneNumber"),
    _c("mobile"), _c("fax", doc="facsimileTelephoneNumber"), _c("employee_id", doc="employeeID"),
    _c("manager", doc="manager: the manager's distinguishedName"),
    *(_c(f"extension_attribute_{i}", doc=f"extensionAttribute{i} (Exchange schema)") for i in range(1, 16)),
    _c("hide_from_address_lists", "bool", doc="msExchHideFromAddressLists (Exchange schema)"),
    # on-premises Exchange (docs/domain.md §15)
    _c("recipient_type_details", doc="msExchRecipientTypeDetails (a number)"),
    _c("recipient_display_type", doc="msExchRecipientDisplayType (a number)"),
    _c("remote_recipient_type", doc="msExchRemoteRecipientType (a number)"),
    _c("exchange_guid", doc="msExchMailboxGuid as a GUID string"),
    _c("archive_guid", doc="msExchArchiveGUID as a GUID string"),
    _c("home_mdb", doc="homeMDB: the mailbox database of an on-premises mailbox"),
    _c("legacy_exchange_dn", doc="legacyExchangeDN"),
), key="object_guid")

AD_MAIL_OBJECTS = Table("ad_mail_objects", "AD groups and contacts that carry mail addresses (readiness rules).", (
    _c("dn", required=True),
    _c("object_class", required=True, doc="group or contact"),
    _c("object_guid"),
    _c("mail"),
    _c("proxy_addresses", "list"),
    _c("display_name"),
), optional=True)

ENTRA_USERS = Table("entra_users", "Entra ID users (Graph /users).", (
    _c("id", required=True, doc="object id"),
    _c("upn", required=True, doc="userPrincipalName"),
    _c("mail"),
    _c("proxy_addresses", "list"),
    _c("immutable_id", doc="onPremisesImmutableId"),
    _c("on_prem_sync_enabled", "bool", doc="onPremisesSyncEnabled: true, false or null (never synced)"),
    _c("on_prem_object_identifier", doc="onPremisesObjectIdentifier (beta), when collected"),
    _c("account_enabled", "bool"),
    _c("user_type", doc="Member or Guest"),
    _c("display_name"),
    _c("mail_nickname"),
    _c("assigned_licenses", "list", doc="skuIds of assignedLicenses"),
    _c("creation_type"),
    _c("on_prem_last_sync", doc="onPremisesLastSyncDateTime (ISO 8601), when collected"),
    _c("on_prem_provisioning_errors", doc="onPremisesProvisioningErrors as Graph's JSON array text ('[]': none); "
                                          "missing when not collected (docs/domain.md §13)"),
    _c("service_provisioning_errors", doc="serviceProvisioningErrors as JSON array text, like the above"),
    _c("not_exported", "list", doc="columns whose key this record did not carry (not the same as a null value)"),
    # properties the default sync rules write (docs/domain.md §14); optional, see the coverage
    _c("given_name", doc="givenName"), _c("surname"), _c("job_title", doc="jobTitle"), _c("department"),
    _c("company_name", doc="companyName"), _c("office_location", doc="officeLocation"),
    _c("street_address", doc="streetAddress"), _c("city"), _c("state"), _c("postal_code", doc="postalCode"),
    _c("usage_location", doc="usageLocation"), _c("country"),
    _c("business_phone", doc="businessPhones (its first value; Entra holds one)"),
    _c("mobile_phone", doc="mobilePhone"), _c("fax_number", doc="faxNumber"), _c("employee_id", doc="employeeId"),
    _c("manager_id", doc="manager's object id ($expand=manager)"),
    *(_c(f"extension_attribute_{i}", doc=f"onPremisesExtensionAttributes.extensionAttribute{i}")
      for i in range(1, 16)),
    _c("show_in_address_list", "bool", doc="showInAddressList"),
    # Exchange Online state from the licences (docs/domain.md §15)
    _c("exchange_assigned", doc="assignedPlans, service exchange: Enabled when any such plan is enabled"),
    _c("exchange_provisioned", doc="provisionedPlans, service exchange: provisioningStatus of an enabled plan"),
), key="id")

OKTA_USERS = Table("okta_users", "Okta users of every status.", (
    _c("id", required=True, doc="Okta user id (00u…)"),
    _c("status"),
    _c("login"),
    _c("email"),
    _c("first_name"),
    _c("last_name"),
    _c("provider_type", doc="credentials.provider.type: OKTA, ACTIVE_DIRECTORY, LDAP, …"),
    _c("provider_name"),
), key="id", optional=True)

OKTA_APP_USERS = Table("okta_app_users", "Users of Okta's Office 365 app instance(s), with profile.immutableId.", (
    _c("app_id", required=True),
    _c("user_id", required=True, doc="Okta user id"),
    _c("app_label"),
    _c("external_id", doc="the user's id in the target app: the Entra object id"),
    _c("user_name", doc="credentials.userName, usually the UPN"),
    _c("immutable_id", doc="profile.immutableId as Okta will provision it"),
    _c("status"),
    _c("sync_state"),
    _c("scope", doc="USER or GROUP assignment"),
    _c("not_exported", "list", doc="columns whose key this record did not carry (not the same as a null value)"),
), optional=True)

ENTRA_ROLE_MEMBERS = Table("entra_role_members", "Holders of Entra directory roles.", (
    _c("principal_id", required=True, doc="object id of the user"),
    _c("role_name", required=True),
    _c("role_id"),
), optional=True)

ENTRA_DOMAINS = Table("entra_domains", "Domains of the tenant (Graph /domains).", (
    _c("name", required=True),
    _c("authentication_type", doc="Managed or Federated"),
    _c("is_verified", "bool"),
    _c("is_default", "bool"),
    _c("is_initial", "bool"),
), key="name", optional=True)

ENTRA_GROUPS = Table("entra_groups", "Entra ID groups (Graph /groups); optional, for Okta's Universal Sync.", (
    _c("id", required=True, doc="object id"),
    _c("display_name"),
    _c("mail"),
    _c("mail_nickname"),
    _c("mail_enabled", "bool", doc="mailEnabled"),
    _c("security_enabled", "bool", doc="securityEnabled"),
    _c("group_types", "list", doc="groupTypes: Unified for Microsoft 365 groups, DynamicMembership"),
    _c("proxy_addresses", "list"),
    _c("on_prem_sync_enabled", "bool", doc="onPremisesSyncEnabled: true for groups Okta's Universal Sync made"),
), key="id", optional=True)

ENTRA_CONTACTS = Table("entra_contacts", "Entra ID organisational contacts (Graph /contacts); optional.", (
    _c("id", required=True, doc="object id"),
    _c("display_name"),
    _c("mail"),
    _c("mail_nickname"),
    _c("proxy_addresses", "list"),
    _c("on_prem_sync_enabled", "bool"),
), key="id", optional=True)
EXO_MAILBOXES = Table("exo_mailboxes", "Exchange Online recipients (Get-EXOMailbox export, --exo).", (
    _c("entra_id", required=True, doc="ExternalDirectoryObjectId: the Entra user's object id"),
    _c("upn", doc="UserPrincipalName"),
    _c("primary_smtp", doc="PrimarySmtpAddress"),
    _c("recipient_type_details", doc="RecipientTypeDetails: UserMailbox, SharedMailbox, MailUser, …"),
    _c("exchange_guid", doc="ExchangeGuid as a GUID string"),
    _c("archive_guid", doc="ArchiveGuid as a GUID string (00000000-… means none)"),
    _c("legacy_exchange_dn", doc="LegacyExchangeDN"),
    _c("email_addresses", "list", doc="EmailAddresses, each with its prefix"),
    _c("source_line", "int"),
), key="entra_id", optional=True)

REJECTED = Table("rejected", "Input rows set aside, each with its reason.", (
    _c("table", required=True, doc="the canonical table the row was meant for"),
    _c("source", required=True, doc="file name or collector"),
    _c("line", "int", doc="line or record number, where there is one"),
    _c("key", doc="what identifies the row (DN, id, UPN)"),
    _c("reason", required=True),
))

TABLES: dict[str, Table] = {t.name: t for t in (AD_USERS, AD_MAIL_OBJECTS, ENTRA_USERS, OKTA_USERS, OKTA_APP_USERS,
                                               ENTRA_ROLE_MEMBERS, ENTRA_DOMAINS, ENTRA_GROUPS, ENTRA_CONTACTS,
                                               EXO_MAILBOXES, REJECTED)}


# Columns are kept as one Arrow array each (``one_array``): readers and Parquet give many chunks, and every
# ``take`` on a chunked column (the engine, readiness and takeover joins do hundreds) is several times slower.


def _list_column(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.ArrowDtype) and pa.types.is_list(values.dtype.pyarrow_dtype):
        arr = one_array(pa.chunked_array(values.array._pa_array).cast(pa.list_(pa.string())))
    else:
        arr = pa.array([v if isinstance(v, (list, tuple, np.ndarray)) else [] for v in values],
                       type=pa.list_(pa.string()))
    arr = arr.fill_null(pa.scalar([], pa.list_(pa.string()))) if arr.null_count else arr
    return pd.Series(pd.arrays.ArrowExtensionArray(arr), index=values.index)


def _str_column(values: pd.Series, canonical: bool = False) -> pd.Series:
    arr = arrow_text(values)
    if canonical and values.dtype == "str":
        if arr.num_chunks <= 1 and arr.null_count < len(arr):
            return values
        arr = one_array(arr)
    else:
        arr = blank_as_missing(one_array(arr))
    if arr.null_count == len(arr):
        arr = null_text(len(arr))
    return pd.Series(pd.array(arr, dtype="str"), index=values.index)


_ZEROS: list[pa.Buffer] = []


def null_text(n: int) -> pa.Array:
    """``n`` missing values (``large_string``) whose buffers are all views of one shared, read-only zero buffer: a
    column no row carries (extension attributes, fax …: dozens at a million users) costs no memory of its own."""
    size = 8 * (n + 1)  # the offsets; the validity bitmap (all zero: all missing) needs less
    if not _ZEROS or _ZEROS[0].size < size:
        zeros = np.zeros(size, dtype=np.uint8)  # calloc'd: pages that are only read never become resident
        zeros.flags.writeable = False
        _ZEROS[:] = [pa.py_buffer(zeros)]
    zeros = _ZEROS[0]
    return pa.Array.from_buffers(pa.large_string(), n, [zeros, zeros, zeros.slice(0, 0)], null_count=n)


def missing_text(index: pd.Index) -> pd.Series:
    """A str column of missing values on ``index``, on the shared zero buffer of ``null_text``."""
    return pd.Series(pd.array(null_text(len(index)), dtype="str"), index=index)


def blank_as_missing(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """``""`` as missing; only ``""``: values exactly as the directory holds them (a tab is data). The strings
    stay where they are: only the validity bitmap is new (rebuilding the strings was seconds at a million)."""
    if isinstance(arr, pa.ChunkedArray) and arr.num_chunks == 1:
        arr = arr.chunk(0)
    present = pc.greater(pc.binary_length(arr), 0).fill_null(False)
    if pc.all(present).as_py() is not False:  # none blank (an empty column too)
        return arr
    if isinstance(arr, pa.ChunkedArray) or arr.offset or present.offset:
        return pc.if_else(present, arr, pa.scalar(None, arr.type))
    return pa.Array.from_buffers(arr.type, len(arr), [present.buffers()[1], *arr.buffers()[1:]])


def _bool_column(values: pd.Series, table: str, column: str) -> pd.Series:
    if values.dtype == "boolean":
        return values
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean")
    text = values.astype("str").str.strip().str.lower()
    mapped = text.map({"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False})
    bad = text.notna() & (text != "") & mapped.isna()
    if bad.any():
        raise SchemaError(f"{table}.{column}: {values[bad].iloc[0]!r} is not true or false")
    return mapped.astype("boolean")


def conform(table: str | Table, frame: pd.DataFrame, *, canonical_text: bool = False) -> pd.DataFrame:
    """The frame in canonical shape: known columns in order, typed, with optional ones added empty.

    ``canonical_text`` trusts str columns that already have the ``str`` dtype to hold no empty
    strings (a table written by ``conform``, as a hash-verified snapshot file is): at a million rows, stripping
    every text column again is most of the load time.
    """
    spec = TABLES[table] if isinstance(table, str) else table
    missing = [c for c in spec.required if c not in frame.columns]
    if missing:
        raise SchemaError(f"{spec.name}: required column(s) missing: {', '.join(missing)}")
    out = {}
    for col in spec.columns:
        if col.name not in frame.columns:
            out[col.name] = empty_column(col, len(frame), frame.index)
        elif col.kind == "str":
            out[col.name] = _str_column(frame[col.name], canonical_text)
        elif col.kind == "list":
            out[col.name] = _list_column(frame[col.name])
        elif col.kind == "bool":
            out[col.name] = _bool_column(frame[col.name], spec.name, col.name)
        else:
            out[col.name] = pd.to_numeric(frame[col.name], errors="raise").astype("Int64")
    result = pd.DataFrame(out, index=frame.index).reset_index(drop=True)
    nulls = [c for c in spec.required if result[c].isna().any()]
    if nulls:
        raise SchemaError(f"{spec.name}: required column(s) with missing values: {', '.join(nulls)}")
    return result


def empty_column(col: Column, n: int, index: pd.Index | None = None) -> pd.Series:
    """A column of ``n`` missing values (empty lists for list columns)."""
    index = index if index is not None else pd.RangeIndex(n)
    if col.kind == "list":
        return _list_column(pd.Series([None] * n, index=index, dtype=object))
    if col.kind == "str":
        return missing_text(index)
    return pd.Series([None] * n, index=index, dtype=object).astype(_DTYPES[col.kind])


def empty(table: str) -> pd.DataFrame:
    """An empty canonical frame."""
    return conform(table, pd.DataFrame({c: [] for c in TABLES[table].required}))


def rejected_rows(table: str, source: str, reason: str | pd.Series, *, line: pd.Series | None = None,
                  key: pd.Series | None = None, n: int | None = None) -> pd.DataFrame:
    """Rows for the ``rejected`` table; ``reason``, ``line`` and ``key`` may be scalars or columns."""
    size = n if n is not None else len(next(x for x in (reason, line, key) if isinstance(x, pd.Series)))
    frame = pd.DataFrame({
        "table": [table] * size, "source": [source] * size,
        "line": line.to_numpy() if line is not None else [None] * size,
        "key": key.to_numpy() if key is not None else [None] * size,
        "reason": reason.to_numpy() if isinstance(reason, pd.Series) else [reason] * size,
    })
    return conform("rejected", frame)
