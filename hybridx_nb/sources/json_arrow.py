"""Graph-style JSON pages read by Arrow's multi-threaded JSON reader, straight into typed columns.

The usual big export holds one page object per line (``{"value": [...]}`` as Graph returns it, saved with
``ConvertTo-Json -Compress`` per page, or by hybridx's collector). Arrow parses it in C++ on every core, keeps only
the keys of the record type it is given and refuses a value of any other JSON type. Arrow cannot tell a missing key
from a null, so a msgspec pass beside it (in a thread: Arrow releases the GIL) checks that every record carries the
``required`` keys. Any doubt (another layout, a wrong type, a key missing somewhere, a page that is not an object)
gives None, and the reader takes its exact path, which reads every shape and explains bad input.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import msgspec
import pyarrow as pa
import pyarrow.json as pj

from hybridx_nb.sources.json_columns import FAILED

#: Larger than any page line: Graph pages hold at most 999 users.
_BLOCK = 1 << 25


@dataclass
class Pages:
    """The records of every page (in chunks, as Arrow parsed them), and the last page's own text (to see whether
    it links to a next one)."""

    records: pa.ChunkedArray
    last_page: bytes


def read_pages(raw: bytes, record: pa.StructType, required: Sequence[str], *, page_key: str = "value"
               ) -> Pages | None:
    """The records of a file of page objects, one per line, as struct arrays of type ``record``; or None."""
    if raw[:4096].lstrip()[:1] != b"{":  # (stripping the whole file would copy it)
        return None
    schema = pa.schema([(page_key, pa.list_(record))])
    options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    with ThreadPoolExecutor(1) as pool:
        checked = pool.submit(_count_complete, raw, required, page_key)
        try:
            table = pj.read_json(pa.BufferReader(pa.py_buffer(raw)), read_options=pj.ReadOptions(block_size=_BLOCK),
                                 parse_options=options)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            table = None
        counted = checked.result()
    if table is None or counted is None:
        return None
    pages = table.column(page_key)
    records = pa.chunked_array([chunk.flatten() for chunk in pages.chunks], record)
    if pages.null_count or len(records) != counted[0]:
        return None
    return Pages(records, counted[1])


def _count_complete(raw: bytes, required: Sequence[str], page_key: str) -> tuple[int, bytes] | None:
    """The number of records and the last page's text, when every line is one page whose records are objects
    carrying every ``required`` key; else None."""
    fields = [(f"k{i}", msgspec.Raw) for i in range(len(required))]
    record = msgspec.defstruct("Record", fields, rename={f"k{i}": k for i, k in enumerate(required)}, gc=False)
    decoder = msgspec.json.Decoder(msgspec.defstruct("Page", [("records", list[record])],
                                                     rename={"records": page_key}, gc=False))
    view, pos, count, last = memoryview(raw), 0, 0, (0, 0)
    try:
        while pos < len(raw):
            end = raw.find(b"\n", pos)
            end = len(raw) if end < 0 else end
            if end - pos > 8 or raw[pos:end].strip():
                count += len(decoder.decode(view[pos:end]).records)
                last = (pos, end)
            pos = end + 1
    except FAILED:
        return None
    return count, raw[last[0]:last[1]]
