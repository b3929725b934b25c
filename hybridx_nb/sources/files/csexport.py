"""Entra Connect's pending export of the Entra ID connector, as ``csexport "<connector>" export.xml /f:x`` writes
it (XML) or as ``CSExportAnalyzer export.xml > export.csv`` turns it into CSV (docs/domain.md §12).

The XML is streamed (``iterparse``; each ``<cs-object>`` is cleared once read), so a million-object export never
sits in memory as a tree: only the few values the staging check needs are kept, in Arrow chunks. Per object:
its connector-space DN, object type, the export operation (``add``, ``update``, ``delete``) and, from the delta
or the hologram of the object as it will be exported (the last one before the delete for a ``delete``), its
sourceAnchor, cloudAnchor, userPrincipalName, primary SMTP address, mail and displayName, plus the names of
the attributes an update changes. An attribute the export did not carry stays missing, never empty.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from hybridx_nb.core.errors import InputError
from hybridx_nb.snapshot import schema
from hybridx_nb.sources import common, powershell_csv, text

#: One row per connector-space object of the export, in file order.
PENDING_COLUMNS = ("record", "cs_dn", "object_type", "operation", "source_anchor", "cloud_anchor", "upn", "smtp",
                   "mail", "display_name", "changed")
OPERATIONS = ("add", "update", "delete", "none")
#: Delta operations of the sync engine → the three the staging check knows; ``delete-add`` deletes first.
_OPERATION = {"add": "add", "update": "update", "modify": "update", "replace": "update", "delete": "delete",
              "delete-add": "delete", "none": "none"}
_WANTED = {"sourceanchor": "source_anchor", "cloudanchor": "cloud_anchor", "userprincipalname": "upn",
           "mail": "mail", "displayname": "display_name"}
CSEXPORT_FIX = ('run on the Entra Connect server: csexport "<tenant>.onmicrosoft.com - AAD" export.xml /f:x '
                "(the connector name as Synchronization Service shows it), and hand over the whole file")
ANALYZER_FIX = "run CSExportAnalyzer export.xml > export.csv on the Entra Connect server, or give export.xml itself"
_CHUNK = 10_000


@dataclass
class PendingExport:
    """The objects of a pending export (``PENDING_COLUMNS``), the rows set aside, and where they came from."""

    objects: pd.DataFrame
    rejected: pd.DataFrame
    source: str


def read_pending_export(path: str | Path) -> PendingExport:
    """A csexport XML file or a CSExportAnalyzer CSV, told apart by content."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise InputError(path, f"cannot read the file ({exc.strerror or exc})") from None
    if not head.strip():
        raise InputError(path, "the file is empty", fix=CSEXPORT_FIX)
    text_head = head.decode("utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8", errors="ignore")
    if text_head.lstrip("\ufeff \r\n\t").startswith("<"):
        return read_csexport_xml(path)
    return read_analyzer_csv(path)


# ---------------------------------------------------------------------------------------------------------------
# csexport XML
# ---------------------------------------------------------------------------------------------------------------

def _values(container: ET.Element | None) -> dict[str, list[str]]:
    """Attribute name (lower case) → the values it will have (values a delta deletes are left out)."""
    out: dict[str, list[str]] = {}
    if container is None:
        return out
    for attr in container.iterfind("attr"):
        name = (attr.get("name") or "").lower()
        if not name or attr.get("operation") == "delete":
            continue
        out[name] = [v.text or "" for v in attr.iterfind("value") if v.get("operation") != "delete"]
    return out


def _primary_smtp(proxies: list[str] | None) -> str | None:
    for value in proxies or ():
        if value.startswith("SMTP:"):
            return value[5:]
    return None


class _Columns:
    """Column lists turned into Arrow chunks every ``_CHUNK`` rows (Python strings cost 50+ bytes each)."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.rows: dict[str, list] = {n: [] for n in names}
        self.chunks: dict[str, list[pa.Array]] = {n: [] for n in names}

    def add(self, row: dict[str, object]) -> None:
        for name in self.names:
            self.rows[name].append(row.get(name))
        if len(self.rows[self.names[0]]) >= _CHUNK:
            self.flush()

    def flush(self) -> None:
        for name in self.names:
            kind = pa.int64() if name == "record" else pa.string()
            self.chunks[name].append(pa.array(self.rows[name], type=kind))
            self.rows[name] = []

    def frame(self) -> pd.DataFrame:
        self.flush()
        out = {}
        for name in self.names:
            arr = pa.chunked_array(self.chunks[name], type=pa.int64() if name == "record" else pa.string())
            out[name] = (pd.Series(arr.to_numpy(), dtype="Int64") if name == "record"
                         else pd.Series(pd.array(arr, dtype="str")))
        return pd.DataFrame(out)


def _object_row(obj: ET.Element, record: int) -> tuple[dict[str, object], str | None]:
    """The kept values of one ``<cs-object>``, or the reason it is set aside."""
    delta = obj.find("unapplied-export/delta")
    op_text = delta.get("operation") if delta is not None else obj.findtext("export-delta-operation")
    operation = _OPERATION.get((op_text or "none").strip().lower())
    row: dict[str, object] = {"record": record, "cs_dn": obj.get("cs-dn"), "object_type": obj.get("object-type")}
    if not row["cs_dn"]:
        return row, "the cs-object has no cs-dn attribute"
    if operation is None:
        return row, f"unknown export operation {op_text!r}"
    row["operation"] = operation
    after = _values(obj.find("unapplied-export-hologram/entry"))
    before = _values(obj.find("synchronized-hologram/entry")) or _values(obj.find("pending-import-hologram/entry"))
    changes = _values(delta)
    # What the object will hold: an add's delta has every value; an update's delta only the changes, so the
    # hologram of the exported object wins there; a delete keeps the last values the object had.
    merged = {"add": {**before, **after, **changes}, "update": {**before, **changes, **after}}.get(
        operation, {**changes, **after, **before})
    for key, column in _WANTED.items():
        values = merged.get(key)
        row[column] = values[0] if values else None
    row["smtp"] = _primary_smtp(merged.get("proxyaddresses"))
    if operation == "update" and delta is not None:
        names = [a.get("name") or "" for a in delta.iter() if a.tag in ("attr", "dn-attr")]
        row["changed"] = ";".join(sorted(set(filter(None, names)))) or None
    return row, None


def read_csexport_xml(path: str | Path) -> PendingExport:
    """Stream a ``csexport … /f:x`` file: one row per ``<cs-object>``; bad objects go to the rejected rows."""
    path = Path(path)
    cols = _Columns(PENDING_COLUMNS)
    bad: list[tuple[int, str | None, str]] = []
    record, root = 0, None
    try:
        with open(path, "rb") as fh:
            for event, elem in ET.iterparse(fh, events=("start", "end")):
                if event == "start":
                    if root is None:
                        root = elem
                        if elem.tag != "cs-objects":
                            raise InputError(path, f"the root element is <{elem.tag}>, not <cs-objects>: not a "
                                             "csexport file", fix=CSEXPORT_FIX)
                    continue
                if elem.tag != "cs-object":
                    continue
                record += 1
                row, reason = _object_row(elem, record)
                if reason is None:
                    cols.add(row)
                else:
                    bad.append((record, row.get("cs_dn"), reason))  # type: ignore[arg-type]
                root.clear()  # drop the object just read (and anything before it) from the tree
    except ET.ParseError as exc:
        line, column = exc.position
        raise InputError(path, f"not well-formed XML at column {column + 1} ({str(exc).split(':')[0]}); the file "
                         "may be truncated or edited", line=line, fix=CSEXPORT_FIX) from None
    except OSError as exc:
        raise InputError(path, f"cannot read the file ({exc.strerror or exc})") from None
    if root is None:
        raise InputError(path, "no XML element in the file", fix=CSEXPORT_FIX)
    source = f"{path.name} (csexport pending export XML, {record} objects)"
    return PendingExport(_with_dn_anchor(cols.frame()), _rejected(source, bad), source)


_HEX_DN = re.compile(r"^CN=\{((?:[0-9A-Fa-f]{2}){16,64})\}$")


def anchor_from_cs_dn(cs_dn: pd.Series) -> pd.Series:
    """The sourceAnchor spelled in an Entra ID connector DN ``CN={<hex of the anchor's ASCII>}``, where it is one
    (docs/domain.md §12, unverified): the only anchor a CSExportAnalyzer row of an update or delete carries."""
    hexes = cs_dn.str.extract(_HEX_DN, expand=False)
    decoded = hexes.dropna().map(lambda h: bytes.fromhex(h).decode("ascii", errors="replace"))
    ok = decoded.str.fullmatch(common.B64_RE).fillna(False)
    return decoded[ok].reindex(cs_dn.index).astype("str")


def _with_dn_anchor(objects: pd.DataFrame) -> pd.DataFrame:
    objects["source_anchor"] = objects["source_anchor"].fillna(anchor_from_cs_dn(objects["cs_dn"]))
    return objects


def _rejected(source: str, bad: list[tuple[int, str | None, str]]) -> pd.DataFrame:
    if not bad:
        return schema.empty("rejected")
    frame = pd.DataFrame(bad, columns=["line", "key", "reason"])
    return schema.rejected_rows("pending_export", source, frame["reason"], line=frame["line"], key=frame["key"])


# ---------------------------------------------------------------------------------------------------------------
# CSExportAnalyzer CSV: one row per attribute change, the object's DN and operation repeated on each
# ---------------------------------------------------------------------------------------------------------------

#: Canonical field → header names seen for it (matched without regard to case, spaces, dashes).
ANALYZER_FIELDS: dict[str, tuple[str, ...]] = {
    "cs_dn": ("CSDN", "CS-DN", "DN", "Distinguished Name"),
    "operation": ("OMODT", "Object Modification Type", "Operation"),
    "attribute": ("Attribute", "Attribute Name", "AttributeName", "ANAME"),
    "attribute_operation": ("AMODT", "Attribute Modification Type"),
    "value": ("Value", "Values", "Attribute Value", "New Value"),
    "object_type": ("Object Type", "ObjectType", "object-type"),
}


def read_analyzer_csv(path: str | Path) -> PendingExport:
    """A CSExportAnalyzer CSV, folded back into one row per object (vectorised: millions of rows)."""
    doc = text.read_text(path)
    parsed = powershell_csv.read_powershell_csv(doc)
    raw = parsed.frame
    found = powershell_csv.match_columns(doc.path, parsed.headers, ANALYZER_FIELDS, ("cs_dn", "operation", "attribute"),
                                 fix=ANALYZER_FIX)
    source = f"{doc.name} (CSExportAnalyzer CSV, {doc.encoding})"
    col = {f: powershell_csv.column(raw, found, f) for f in ANALYZER_FIELDS}
    rows = pd.DataFrame({"cs_dn": col["cs_dn"].replace("", np.nan), "line": parsed.lines,
                         "op": col["operation"].str.strip().str.lower().replace("", np.nan),
                         "name": col["attribute"].str.strip(), "attr": col["attribute"].str.strip().str.lower(),
                         "value": col["value"],
                         "aop": col["attribute_operation"].str.strip().str.lower(),
                         "type": col["object_type"].replace("", np.nan)})
    no_dn = rows["cs_dn"].isna().to_numpy()
    rows["op_mapped"] = rows["op"].map(_OPERATION).astype("str")
    unknown = (rows["op"].notna() & rows["op_mapped"].isna()).to_numpy() & ~no_dn
    reasons = pd.Series(np.where(no_dn, "no object DN (CSDN) on this row",
                                 "unknown object modification type '" + rows["op"].fillna("") + "'"))
    bad = no_dn | unknown
    rejected = (schema.rejected_rows("pending_export", source, reasons[bad], line=rows.loc[bad, "line"],
                                     key=rows.loc[bad, "cs_dn"]) if bad.any() else schema.empty("rejected"))
    rows = rows[~bad]
    first = rows.groupby("cs_dn", sort=False)
    objects = pd.DataFrame({"record": first["line"].min().astype("Int64"),
                            "object_type": first["type"].first().astype("str"),
                            "operation": first["op_mapped"].first().astype("str")})
    live = rows[rows["aop"].fillna("") != "delete"]
    for key, column in _WANTED.items():
        hit = live[live["attr"] == key]
        objects[column] = hit.groupby("cs_dn", sort=False)["value"].first().astype("str")
    proxies = live[(live["attr"] == "proxyaddresses") & live["value"].str.startswith("SMTP:").fillna(False)]
    objects["smtp"] = proxies.groupby("cs_dn", sort=False)["value"].first().str.slice(5).astype("str")
    updates = rows[rows["op_mapped"] == "update"].drop_duplicates(["cs_dn", "attr"]).sort_values("name")
    objects["changed"] = updates.groupby("cs_dn", sort=False)["name"].agg(";".join).astype("str")
    # The CSV names no object type: an object with a userPrincipalName is a user (groups and contacts have none).
    objects["object_type"] = objects["object_type"].fillna(objects["upn"].notna().map({True: "user", False: None}))
    objects["operation"] = objects["operation"].fillna("none")
    objects = objects.reset_index().sort_values("record", kind="stable").reset_index(drop=True)
    objects = objects[list(PENDING_COLUMNS)]
    for c in PENDING_COLUMNS[1:]:
        objects[c] = objects[c].astype("str").replace("", np.nan)
    return PendingExport(_with_dn_anchor(objects), rejected, source)
