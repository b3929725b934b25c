"""The demo's export files for the takeover and Exchange columns: the extra Get-ADUser CSV columns and LDIF lines,
the extra Graph user properties, and the Get-EXOMailbox CSV (``--exo``), written as the real tools write them.

Get-ADUser's calculated ``msExchMailboxGuid`` is ``[guid]`` of the bytes (a GUID string); ldifde writes binary
values base64 (``::``). Graph sends every ``$select``-ed property (null included), ``onPremisesExtensionAttributes``
as one object, ``assignedPlans``/``provisionedPlans`` as lists and, with ``$expand=manager($select=id)``, a
``manager`` object only for users that have one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core import anchors
from hybridx_nb.demo.render import (
    LARGE_STRING,
    as_arrow,
    concat_text,
    csv_rows,
    join_lists,
    json_bool,
    json_obj,
    json_str,
    list_parts,
    scalar,
    write_powershell_csv,
)

#: Get-ADUser CSV header → ad_users column, in README.md's Select-Object order after the base columns.
AD_CSV_MORE = {
    "Title": "title", "Department": "department", "Company": "company",
    "physicalDeliveryOfficeName": "office", "StreetAddress": "street_address", "l": "city", "st": "state",
    "PostalCode": "postal_code", "c": "country_code", "co": "country", "telephoneNumber": "telephone_number",
    "mobile": "mobile", "facsimileTelephoneNumber": "fax", "employeeID": "employee_id", "Manager": "manager",
    "targetAddress": "target_address", "msExchHideFromAddressLists": "hide_from_address_lists",
    "msExchRecipientTypeDetails": "recipient_type_details", "msExchRecipientDisplayType": "recipient_display_type",
    "msExchRemoteRecipientType": "remote_recipient_type", "homeMDB": "home_mdb",
    "legacyExchangeDN": "legacy_exchange_dn",
    **{f"extensionAttribute{i}": f"extension_attribute_{i}" for i in range(1, 16)},
    "msExchMailboxGuid": "exchange_guid", "msExchArchiveGUID": "archive_guid",
}
#: LDIF attribute → column (text), and the binary GUID ones.
LDIF_MORE = {h: c for h, c in AD_CSV_MORE.items() if c not in ("exchange_guid", "archive_guid")} | {
    "title": "title", "department": "department", "company": "company", "streetAddress": "street_address",
    "postalCode": "postal_code", "manager": "manager"}
LDIF_GUIDS = {"msExchMailboxGuid": "exchange_guid", "msExchArchiveGUID": "archive_guid"}
for _name in ("Title", "Department", "Company", "StreetAddress", "PostalCode", "Manager"):
    LDIF_MORE.pop(_name)
EXO_HEADERS = ("ExternalDirectoryObjectId", "UserPrincipalName", "PrimarySmtpAddress", "RecipientTypeDetails",
               "ExchangeGuid", "ArchiveGuid", "LegacyExchangeDN", "EmailAddresses")
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"


def ad_csv_values(ad: pd.DataFrame) -> list[pd.Series]:
    """The extra CSV columns' values, as Export-Csv writes them (True/False flags)."""
    out = []
    for col in AD_CSV_MORE.values():
        values = ad[col] if col in ad else pd.Series(pd.NA, index=ad.index, dtype="str")
        if col == "hide_from_address_lists":
            b = values.astype("boolean")
            values = pd.Series(np.where(b.isna(), None, np.where(b.fillna(False), "True", "False")), dtype="str")
        out.append(values)
    return out


def ldif_parts(ad: pd.DataFrame, line: object) -> list[pa.Array]:
    """The extra LDIF lines (``line(name, values, binary=)`` is the writer's line builder)."""
    parts = []
    for name, col in LDIF_MORE.items():
        values = ad[col]
        if col == "hide_from_address_lists":
            b = values.astype("boolean")
            values = pd.Series(np.where(b.isna(), None, np.where(b.fillna(False), "TRUE", "FALSE")), dtype="str")
        parts.append(line(name, values))
    for name, col in LDIF_GUIDS.items():
        parts.append(line(name, anchors.guid_to_immutable_id_series(ad[col]), binary=True))
    return parts


def _plans(state: pd.Series, provisioned: bool) -> pa.Array:
    """assignedPlans / provisionedPlans: one Exchange Online plan where the user has one."""
    arr = as_arrow(state)
    if provisioned:
        item = concat_text('[{"capabilityStatus":"Enabled","provisioningStatus":', json_str(arr),
                           ',"service":"exchange"}]')
    else:
        item = concat_text('[{"assignedDateTime":"2024-03-04T09:15:27Z","capabilityStatus":', json_str(arr),
                           ',"service":"exchange","servicePlanId":"efb87545-963c-4e0d-99df-69c6916d9eb0"}]')
    return pc.if_else(pc.is_valid(arr), item, scalar("[]"))


def graph_more(users: pd.DataFrame) -> dict[str, object]:
    """The extra Graph properties of each user, as ``json_obj`` fields."""
    ext = json_obj(**{f"extensionAttribute{i}": json_str(users[f"extension_attribute_{i}"]) for i in range(1, 16)})
    phones = concat_text("[", pc.fill_null(json_str(users["business_phone"]).cast(LARGE_STRING), scalar("")), "]")
    phones = pc.if_else(pc.equal(phones, scalar("[null]")), scalar("[]"), phones)
    fields = {"givenName": "given_name", "surname": "surname", "jobTitle": "job_title", "department": "department",
              "companyName": "company_name", "officeLocation": "office_location", "streetAddress": "street_address",
              "city": "city", "state": "state", "postalCode": "postal_code", "usageLocation": "usage_location",
              "country": "country", "mobilePhone": "mobile_phone", "faxNumber": "fax_number",
              "employeeId": "employee_id"}
    return {**{k: json_str(users[v]) for k, v in fields.items()}, "businessPhones": phones,
            "showInAddressList": json_bool(users["show_in_address_list"]), "onPremisesExtensionAttributes": ext,
            "assignedPlans": _plans(users["exchange_assigned"], False),
            "provisionedPlans": _plans(users["exchange_provisioned"], True)}


def graph_manager(users: pd.DataFrame) -> pa.Array:
    """``,"manager":{…}`` for users with a manager, else nothing (Graph leaves the key out)."""
    text = concat_text(',"manager":{"@odata.type":"#microsoft.graph.user","id":', json_str(users["manager_id"]), "}")
    return pc.if_else(pc.is_valid(as_arrow(users["manager_id"])), text, scalar(""))


def _exo_rows(exo: pd.DataFrame, start: int = 0) -> pa.Array:
    offsets, flat = list_parts(exo["email_addresses"])
    archive = exo["archive_guid"].fillna(EMPTY_GUID) if "archive_guid" in exo else pd.Series(
        [EMPTY_GUID] * len(exo), dtype="str")
    columns = (exo["entra_id"], exo["upn"], exo["primary_smtp"], exo["recipient_type_details"],
               exo["exchange_guid"], archive, exo["legacy_exchange_dn"], join_lists(offsets, flat, ";"))
    return csv_rows(columns)


def write_exo_csv(exo: pd.DataFrame, path: Path) -> Path:
    """``Get-EXOMailbox … | Select-Object … | Export-Csv -NoTypeInformation -Encoding UTF8`` (README.md)."""
    return write_powershell_csv(exo, path, EXO_HEADERS, _exo_rows)
