"""PowerShell Export-Csv files: the records with their line numbers, column names matched by synonym, and the placeholders that show an export lost data."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from hybridx_nb.core.columns import arrow_text, one_array
from hybridx_nb.core.errors import InputError
from hybridx_nb.sources.text import EXPORTS_DOC, Text

#: Type names PowerShell writes instead of the data when an array or object reaches Export-Csv unconverted.
PLACEHOLDER_RE = re.compile(
    r"(?:System\.(?:Byte|String|Object|Guid|Int32|Int64)\[\]"
    r"|System\.Collections\.[\w.`]+(?:\[[^\]]*\])?"
    r"|System\.Management\.Automation\.PS\w+(?:\[\])?"
    r"|Microsoft\.ActiveDirectory\.Management\.\w+"
    r"|Microsoft\.Graph\.PowerShell\.Models\.[\w.]+(?:\[\])?)")


@dataclass
class Csv:
    """A CSV export as string columns (``""`` for empty), with the physical line each row starts on."""

    frame: pd.DataFrame
    lines: np.ndarray
    headers: list[str]
    type_line: bool  # Windows PowerShell's ``#TYPE ...`` first line


def read_powershell_csv(doc: Text) -> Csv:
    """Parse an ``Export-Csv`` file: optional ``#TYPE`` line, any delimiter of ``, ; TAB``, quoted newlines.

    Arrow parses the file's bytes as they are read (``stream.Reader``), CRLF or LF line ends; CRLF inside a quoted
    value becomes LF, as in ``Text.text``.
    """
    data = doc.prefix(1 << 20)
    type_line = data.startswith(b"#TYPE")
    start = (data.find(b"\n") + 1 or len(data)) if type_line else 0
    if data.find(b"\n", start) < 0 and len(data) == 1 << 20:  # a header line longer than that: read it all
        data = doc.utf8()
        start = (data.find(b"\n") + 1 or len(data)) if type_line else 0
    first_offset = int(type_line)
    end = data.find(b"\n", start)
    header_text = data[start:end if end >= 0 else len(data)].decode("utf-8").removesuffix("\r")
    try:
        delimiter = max(",;\t", key=lambda d: len(next(csv.reader([header_text], delimiter=d))))
        headers = next(csv.reader([header_text], delimiter=delimiter)) if header_text.strip() else []
    except csv.Error as exc:
        raise InputError(doc.path, f"the first line is not a CSV header ({exc}; it is {len(header_text):,} "
                         "characters long)", line=1 + first_offset,
                         fix=f"export with Export-Csv, which writes the column names first (see {EXPORTS_DOC})") from None
    if not headers or not any(h.strip() for h in headers):
        raise InputError(doc.path, "no header line", line=1 + first_offset,
                         fix=f"export with Export-Csv, which writes the column names first (see {EXPORTS_DOC})")
    blank = [i + 1 for i, h in enumerate(headers) if not h.strip()]
    if blank or len(set(headers)) != len(headers):
        dup = sorted({h for h in headers if headers.count(h) > 1})
        raise InputError(doc.path, f"the header has empty or repeated column names ({blank or dup})",
                         line=1 + first_offset, fix="export each property once, with a name")
    del data
    reader = doc.reader(skip=start, lines=True)
    try:
        table = pacsv.read_csv(
            pa.PythonFile(reader, mode="r"),
            read_options=pacsv.ReadOptions(block_size=1 << 26),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            # the bytes are checked as UTF-8 as they are read, and ASCII delimiters, quotes and line ends never
            # split a character: checking each value again was 1.5 s of CPU at a million users
            convert_options=pacsv.ConvertOptions(column_types={h: pa.large_string() for h in headers}, check_utf8=False,
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowInvalid as exc:
        if not reader.failed:
            raise _malformed(doc, delimiter, first_offset, str(exc)) from None
    finally:
        reader.close()
    if reader.failed:  # not UTF-8, or not readable to its end: read whole, which says where (or parses it)
        doc.utf8()
        return read_powershell_csv(doc)
    if reader.newlines + (reader.last_byte != b"\n") == table.num_rows + 1:  # no blank line, no value on two
        lines = np.arange(1, table.num_rows + 2, dtype=np.int64) + first_offset
    else:
        lines = _record_lines(doc.utf8(), start, table.num_rows) + first_offset
    if len(lines) != table.num_rows + 1:
        raise _malformed(doc, delimiter, first_offset, f"found {len(lines) - 1} records but parsed "
                         f"{table.num_rows} rows")
    if len(lines) > 1 and lines[-1] - lines[0] != len(lines) - 1:  # some value spans lines: CRLF in it → LF
        table = pa.table({h: _lf(table.column(h)) for h in table.column_names})
    doc.release()  # (a file in memory: the table holds the values, the bytes go before the columns are built)
    # each column's blocks joined, and freed, before the next one is joined: joined later (in conform), every
    # column was held twice, 0.3 GB at a million users
    columns = {}
    for name in table.column_names:
        columns[name] = one_array(table.column(0))
        table = table.remove_column(0)
    frame = pa.table(columns).to_pandas(
        types_mapper={pa.large_string(): pd.StringDtype("pyarrow", na_value=np.nan)}.get)
    return Csv(frame, lines[1:], headers, type_line)


def _lf(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """CRLF inside values as LF (only a column that has one is rewritten)."""
    has = pc.any(pc.match_substring(values, "\r\n")).as_py()
    return pc.replace_substring(values, "\r\n", "\n") if has else values


def _malformed(doc: Text, delimiter: str, offset: int, detail: str) -> InputError:
    """The error for a CSV file Arrow could not parse, naming the line where it goes wrong (a stray quote opens
    a field that swallows the lines after it): found by reading it again with the csv module, record by record."""
    text = doc.text.split("\n", 1)[1] if offset else doc.text
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    width, start = None, 1
    try:
        for record in reader:
            if width is None:
                width = len(record)
            elif record and len(record) != width:
                return InputError(doc.path, f"this record has {len(record)} fields, the header {width}: a stray "
                                  "quote or delimiter (a quoted field runs on to line "
                                  f"{reader.line_num + offset})" if reader.line_num > start else
                                  f"this record has {len(record)} fields, the header {width}",
                                  line=start + offset, fix="re-run the export; do not edit the file in Excel")
            start = reader.line_num + 1
    except csv.Error as exc:
        return InputError(doc.path, f"a stray quote: the field that starts here never ends properly ({exc})",
                          line=start + offset, fix="re-run the export; do not edit the file in Excel")
    return InputError(doc.path, f"not a well-formed CSV file ({detail})",
                      fix="re-run the export; do not edit the file in Excel")


def _record_lines(data: bytes, start: int, records: int) -> np.ndarray:
    """1-based physical line (counted from ``start``) on which each non-empty CSV record starts, the header
    first; newlines inside quotes do not count (for a file with blank lines or values on several lines)."""
    buf = np.frombuffer(data, dtype=np.uint8)[start:]
    newlines = np.flatnonzero(buf == 10)
    quotes = np.flatnonzero(buf == 34)
    outside = np.searchsorted(quotes, newlines) % 2 == 0  # an even number of quotes before it: a record ends
    ends = np.append(newlines[outside], len(buf))
    starts = np.insert(ends[:-1] + 1, 0, 0)
    nonempty = ends > starts + (buf[np.minimum(starts, len(buf) - 1)] == 13)  # a blank CRLF line is empty too
    line_of = np.searchsorted(newlines, starts[nonempty]) + 1
    return line_of.astype(np.int64)


def normalise_name(name: str) -> str:
    """Header or attribute name for matching: lower case without ``-``, ``_``, spaces or quotes."""
    return re.sub(r"[\s_\-'\".]", "", name).lower()


def match_columns(path: Path, headers: Iterable[str], synonyms: Mapping[str, tuple[str, ...]],
                  required: Iterable[str], *, fix: str) -> dict[str, str]:
    """Canonical field → header found, matched case-insensitively through ``synonyms``."""
    by_norm = {normalise_name(h): h for h in headers}
    found = {}
    for canonical, names in synonyms.items():
        for name in names:
            if normalise_name(name) in by_norm:
                found[canonical] = by_norm[normalise_name(name)]
                break
    missing = [c for c in required if c not in found]
    if missing:
        wanted = "; ".join(f"{synonyms[c][0]} (or {', '.join(synonyms[c][1:])})" if len(synonyms[c]) > 1
                           else synonyms[c][0] for c in missing)
        raise InputError(path, f"required column(s) missing: {wanted}; the header has: {', '.join(headers)}",
                         line=None, fix=fix)
    return found


def check_placeholders(path: Path, frame: pd.DataFrame, lines: np.ndarray, columns: Iterable[str],
                       fixes: Mapping[str, str]) -> None:
    """Refuse a column holding a PowerShell type name (``System.Byte[]``...): the export lost that data."""
    for col in columns:
        values = frame[col]
        text = arrow_text(values)  # Arrow's any() over its own masks: half the time of pandas' at a million rows
        if not any(pc.any(pc.starts_with(text, prefix)).as_py() for prefix in ("System.", "Microsoft.")):
            continue
        maybe = values.str.startswith("System.") | values.str.startswith("Microsoft.")
        hits = values[maybe].str.fullmatch(PLACEHOLDER_RE.pattern)
        if hits.any():
            pos = np.flatnonzero(maybe.to_numpy())[np.flatnonzero(hits.to_numpy())[0]]
            raise InputError(path, f"holds the PowerShell type name {values.iloc[pos]!r} instead of the data: "
                             "Export-Csv wrote the object's type because the export command did not convert it",
                             line=int(lines[pos]), column=col, fix=fixes.get(col, fixes.get("*")))


def column(frame: pd.DataFrame, found: Mapping[str, str], name: str) -> pd.Series:
    """The source column mapped to ``name``, or an all-missing str column."""
    if name in found:
        return frame[found[name]]
    return pd.Series(np.full(len(frame), np.nan, dtype=object), index=frame.index, dtype="str")


def blank(values: pd.Series) -> np.ndarray:
    """Mask of missing or whitespace-only values."""
    return (values.isna() | (values.str.strip() == "")).to_numpy(dtype=bool)


