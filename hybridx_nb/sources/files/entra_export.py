"""Entra ID users from Graph JSON (``Invoke-MgGraphRequest`` pages, a collector's file) or a ``Get-MgUser`` CSV."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core import anchors
from hybridx_nb.core.errors import InputError
from hybridx_nb.snapshot import schema
from hybridx_nb.sources import common, json_columns, powershell_csv, text
from hybridx_nb.sources.common import ReadResult
from hybridx_nb.sources.text import Text

#: The Get-MgUser export README.md (Export files) explains; quoted by errors about placeholders and missing columns.
ENTRA_CSV_COMMAND = (
    "Get-MgUser -All -Property Id,UserPrincipalName,Mail,ProxyAddresses,OnPremisesImmutableId,"
    "OnPremisesSyncEnabled,AccountEnabled,UserType,DisplayName,MailNickname,AssignedLicenses,CreationType | "
    "Select-Object Id,UserPrincipalName,Mail,OnPremisesImmutableId,OnPremisesSyncEnabled,AccountEnabled,UserType,"
    "DisplayName,MailNickname,CreationType,@{n='ProxyAddresses';e={$_.ProxyAddresses -join ';'}},"
    "@{n='AssignedLicenses';e={($_.AssignedLicenses | ForEach-Object SkuId) -join ';'}} | "
    "Export-Csv -Path entra.csv -NoTypeInformation -Encoding UTF8")

#: Canonical column → Graph property (first) and other names exports use.
ENTRA_FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("id", "ObjectId"),
    "upn": ("userPrincipalName", "UPN"),
    "mail": ("mail",),
    "proxy_addresses": ("proxyAddresses",),
    "immutable_id": ("onPremisesImmutableId", "ImmutableId"),
    "on_prem_sync_enabled": ("onPremisesSyncEnabled", "DirSyncEnabled"),
    "on_prem_object_identifier": ("onPremisesObjectIdentifier",),
    "account_enabled": ("accountEnabled",),
    "user_type": ("userType",),
    "display_name": ("displayName",),
    "mail_nickname": ("mailNickname",),
    "assigned_licenses": ("assignedLicenses", "LicenseSkuIds", "SkuIds"),
    "creation_type": ("creationType",),
    "on_prem_last_sync": ("onPremisesLastSyncDateTime", "OnPremisesLastSyncDateTime"),
    "on_prem_provisioning_errors": ("onPremisesProvisioningErrors",),
    "service_provisioning_errors": ("serviceProvisioningErrors",),
}
_BOOLS = ("on_prem_sync_enabled", "account_enabled")
_LISTS = ("proxy_addresses", "assigned_licenses")


def read_entra(path: str | Path, doc: Text | None = None) -> ReadResult:
    """Entra users from a Graph JSON file or a Get-MgUser CSV (picked by content)."""
    doc = doc or text.read_text(path)
    return _read_json(doc) if text.sniff(doc.text) == "json" else _read_csv(doc)


def _read_json(doc: Text) -> ReadResult:
    source = f"{doc.name} (Graph /users JSON, {doc.encoding})"
    with text.gc_paused():
        cols, rej = _fast_columns(doc), schema.empty("rejected")
        if cols is None:
            cols, rej = _general_columns(doc, source)
        frame = pd.DataFrame({f: common.text_column(v) for f, v in cols.items() if f not in _LISTS})
        frame["proxy_addresses"] = common.lists_from_python(cols["proxy_addresses"])
        frame["assigned_licenses"] = _sku_ids(cols["assigned_licenses"])
        del cols
    return _finish(doc.path, source, frame, None, rej)


def _general_columns(doc: Text, source: str) -> tuple[dict[str, list[object]], pd.DataFrame]:
    """Every shape of JSON: parsed into dicts, non-objects rejected, keys matched in any letter case."""
    records = text.json_records(text.load_json_documents(doc))
    users, _, rej = text.objects_only(doc.path, "entra_users", source, records)
    if not records:
        raise InputError(doc.path, "the file holds no users", fix="check the Graph request and its paging")
    keys = text.key_finder(users)
    spelled = {f: next((keys[n.lower()] for n in names if n.lower() in keys), names[0])
               for f, names in ENTRA_FIELDS.items()}
    return common.frame_of(users, {f: (k,) for f, k in spelled.items()}), rej


def _fast_columns(doc: Text) -> dict[str, list[object]] | None:
    """The same columns decoded straight into structs, when the file is plain Graph pages or one array of users.

    Keys are spelled as in the first records; the result is refused (None: the general path) when a record lacks
    one of those keys or a name not seen there appears anywhere in the file, so both paths read the same keys.
    """
    raw = doc.utf8()
    first = json_columns.sample(raw)
    if not first:
        return None
    keys = text.key_finder(first)
    spelled, unseen = {}, []
    for f, names in ENTRA_FIELDS.items():
        hit = next((i for i, n in enumerate(names) if n.lower() in keys), None)
        spelled[f] = keys[names[hit].lower()] if hit is not None else names[0]
        unseen += names if hit is None else names[:hit]
    if json_columns.mentions(raw, unseen):
        return None
    seen = [f for f, k in spelled.items() if k.lower() in keys]
    cols = json_columns.decode(raw, {f: (k,) for f, k in spelled.items()}, unset=seen)
    if cols is None or any(json_columns.has_unset(cols[f]) for f in seen):
        return None
    return cols


def _sku_ids(values: list[object]) -> pd.Series:
    """assignedLicenses as a list of skuIds: Graph's ``[{"skuId": ...}]`` objects, or plain ids."""
    with contextlib.suppress(pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        arr = pa.array(values)  # Graph's shape becomes list<struct<skuId, ...>> in C, without a loop here
        if pa.types.is_list(arr.type) and pa.types.is_string(arr.type.value_type):
            return common.lists_from_python(arr)
        if pa.types.is_list(arr.type) and pa.types.is_struct(arr.type.value_type):
            items = arr.flatten()
            ids = (pc.struct_field(items, "skuId") if items.type.get_field_index("skuId") >= 0
                   else pa.nulls(len(items), pa.string()))
            if pa.types.is_string(ids.type) or pa.types.is_null(ids.type):
                offsets = pc.subtract(arr.offsets, arr.offsets[0])
                return common.lists_from_python(pa.ListArray.from_arrays(offsets, ids.cast(pa.string())))
    return common.lists_from_python(
        [[lic.get("skuId") if isinstance(lic, dict) else lic for lic in v] if isinstance(v, list) else None
         for v in values])


def _read_csv(doc: Text) -> ReadResult:
    parsed = powershell_csv.read_powershell_csv(doc)
    raw = parsed.frame
    found = powershell_csv.match_columns(doc.path, parsed.headers, ENTRA_FIELDS, ("id", "upn"),
                                 fix=f"export with: {ENTRA_CSV_COMMAND}")
    if not len(raw):
        raise InputError(doc.path, "the file has a header but no rows", fix=f"export with: {ENTRA_CSV_COMMAND}")
    powershell_csv.check_placeholders(doc.path, raw, parsed.lines, found.values(),
                              {"*": f"join list properties in Select-Object, as in: {ENTRA_CSV_COMMAND}"})
    frame = pd.DataFrame({f: powershell_csv.column(raw, found, f) for f in ENTRA_FIELDS if f not in _LISTS})
    for f in _LISTS:
        values = powershell_csv.column(raw, found, f)
        frame[f] = common.split_list(values, common.detect_separator(values))
    source = f"{doc.name} (Get-MgUser Export-Csv, {doc.encoding})"
    return _finish(doc.path, source, frame, pd.Series(parsed.lines), schema.empty("rejected"))


def _finish(path: Path, source: str, frame: pd.DataFrame, lines: pd.Series | None,
            rej: pd.DataFrame) -> ReadResult:
    for f in _BOOLS:
        frame[f] = common.bool_text(frame[f])
    raw_id = frame["id"]
    frame["id"] = anchors.normalize_guid_series(raw_id)
    reason = pd.Series(np.nan, index=frame.index, dtype="str")
    reason = reason.mask(~powershell_csv.blank(raw_id) & frame["id"].isna().to_numpy(),
                         "id '" + raw_id.str.slice(0, 60) + "' is not a GUID")
    reason = common.reject_incomplete(frame.assign(id=frame["id"].fillna(raw_id)),
                                      {"id": "id", "upn": "userPrincipalName"}, ("id",), reason)
    bad = reason.notna().to_numpy()
    key = raw_id.fillna(frame["upn"])
    rej = common.concat([rej, common.rejected("entra_users", source, bad, reason, line=lines, key=key)],
                        "rejected")
    if bad.all():
        raise common.all_bad(path, "Entra users", rej, len(frame))
    return ReadResult({"entra_users": schema.conform("entra_users", frame[~bad])}, rej, source)
