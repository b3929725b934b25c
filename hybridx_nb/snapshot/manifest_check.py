"""The shape of a snapshot's manifest.json, checked before anything is read from it.

A manifest edited by hand or cut short must give one line naming the file and the key, never a ``KeyError`` or
``TypeError`` traceback from deep inside the loader.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from hybridx_nb.core.errors import InputError

_FIX = "re-create the snapshot with `hybridx snapshot` or `hybridx collect`; never edit manifest.json by hand"


def _fail(path: Path, key: str, problem: str) -> InputError:
    return InputError(path, f"key {key!r} {problem}", fix=_FIX)


def check_manifest(manifest: Any, path: Path, tenant_fields: tuple[dataclasses.Field, ...]) -> None:
    """Raise ``InputError`` (file and key named) unless ``manifest`` has the shape ``write_snapshot`` writes."""
    if not isinstance(manifest, dict):
        raise InputError(path, f"the manifest must be a JSON object, not {type(manifest).__name__}", fix=_FIX)
    tables = manifest.get("tables", {})
    if not isinstance(tables, dict):
        raise _fail(path, "tables", "must be an object (table name → file, rows, sha256)")
    for name, meta in tables.items():
        if not isinstance(meta, dict):
            raise _fail(path, f"tables.{name}", "must be an object with file, rows and sha256")
        for key, kind in (("file", str), ("sha256", str), ("rows", int)):
            if key not in meta:
                raise _fail(path, f"tables.{name}.{key}", "is missing")
            if not isinstance(meta[key], kind) or isinstance(meta[key], bool):
                raise _fail(path, f"tables.{name}.{key}", f"must be {'text' if kind is str else 'a whole number'}")
        if not isinstance(meta.get("source", ""), str):
            raise _fail(path, f"tables.{name}.source", "must be text")
    tenant = manifest.get("tenant", {})
    if not isinstance(tenant, dict):
        raise _fail(path, "tenant", "must be an object")
    known = {f.name: f for f in tenant_fields}
    for key, value in tenant.items():
        if key not in known:
            raise _fail(path, f"tenant.{key}", f"is not a tenant fact (known: {', '.join(known)})")
        if value is None:
            continue
        if key == "features":
            if not isinstance(value, dict) or not all(isinstance(v, bool) for v in value.values()):
                raise _fail(path, "tenant.features", "must map flag names to true or false")
        elif key == "org_sync_enabled":
            if not isinstance(value, bool):
                raise _fail(path, "tenant.org_sync_enabled", "must be true, false or null")
        elif not isinstance(value, str):
            raise _fail(path, f"tenant.{key}", "must be text or null")
