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
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core import anchors
from hybridx_nb.snapshot.store import Snapshot

GRAPH = "https://graph.microsoft.com/v1.0"
GRAPH_SELECT = ("id,userPrincipalName,displayName,mail,mailNickname,proxyAddresses,onPremisesImmutableId,"
                "onPremisesSyncEnabled,accountEnabled,userType,assignedLicenses,creationType")
GRAPH_PAGE = 999
OKTA_ORG = "https://contoso.okta.com"
OKTA_TIME = "2024-03-04T09:15:27.000Z"
AD_FORMATS = ("csv", "ldif", "both")
_LDIF_WIDTH = 78
CHUNK = 99_900  # rows rendered at a time: a multiple of the Graph page size
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


def _cat(*parts: pa.Array | str | list, skip_nulls: bool = False) -> pa.Array:
    """Element-wise concatenation in one Arrow call; str parts are constants and list parts (from ``_jobj``)
    are spliced in. A null part makes the row null unless ``skip_nulls``."""
    flat: list[pa.Array | str] = []

    def add(part: pa.Array | str | list) -> None:
        if isinstance(part, list):
            for p in part:
                add(p)
        elif isinstance(part, str) and flat and isinstance(flat[-1], str):
            flat[-1] += part
        else:
            flat.append(part)

    add(list(parts))
    options = pc.JoinOptions(null_handling="skip" if skip_nulls else "emit_null")
    args = [_s(p) if isinstance(p, str) else p for p in flat]
    return pc.binary_join_element_wise(*args, _s(""), options=options)


def _join_lists(offsets: np.ndarray, flat: pa.Array, sep: str) -> pa.Array:
    """Join the values of each list (given by ``offsets`` into ``flat``) with ``sep``."""
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), flat)
    return pc.binary_join(lists, _s(sep))


def _list_parts(values: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """A list column as (offsets from 0, flat values), for ``_join_lists`` after an element-wise step."""
    arr = pa.array(values, from_pandas=True)
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    offsets = arr.offsets.to_numpy().astype(np.int64)
    return offsets - offsets[0], _arr(arr.flatten())


def _write(fh: BinaryIO, rows: pa.Array, sep: str = "") -> None:
    """Write rows joined by ``sep`` straight from the Arrow buffer (no Python string per row)."""
    n = len(rows)
    if n == 0:
        return
    if sep:
        rows = _cat(rows, pa.array([sep] * (n - 1) + [""], _LS))
    rows = _arr(rows)
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset:rows.offset + n + 1]
    fh.write(memoryview(rows.buffers()[2])[offsets[0]:offsets[-1]])


def _write_chunks(fh: BinaryIO, frame: pd.DataFrame, render: Callable[[pd.DataFrame, int], pa.Array],
                  sep: str = "") -> None:
    """Render ``frame`` a chunk of rows at a time (bounded memory, linear time) and write the rows joined by
    ``sep``. ``render(rows, start)`` returns one text per row; ``start`` is the chunk's first row number."""
    chunk = CHUNK
    for start in range(0, len(frame), chunk):
        if start:
            fh.write(sep.encode("utf-8"))
        _write(fh, render(frame.iloc[start:start + chunk], start), sep)


def _patch(target: pa.Array, mask: np.ndarray, source: pa.Array, fn: Callable[[str], str]) -> pa.Array:
    """``target`` with the rows in ``mask`` replaced by ``fn(source value)``: Python only for those few rows."""
    if not mask.any():
        return target
    new = [fn(v) for v in _arr(source).filter(pa.array(mask)).to_pylist()]
    return pc.replace_with_mask(_arr(target), pa.array(mask), pa.array(new, _LS))


def _rows_with(arr: pa.Array, bad_byte: Callable[[np.ndarray], np.ndarray], *, first: bytes = b"",
               last: bytes = b"") -> np.ndarray:
    """Rows holding a byte for which ``bad_byte(bytes_array)`` is true, or starting/ending with given bytes.

    A scan of the Arrow data buffer with numpy: far cheaper than a regex per row."""
    arr = _arr(arr)
    n = len(arr)
    hit = np.zeros(n, dtype=bool)
    if n == 0 or arr.buffers()[2] is None:
        return hit
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + n + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]]
    offsets = offsets - offsets[0]
    if len(data) == 0:
        return hit
    bad = np.flatnonzero(bad_byte(data))
    hit[np.searchsorted(offsets, bad, side="right") - 1] = True
    nonempty = offsets[1:] > offsets[:-1]
    if first:
        hit |= nonempty & np.isin(data[np.minimum(offsets[:-1], len(data) - 1)], list(first))
    if last:
        hit |= nonempty & np.isin(data[np.maximum(offsets[1:] - 1, 0)], list(last))
    return hit & arr.is_valid().to_numpy(zero_copy_only=False)


# ---------------------------------------------------------------------------------------------------------------
# JSON (compact, UTF-8 unescaped, as Graph and Okta send it)
# ---------------------------------------------------------------------------------------------------------------

def _jstr(values: pd.Series | pa.Array) -> pa.Array:
    """JSON string literal of each value; missing values become ``null``.

    Only the rare values with a quote, backslash or control character go through ``json.dumps``."""
    arr = _arr(values)
    special = _rows_with(arr, lambda b: (b < 0x20) | (b == 0x22) | (b == 0x5C))
    lit = _patch(_cat('"', arr, '"'), special, arr, lambda v: json.dumps(v, ensure_ascii=False))
    return pc.fill_null(lit, _s("null"))


def _jbool(values: pd.Series) -> pa.Array:
    b = values.astype("boolean")
    text = np.where(b.isna().to_numpy(), "null", np.where(b.fillna(False).to_numpy(dtype=bool), "true", "false"))
    return pa.array(text, _LS)


def _jlist(values: pd.Series, element=_jstr) -> pa.Array:
    offsets, flat = _list_parts(values)
    return _cat("[", _join_lists(offsets, element(flat), ","), "]")


def _jobj(**fields: pa.Array | str | list) -> list:
    """The parts of a JSON object per row, for ``_cat``: values are columns of JSON texts, constant JSON texts
    (str) or nested ``_jobj`` parts, so a whole nested document is built in a single Arrow call."""
    parts: list = []
    for i, (key, value) in enumerate(fields.items()):
        parts += [("{" if i == 0 else ",") + json.dumps(key) + ":", value]
    return parts + ["}"]


# ---------------------------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------------------------

AD_CSV_HEADERS = ("DistinguishedName", "ObjectGUID", "SamAccountName", "UserPrincipalName", "mail", "proxyAddresses",
                  "mS-DS-ConsistencyGuid", "DisplayName", "GivenName", "Surname", "mailNickname", "Enabled",
                  "ObjectClass", "isCriticalSystemObject")


def _flag(values: pd.Series, true: str = "True", false: str | None = "False") -> pd.Series:
    b = values.astype("boolean")
    return pd.Series(np.where(b.isna(), None, np.where(b.fillna(False), true, false)), dtype="str")


def _ad_csv_rows(ad: pd.DataFrame, start: int = 0) -> pa.Array:
    offsets, flat = _list_parts(ad["proxy_addresses"])
    columns = (ad["dn"], ad["object_guid"], ad["sam_account_name"], ad["upn"], ad["mail"],
               _join_lists(offsets, flat, ";"), anchors.immutable_id_to_guid_series(ad["consistency_guid"]),
               ad["display_name"], ad["given_name"], ad["surname"], ad["mail_nickname"], _flag(ad["enabled"]),
               ad["object_class"], _flag(ad["is_critical_system_object"], "True", None))
    parts: list[pa.Array | str] = []
    for values in columns:
        text = pc.fill_null(_arr(values), _s(""))
        quoted = _patch(text, _rows_with(text, lambda b: b == 0x22), text, lambda v: v.replace('"', '""'))
        parts += ['","' if parts else '"', quoted]
    return _cat(*parts, '"')


def write_ad_csv(ad: pd.DataFrame, path: Path) -> Path:
    """``Export-Csv -NoTypeInformation -Encoding UTF8`` of the selected Get-ADUser properties."""
    with open(path, "wb") as fh:
        fh.write(b"\xef\xbb\xbf" + (",".join(f'"{h}"' for h in AD_CSV_HEADERS) + "\r\n").encode("utf-8"))
        _write_chunks(fh, ad, _ad_csv_rows, "\r\n")
        fh.write(b"\r\n" if len(ad) else b"")
    return path


def _ldif_lines(name: str, values: pd.Series | pa.Array, *, binary: bool = False) -> pa.Array:
    """``name: value`` lines (CRLF-terminated, folded at 78 columns); null where the value is missing.

    Values that are not safe ASCII are written base64 (``name::``); ``binary`` values are already base64 of raw
    bytes (objectGUID, mS-DS-ConsistencyGuid)."""
    arr = _arr(values)
    arr = pc.if_else(pc.equal(arr, _s("")), pa.scalar(None, _LS), arr)
    if binary:
        lines = _cat(name + ":: ", arr)
    else:
        # RFC 2849: base64 unless all bytes are ASCII but NUL, LF, CR, with no leading ' ', ':', '<' or trailing ' '
        unsafe = _rows_with(arr, lambda b: (b >= 0x80) | (b == 0) | (b == 10) | (b == 13), first=b" :<",
                            last=b" ")
        lines = _patch(_cat(name + ": ", arr), unsafe, arr,
                       lambda v: f"{name}:: {base64.b64encode(v.encode('utf-8')).decode('ascii')}")
    long = pc.greater(pc.binary_length(lines), _LDIF_WIDTH).fill_null(False).to_numpy(zero_copy_only=False)
    return _cat(_patch(lines, long, lines, _fold), "\r\n")


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
    offsets, flat = _list_parts(ad["proxy_addresses"])
    enabled = ad["enabled"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    rdn = _arr(ad["dn"].str.replace(r"^CN=((?:\\.|[^,])*),.*$", r"\1", regex=True))
    cn = _patch(rdn, _rows_with(rdn, lambda b: b == 0x5C), rdn, _unescape_rdn)
    return _cat(
        _ldif_lines("dn", ad["dn"]), "changetype: add\r\n",
        "objectClass: top\r\nobjectClass: person\r\nobjectClass: organizationalPerson\r\nobjectClass: user\r\n",
        _ldif_lines("cn", cn), _ldif_lines("sn", ad["surname"]), _ldif_lines("givenName", ad["given_name"]),
        _ldif_lines("distinguishedName", ad["dn"]), _ldif_lines("displayName", ad["display_name"]),
        _ldif_lines("objectGUID", anchors.guid_to_immutable_id_series(ad["object_guid"]), binary=True),
        _ldif_lines("userAccountControl", pd.Series(np.where(enabled, "512", "514"), dtype="str")),
        _ldif_lines("sAMAccountName", ad["sam_account_name"]), _ldif_lines("userPrincipalName", ad["upn"]),
        _ldif_lines("mail", ad["mail"]), _join_lists(offsets, _ldif_lines("proxyAddresses", flat), ""),
        _ldif_lines("mailNickname", ad["mail_nickname"]),
        _ldif_lines("mS-DS-ConsistencyGuid", ad["consistency_guid"], binary=True),
        _ldif_lines("isCriticalSystemObject", _flag(ad["is_critical_system_object"], "TRUE", None)),
        "\r\n", skip_nulls=True)


def write_ad_ldif(ad: pd.DataFrame, path: Path) -> Path:
    """``ldifde -f ad.ldf -r "(objectClass=user)"`` style LDIF of the AD users."""
    with open(path, "wb") as fh:
        _write_chunks(fh, ad, _ldif_entries)
    return path


def _graph_rows(users: pd.DataFrame) -> pa.Array:
    lic_offsets, skus = _list_parts(users["assigned_licenses"])
    licences = _cat("[", _join_lists(lic_offsets, _cat(_jobj(skuId=_jstr(skus), disabledPlans="[]")), ","), "]")
    return _cat(_jobj(
        id=_jstr(users["id"]), userPrincipalName=_jstr(users["upn"]), displayName=_jstr(users["display_name"]),
        mail=_jstr(users["mail"]), mailNickname=_jstr(users["mail_nickname"]),
        proxyAddresses=_jlist(users["proxy_addresses"]), onPremisesImmutableId=_jstr(users["immutable_id"]),
        onPremisesSyncEnabled=_jbool(users["on_prem_sync_enabled"]),
        accountEnabled=_jbool(users["account_enabled"]), userType=_jstr(users["user_type"]),
        assignedLicenses=licences, creationType=_jstr(users["creation_type"])))


def write_entra_json(users: pd.DataFrame, path: Path) -> Path:
    """Graph ``/users`` pages of 999, one page object per line."""
    n = len(users)
    pages = max(1, -(-n // GRAPH_PAGE))
    context = '{"@odata.context":' + json.dumps(f"{GRAPH}/$metadata#users({GRAPH_SELECT})") + ',"value":['

    def render(chunk: pd.DataFrame, start: int) -> pa.Array:
        rows = _graph_rows(chunk)
        bounds = np.append(np.arange(0, len(chunk), GRAPH_PAGE), len(chunk)).astype(np.int64)
        first_page = start // GRAPH_PAGE
        links = [_next_link(first_page + i + 1) if first_page + i + 1 < pages else ""
                 for i in range(len(bounds) - 1)]
        return _cat(context, _join_lists(bounds, rows, ","), "]", pa.array(links, _LS), "}")

    with open(path, "wb") as fh:
        if n:
            _write_chunks(fh, users, render, "\n")
        else:
            fh.write((context + "]}").encode("utf-8"))
        fh.write(b"\n")
    return path


def _next_link(page: int) -> str:
    token = "RFNwdAIAAQAAAB" + base64.urlsafe_b64encode(f"page:{page:08d}".encode()).decode().rstrip("=")
    return ',"@odata.nextLink":' + json.dumps(f"{GRAPH}/users?$select={GRAPH_SELECT}&$top={GRAPH_PAGE}"
                                              f"&$skiptoken={token}")


def _okta_user_rows(users: pd.DataFrame, start: int = 0) -> pa.Array:
    ts = json.dumps(OKTA_TIME)
    return _cat(_jobj(
        id=_jstr(users["id"]), status=_jstr(users["status"]), created=ts, activated=ts, statusChanged=ts,
        lastLogin=ts, lastUpdated=ts, passwordChanged=ts, type='{"id":"oty1a2b3c4D5e6F7g8h9"}',
        profile=_jobj(firstName=_jstr(users["first_name"]), lastName=_jstr(users["last_name"]), mobilePhone="null",
                      secondEmail="null", login=_jstr(users["login"]), email=_jstr(users["email"])),
        credentials=_jobj(provider=_jobj(type=_jstr(users["provider_type"]), name=_jstr(users["provider_name"]))),
        _links=_jobj(self=_jobj(href=_cat('"' + OKTA_ORG + "/api/v1/users/", _arr(users["id"]), '"')))))


def _okta_app_user_rows(app_users: pd.DataFrame, start: int = 0) -> pa.Array:
    ts = json.dumps(OKTA_TIME)
    user_id = _arr(app_users["user_id"])
    return _cat(_jobj(
        id=_jstr(user_id), externalId=_jstr(app_users["external_id"]), created=ts, lastUpdated=ts,
        scope=_jstr(app_users["scope"]), status=_jstr(app_users["status"]), statusChanged=ts,
        passwordChanged="null", syncState=_jstr(app_users["sync_state"]), lastSync=ts,
        credentials=_jobj(userName=_jstr(app_users["user_name"])),
        profile=_jobj(immutableId=_jstr(app_users["immutable_id"]), usageLocation='"US"'),
        _links=_jobj(app=_jobj(href=_cat('"' + OKTA_ORG + "/api/v1/apps/", _arr(app_users["app_id"]), '"')),
                     user=_jobj(href=_cat('"' + OKTA_ORG + "/api/v1/users/", user_id, '"')))))


def _write_json_array(frame: pd.DataFrame, path: Path, render: Callable[[pd.DataFrame, int], pa.Array]) -> Path:
    with open(path, "wb") as fh:
        fh.write(b"[")
        _write_chunks(fh, frame, render, ",")
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
    return out
