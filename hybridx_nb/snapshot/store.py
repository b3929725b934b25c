"""A snapshot: one client's canonical tables at one moment, as a folder of Parquet files plus manifest.json.

Collection and assessment are separate steps: a snapshot is written by the export readers or the live
collectors, and read by the engine. Both sides validate: ``write_snapshot`` conforms every table and records row
counts and content hashes; ``load_snapshot`` checks the hashes and the schema, so a truncated or edited file is
refused rather than assessed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hybridx_nb import __version__
from hybridx_nb.core.errors import InputError
from hybridx_nb.core.folders import check_replaceable, stage, swap_in
from hybridx_nb.snapshot import schema
from hybridx_nb.snapshot.coverage import Coverage, from_manifest
from hybridx_nb.snapshot.manifest_check import check_manifest

MANIFEST = "manifest.json"
FORMAT_VERSION = 1

#: Entra Connect's defaults for tenant flags, used when the tenant's own values are unknown.
DEFAULT_FEATURES = {
    "softMatchOnUpnEnabled": True,
    "blockSoftMatchEnabled": False,
    "blockCloudObjectTakeoverThroughHardMatchEnabled": False,
}


@dataclass
class TenantFacts:
    """Tenant-wide settings that change what the first sync does."""

    tenant_id: str | None = None
    display_name: str | None = None
    org_sync_enabled: bool | None = None  # organization.onPremisesSyncEnabled
    features: dict[str, bool] = field(default_factory=dict)  # /directory/onPremisesSynchronization features
    okta_provisioning_mode: str | None = None  # e.g. "user_sync", "universal_sync", "profile_sync", "none"

    def feature(self, name: str) -> bool:
        """The flag's value, or Entra's default when the tenant's value was not collected."""
        return bool(self.features.get(name, DEFAULT_FEATURES[name]))

    def assumed(self) -> list[str]:
        """Flags whose value is assumed (default), for the report to say so."""
        return [k for k in DEFAULT_FEATURES if k not in self.features]


@dataclass
class Snapshot:
    """Canonical frames (``tables``), tenant facts and provenance (``sources``: table → origin text)."""

    tables: dict[str, pd.DataFrame]
    tenant: TenantFacts = field(default_factory=TenantFacts)
    sources: dict[str, str] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    coverage: Coverage = field(default_factory=Coverage)  # which attributes the exports carried
    files: dict[str, str] = field(default_factory=dict)  # the export files read: name → SHA-256 of their bytes

    def __getitem__(self, name: str) -> pd.DataFrame:
        """The table, or an empty canonical frame when the snapshot has none."""
        frame = self.tables.get(name)
        return frame if frame is not None else schema.empty(name)

    def has(self, name: str) -> bool:
        return name in self.tables

    @property
    def rejected(self) -> pd.DataFrame:
        return self["rejected"]


def _table_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def build_snapshot(tables: dict[str, pd.DataFrame], tenant: TenantFacts | None = None,
                   sources: dict[str, str] | None = None, coverage: Coverage | None = None) -> Snapshot:
    """A validated in-memory snapshot: every table conformed, ``rejected`` always present."""
    unknown = set(tables) - set(schema.TABLES)
    if unknown:
        raise ValueError(f"unknown table(s): {', '.join(sorted(unknown))}")
    snap = _complete({name: schema.conform(name, frame) for name, frame in tables.items()}, tenant, sources)
    snap.coverage = coverage or Coverage()
    return snap


def _complete(conformed: dict[str, pd.DataFrame], tenant: TenantFacts | None,
              sources: dict[str, str] | None) -> Snapshot:
    conformed.setdefault("rejected", schema.empty("rejected"))
    for name in ("ad_users", "entra_users"):
        conformed.setdefault(name, schema.empty(name))
    return Snapshot(conformed, tenant or TenantFacts(), dict(sources or {}))


def write_snapshot(snap: Snapshot, folder: str | Path, *, created: dt.datetime | None = None) -> Path:
    """Write the snapshot atomically: into a temporary sibling folder, then swapped into place. Only a missing
    path, an empty folder or a snapshot hybridx wrote is replaced (``core.folders``)."""
    folder = Path(folder).absolute()
    check_replaceable(folder, "snapshot")
    staging = stage(folder)
    tmp = staging.path
    try:
        tables = {}
        for name, frame in snap.tables.items():
            frame = schema.conform(name, frame)
            path = tmp / f"{name}.parquet"
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None), path,
                           compression="zstd")
            tables[name] = {"file": path.name, "rows": len(frame), "sha256": _table_hash(path),
                            "source": snap.sources.get(name, "")}
        manifest = {
            "format": FORMAT_VERSION,
            "hybridx_version": __version__,
            "created": (created or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds"),
            "tables": tables,
            "tenant": asdict(snap.tenant),
            "coverage": snap.coverage.to_json(),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        swap_in(staging, "snapshot")
        snap.manifest = manifest
        return folder
    except BaseException:
        staging.discard()
        raise


def _arrow_type(arrow_type: pa.DataType) -> object:
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return pd.ArrowDtype(arrow_type)
    if pa.types.is_boolean(arrow_type):  # straight to the canonical dtypes, not through object or float
        return pd.BooleanDtype()
    if pa.types.is_int64(arrow_type):
        return pd.Int64Dtype()
    return None


def _table_file(folder: Path, manifest_path: Path, name: str, meta: Any) -> Path:
    """The table's file, which must be a plain file name inside the snapshot folder (a manifest naming
    ``../x`` or an absolute path would make hybridx read, hash and report a file outside the snapshot)."""
    file = meta.get("file") if isinstance(meta, dict) else None
    if (not isinstance(file, str) or not file or file in (".", "..") or "/" in file or "\\" in file
            or "\0" in file or Path(file).is_absolute()):
        raise InputError(manifest_path, f"table {name!r}: key 'file' must name a file inside the snapshot folder",
                         fix="re-create the snapshot; never edit its manifest by hand")
    path = folder / file
    if path.is_symlink() or os.path.realpath(path).rpartition(os.sep)[0] != os.path.realpath(folder):
        raise InputError(manifest_path, f"table {name!r}: {file!r} is a link or lies outside the snapshot folder",
                         fix="re-create the snapshot; never edit its files by hand")
    return path


def load_snapshot(folder: str | Path) -> Snapshot:
    """Read and verify a snapshot folder written by ``write_snapshot``."""
    folder = Path(folder)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise InputError(folder, "not a hybridx snapshot (no manifest.json)",
                         fix="point --snapshot at a folder written by `hybridx collect` or `hybridx snapshot`")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(manifest_path, f"manifest is not valid JSON ({exc})",
                         fix="re-create the snapshot") from None
    except RecursionError:
        raise InputError(manifest_path, "manifest is nested too deeply to be a hybridx manifest",
                         fix="re-create the snapshot") from None
    check_manifest(manifest, manifest_path, dataclasses.fields(TenantFacts))
    if manifest.get("format") != FORMAT_VERSION:
        raise InputError(manifest_path, f"snapshot format {manifest.get('format')!r} is not supported "
                         f"(this hybridx reads format {FORMAT_VERSION})", fix="re-create the snapshot")
    tables: dict[str, pd.DataFrame] = {}
    for name, meta in manifest.get("tables", {}).items():
        if name not in schema.TABLES:
            raise InputError(manifest_path, f"unknown table {name!r}", fix="re-create the snapshot")
        path = _table_file(folder, manifest_path, name, meta)
        if not path.is_file():
            raise InputError(path, "table file listed in the manifest is missing", fix="re-create the snapshot")
        if _table_hash(path) != meta["sha256"]:
            raise InputError(path, "content hash differs from the manifest: the file was changed or truncated",
                             fix="re-create the snapshot; never edit its files by hand")
        try:
            # one chunk per row group (read_table cuts batches of 128k rows, which every later take pays for)
            frame = pq.ParquetFile(path).read().to_pandas(types_mapper=_arrow_type)
            frame = schema.conform(name, frame, canonical_text=True)  # conformed when written, and verified
        except (schema.SchemaError, pa.ArrowException) as exc:
            raise InputError(path, f"does not fit table {name!r}: {exc}", fix="re-create the snapshot") from None
        if len(frame) != meta["rows"]:
            raise InputError(path, f"{len(frame)} rows, the manifest says {meta['rows']}",
                             fix="re-create the snapshot")
        tables[name] = frame
    tenant = TenantFacts(**manifest.get("tenant", {}))
    sources = {name: meta.get("source", "") for name, meta in manifest.get("tables", {}).items()}
    snap = _complete(tables, tenant, sources)
    snap.manifest = manifest
    snap.coverage = from_manifest(manifest.get("coverage"), manifest_path)
    return snap
