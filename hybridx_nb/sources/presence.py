"""What a JSON export carried: which keys each record has, whether a paged export was cut, and values of the
wrong JSON type (docs/domain.md §8).

A key that is absent is not a null value (Graph leaves out ``onPremises*`` unless they are ``$select``ed), a file
whose last page still links to a next page is not the whole directory, and ``"accountEnabled": "yes"`` is not
``true``: each is recorded or rejected here, never silently converted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import repeat

import msgspec
import numpy as np
import pandas as pd
import pyarrow as pa

from hybridx_nb.snapshot.coverage import MISSING, PARTIAL, Coverage, statuses
from hybridx_nb.sources import json_columns


def key_present(records: list[dict], key: str) -> np.ndarray:
    """Per record, whether it has ``key`` (even with a null value)."""
    return np.fromiter(map(dict.__contains__, records, repeat(key)), dtype=bool, count=len(records))


def nested_present(records: list[dict], path: tuple[str, ...]) -> np.ndarray:
    """Per record, whether the key path exists (each step an object holding the next key)."""
    level: list[object] = list(records)
    for key in path[:-1]:
        level = [v.get(key) if isinstance(v, dict) else None for v in level]
    last = path[-1]
    return np.fromiter((isinstance(v, dict) and last in v for v in level), dtype=bool, count=len(level))


def coverage_of(table: str, source: str, present: Mapping[str, np.ndarray], total: int
                ) -> tuple[Coverage, pd.Series]:
    """The table's coverage and its ``not_exported`` column from per-column presence masks."""
    counts = {col: int(mask.sum()) for col, mask in present.items()}
    attrs = statuses(present, counts, total)
    return Coverage({table: attrs}, {table: source}), not_exported_column(
        {col: present[col] for col, status in attrs.items() if status == PARTIAL}, total)


def not_exported_column(absent_from: Mapping[str, np.ndarray], n: int) -> pd.Series:
    """A list column naming, per row, the columns whose key it lacked (masks: True where the key was present)."""
    lists: list[list[str]] = [[] for _ in range(n)] if absent_from else []
    for col, mask in absent_from.items():
        for i in np.flatnonzero(~mask):
            lists[i].append(col)
    arr = pa.array(lists if absent_from else [[]] * n, type=pa.list_(pa.string()))
    return pd.Series(pd.arrays.ArrowExtensionArray(arr))


def all_exported(table: str, source: str, columns: Mapping[str, bool]) -> Coverage:
    """Coverage of a file whose columns are all-or-nothing (a CSV header): True = the column is there."""
    return Coverage({table: {c: "exported" if there else MISSING for c, there in columns.items()}}, {table: source})


# ---------------------------------------------------------------------------------------------------------------
# Paged exports cut short
# ---------------------------------------------------------------------------------------------------------------

_NEXT = re.compile(rb'"(?:@odata\.nextLink|next|nextLink)"', re.IGNORECASE)


_PageType = msgspec.defstruct("Page", [("odata_next", object, None), ("next_link", object, None),
                                       ("next", object, None), ("links", object, None),
                                       ("value", msgspec.Raw, msgspec.UNSET)],
                              rename={"odata_next": "@odata.nextLink", "next_link": "nextLink", "links": "_links"})


def next_link(raw: bytes) -> str | None:
    """The next-page link the file's last page still carries, or None when the last page is the last one.

    Graph pages carry ``@odata.nextLink`` on every page but the last; tools that save Okta pages as objects write
    ``next``/``nextLink`` or ``_links.next.href``. A plain array of records has no page, so nothing to tell.
    """
    if _NEXT.search(raw) is None:
        return None
    data = memoryview(raw)
    try:
        pos, last = json_columns.skip_separators(data, 0), None
        while pos < len(data):
            end = json_columns.value_end(data, pos)
            last = (pos, end)
            pos = json_columns.skip_separators(data, end)
        if last is None:
            return None
        chunk, in_array = bytes(data[last[0]:last[1]]), False
        if chunk[:1] == b"[":  # an array of pages: its last element
            items = msgspec.json.decode(chunk, type=list[msgspec.Raw])
            chunk, in_array = (bytes(items[-1]) if items else b""), True
        if chunk.lstrip()[:1] != b"{":
            return None
        page = msgspec.json.decode(chunk, type=_PageType)
        if in_array and page.value is msgspec.UNSET:  # a plain array of records, not of pages
            return None
    except json_columns.FAILED:
        return None
    link = page.odata_next or page.next_link or page.next
    if not link and isinstance(page.links, dict) and isinstance(page.links.get("next"), dict):
        link = page.links["next"].get("href")
    return link if isinstance(link, str) and link.strip() else None


# ---------------------------------------------------------------------------------------------------------------
# JSON types
# ---------------------------------------------------------------------------------------------------------------

_PYTHON = {"text": str, "bool": bool}
_JSON_TYPE = {str: "text", bool: "true/false", int: "a number", float: "a number", list: "a list", dict: "an object"}


def _kind(value: object) -> str:
    return _JSON_TYPE.get(type(value), type(value).__name__)


def wrong_types(cols: Mapping[str, list[object]], kinds: Mapping[str, str], names: Mapping[str, str],
                n: int) -> pd.Series:
    """Per record, why a value has the wrong JSON type (missing where all are right).

    ``kinds`` maps a column to ``text``, ``bool`` or ``list`` (a list of text); nulls are always right. The
    check is one Arrow conversion per column; only a column that fails is looked at value by value.
    """
    reason = pd.Series(np.nan, index=pd.RangeIndex(n), dtype="str")
    arrow = {"text": pa.string(), "bool": pa.bool_(), "list": pa.list_(pa.string())}
    want = {"text": "text", "bool": "true or false", "list": "a list of text"}
    for col, kind in kinds.items():
        values = cols.get(col)
        if values is None:
            continue
        types = set(map(type, values))  # one pass in C: a million values in milliseconds
        if kind != "list" and types <= {_PYTHON[kind], type(None)}:
            continue  # (JSON's 0 and 1 are numbers, not true/false: an int is never a bool here)
        try:
            if kind == "list" and types <= {list, type(None)}:  # Arrow would split a string into its characters
                pa.array(values, type=arrow[kind])  # fails on an item that is not text
                continue
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
        for i, v in enumerate(values):
            if v is None or pd.notna(reason.iat[i]):
                continue
            ok = (isinstance(v, str) if kind == "text" else isinstance(v, bool) if kind == "bool"
                  else isinstance(v, list) and all(isinstance(x, str) or x is None for x in v))
            if not ok:
                shown = repr(v) if isinstance(v, (str, bool, int, float)) else _kind(v)
                reason.iat[i] = f"{names.get(col, col)} is {_kind(v)} ({shown[:60]}), not {want[kind]}"
    return reason
