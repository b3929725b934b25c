"""Graph-style JSON pages read by Arrow's multi-threaded JSON reader, straight into typed columns.

The usual big export holds one page object per line (``{"value": [...]}`` as Graph returns it, saved with
``ConvertTo-Json -Compress`` per page, or by hybridx's collector). Arrow reads the file block by block
(``stream.Reader``) and parses it in C++ on every core, keeping only the keys of the record type it is given and
refusing a value of any other JSON type. Arrow cannot tell a missing key from a null, so each block Arrow reads is
also decoded by msgspec (in Arrow's reading thread, beside its parsing threads), to check that every record carries
the ``required`` keys. Any doubt (another layout, a wrong type, a key missing somewhere, a page that is not an
object, bytes that are not UTF-8) gives None, and the reader takes its exact path, which reads every shape and
explains bad input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.json as pj

from hybridx_nb.sources.json_columns import FAILED
from hybridx_nb.sources.stream import ArrowFile, Reader

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


def read_pages(open_reader: Callable[[], Reader], record: pa.StructType, required: Sequence[str], *,
               page_key: str = "value", exact: pa.StructType | None = None) -> Pages | None:
    """The records of a file of page objects, one per line, as struct arrays of type ``record``; or None.

    ``open_reader`` gives the file's content anew at each call. ``exact``, when given, is the record type of the
    shape the file should have, naming every key a record may hold. It is tried first, refusing any other key (in
    a page, any but ``PAGE_ANNOTATIONS``): Arrow builds fewer columns than for ``record``, which ignores the keys
    it does not name and so must name every spelling it reads. When a key it does not name turns up, ``record``
    reads the file again."""
    attempts = [(pa.schema([(page_key, pa.list_(record))]), "ignore")]
    if exact is not None:
        attempts.insert(0, (pa.schema([*PAGE_ANNOTATIONS, (page_key, pa.list_(exact))]), "error"))
    for schema, unexpected in attempts:
        counter = _PageCounter(open_reader(), required, page_key)
        options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior=unexpected)
        try:
            table = pj.read_json(pa.PythonFile(counter, mode="r"), read_options=pj.ReadOptions(block_size=_BLOCK),
                                 parse_options=options)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            if counter.failed or not str(exc).endswith("unexpected field"):  # a wrong type: no record type reads it
                return None
            continue
        finally:
            counter.close()
        pages = table.column(page_key)
        records = pa.chunked_array([chunk.flatten() for chunk in pages.chunks], pages.type.value_type)
        if counter.failed or counter.last is None or pages.null_count or len(records) != counter.count:
            return None
        return Pages(records, bytes(counter.last))
    return None


class _PageCounter(ArrowFile):
    """The file as Arrow reads it, counting the records of each page line: when every line is one page whose
    records are objects carrying every ``required`` key, ``count`` is their number and ``last`` the last page's
    text; else ``failed`` is set, and the file ends there for Arrow."""

    def __init__(self, reader: Reader, required: Sequence[str], page_key: str) -> None:
        fields = [(f"k{i}", msgspec.Raw) for i in range(len(required))]
        record = msgspec.defstruct("Record", fields, rename={f"k{i}": k for i, k in enumerate(required)}, gc=False)
        self._decoder = msgspec.json.Decoder(msgspec.defstruct("Page", [("records", list[record])],
                                                               rename={"records": page_key}, gc=False))
        self._reader, self._carry = reader, b""
        self.count, self.failed = 0, False
        self.last: bytes | memoryview | None = None

    def read(self, size: int = -1) -> pa.Buffer:
        data = pa.py_buffer(b"") if self.failed else self._reader.read(size)
        view = memoryview(data).cast("B")
        try:
            if self._reader.failed or self.last is None and not _page_start(view, self._carry):
                raise ValueError("not UTF-8 pages")
            self._count(view)
        except FAILED:
            self.failed = True
        return pa.py_buffer(b"") if self.failed else data

    def _count(self, view: memoryview) -> None:
        if not len(view):  # the end: a last line without a line end
            self._line(self._carry)
            self._carry = b""
            return
        ends = np.flatnonzero(np.frombuffer(view, dtype=np.uint8) == 10)
        if not len(ends):
            self._carry += view.tobytes()
            if len(self._carry) > _BLOCK:  # no line end in a block: Arrow could not parse it either
                raise ValueError("not one page per line")
            return
        self._line(self._carry + view[:ends[0]].tobytes() if self._carry else view[:ends[0]])
        for start, end in zip((ends[:-1] + 1).tolist(), ends[1:].tolist()):
            self._line(view[start:end])
        self._carry = view[ends[-1] + 1:].tobytes()

    def _line(self, line: bytes | memoryview) -> None:
        if len(line) > 8 or bytes(line).strip():
            self.count += len(self._decoder.decode(line).records)
            self.last = line

    def close(self) -> None:
        self._reader.close()


def _page_start(view: memoryview, carry: bytes) -> bool:
    """Whether the file can still be pages: before the first page is read, its first character is "{" (only the
    file's start is stripped, never a whole block)."""
    return (view[:4096].tobytes() or carry).lstrip()[:1] in (b"{", b"")
