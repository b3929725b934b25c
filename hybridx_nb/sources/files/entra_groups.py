"""Entra ID groups and organisational contacts from Graph JSON (``GET /groups``, ``GET /contacts`` pages).

Optional inputs (docs/domain.md §11): Okta's Universal Sync creates groups and contacts in the cloud, and the first
sync soft-matches the mail-enabled ones on their proxy addresses and cannot match the others. Each file holds the
pages of one collection, as ``Invoke-MgGraphRequest`` writes them (``{"value": [...]}`` pages, one after another,
or a plain array). A record without ``id`` is set aside with its record number; a property the export did not
carry stays missing (never false).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hybridx_nb.core.errors import InputError
from hybridx_nb.snapshot import schema
from hybridx_nb.sources import common, text
from hybridx_nb.sources.common import ReadResult
from hybridx_nb.sources.text import Text

GROUP_FIELDS = {"id": ("id",), "display_name": ("displayName",), "mail": ("mail",),
                "mail_nickname": ("mailNickname",), "mail_enabled": ("mailEnabled",),
                "security_enabled": ("securityEnabled",), "group_types": ("groupTypes",),
                "proxy_addresses": ("proxyAddresses",), "on_prem_sync_enabled": ("onPremisesSyncEnabled",)}
CONTACT_FIELDS = {"id": ("id",), "display_name": ("displayName",), "mail": ("mail",),
                  "mail_nickname": ("mailNickname",), "proxy_addresses": ("proxyAddresses",),
                  "on_prem_sync_enabled": ("onPremisesSyncEnabled",)}
_COMMANDS = {
    "entra_groups": "Invoke-MgGraphRequest -Uri 'https://graph.microsoft.com/v1.0/groups?$select=id,displayName,"
                    "mail,mailNickname,mailEnabled,securityEnabled,groupTypes,proxyAddresses,onPremisesSyncEnabled'",
    "entra_contacts": "Invoke-MgGraphRequest -Uri 'https://graph.microsoft.com/v1.0/contacts?$select=id,"
                      "displayName,mail,mailNickname,proxyAddresses,onPremisesSyncEnabled'",
}


def read_entra_groups(path: str | Path, doc: Text | None = None) -> ReadResult:
    """Entra groups from a Graph /groups JSON export."""
    return _read(path, doc, "entra_groups", GROUP_FIELDS, "Graph /groups JSON")


def read_entra_contacts(path: str | Path, doc: Text | None = None) -> ReadResult:
    """Entra organisational contacts from a Graph /contacts JSON export."""
    return _read(path, doc, "entra_contacts", CONTACT_FIELDS, "Graph /contacts JSON")


def _read(path: str | Path, doc: Text | None, table: str, fields: dict[str, tuple[str, ...]],
          what: str) -> ReadResult:
    doc = doc or text.read_text(path)
    if text.sniff(doc.head()) != "json":
        raise InputError(doc.path, f"not JSON: expected a {what} export", fix=f"export with {_COMMANDS[table]} "
                         "and ConvertTo-Json -Depth 10, or give the file to the right option")
    source = f"{doc.name} ({what}, {doc.encoding})"
    records, numbers, rej = text.objects_only(doc.path, table, source, text.json_records(
        text.load_json_documents(doc)))
    if records and ("userPrincipalName" in records[0] or "onPremisesImmutableId" in records[0]):
        raise InputError(doc.path, f"these are users, not a {what} export", fix=f"export with {_COMMANDS[table]}")
    cols = common.frame_of(records, fields)
    index = pd.RangeIndex(len(records))
    frame = pd.DataFrame({"id": common.text_column(cols["id"], index)})
    for name in fields:
        if name in ("proxy_addresses", "group_types"):
            frame[name] = common.lists_from_python(cols[name], index)
        elif name in ("mail_enabled", "security_enabled", "on_prem_sync_enabled"):
            frame[name] = pd.Series(pd.array(cols[name], dtype="boolean"), index=index)
        elif name != "id":
            frame[name] = common.text_column(cols[name], index)
    line = pd.Series(numbers, index=index)
    no_id = frame["id"].isna().to_numpy() | frame["id"].astype("str").str.strip().eq("").to_numpy(dtype=bool)
    dup = common.duplicated([frame["id"].str.lower()], ~no_id)
    reason = pd.Series(np.where(no_id, "no id", "duplicate id (the same object twice in the export)"), index=index)
    rej = pd.concat([rej, common.rejected(table, source, no_id | dup, reason, line=line,
                                          key=frame["display_name"].fillna("record " + line.astype("str")))],
                    ignore_index=True)
    keep = ~(no_id | dup)
    return ReadResult({table: schema.conform(table, common.kept(frame, keep))}, schema.conform("rejected", rej), source)
