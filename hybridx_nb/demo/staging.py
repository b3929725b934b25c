"""What Entra Connect in staging mode would queue for export on a (demo) tenant, written as the files the tools
write: ``csexport … /f:x`` XML and CSExportAnalyzer CSV (docs/domain.md §12).

``simulate_pending`` plays the sync engine, independently of hybridx's prediction: every in-scope AD user is
provisioned to the Entra ID connector with its objectGUID anchor; it joins (an ``update``) when a cloud user
already synced (onPremisesSyncEnabled true) holds that anchor as ImmutableID, and is an ``add`` otherwise (the
cloud service matches or creates it on export). The writers are vectorised, so 100k or 1M objects take seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core import anchors
from hybridx_nb.snapshot.store import Snapshot

OBJECT_COLUMNS = ("cs_dn", "object_type", "operation", "source_anchor", "upn", "smtp", "mail", "display_name")
CONNECTOR = "contoso.onmicrosoft.com - AAD"


def cs_dn(source_anchor: pd.Series) -> pd.Series:
    """The Entra ID connector DN ``CN={<hex of the anchor's ASCII>}`` (docs/domain.md §12, unverified)."""
    hexed = source_anchor.fillna("").map(lambda a: a.encode("ascii").hex().upper())
    return "CN={" + hexed + "}"


def simulate_pending(snap: Snapshot, in_scope: pd.Series | None = None) -> pd.DataFrame:
    """One pending export per in-scope AD user (``in_scope``: a mask over ``ad_users``; default every user)."""
    ad = snap["ad_users"]
    if in_scope is not None:
        ad = ad[in_scope.to_numpy(dtype=bool)]
    anchor = anchors.guid_to_immutable_id_series(ad["object_guid"]).reset_index(drop=True)
    ad = ad.reset_index(drop=True)
    cloud = snap["entra_users"]
    synced = cloud.loc[cloud["on_prem_sync_enabled"].fillna(False).to_numpy(dtype=bool), "immutable_id"].dropna()
    joined = anchor.isin(set(synced)).to_numpy()
    proxies = ad["proxy_addresses"]
    smtp = pd.Series([next((p[5:] for p in v if p.startswith("SMTP:")), None) for v in proxies], dtype="str")
    return pd.DataFrame({
        "cs_dn": cs_dn(anchor), "object_type": "user", "operation": np.where(joined, "update", "add"),
        "source_anchor": anchor, "upn": ad["upn"], "smtp": smtp.fillna(ad["mail"]), "mail": ad["mail"],
        "display_name": ad["display_name"]})


def synthetic_pending(n: int, seed: int = 1) -> pd.DataFrame:
    """``n`` pending Adds of made-up users (for the streaming tests: 100k and more)."""
    rng = np.random.default_rng(seed)
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    import base64

    anchor = pd.Series([base64.b64encode(row.tobytes()).decode() for row in raw], dtype="str")
    number = pd.Series(np.arange(n)).astype("str")
    upn = "user" + number + "@contoso.com"
    return pd.DataFrame({"cs_dn": cs_dn(anchor), "object_type": "user", "operation": "add", "source_anchor": anchor,
                         "upn": upn, "smtp": upn, "mail": upn, "display_name": "User " + number})


def _xml(values: pd.Series) -> pa.ChunkedArray:
    arr = pa.chunked_array([pa.array(values.astype(object).where(values.notna(), None), type=pa.large_string())])
    for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        arr = pc.replace_substring(arr, raw, escaped)
    return arr


def _join(*parts: object) -> pa.ChunkedArray:
    """Element-wise concatenation; plain strings are constants."""
    args = [pa.scalar(p, pa.large_string()) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*args, pa.scalar("", pa.large_string()))


def _attr(name: str, values: pa.ChunkedArray, multi: bool = False, prefix: str = "") -> pa.ChunkedArray:
    """``<attr …><value>v</value></attr>`` per row, empty where the value is missing."""
    head = f'    <attr name="{name}" type="string" multivalued="{str(multi).lower()}"><value>{prefix}'
    return _join(head, values, "</value></attr>\n").fill_null("")


def _object_text(o: pd.DataFrame, start: int) -> pa.ChunkedArray:
    dn, op, kind = _xml(o["cs_dn"]), _xml(o["operation"]), _xml(o["object_type"])
    attrs = _join(
        _attr("displayName", _xml(o["display_name"])), _attr("mail", _xml(o["mail"])),
        _attr("proxyAddresses", _xml(o["smtp"]), True, "SMTP:"), _attr("sourceAnchor", _xml(o["source_anchor"])),
        _attr("userPrincipalName", _xml(o["upn"])))
    delete = (o["operation"] == "delete").to_numpy()
    ident = pd.Series([f"{{{i:08X}-0000-4000-8000-000000000000}}" for i in range(start, start + len(o))])
    delta_attrs = pc.if_else(pa.array(delete), pa.scalar("", pa.large_string()), attrs)
    kept = pc.if_else(pa.array(delete),
                      _join('  <synchronized-hologram>\n   <entry dn="', dn, '">\n', attrs,
                            "   </entry>\n  </synchronized-hologram>\n"),
                      _join('  <unapplied-export-hologram>\n   <entry dn="', dn, '">\n', attrs,
                            "   </entry>\n  </unapplied-export-hologram>\n"))
    return _join(
        ' <cs-object id="', pa.array(ident, type=pa.large_string()), '" cs-dn="', dn, '" object-type="', kind,
        f'">\n  <ma-name>{CONNECTOR}</ma-name>\n  <connector>1</connector>\n  <export-delta-operation>', op,
        '</export-delta-operation>\n  <unapplied-export>\n   <delta operation="', op, '" dn="', dn, '">\n',
        delta_attrs, "   </delta>\n  </unapplied-export>\n", kept, " </cs-object>\n")


def write_csexport_xml(objects: pd.DataFrame, path: str | Path, *, encoding: str = "utf-8",
                       block: int = 50_000) -> Path:
    """``objects`` (``OBJECT_COLUMNS``) as csexport writes a pending export: ``<cs-objects>`` of ``<cs-object>``."""
    path = Path(path)
    codec = {"utf-8": "utf-8", "utf-16": "utf-16-le"}[encoding]
    with open(path, "wb") as fh:
        if encoding == "utf-16":
            fh.write(b"\xff\xfe")
        fh.write(f'<?xml version="1.0" encoding="{encoding.upper()}"?>\n<cs-objects>\n'.encode(codec))
        for start in range(0, len(objects), block):
            text = _object_text(objects.iloc[start:start + block], start)
            fh.write("".join(text.to_pylist()).encode(codec))
        fh.write("</cs-objects>\n".encode(codec))
    return path


def write_analyzer_csv(objects: pd.DataFrame, path: str | Path) -> Path:
    """``objects`` as CSExportAnalyzer lists them: one row per attribute, the object's DN and operation on each."""
    attrs = {"displayName": objects["display_name"], "mail": objects["mail"],
             "proxyAddresses": "SMTP:" + objects["smtp"], "sourceAnchor": objects["source_anchor"],
             "userPrincipalName": objects["upn"]}
    op = objects["operation"].str.capitalize()
    parts = []
    for name, values in attrs.items():
        parts.append(pd.DataFrame({"CSDN": objects["cs_dn"], "OMODT": op, "OMDDN": "", "AMODT": "Add",
                                   "Attribute": name, "Value": values, "_o": np.arange(len(objects))}))
    rows = pd.concat(parts, ignore_index=True)
    deleted = rows["OMODT"].eq("Delete")
    rows = rows[~deleted | rows["Attribute"].eq("displayName")]
    rows.loc[rows["OMODT"].eq("Delete"), ["AMODT", "Attribute", "Value"]] = ""
    rows = rows[rows["Value"].notna() | rows["OMODT"].eq("Delete")].sort_values("_o", kind="stable")
    rows.drop(columns="_o").to_csv(path, index=False, encoding="utf-8", lineterminator="\r\n")
    return Path(path)
