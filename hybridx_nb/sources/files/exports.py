"""One entry point for export files: pick each file's reader by its content and build one ``Snapshot``."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from hybridx_nb.core.errors import InputError
from hybridx_nb.snapshot.coverage import combine
from hybridx_nb.snapshot.store import Snapshot, TenantFacts, build_snapshot
from hybridx_nb.sources import text
from hybridx_nb.sources.common import ReadResult
from hybridx_nb.sources.files.ad_csv import read_ad_csv
from hybridx_nb.sources.files.entra_export import read_entra
from hybridx_nb.sources.files.entra_groups import read_entra_contacts, read_entra_groups
from hybridx_nb.sources.files.exo_export import read_exo
from hybridx_nb.sources.files.ldif import read_ldif
from hybridx_nb.sources.files.okta_export import read_okta
from hybridx_nb.sources.files.tenant_export import read_tenant


def read_ad(path: str | Path, doc: text.Text | None = None) -> ReadResult:
    """AD objects from a PowerShell CSV or an LDIF file (told apart by content, not extension)."""
    doc = doc or text.read_text(path)
    kind = text.sniff(doc.head())
    if kind == "json":
        raise InputError(doc.path, "is JSON, but AD is read from a Get-ADUser CSV or an LDIF export",
                         fix="pass the AD export with --ad and the Graph/Okta files with --entra/--okta")
    return read_ldif(path, doc) if kind == "ldif" else read_ad_csv(path, doc)


def _read_json_only(path: str | Path, doc: text.Text, what: str, reader: Callable[..., ReadResult],
                    **options: object) -> ReadResult:
    if text.sniff(doc.head()) != "json":
        raise InputError(doc.path, f"{what} is read from JSON, and this file is not JSON",
                         fix=f"save the API responses as JSON, as shown in {text.EXPORTS_DOC}")
    return reader(path, doc, **options)


def read_exports(ad: str | Path, entra: str | Path, okta: str | Path | None = None,
                 okta_app_users: str | Path | None = None, tenant: str | Path | None = None, *,
                 okta_app_id: str | None = None, entra_groups: str | Path | None = None,
                 entra_contacts: str | Path | None = None, allow_partial: bool = False,
                 exo: str | Path | None = None) -> Snapshot:
    """Read every export file given and merge them into one validated snapshot.

    ``okta_app_id`` names the Office 365 app for app-user files whose records do not link to it;
    ``allow_partial`` reads a paged export that stopped early instead of refusing it (recorded as incomplete).
    """
    reads: list[tuple[str | Path, Callable[[text.Text], ReadResult]]] = [
        (ad, lambda doc: read_ad(ad, doc)), (entra, lambda doc: read_entra(entra, doc, allow_partial=allow_partial))]
    if okta is not None:
        reads.append((okta, lambda doc: _read_json_only(okta, doc, "Okta", read_okta, app_id=okta_app_id,
                                                         allow_partial=allow_partial)))
    if okta_app_users is not None:
        reads.append((okta_app_users, lambda doc: _read_json_only(okta_app_users, doc, "Okta app users", read_okta,
                                                                   app_id=okta_app_id, allow_partial=allow_partial)))
    if tenant is not None:
        reads.append((tenant, lambda doc: _read_json_only(tenant, doc, "The tenant file", read_tenant)))
    if entra_groups is not None:  # optional: groups and contacts (docs/domain.md §11)
        reads.append((entra_groups, lambda doc: read_entra_groups(entra_groups, doc)))
    if entra_contacts is not None:
        reads.append((entra_contacts, lambda doc: read_entra_contacts(entra_contacts, doc)))
    if exo is not None:
        reads.append((exo, lambda doc: read_exo(exo, doc)))
    # Two files at a time: the readers spend most of their time in Arrow and msgspec kernels, which release the
    # GIL, so on two cores a million-user AD file and Graph file are read side by side.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="hybridx-read") as pool:
        futures = [pool.submit(_read_file, path, read) for path, read in reads]
        results = [f.result() for f in futures]
    return merge(results)


def _read_file(path: str | Path, read: Callable[[text.Text], ReadResult]) -> ReadResult:
    """One file read once: its reader's result, with the SHA-256 of the bytes it read."""
    doc = text.read_text(path)
    result = read(doc)
    if doc.sha256:
        result.files[doc.name] = doc.sha256
    return result


def merge(results: list[ReadResult]) -> Snapshot:
    """One snapshot from several read results: tables of the same name concatenated, sources joined."""
    frames: dict[str, list[pd.DataFrame]] = {}
    sources: dict[str, list[str]] = {}
    tenant = TenantFacts()
    for result in results:
        for name, frame in result.tables.items():
            frames.setdefault(name, []).append(frame)
            sources.setdefault(name, []).append(result.sources.get(name, result.source))
        if len(result.rejected):
            frames.setdefault("rejected", []).append(result.rejected)
            sources.setdefault("rejected", []).append(result.source)
        if result.tenant is not None:
            tenant = result.tenant
    tables = {name: pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
              for name, parts in frames.items()}
    snap = build_snapshot(tables, tenant, {name: "; ".join(dict.fromkeys(s)) for name, s in sources.items()},
                          combine(r.coverage for r in results))
    snap.files = {name: digest for r in results for name, digest in r.files.items()}
    return snap
