"""Which attributes an export carried, per table, and whether a paged export was complete (docs/domain.md §8).

A field the export did not carry is not an empty field: a Graph ``/users`` response without ``$select`` has no
``onPremisesImmutableId`` key at all, and reading that as "no ImmutableID" predicts soft matches where the first
sync would create duplicates. The readers record here, per canonical column, whether the export carried it for
every record (``exported``), for some records only (``partial``: those records list the column in their
``not_exported`` cell), or for none (``missing``); the snapshot keeps it in ``manifest.json`` and the engine
decides from it what it can predict.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hybridx_nb.core.errors import InputError

EXPORTED, PARTIAL, MISSING = "exported", "partial", "missing"
STATUSES = (EXPORTED, PARTIAL, MISSING)


@dataclass
class Coverage:
    """What the exports carried: per table, per canonical column, one of ``STATUSES``; tables cut short.

    A table or column not listed is taken as exported (a live collector asks for every attribute by name).
    ``incomplete`` names, per table, why the export is known to be partial (read with ``--allow-partial``).
    ``notes`` are reader warnings the report must show: ``{"attribute", "status", "effect"}``.
    """

    attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # table → the file the attributes were read from
    incomplete: dict[str, str] = field(default_factory=dict)
    notes: list[dict[str, str]] = field(default_factory=list)

    def status(self, table: str, column: str) -> str:
        """``exported``, ``partial`` or ``missing``; ``exported`` when nothing was recorded."""
        return self.attributes.get(table, {}).get(column, EXPORTED)

    def missing(self, table: str, column: str) -> bool:
        return self.status(table, column) == MISSING

    def to_json(self) -> dict[str, Any]:
        return {"attributes": self.attributes, "sources": self.sources, "incomplete": self.incomplete,
                "notes": self.notes}


def statuses(columns: Iterable[str], present: Mapping[str, int], total: int) -> dict[str, str]:
    """Status per column from how many of ``total`` records carried it (``present``: column → count)."""
    out = {}
    for col in columns:
        n = int(present.get(col, 0))
        out[col] = EXPORTED if n >= total else PARTIAL if n else MISSING  # no records: nothing was left out
    return out


def combine(parts: Iterable[Coverage]) -> Coverage:
    """One coverage for several read results (one table read from several files: a column carried by all of
    them is exported, by none missing, else partial)."""
    merged = Coverage()
    for part in parts:
        for table, cols in part.attributes.items():
            have = merged.attributes.get(table)
            if have is None:
                merged.attributes[table] = dict(cols)
                continue
            for col in set(have) | set(cols):
                a, b = have.get(col, EXPORTED), cols.get(col, EXPORTED)
                have[col] = a if a == b else PARTIAL
        for table, source in part.sources.items():
            merged.sources[table] = "; ".join(dict.fromkeys(filter(None, [merged.sources.get(table), source])))
        merged.incomplete.update(part.incomplete)
        merged.notes.extend(part.notes)
    return merged


def from_manifest(value: object, path: Path) -> Coverage:
    """The ``coverage`` entry of a manifest, checked: a malformed one names the file and the key."""
    if value is None:
        return Coverage()
    fix = "re-create the snapshot with `hybridx snapshot` or `hybridx collect`"
    if not isinstance(value, dict):
        raise InputError(path, f"key 'coverage' must be an object, not {type(value).__name__}", fix=fix)
    attributes = value.get("attributes", {})
    if not isinstance(attributes, dict):
        raise InputError(path, "key 'coverage.attributes' must be an object", fix=fix)
    for table, cols in attributes.items():
        if not isinstance(cols, dict) or not all(isinstance(v, str) and v in STATUSES for v in cols.values()):
            raise InputError(path, f"key 'coverage.attributes.{table}' must map columns to one of "
                             f"{', '.join(STATUSES)}", fix=fix)
    parts = {}
    for key in ("sources", "incomplete"):
        part = value.get(key, {})
        if not isinstance(part, dict) or not all(isinstance(v, str) for v in part.values()):
            raise InputError(path, f"key 'coverage.{key}' must map tables to text", fix=fix)
        parts[key] = part
    notes = value.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, dict) and all(isinstance(v, str) for v in n.values())
                                              for n in notes):
        raise InputError(path, "key 'coverage.notes' must be a list of objects with text values", fix=fix)
    return Coverage(attributes, parts["sources"], parts["incomplete"], notes)
