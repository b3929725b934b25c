"""Columns straight from big JSON exports: typed decoding (msgspec) of only the keys a reader needs.

A million Okta users as Python dicts take 5 GB and 5 s to build, and seconds more to free; decoded into small
structs that hold only the needed keys, they take 1.4 GB and 1 s. This is the fast path for the usual shapes (one
JSON array of objects, or Graph pages ``{"value": [...]}`` written one after another). For anything else (pages
inside arrays, values that are not objects, NaN, a key missing from some records where the reader needs to know)
``decode`` returns None and the reader takes its general path, which reads every shape and explains bad input.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Collection, Mapping
from itertools import repeat
from operator import attrgetter, is_
from typing import Any

import msgspec

UNSET = msgspec.UNSET
_TRAILING = re.compile(r"trailing characters \(byte (\d+)\)")
FAILED = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, ValueError, TypeError, RecursionError)


def decode(raw: bytes, paths: Mapping[str, tuple[str, ...]], *, page_key: str = "value",
           unset: Collection[str] = ()) -> dict[str, list[object]] | None:
    """Per column of ``paths`` (column → key path), the values of every record, or None (use the general path).

    A missing key gives None, or ``UNSET`` for the columns in ``unset`` (for callers that must tell them apart).
    """
    record = _struct_type(paths, unset, page_key)
    first = raw.lstrip()[:1]
    try:
        if first == b"[":
            records = msgspec.json.decode(raw, type=list[record])
            if any(r.page is not UNSET for r in records):  # pages inside an array: the general path reads them
                return None
        elif first == b"{":
            page = msgspec.defstruct("Page", [("records", list[record])], rename={"records": page_key})
            records = [r for p in _documents(raw, page) for r in p.records]
        else:
            return None
    except FAILED:
        return None
    return _columns(records, paths)


def sample(raw: bytes, page_key: str = "value", n: int = 1000) -> list[dict] | None:
    """The first ``n`` records as dicts (to see how keys are spelled), or None when the shape is not the usual one."""
    first = raw.lstrip()[:1]
    try:
        if first == b"[":
            data, records = memoryview(raw), []
            pos = raw.index(b"[") + 1
            while len(records) < n:  # element by element: the rest of the array is not even scanned
                pos = skip_separators(data, pos)
                if pos >= len(data) or data[pos] == ord("]"):
                    break
                end = value_end(data, pos)
                records.append(msgspec.json.decode(data[pos:end]))
                pos = end
        elif first == b"{":
            end = value_end(memoryview(raw), 0)
            doc = msgspec.json.decode(memoryview(raw)[:end])
            records = doc.get(page_key) if isinstance(doc, dict) else None
        else:
            return None
    except FAILED:
        return None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records[:n]):
        return None
    return records[:n]


def _struct_type(paths: Mapping[str, tuple[str, ...]], unset: Collection[str], page_key: str) -> type:
    """A Struct type per level of the key paths; leaves are ``Any``, objects on the way optional Structs."""
    tree: dict = {}
    for name, keys in paths.items():
        node = tree
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ValueError(f"{keys} goes through a leaf")
        node[keys[-1]] = UNSET if name in unset else None

    def build(node: dict, label: str, extra: list) -> type:
        fields, rename = list(extra), {}
        for i, (key, sub) in enumerate(node.items()):
            attr = f"f{i}"
            rename[attr] = key
            if isinstance(sub, dict):
                fields.append((attr, build(sub, f"{label}_{i}", []) | None, None))
            else:
                fields.append((attr, Any, sub))
        rename.update({e[0]: page_key for e in extra})
        return msgspec.defstruct(label, fields, rename=rename, gc=False)  # plain data: no cycles

    return build(tree, "Record", [("page", Any, UNSET)])


def _columns(records: list, paths: Mapping[str, tuple[str, ...]]) -> dict[str, list[object]]:
    """Walk each key path once over all records, sharing prefixes (``profile`` once for all its keys)."""
    index = _attr_names(paths)
    walked: dict[tuple[str, ...], list[object]] = {}
    for keys in sorted({tuple(k[:i]) for k in paths.values() for i in range(1, len(k) + 1)}, key=len):
        get = attrgetter(index[keys])
        if len(keys) == 1:
            walked[keys] = list(map(get, records))
        else:
            walked[keys] = [None if v is None else get(v) for v in walked[keys[:-1]]]
    return {name: walked[tuple(keys)] for name, keys in paths.items()}


def _attr_names(paths: Mapping[str, tuple[str, ...]]) -> dict[tuple[str, ...], str]:
    """The struct attribute (``f<i>``) of every key path prefix, numbered as ``_struct_type`` numbers them."""
    children: dict[tuple[str, ...], dict[str, None]] = {}
    for keys in paths.values():
        for depth in range(len(keys)):
            children.setdefault(tuple(keys[:depth]), {})[keys[depth]] = None
    return {prefix + (key,): f"f{i}" for prefix, kids in children.items() for i, key in enumerate(kids)}


def _documents(raw: bytes, page: type) -> list:
    """Every page in ``raw``: one JSON object, or several written one after another."""
    data, pos, pages = memoryview(raw), 0, []
    decoder = msgspec.json.Decoder(page)
    pos = skip_separators(data, 0)
    while pos < len(data):
        end = value_end(data, pos)
        pages.append(decoder.decode(data[pos:end]))
        pos = skip_separators(data, end)
    return pages


def skip_separators(data: memoryview, pos: int) -> int:
    """Past the whitespace, commas and BOMs between appended pages."""
    while pos < len(data):
        if data[pos] in b" \t\n\r,":
            pos += 1
        elif data[pos:pos + 3] == codecs.BOM_UTF8:
            pos += 3
        else:
            break
    return pos


def value_end(data: memoryview, pos: int) -> int:
    """Where the JSON value starting at ``pos`` ends (skipped over without building anything)."""
    try:
        msgspec.json.decode(data[pos:], type=msgspec.Raw)
    except msgspec.DecodeError as exc:
        found = _TRAILING.search(str(exc))
        if found is None:
            raise
        return pos + int(found.group(1)) - 1  # msgspec counts the byte after the one it stopped at
    return len(data)


def has_unset(values: list[object]) -> bool:
    """Whether any record lacked the key (its value is ``UNSET``)."""
    return any(map(is_, values, repeat(UNSET)))


def mentions(raw: bytes, names: Collection[str]) -> bool:
    """Whether any of ``names`` occurs as a quoted string in ``raw``, in any letter case."""
    if not names:
        return False
    low = raw.lower()
    return any(f'"{name.lower()}"'.encode() in low for name in names)
