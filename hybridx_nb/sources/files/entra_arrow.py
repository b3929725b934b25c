"""Graph ``/users`` pages read by Arrow: the fast path of ``entra_export`` for the usual big export.

Taken only when the file is plain pages, one per line, whose first records spell every property as Graph does
and carry no property kept as JSON text; a property absent from those first records must then be null everywhere
(else the exact path decides which records carried it). Anything else gives None and the exact path reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from hybridx_nb.sources import common, json_arrow, json_columns, text
from hybridx_nb.sources.files import entra_objects
from hybridx_nb.sources.text import Text

#: Enough of the file for its first page (Graph's pages hold at most 999 users).
_SAMPLE = 1 << 24
_KIND_TYPES = {"text": pa.string(), "bool": pa.bool_(), "list": pa.list_(pa.string()), "json": pa.string()}


def read(doc: Text, fields: Mapping[str, tuple[str, ...]], kind: Callable[[str], str]
         ) -> tuple[pd.DataFrame, dict[str, np.ndarray], bytes] | None:
    """The users frame (object-valued properties taken apart), per-column presence, and the last page's text.

    A big file is streamed (``stream.Reader``); one in memory is released before the columns are built (at a
    million users it is gigabytes)."""
    first = json_columns.sample(doc.prefix(_SAMPLE))
    if not first:
        return None
    keys = text.key_finder(first)
    seen, unseen = {}, {}
    for field, names in fields.items():
        spelled = [keys[n.lower()] for n in names if n.lower() in keys]
        if not spelled:
            unseen[field] = names
        elif spelled != [names[0]] or kind(field) == "json":
            return None  # another spelling, or a property kept as JSON text: the exact path
        else:
            seen[field] = names[0]
    named = [(key, field) for field, key in seen.items()]
    named += [(name, field) for field, names in unseen.items() for name in names]
    record = pa.struct([(key, _type(field, kind)) for key, field in named])
    exact = pa.struct([(key, _type(field, kind, graph=True)) for key, field in named])
    required = [k for f, k in seen.items() if f not in entra_objects.SPARSE]
    pages = json_arrow.read_pages(doc.reader, record, required,
                                  exact=exact if all(_fits(exact, r) for r in first) else None)
    if pages is None:
        return None

    records, last_page = pages.records, pages.last_page
    for field, names in unseen.items():
        if field not in entra_objects.SPARSE and any(_carried(records, name) for name in names):
            return None  # a property the first records lacked turns up later: which records carried it?
    del pages
    doc.release()  # nothing can send the file to the exact path any more
    users = records.combine_chunks()
    del records  # Arrow's parsed chunks: the columns below are built from their joined copy
    found = dict(seen)
    for field in entra_objects.SPARSE:
        if field not in found and users.field(fields[field][0]).null_count < len(users):
            found[field] = fields[field][0]
    nulls = pa.nulls(len(users), pa.string())
    frame = pd.DataFrame({f: _text(users.field(found[f]) if f in found else nulls) for f in fields
                          if kind(f) in ("text", "bool", "json")})
    frame["proxy_addresses"] = _lists(users, found.get("proxy_addresses"))
    frame["assigned_licenses"] = entra_objects.sku_ids(users.field(found.get("assigned_licenses",
                                                                               fields["assigned_licenses"][0])))
    keys_of = {f: found.get(f, fields[f][0]) for f in entra_objects.ARROW_TYPES}
    for name, values in entra_objects.arrow_columns(users, keys_of).items():
        frame[name] = values
    present = {f: np.full(len(users), f in found) for f in fields if f != "id"}
    return frame, present, last_page


def _carried(records: pa.ChunkedArray, name: str) -> bool:
    """Whether a record of any chunk carries ``name``."""
    return any(chunk.field(name).null_count < len(chunk) for chunk in records.chunks)


def _type(field: str, kind: Callable[[str], str], *, graph: bool = False) -> pa.DataType:
    if kind(field) != "object":
        return _KIND_TYPES[kind(field)]
    return (entra_objects.GRAPH_TYPES if graph else entra_objects.ARROW_TYPES)[field]


def _fits(t: pa.DataType, value: object) -> bool:
    """Whether every key of a JSON value is one the Arrow type ``t`` names (the value types are Arrow's to check)."""
    if isinstance(value, dict) and pa.types.is_struct(t):
        names = {t.field(i).name: t.field(i).type for i in range(t.num_fields)}
        return all(k in names and _fits(names[k], v) for k, v in value.items())
    if isinstance(value, list) and pa.types.is_list(t):
        return all(_fits(t.value_type, v) for v in value)
    return True


def _text(values: pa.Array) -> pd.Series:
    """Text as pandas' str; true/false as the text the Python path gives (``_finish`` reads both alike)."""
    return pd.Series(pd.array(values.cast(pa.string()), dtype="str"))


def _lists(users: pa.StructArray, key: str | None) -> pd.Series:
    if key is None:
        return common.lists_from_python(pa.nulls(len(users), pa.list_(pa.string())))
    return common.lists_from_python(users.field(key))
