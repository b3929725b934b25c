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


#: The annotations Graph writes beside a page's records, for reads that refuse every key they do not name.
PAGE_ANNOTATIONS = (("@odata.context", pa.string()), ("@odata.nextLink", pa.string()),
                    ("@odata.deltaLink", pa.string()), ("@odata.count", pa.int64()))


def read_pages(raw: bytes, record: pa.StructType, required: Sequence[str], *, page_key: str = "value",
               exact: pa.StructType | None = None) -> Pages | None:
    """The records of a file of page objects, one per line, as struct arrays of type ``record``; or None.

    ``exact``, when given, is the record type of the shape the file should have, naming every key a record may
    hold. It is tried first, refusing any other key (in a page, any but ``PAGE_ANNOTATIONS``): Arrow builds fewer
    columns than for ``record``, which ignores the keys it does not name and so must name every spelling it reads.
    When a key it does not name turns up, ``record`` reads the file."""
    if raw[:4096].lstrip()[:1] != b"{":  # (stripping the whole file would copy it)
        return None
    attempts = [(pa.schema([(page_key, pa.list_(record))]), "ignore")]
    if exact is not None:
        attempts.insert(0, (pa.schema([*PAGE_ANNOTATIONS, (page_key, pa.list_(exact))]), "error"))
    with ThreadPoolExecutor(1) as pool:
        checked = pool.submit(_count_complete, raw, required, page_key)
        table = None
        for schema, unexpected in attempts:
            options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior=unexpected)
            try:
                table = pj.read_json(pa.BufferReader(pa.py_buffer(raw)),
                                     read_options=pj.ReadOptions(block_size=_BLOCK), parse_options=options)
                break
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                if not str(exc).endswith("unexpected field"):  # a wrong type: no record type reads it
                    break
        counted = checked.result()
    if table is None or counted is None:
        return None
    pages = table.column(page_key)
    records = pa.chunked_array([chunk.flatten() for chunk in pages.chunks], pages.type.value_type)
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
