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
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import anchors
from .snapshot import Snapshot

GRAPH = "https://graph.microsoft.com/v1.0"
GRAPH_SELECT = ("id,userPrincipalName,displayName,mail,mailNickname,proxyAddresses,onPremisesImmutableId,"
                "onPremisesSyncEnabled,accountEnabled,userType,assignedLicenses,creationType")
GRAPH_PAGE = 999
OKTA_ORG = "https://contoso.okta.com"
OKTA_TIME = "2024-03-04T09:15:27.000Z"
AD_FORMATS = ("csv", "ldif", "both")
_LDIF_WIDTH = 78
_LS = pa.large_string()


# ---------------------------------------------------------------------------------------------------------------
# Arrow text helpers
# ---------------------------------------------------------------------------------------------------------------

def _arr(values: pd.Series | pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous large_string Arrow array."""
    arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr.cast(_LS)


def _s(text: str) -> pa.Scalar:
    return pa.scalar(text, _LS)


def _cat(*parts: pa.Array | str, skip_nulls: bool = False) -> pa.Array:
    """Element-wise concatenation; str parts are constants. Null parts make the result null unless skipped."""
    args = [_s(p) if isinstance(p, str) else p for p in parts]
    options = pc.JoinOptions(null_handling="skip" if skip_nulls else "emit_null")
    return pc.binary_join_element_wise(*args, _s(""), options=options)


def _join_lists(offsets: np.ndarray, flat: pa.Array, sep: str) -> pa.Array:
    """Join the values of each list (given by ``offsets`` into ``flat``) with ``sep``."""
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), flat)
    return pc.binary_join(lists, _s(sep))


def _list_parts(values: pd.Series) -> tuple[np.ndarray, pa.Array]:
    arr = _arr_list(values)
    return arr.offsets.to_numpy().astype(np.int64), _arr(arr.flatten())


def _arr_list(values: pd.Series) -> pa.ListArray:
    arr = pa.array(values, from_pandas=True)
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return arr if arr.offset == 0 else pa.concat_arrays([arr])


def _write(fh, rows: pa.Array, sep: str = "", last: str = "") -> None:
    """Write rows joined by ``sep`` (and ``last`` after the final row) without building one Python string."""
    n = len(rows)
    if n == 0:
        return
    tail = pa.array([sep] * (n - 1) + [last], _LS) if sep or last else None
    rows = _arr(_cat(rows, tail) if tail is not None else rows)
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset:rows.offset + n + 1]
    fh.write(memoryview(rows.buffers()[2])[offsets[0]:offsets[-1]])


# ---------------------------------------------------------------------------------------------------------------
# JSON (compact, UTF-8 unescaped, as Graph and Okta send it)
# ---------------------------------------------------------------------------------------------------------------

def _jstr(values: pd.Series | pa.Array) -> pa.Array:
    """JSON string literal of each value; missing values become ``null``."""
    arr = _arr(values)
    control = pc.match_substring_regex(arr, r"[\x00-\x1f]").fill_null(False)
    if pc.any(control).as_py():
        arr = pc.if_else(control, pa.array([None] * len(arr), _LS), arr)
    esc = pc.replace_substring(pc.replace_substring(arr, "\\", "\\\\"), '"', '\\"')
    lit = _cat('"', esc, '"')
    if pc.any(control).as_py():
        raw = pa.array(values, from_pandas=True).to_pylist()
        dumped = [json.dumps(v, ensure_ascii=False) if c else None for v, c in zip(raw, control.to_pylist())]
        lit = pc.if_else(control, pa.array(dumped, _LS), lit)
    return pc.fill_null(lit, _s("null"))


def _jbool(values: pd.Series) -> pa.Array:
    b = values.astype("boolean")
    text = np.where(b.isna().to_numpy(), "null", np.where(b.fillna(False).to_numpy(dtype=bool), "true", "false"))
    return pa.array(text, _LS)


def _jlist(values: pd.Series, element=_jstr) -> pa.Array:
    offsets, flat = _list_parts(values)
    return _cat("[", _join_lists(offsets, element(flat), ","), "]")


def _jobj(**fields: pa.Array | str) -> pa.Array:
    """JSON objects from columns of JSON texts (str values are constant JSON texts)."""
    parts: list[pa.Array | str] = []
    for i, (key, value) in enumerate(fields.items()):
        parts += [("{" if i == 0 else ",") + json.dumps(key) + ":", value]
    return _cat(*parts, "}")


# ---------------------------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------------------------

def write_ad_csv(ad: pd.DataFrame, path: Path) -> Path:
    """``Export-Csv -NoTypeInformation -Encoding UTF8`` of the selected Get-ADUser properties."""
    def flag(values: pd.Series) -> pd.Series:
        b = values.astype("boolean")
        return pd.Series(np.where(b.isna(), None, np.where(b.fillna(False), "True", "False")), dtype="str")

    offsets, flat = _list_parts(ad["proxy_addresses"])
    columns = {
        "DistinguishedName": ad["dn"], "ObjectGUID": ad["object_guid"], "SamAccountName": ad["sam_account_name"],
        "UserPrincipalName": ad["upn"], "mail": ad["mail"], "proxyAddresses": _join_lists(offsets, flat, ";"),
        "mS-DS-ConsistencyGuid": anchors.immutable_id_to_guid_series(ad["consistency_guid"]),
        "DisplayName": ad["display_name"], "GivenName": ad["given_name"], "Surname": ad["surname"],
        "mailNickname": ad["mail_nickname"], "Enabled": flag(ad["enabled"]), "ObjectClass": ad["object_class"],
        "isCriticalSystemObject": flag(ad["is_critical_system_object"]),
    }
    quoted = []
    for i, values in enumerate(columns.values()):
        text = pc.fill_null(_arr(values), _s(""))
        quoted += ([] if i == 0 else [","]) + ['"', pc.replace_substring(text, '"', '""'), '"']
    header = ",".join(f'"{name}"' for name in columns) + "\r\n"
    with open(path, "wb") as fh:
        fh.write(b"\xef\xbb\xbf" + header.encode("utf-8"))
        _write(fh, _cat(*quoted), "\r\n", "\r\n")
    return path


_LDIF_UNSAFE = r"^[ :<]|[^\x01-\x09\x0b\x0c\x0e-\x7f]| $"


def _ldif_lines(name: str, values: pd.Series | pa.Array, *, binary: bool = False) -> pa.Array:
    """``name: value`` lines (CRLF-terminated, folded); base64 (``name::``) for values that are not safe text.

    ``binary`` values are already base64 of raw bytes (objectGUID, mS-DS-ConsistencyGuid)."""
    arr = pc.if_else(pc.equal(_arr(values), _s("")), pa.scalar(None, _LS), _arr(values))
    if binary:
        lines = _cat(name + ":: ", arr)
    else:
        unsafe = pc.match_substring_regex(arr, _LDIF_UNSAFE).fill_null(False)
        lines = _cat(name + ": ", arr)
        if pc.any(unsafe).as_py():
            encoded = [base64.b64encode(v.encode("utf-8")).decode("ascii") if u else None
                       for v, u in zip(arr.to_pylist(), unsafe.to_pylist())]
            lines = pc.if_else(unsafe, _cat(name + ":: ", pa.array(encoded, _LS)), lines)
    long = pc.greater(pc.utf8_length(lines), _LDIF_WIDTH).fill_null(False)
    if pc.any(long).as_py():
        folded = [_fold(v) if f else None for v, f in zip(lines.to_pylist(), long.to_pylist())]
        lines = pc.if_else(long, pa.array(folded, _LS), lines)
    return _cat(lines, "\r\n")


def _fold(line: str) -> str:
    head, rest = line[:_LDIF_WIDTH], line[_LDIF_WIDTH:]
    step = _LDIF_WIDTH - 1
    return head + "".join("\r\n " + rest[i:i + step] for i in range(0, len(rest), step))


def write_ad_ldif(ad: pd.DataFrame, path: Path) -> Path:
    """``ldifde -f ad.ldf -r "(objectClass=user)"`` style LDIF of the AD users."""
    offsets, flat = _list_parts(ad["proxy_addresses"])
    proxies = _join_lists(offsets, _ldif_lines("proxyAddresses", flat), "")
    enabled = ad["enabled"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    critical = ad["is_critical_system_object"].astype("boolean")
    cn = ad["dn"].str.extract(r"^CN=((?:\\.|[^,])*)", expand=False)
    entry = _cat(
        _ldif_lines("dn", ad["dn"]), "changetype: add\r\n",
        "objectClass: top\r\nobjectClass: person\r\nobjectClass: organizationalPerson\r\nobjectClass: user\r\n",
        _ldif_lines("cn", cn), _ldif_lines("sn", ad["surname"]), _ldif_lines("givenName", ad["given_name"]),
        _ldif_lines("distinguishedName", ad["dn"]), _ldif_lines("displayName", ad["display_name"]),
        _ldif_lines("objectGUID", anchors.guid_to_immutable_id_series(ad["object_guid"]), binary=True),
        _ldif_lines("userAccountControl", pd.Series(np.where(enabled, "512", "514"), dtype="str")),
        _ldif_lines("sAMAccountName", ad["sam_account_name"]), _ldif_lines("userPrincipalName", ad["upn"]),
        _ldif_lines("mail", ad["mail"]), proxies, _ldif_lines("mailNickname", ad["mail_nickname"]),
        _ldif_lines("mS-DS-ConsistencyGuid", ad["consistency_guid"], binary=True),
        _ldif_lines("isCriticalSystemObject", pd.Series(np.where(critical.fillna(False), "TRUE", None),
                                                        dtype="str")),
        skip_nulls=True)
    with open(path, "wb") as fh:
        _write(fh, _cat(entry, "\r\n"))
    return path


def write_entra_json(users: pd.DataFrame, path: Path) -> Path:
    """Graph ``/users`` pages of 999, one page object per line."""
    lic_offsets, skus = _list_parts(users["assigned_licenses"])
    licences = _cat("[", _join_lists(lic_offsets, _jobj(skuId=_jstr(skus), disabledPlans="[]"), ","), "]")
    rows = _jobj(
        id=_jstr(users["id"]), userPrincipalName=_jstr(users["upn"]), displayName=_jstr(users["display_name"]),
        mail=_jstr(users["mail"]), mailNickname=_jstr(users["mail_nickname"]),
        proxyAddresses=_jlist(users["proxy_addresses"]), onPremisesImmutableId=_jstr(users["immutable_id"]),
        onPremisesSyncEnabled=_jbool(users["on_prem_sync_enabled"]),
        accountEnabled=_jbool(users["account_enabled"]), userType=_jstr(users["user_type"]),
        assignedLicenses=licences, creationType=_jstr(users["creation_type"]))
    n = len(rows)
    starts = np.arange(0, n, GRAPH_PAGE, dtype=np.int64)
    bodies = _join_lists(np.append(starts, n), rows, ",") if n else pa.array([""], _LS)
    pages = len(bodies)
    context = json.dumps(f"{GRAPH}/$metadata#users({GRAPH_SELECT})")
    links = [f',"@odata.nextLink":' + json.dumps(f"{GRAPH}/users?$select={GRAPH_SELECT}&$top={GRAPH_PAGE}"
                                                 f"&$skiptoken={_skiptoken(i)}") for i in range(1, pages)] + [""]
    text = _cat('{"@odata.context":' + context + ',"value":[', bodies, "]", pa.array(links, _LS), "}")
    with open(path, "wb") as fh:
        _write(fh, text, "\n", "\n")
    return path


def _skiptoken(page: int) -> str:
    return "RFNwdAIAAQAAAB" + base64.urlsafe_b64encode(f"page:{page:08d}".encode()).decode().rstrip("=")


def write_okta_users(users: pd.DataFrame, path: Path) -> Path:
    """``GET /api/v1/users`` as one JSON array."""
    ts = json.dumps(OKTA_TIME)
    rows = _jobj(
        id=_jstr(users["id"]), status=_jstr(users["status"]), created=ts, activated=ts, statusChanged=ts,
        lastLogin=ts, lastUpdated=ts, passwordChanged=ts, type='{"id":"oty1a2b3c4D5e6F7g8h9"}',
        profile=_jobj(firstName=_jstr(users["first_name"]), lastName=_jstr(users["last_name"]), mobilePhone="null",
                      secondEmail="null", login=_jstr(users["login"]), email=_jstr(users["email"])),
        credentials=_jobj(provider=_jobj(type=_jstr(users["provider_type"]), name=_jstr(users["provider_name"]))),
        _links=_jobj(self=_jobj(href=_cat('"' + OKTA_ORG + "/api/v1/users/", _arr(users["id"]), '"'))))
    with open(path, "wb") as fh:
        fh.write(b"[")
        _write(fh, rows, ",")
        fh.write(b"]")
    return path


def write_okta_app_users(app_users: pd.DataFrame, path: Path) -> Path:
    """``GET /api/v1/apps/{appId}/users`` of the Office 365 app as one JSON array."""
    ts = json.dumps(OKTA_TIME)
    user_id = _arr(app_users["user_id"])
    rows = _jobj(
        id=_jstr(user_id), externalId=_jstr(app_users["external_id"]), created=ts, lastUpdated=ts,
        scope=_jstr(app_users["scope"]), status=_jstr(app_users["status"]), statusChanged=ts,
        passwordChanged="null", syncState=_jstr(app_users["sync_state"]), lastSync=ts,
        credentials=_jobj(userName=_jstr(app_users["user_name"])),
        profile=_jobj(immutableId=_jstr(app_users["immutable_id"]), usageLocation='"US"'),
        _links=_jobj(app=_jobj(href=_cat('"' + OKTA_ORG + "/api/v1/apps/", _arr(app_users["app_id"]), '"')),
                     user=_jobj(href=_cat('"' + OKTA_ORG + "/api/v1/users/", user_id, '"'))))
    with open(path, "wb") as fh:
        fh.write(b"[")
        _write(fh, rows, ",")
        fh.write(b"]")
    return path


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
    return out
