"""Reading an export file: its bytes and encoding, what format it holds, and its JSON documents and records."""

from __future__ import annotations

import codecs
import contextlib
import gc
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator
from functools import cached_property
from itertools import chain
from pathlib import Path

import msgspec
import numpy as np
import pandas as pd

from hybridx_nb.core.errors import InputError
from hybridx_nb.snapshot import schema
from hybridx_nb.sources import json_columns, stream

EXPORTS_DOC = "README.md, section Export files"


REENCODE_FIX = ("re-export as UTF-8: Windows PowerShell 5.1 `Export-Csv ... -Encoding UTF8` (or `-Encoding Unicode` "
                "for UTF-16), PowerShell 7 writes UTF-8 by default; for JSON `Set-Content -Encoding UTF8`")


class Text:
    """An export file's content: its bytes as UTF-8 (BOM removed), the encoding found, and its path for messages.

    The big readers parse the bytes; ``text`` (line ends as LF) is decoded only when a reader asks for it, since a
    gigabyte export as a Python string costs seconds and gigabytes. A file of ``stream.BLOCK`` bytes or more whose
    start is UTF-8 is not read at once: its fast readers stream it (``reader``), and ``utf8`` loads it only for a
    reader's exact path.
    """

    def __init__(self, path: Path, text: str | None, encoding: str, data: bytes | None = None, *,
                 bom: int = 0) -> None:
        self.path, self.encoding = Path(path), encoding
        self.sha256: str | None = None  # of the file's bytes as read
        self._data: bytes | None = data if data is not None else (text or "").encode("utf-8")
        self._bom, self._released = bom, False
        if text is not None:
            self.__dict__["text"] = text

    @classmethod
    def unread(cls, path: Path, bom: int) -> Text:
        """A big UTF-8 file not read yet (``bom``: the bytes of a UTF-8 BOM at its start)."""
        doc = cls(path, None, "UTF-8 with BOM" if bom else "UTF-8", bom=bom)
        doc._data = None  # (the constructor's empty content): ``utf8`` reads it, ``reader`` streams it
        return doc

    @property
    def name(self) -> str:
        return self.path.name

    @cached_property
    def text(self) -> str:
        """The decoded text, CRLF line ends as LF (a lone CR inside a value is data and stays)."""
        decoded = self.utf8().decode("utf-8")
        return decoded.replace("\r\n", "\n") if "\r" in decoded else decoded

    def utf8(self) -> bytes:
        """The content as UTF-8 bytes, line ends as written (a big file is read now, and checked)."""
        if self._released:
            raise RuntimeError(f"{self.name}: its bytes were released after parsing")
        if self._data is None:
            whole = _read_whole(self.path)
            self._data, self.sha256, self.encoding = whole._data, whole.sha256, whole.encoding
            if "text" in whole.__dict__:
                self.__dict__["text"] = whole.__dict__["text"]
        return self._data

    def prefix(self, size: int) -> bytes:
        """The first ``size`` bytes of the content (without reading the rest of a big file)."""
        if self._data is not None or self._released:
            return self.utf8()[:size]
        with open(self.path, "rb", buffering=0) as fh:
            fh.seek(self._bom)
            return fh.read(size)

    def reader(self, skip: int = 0, *, lines: bool = False) -> stream.Reader:
        """The content after ``skip`` bytes, block by block (a file in memory: from memory, without copying);
        ``lines``: count its line ends."""
        if self._data is not None or self._released:
            return stream.Reader.of_bytes(memoryview(self.utf8())[skip:], lines=lines)
        return stream.Reader(self.path, self._bom + skip, lines=lines, done=self._streamed)

    def _streamed(self, digest: str) -> None:
        self.sha256 = self.sha256 or digest

    def release(self) -> None:
        """Drop the bytes and the text once a reader has parsed them: at a million users an export is gigabytes,
        and only the frames built from it are needed after. Path, encoding and hash stay."""
        self._data, self._released = None, True
        self.__dict__.pop("text", None)

    def head(self, size: int = 1 << 16) -> str:
        """The first ``size`` bytes as text (enough to tell the format)."""
        return self.prefix(size).decode("utf-8", errors="ignore").replace("\r\n", "\n")


def not_a_file(path: str | Path) -> str | None:
    """Why ``path`` cannot be read as an export file (missing, a folder, a FIFO, a device), or None.

    Checked before opening: reading a named pipe blocks until someone writes to it.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "file not found"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a file: reading it would wait for a writer"
    return "is a device or socket, not a regular file"


def read_text(path: str | Path) -> Text:
    """Decode a file written by a Windows or Unix tool; refuse an empty file or bytes that are not UTF-8/16.

    A big file whose start is UTF-8 is only opened here: its readers stream it or load it (``Text``)."""
    path = Path(path)
    problem = not_a_file(path)
    if problem is not None:
        raise InputError(path, problem, fix="give the path of the export file itself")
    try:
        if os.stat(path).st_size >= stream.BLOCK:
            with open(path, "rb", buffering=0) as fh:
                head = fh.read(4096)
            bom = 3 if head.startswith(codecs.BOM_UTF8) else 0
            if not _utf16(head) and stream.valid_utf8(head[bom:bom + stream.char_boundary(head[bom:])]):
                return Text.unread(path, bom)
    except OSError as exc:
        raise InputError(path, f"cannot read the file ({exc.strerror or exc})") from None
    return _read_whole(path)


def _read_whole(path: Path) -> Text:
    try:
        # Unbuffered, so the rest of the file is read straight into one bytes object sized from the file's length
        # (a buffered read joins what it buffered to the rest: a second copy of the file). A BOM is skipped while
        # reading: slicing it off would copy the file.
        with open(path, "rb", buffering=0) as fh:
            skip = 3 if fh.read(3) == codecs.BOM_UTF8 else 0
            fh.seek(skip)
            data = fh.readall()
    except OSError as exc:
        raise InputError(path, f"cannot read the file ({exc.strerror or exc})") from None
    digest = hashlib.sha256(codecs.BOM_UTF8[:skip])
    digest.update(data)  # the bytes that were read, for the report's appendix (not a second read of the file)
    doc = decode_bytes(path, data, "UTF-8 with BOM" if skip else None)
    doc.sha256 = digest.hexdigest()
    return doc


def _utf16(head: bytes) -> bool:
    """Whether the start of a file is UTF-16 (a BOM, or ASCII text with every other byte NUL)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    return len(head) >= 4 and head.count(0) * 3 > len(head)


def decode_bytes(path: Path, data: bytes, utf8_bom: str | None = None) -> Text:
    """The text of ``data``: BOM first, then UTF-16 without BOM (NUL bytes), then strict UTF-8 (``utf8_bom``: the
    label of a UTF-8 BOM the caller already removed)."""
    boms = ((codecs.BOM_UTF8, "utf-8-sig", "UTF-8 with BOM"), (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE"),
            (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE"))
    codec, label, body = "utf-8", utf8_bom or "UTF-8", data
    for bom, name, text_label in boms:
        if data.startswith(bom):
            codec, label, body = name, text_label, data[len(bom):]
            break
    else:
        head = data[:4096]
        if _utf16(head):  # UTF-16 text of ASCII has every other byte NUL
            little = head[1::2].count(0) > head[0::2].count(0)
            codec, label = ("utf-16-le", "UTF-16 LE, no BOM") if little else ("utf-16-be", "UTF-16 BE, no BOM")
    if codec.startswith("utf-8") and stream.valid_utf8(body):  # the usual case: no decoding, no copy
        if not body or body.isspace():
            raise InputError(path, "the file is empty", fix=f"re-run the export (see {EXPORTS_DOC})")
        return Text(path, None, label, data=body)
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        raise InputError(path, f"the file is not {label} text (byte 0x{body[exc.start]:02x} at offset "
                         f"{exc.start} cannot be decoded; an ANSI code page such as Windows-1252?)",
                         line=line, fix=REENCODE_FIX) from None
    if not text or text.isspace():  # text.strip() would copy the whole file
        raise InputError(path, "the file is empty", fix=f"re-run the export (see {EXPORTS_DOC})")
    return Text(path, text.replace("\r\n", "\n"), label)


_LDIF_LINE = re.compile(r"(?i)(?:version|dn)::? ?")


def sniff(text: str) -> str:
    """``json``, ``ldif`` or ``csv``, from the content (the extension is not trusted)."""
    stripped = text.lstrip("\r\n\ufeff")
    if stripped.lstrip()[:1] in ("{", "["):
        return "json"
    lines = stripped.split("\n", 50)[:50]
    if lines and lines[0].startswith(" ") and any(_LDIF_LINE.match(line) for line in lines[1:]):
        return "ldif"  # an LDIF whose first lines were cut off: it starts in the middle of a folded value
    for line in lines:
        if line.startswith("#TYPE ") or line.startswith("#TYPE\t"):
            return "csv"
        if not line.strip() or line.startswith("#"):
            continue
        return "ldif" if _LDIF_LINE.match(line) else "csv"
    return "csv"


def load_json_documents(doc: Text) -> list[object]:
    """Every JSON value in the file: one, or several written one after another (pages appended by a loop)."""
    with gc_paused():
        fast = _fast_values(doc.utf8())
        if fast is not None:
            return fast
        decoder = json.JSONDecoder()
        text, pos, values = doc.text, 0, []
        while True:
            while pos < len(text) and text[pos] in " \t\n\r,\ufeff":  # a BOM per appended page, too
                pos += 1
            if pos >= len(text):
                return values
            try:
                value, pos = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                raise InputError(doc.path, f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno,
                                 fix="re-run the export; the file may be truncated or edited by hand") from None
            except RecursionError:
                raise InputError(doc.path, "the JSON is nested too deeply to be an export (objects or arrays "
                                 "inside each other thousands of levels deep)",
                                 line=text.count("\n", 0, pos) + 1,
                                 fix="re-run the export; this is not what Graph or Okta write") from None
            values.append(value)


def _fast_values(raw: bytes) -> list[object] | None:
    """The values in ``raw`` read by msgspec (C, several times faster), or None when only the standard library
    can tell (NaN, 1e400, invalid JSON: the standard library's error names the line)."""
    data = memoryview(raw)
    values: list[object] = []
    try:
        pos = json_columns.skip_separators(data, 0)
        while pos < len(data):
            end = json_columns.value_end(data, pos)
            values.append(msgspec.json.decode(data[pos:end]))
            pos = json_columns.skip_separators(data, end)
    except json_columns.FAILED:
        return None
    return values


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC: decoding creates millions of acyclic objects, and its passes would double the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def json_records(documents: list[object], page_key: str = "value") -> list[object]:
    """The records of every page: ``{"value": [...]}`` pages, arrays of pages, plain arrays, one after another."""
    records: list[object] = []
    for value in documents:
        if isinstance(value, dict) and isinstance(value.get(page_key), list):
            records.extend(value[page_key])
        elif isinstance(value, list):
            if all(isinstance(item, dict) and page_key not in item for item in value):  # a plain array
                records.extend(value)
                continue
            for item in value:
                if isinstance(item, dict) and isinstance(item.get(page_key), list) and "id" not in item:
                    records.extend(item[page_key])
                elif isinstance(item, list):  # pages as arrays inside an array (Invoke-RestMethod -FollowRelLink)
                    records.extend(item)
                else:
                    records.append(item)
        else:
            records.append(value)
    return records


def key_finder(records: list[dict]) -> dict[str, str]:
    """Lower-case key → the key as spelled in the file (Graph writes camelCase, ConvertTo-Json PascalCase)."""
    keys = set(chain.from_iterable(records))
    return {k.lower(): k for k in sorted(keys, reverse=True)}


def objects_only(path: Path, table: str, source: str, records: list[object]) -> tuple[list[dict], np.ndarray,
                                                                                      pd.DataFrame]:
    """The dict records, their 1-based record numbers, and rejected rows for anything else in the array."""
    is_obj = np.fromiter((isinstance(r, dict) for r in records), dtype=bool, count=len(records))
    numbers = np.flatnonzero(is_obj) + 1
    rej = schema.empty("rejected")
    if not is_obj.all():
        bad = np.flatnonzero(~is_obj)
        rej = schema.rejected_rows(table, source, "not a JSON object", n=len(bad),
                                   key=pd.Series([f"record {i + 1}" for i in bad], dtype="str"))
    return [r for r in records if isinstance(r, dict)], numbers, rej
