"""Write a snapshot as the export files consultants get from the real tools (for the demo and the benchmarks).

Formats, byte for byte as the tools write them, so that the export readers in ``hybridx_nb/sources`` are
exercised on the real thing:

- AD: ``Get-ADUser … | Select-Object … | Export-Csv -NoTypeInformation -Encoding UTF8`` (UTF-8 with BOM, CRLF,
  every field double-quoted, ``proxyAddresses`` joined with ``;``, GUIDs as strings), or ``ldifde`` LDIF
  (``objectGUID::`` base64 of the raw bytes, values that are not safe ASCII in base64, lines folded at 78 columns).
- Entra ID: Graph ``GET /v1.0/users`` pages of 999 as a collector saves them: one page object per line, each with
  ``@odata.context``, ``value`` and (but the last) ``@odata.nextLink``.
- Okta: ``GET /api/v1/users`` and ``GET /api/v1/apps/{appId}/users`` JSON arrays.
- Tenant: hybridx's own ``tenant.json`` (organization, domains, sync features, role holders, Okta mode).

Everything is built with Arrow column operations, so a million users take seconds, not minutes.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core import anchors
from hybridx_nb.demo import export_more as more
from hybridx_nb.demo.render import (
    LARGE_STRING,
    as_arrow,
    concat_text,
    csv_rows,
    join_lists,
    json_bool,
    json_list,
    json_obj,
    json_str,
    list_parts,
    patch,
    rows_with,
    scalar,
    write_chunks,
    write_powershell_csv,
)
from hybridx_nb.snapshot.store import Snapshot

GRAPH = "https://graph.microsoft.com/v1.0"
GRAPH_SELECT = ("id,userPrincipalName,displayName,mail,mailNickname,proxyAddresses,onPremisesImmutableId,"
                "onPremisesSyncEnabled,accountEnabled,userType,assignedLicenses,creationType,"
                "givenName,surname,jobTitle,department,companyName,officeLocation,streetAddress,city,state,"
                "postalCode,usageLocation,country,mobilePhone,faxNumber,employeeId,businessPhones,showInAddressList,"
                "onPremisesExtensionAttributes,assignedPlans,provisionedPlans")
GRAPH_PAGE = 999
OKTA_ORG = "https://contoso.okta.com"
OKTA_TIME = "2024-03-04T09:15:27.000Z"
AD_FORMATS = ("csv", "ldif", "both")
_LDIF_WIDTH = 78


# ---------------------------------------------------------------------------------------------------------------
# Arrow text helpers
# ---------------------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------------------
# JSON (compact, UTF-8 unescaped, as Graph and Okta send it)
# ---------------------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------------------------

AD_CSV_HEADERS = ("DistinguishedName", "ObjectGUID", "SamAccountName", "UserPrincipalName", "mail", "proxyAddresses",
                  "mS-DS-ConsistencyGuid", "DisplayName", "GivenName", "Surname", "mailNickname", "Enabled",
                  "ObjectClass", "isCriticalSystemObject", *more.AD_CSV_MORE)


def _flag(values: pd.Series, true: str = "True", false: str | None = "False") -> pd.Series:
    b = values.astype("boolean")
    return pd.Series(np.where(b.isna(), None, np.where(b.fillna(False), true, false)), dtype="str")


def _ad_csv_rows(ad: pd.DataFrame, start: int = 0) -> pa.Array:
    offsets, flat = list_parts(ad["proxy_addresses"])
    columns = (ad["dn"], ad["object_guid"], ad["sam_account_name"], ad["upn"], ad["mail"],
               join_lists(offsets, flat, ";"), anchors.immutable_id_to_guid_series(ad["consistency_guid"]),
               ad["display_name"], ad["given_name"], ad["surname"], ad["mail_nickname"], _flag(ad["enabled"]),
               ad["object_class"], _flag(ad["is_critical_system_object"], "True", None), *more.ad_csv_values(ad))
    return csv_rows(columns)


def write_ad_csv(ad: pd.DataFrame, path: Path) -> Path:
    """``Export-Csv -NoTypeInformation -Encoding UTF8`` of the selected Get-ADUser properties."""
    return write_powershell_csv(ad, path, AD_CSV_HEADERS, _ad_csv_rows)


def _ldif_lines(name: str, values: pd.Series | pa.Array, *, binary: bool = False) -> pa.Array:
    """``name: value`` lines (CRLF-terminated, folded at 78 columns); null where the value is missing.

    Values that are not safe ASCII are written base64 (``name::``); ``binary`` values are already base64 of raw
    bytes (objectGUID, mS-DS-ConsistencyGuid)."""
    arr = as_arrow(values)
    arr = pc.if_else(pc.equal(arr, scalar("")), pa.scalar(None, LARGE_STRING), arr)
    if binary:
        lines = concat_text(name + ":: ", arr)
    else:
        # RFC 2849: base64 unless all bytes are ASCII but NUL, LF, CR, with no leading ' ', ':', '<' or trailing ' '
        unsafe = rows_with(arr, lambda b: (b >= 0x80) | (b == 0) | (b == 10) | (b == 13), first=b" :<",
                            last=b" ")
        lines = patch(concat_text(name + ": ", arr), unsafe, arr,
                       lambda v: f"{name}:: {base64.b64encode(v.encode('utf-8')).decode('ascii')}")
    long = pc.greater(pc.binary_length(lines), _LDIF_WIDTH).fill_null(False).to_numpy(zero_copy_only=False)
    return concat_text(patch(lines, long, lines, _fold), "\r\n")


def _unescape_rdn(value: str) -> str:
    """An RDN value as the attribute holds it: ``\\0A`` is a line feed (conflict objects), ``\\,`` a comma."""
    raw = re.sub(rb"\\([0-9A-Fa-f]{2}|.)", lambda m: bytes.fromhex(m[1].decode()) if len(m[1]) == 2 else m[1],
                 value.encode("utf-8"))
    return raw.decode("utf-8", errors="replace")


def _fold(line: str) -> str:
    head, rest = line[:_LDIF_WIDTH], line[_LDIF_WIDTH:]
    step = _LDIF_WIDTH - 1
    return head + "".join("\r\n " + rest[i:i + step] for i in range(0, len(rest), step))


def _ldif_entries(ad: pd.DataFrame, start: int = 0) -> pa.Array:
    offsets, flat = list_parts(ad["proxy_addresses"])
    enabled = ad["enabled"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    rdn = as_arrow(ad["dn"].str.replace(r"^CN=((?:\\.|[^,])*),.*$", r"\1", regex=True))
    cn = patch(rdn, rows_with(rdn, lambda b: b == 0x5C), rdn, _unescape_rdn)
    return concat_text(
        _ldif_lines("dn", ad["dn"]), "changetype: add\r\n",
        "objectClass: top\r\nobjectClass: person\r\nobjectClass: organizationalPerson\r\nobjectClass: user\r\n",
        _ldif_lines("cn", cn), _ldif_lines("sn", ad["surname"]), _ldif_lines("givenName", ad["given_name"]),
        _ldif_lines("distinguishedName", ad["dn"]), _ldif_lines("displayName", ad["display_name"]),
        _ldif_lines("objectGUID", anchors.guid_to_immutable_id_series(ad["object_guid"]), binary=True),
        _ldif_lines("userAccountControl", pd.Series(np.where(enabled, "512", "514"), dtype="str")),
        _ldif_lines("sAMAccountName", ad["sam_account_name"]), _ldif_lines("userPrincipalName", ad["upn"]),
        _ldif_lines("mail", ad["mail"]), join_lists(offsets, _ldif_lines("proxyAddresses", flat), ""),
        _ldif_lines("mailNickname", ad["mail_nickname"]),
        _ldif_lines("mS-DS-ConsistencyGuid", ad["consistency_guid"], binary=True),
        _ldif_lines("isCriticalSystemObject", _flag(ad["is_critical_system_object"], "TRUE", None)),
        *more.ldif_parts(ad, _ldif_lines), "\r\n", skip_nulls=True)


def write_ad_ldif(ad: pd.DataFrame, path: Path) -> Path:
    """``ldifde -f ad.ldf -r "(objectClass=user)"`` style LDIF of the AD users."""
    with open(path, "wb") as fh:
        write_chunks(fh, ad, _ldif_entries)
    return path


def _graph_rows(users: pd.DataFrame) -> pa.Array:
    lic_offsets, skus = list_parts(users["assigned_licenses"])
    licences = concat_text("[", join_lists(lic_offsets, concat_text(json_obj(skuId=json_str(skus), disabledPlans="[]")), ","), "]")
    return concat_text(json_obj(
        id=json_str(users["id"]), userPrincipalName=json_str(users["upn"]), displayName=json_str(users["display_name"]),
        mail=json_str(users["mail"]), mailNickname=json_str(users["mail_nickname"]),
        proxyAddresses=json_list(users["proxy_addresses"]), onPremisesImmutableId=json_str(users["immutable_id"]),
        onPremisesSyncEnabled=json_bool(users["on_prem_sync_enabled"]),
        accountEnabled=json_bool(users["account_enabled"]), userType=json_str(users["user_type"]),
        assignedLicenses=licences, creationType=json_str(users["creation_type"]), **more.graph_more(users))[:-1],
        more.graph_manager(users), "}")


def write_entra_json(users: pd.DataFrame, path: Path) -> Path:
    """Graph ``/users`` pages of 999, one page object per line."""
    n = len(users)
    pages = max(1, -(-n // GRAPH_PAGE))
    context = '{"@odata.context":' + json.dumps(f"{GRAPH}/$metadata#users({GRAPH_SELECT},manager(id))") + ',"value":['

    def render(chunk: pd.DataFrame, start: int) -> pa.Array:
        rows = _graph_rows(chunk)
        bounds = np.append(np.arange(0, len(chunk), GRAPH_PAGE), len(chunk)).astype(np.int64)
        first_page = start // GRAPH_PAGE
        links = [_next_link(first_page + i + 1) if first_page + i + 1 < pages else ""
                 for i in range(len(bounds) - 1)]
        return concat_text(context, join_lists(bounds, rows, ","), "]", pa.array(links, LARGE_STRING), "}")

    with open(path, "wb") as fh:
        if n:
            write_chunks(fh, users, render, "\n")
        else:
            fh.write((context + "]}").encode("utf-8"))
        fh.write(b"\n")
    return path


def _next_link(page: int) -> str:
    token = "RFNwdAIAAQAAAB" + base64.urlsafe_b64encode(f"page:{page:08d}".encode()).decode().rstrip("=")
    return ',"@odata.nextLink":' + json.dumps(f"{GRAPH}/users?$select={GRAPH_SELECT}&$expand=manager($select=id)&$top={GRAPH_PAGE}"
                                              f"&$skiptoken={token}")


def _okta_user_rows(users: pd.DataFrame, start: int = 0) -> pa.Array:
    ts = json.dumps(OKTA_TIME)
    return concat_text(json_obj(
        id=json_str(users["id"]), status=json_str(users["status"]), created=ts, activated=ts, statusChanged=ts,
        lastLogin=ts, lastUpdated=ts, passwordChanged=ts, type='{"id":"oty1a2b3c4D5e6F7g8h9"}',
        profile=json_obj(firstName=json_str(users["first_name"]), lastName=json_str(users["last_name"]), mobilePhone="null",
                      secondEmail="null", login=json_str(users["login"]), email=json_str(users["email"])),
        credentials=json_obj(provider=json_obj(type=json_str(users["provider_type"]), name=json_str(users["provider_name"]))),
        _links=json_obj(self=json_obj(href=concat_text('"' + OKTA_ORG + "/api/v1/users/", as_arrow(users["id"]), '"')))))


def _okta_app_user_rows(app_users: pd.DataFrame, start: int = 0) -> pa.Array:
    ts = json.dumps(OKTA_TIME)
    user_id = as_arrow(app_users["user_id"])
    return concat_text(json_obj(
        id=json_str(user_id), externalId=json_str(app_users["external_id"]), created=ts, lastUpdated=ts,
        scope=json_str(app_users["scope"]), status=json_str(app_users["status"]), statusChanged=ts,
        passwordChanged="null", syncState=json_str(app_users["sync_state"]), lastSync=ts,
        credentials=json_obj(userName=json_str(app_users["user_name"])),
        profile=json_obj(immutableId=json_str(app_users["immutable_id"]), usageLocation='"US"'),
        _links=json_obj(app=json_obj(href=concat_text('"' + OKTA_ORG + "/api/v1/apps/", as_arrow(app_users["app_id"]), '"')),
                     user=json_obj(href=concat_text('"' + OKTA_ORG + "/api/v1/users/", user_id, '"')))))


def _write_json_array(frame: pd.DataFrame, path: Path, render: Callable[[pd.DataFrame, int], pa.Array]) -> Path:
    with open(path, "wb") as fh:
        fh.write(b"[")
        write_chunks(fh, frame, render, ",")
        fh.write(b"]")
    return path


def write_okta_users(users: pd.DataFrame, path: Path) -> Path:
    """``GET /api/v1/users`` as one JSON array."""
    return _write_json_array(users, path, _okta_user_rows)


def write_okta_app_users(app_users: pd.DataFrame, path: Path) -> Path:
    """``GET /api/v1/apps/{appId}/users`` of the Office 365 app as one JSON array."""
    return _write_json_array(app_users, path, _okta_app_user_rows)


def tenant_document(snap: Snapshot) -> dict:
    """hybridx's tenant.json: organization, domains, sync features, role holders and the Okta mode."""
    t = snap.tenant
    domains = snap["entra_domains"]
    roles = snap["entra_role_members"]

    def plain(frame: pd.DataFrame, names: dict[str, str]) -> list[dict]:
        return [{k: (None if pd.isna(v) else (bool(v) if isinstance(v, (bool, np.bool_)) else v))
                 for k, v in zip(names.values(), row)} for row in frame[list(names)].itertuples(index=False)]

    return {
        "organization": {"id": t.tenant_id, "displayName": t.display_name, "onPremisesSyncEnabled": t.org_sync_enabled},
        "domains": plain(domains, {"name": "id", "authentication_type": "authenticationType",
                                   "is_verified": "isVerified", "is_default": "isDefault", "is_initial": "isInitial"}),
        "onPremisesSynchronization": {"features": dict(t.features)},
        "roleMembers": plain(roles, {"principal_id": "principalId", "role_name": "roleName", "role_id": "roleId"}),
        "okta": {"provisioningMode": t.okta_provisioning_mode},
    }


def write_tenant_json(snap: Snapshot, path: Path) -> Path:
    path.write_text(json.dumps(tenant_document(snap), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_exports(snap: Snapshot, folder: str | Path, *, ad_format: str = "csv") -> dict[str, Path]:
    """Write every export file of ``snap`` into ``folder``; returns {"ad", "entra", "okta", "okta_app_users",
    "tenant"} (and "ad_ldif" with ``ad_format="both"``)."""
    if ad_format not in AD_FORMATS:
        raise ValueError(f"ad_format must be one of {', '.join(AD_FORMATS)}, not {ad_format!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    if ad_format in ("csv", "both"):
        out["ad"] = write_ad_csv(snap["ad_users"], folder / "ad.csv")
    if ad_format in ("ldif", "both"):
        out["ad" if ad_format == "ldif" else "ad_ldif"] = write_ad_ldif(snap["ad_users"], folder / "ad.ldf")
    out["entra"] = write_entra_json(snap["entra_users"], folder / "entra_users.json")
    out["okta"] = write_okta_users(snap["okta_users"], folder / "okta_users.json")
    out["okta_app_users"] = write_okta_app_users(snap["okta_app_users"], folder / "okta_app_users.json")
    out["tenant"] = write_tenant_json(snap, folder / "tenant.json")
    if snap.has("exo_mailboxes"):
        out["exo"] = more.write_exo_csv(snap["exo_mailboxes"], folder / "exo_mailboxes.csv")
    return out
