"""findings.xlsx: a summary sheet, then one sheet per category in the report's order and with its labels (the
duplicates first), each with a frozen header row and an autofilter; a category past Excel's row limit continues on
``label (2)``, ….

The workbook is written directly as Office Open XML (a zip of XML parts), with the cell XML built column by column
with Arrow string kernels: a million findings take seconds, where a cell-by-cell writer (openpyxl) takes minutes.
Every directory value is an inline string cell, so a display name such as ``=HYPERLINK(...)`` stays text and never
becomes a formula; characters XML cannot carry are removed and values are cut at Excel's 32,767 characters.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from isal import isal_zlib

from hybridx_nb.core.columns import arrow_strings, string_bytes, string_offsets
from hybridx_nb.core.vocabulary import ACTION_ORDER, LABELS, NO_ACTION

#: Rows per sheet including the header row (Excel's limit).
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_CELL = 32_767
_CHUNK = 50_000
#: The summary sheet's note for a category that is counted but has no sheet.
COUNTED_ONLY = "no sheet: no action needed (every row is in findings.csv and findings.parquet; --xlsx all adds it)"
_ILLEGAL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{fffe}\x{ffff}]"
_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_STYLES = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{_NS}">'
           '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
           '<font><b/><sz val="11"/><color rgb="FFFFFFFF"/><name val="Calibri"/></font></fonts>'
           '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
           '</fill><fill><patternFill patternType="solid"><fgColor rgb="FF1F3A5F"/><bgColor indexed="64"/>'
           '</patternFill></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/>'
           '</border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
           '</cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
           '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/></cellXfs>'
           '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')


def column_letter(j: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    name = ""
    j += 1
    while j:
        j, rem = divmod(j - 1, 26)
        name = chr(65 + rem) + name
    return name


def _sheet_names(category: str, parts: int) -> list[str]:
    """The category's label as Excel allows a sheet name (31 characters, none of ``[]:*?/\\``)."""
    base = "".join("_" if ch in '[]:*?/\\' else ch for ch in LABELS.get(category, category)).strip("'")
    if parts == 1:
        return [base[:31]]
    return [f"{base[:31 - len(f' ({parts})')]} ({i + 1})" for i in range(parts)]


def _ordered(categories: Sequence[str]) -> list[str]:
    """The categories in the report's order (what needs action first); unknown ones after, as given."""
    rank = {c: i for i, c in enumerate(ACTION_ORDER)}
    return sorted(categories, key=lambda c: rank.get(c, len(rank)))


def _contains(data: np.ndarray, chars: bytes) -> bool:
    return any(bool((data == ch).any()) for ch in chars)


def _text_array(values: pd.Series) -> tuple[pa.Array, bool]:
    """The column as XML-escaped Arrow strings, and whether a value starts or ends with white space.

    Each transformation runs only when a scan of the column's bytes shows it can change something: most columns
    hold no control characters, no ``&<>`` and no value near Excel's cell limit.
    """
    arr = arrow_strings(values)
    data = string_bytes(arr)
    if bool((data < 0x20).any()) or _contains(data, b"\xef"):  # control characters, or maybe U+FFFE/U+FFFF
        arr = pc.replace_substring_regex(arr, _ILLEGAL, "")
    if len(arr) and int(np.diff(string_offsets(arr)).max()) > EXCEL_MAX_CELL:
        arr = pc.utf8_slice_codeunits(arr, 0, EXCEL_MAX_CELL)
    for raw, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):  # XML reads a raw CR as LF
        if _contains(string_bytes(arr), raw.encode()):
            arr = pc.replace_substring(arr, raw, entity)
    return arr, _edge_space(arr)


def _edge_space(arr: pa.Array) -> bool:
    """Whether any value starts or ends with XML white space (such cells need ``xml:space="preserve"``)."""
    off = string_offsets(arr)
    full = np.flatnonzero(off[1:] > off[:-1])
    if not len(full):
        return False
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    edges = np.concatenate([data[off[full]], data[off[full + 1] - 1]])
    return bool(np.isin(edges, np.frombuffer(b" \t\r\n", dtype=np.uint8)).any())


def _s(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())


def _cells(values: pd.Series, letter: str, rows: pa.Array) -> pa.Array:
    """One column's ``<c>`` elements for the given row numbers (null where the value is missing)."""
    ref = _s(f'<c r="{letter}')
    if pd.api.types.is_bool_dtype(values.dtype):
        flags = pa.array(values.astype("boolean").array)
        v = pc.if_else(flags, _s("1"), _s("0"))
        return pc.binary_join_element_wise(ref, rows, _s('" t="b"><v>'), v, _s("</v></c>"), _s(""))
    if pd.api.types.is_numeric_dtype(values.dtype):
        return pc.binary_join_element_wise(ref, rows, _s('"><v>'), arrow_strings(values), _s("</v></c>"), _s(""))
    text, keep_space = _text_array(values)
    t = '<t xml:space="preserve">' if keep_space else "<t>"
    return pc.binary_join_element_wise(ref, rows, _s(f'" t="inlineStr"><is>{t}'), text, _s("</t></is></c>"),
                                       _s(""))


def _row_xml(frame: pd.DataFrame, first_row: int) -> np.ndarray:
    """``<row>`` elements for ``frame``, the first on sheet row ``first_row`` (1-based), as UTF-8 bytes."""
    rows = pa.array(np.arange(first_row, first_row + len(frame))).cast(pa.large_string())
    cells = [_cells(frame[c], column_letter(j), rows) for j, c in enumerate(frame.columns)]
    joined = pc.binary_join_element_wise(_s('<row r="'), rows, _s('">'), *cells, _s("</row>"), _s(""),
                                         null_handling="skip")
    return string_bytes(joined)


def _header_xml(columns: Sequence[str], row: int = 1) -> str:
    cells = "".join(f'<c r="{column_letter(j)}{row}" s="1" t="inlineStr"><is><t>{escape(str(c))}</t></is></c>'
                    for j, c in enumerate(columns))
    return f'<row r="{row}">{cells}</row>'


def _plain_row(values: Sequence[object], row: int) -> str:
    cells = []
    for j, v in enumerate(values):
        ref = f"{column_letter(j)}{row}"
        if v is None or v == "":
            continue
        if isinstance(v, bool):
            cells.append(f'<c r="{ref}" t="b"><v>{int(v)}</v></c>')
        elif isinstance(v, (int, float)):
            cells.append(f'<c r="{ref}"><v>{v}</v></c>')
        else:
            text = escape(str(v))[:EXCEL_MAX_CELL]
            cells.append(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>')
    return f'<row r="{row}">{"".join(cells)}</row>'


def _sheet_tail(filter_ref: str) -> str:
    """The end of a sheet after its rows: the autofilter over the header row and the data below it."""
    return f'</sheetData><autoFilter ref="{filter_ref}"/></worksheet>'


def _sheet_head(widths: Sequence[float], freeze: int, rows: int) -> str:
    """The sheet's start up to ``<sheetData>``, rows ``1..freeze`` frozen; the dimension spares readers (openpyxl)
    a scan of every row."""
    ref = f"A1:{column_letter(max(len(widths), 1) - 1)}{max(rows, 1)}"
    pane = ('<sheetViews><sheetView workbookViewId="0">'
            f'<pane ySplit="{freeze}" topLeftCell="A{freeze + 1}" activePane="bottomLeft" state="frozen"/>'
            '</sheetView></sheetViews>') if freeze else ""
    cols = "".join(f'<col min="{j + 1}" max="{j + 1}" width="{w:.0f}" customWidth="1"/>' for j, w in enumerate(widths))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_NS}">'
            f'<dimension ref="{ref}"/>{pane}'
            f'{f"<cols>{cols}</cols>" if cols else ""}<sheetData>')


def _widths(frame: pd.DataFrame) -> list[float]:
    out = []
    for col in frame.columns:
        sample = frame[col].head(200).dropna().astype(str)
        width = max([len(col)] + [len(v) for v in sample]) if len(sample) else len(col)
        out.append(min(max(width + 2, 10), 60))
    return out


def write_findings_xlsx(findings: pd.DataFrame, path: str | Path, *, categories: Sequence[str] | None = None,
                        summary: Sequence[tuple[str, object]] = (), max_rows: int = EXCEL_MAX_ROWS,
                        extra: Mapping[str, pd.DataFrame] | None = None,
                        full: Collection[str] | None = None) -> Path:
    """Write ``findings.xlsx`` atomically; returns its path.

    ``summary`` rows (label, value) head the summary sheet, followed by the count per category and the sheet(s)
    holding it. ``max_rows`` (header included) exists so tests can exercise the split without a million rows.
    ``extra`` sheets (name → frame, such as the takeover's changes) follow the categories, split the same way.
    ``full`` names the categories that get their sheets (None: all); the others are only counted
    (``core.vocabulary.XLSX_FULL``).
    """
    path = Path(path)
    categories = _ordered(list(categories) if categories is not None
                          else list(pd.unique(findings["category"].dropna())))
    per_sheet = max_rows - 1
    category = findings["category"]
    plan, lines = [], []
    for cat in categories:
        positions = np.flatnonzero((category == cat).to_numpy(dtype=bool, na_value=False))
        n = len(positions)
        if n and full is not None and cat not in full:
            lines.append((LABELS.get(cat, cat), n, "no" if cat in NO_ACTION else "yes", COUNTED_ONLY, cat))
            continue
        names = _sheet_names(cat, max(1, -(-n // per_sheet))) if n else []
        lines.append((LABELS.get(cat, cat), n, "no" if cat in NO_ACTION else "yes",
                       ", ".join(names) if names else "(no rows)", cat))
        if n:
            plan.append((positions, names, findings))
    for name, frame in (extra or {}).items():
        n = len(frame)
        names = _sheet_names(name, max(1, -(-n // per_sheet)))
        plan.append((np.arange(n), names, frame))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    sheets: list[str] = ["Summary"]
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        rows = [_plain_row([label, value if isinstance(value, (int, float, bool)) else str(value)], i + 1)
                for i, (label, value) in enumerate(summary)]
        start = len(rows) + (2 if summary else 1)
        rows.append(_header_xml(["Category", "Identities", "Needs action", "Sheet(s)", "category in findings.csv"],
                                start))
        rows += [_plain_row(line, start + 1 + i) for i, line in enumerate(lines)]
        last = start + len(lines)
        rows.append(_plain_row(["Total", int(len(findings))], last + 1))
        filters = [f"A{start}:E{last}"]
        z.writestr("xl/worksheets/sheet1.xml", _sheet_head([30, 60, 14, 40, 24], start, last + 1) + "".join(rows)
                   + _sheet_tail(filters[0]))
        for positions, names, rows_of in plan:  # rows are taken a chunk at a time: no copy of a whole category
            widths = _widths(rows_of.take(positions[:200]))
            for k, name in enumerate(names):
                part = positions[k * per_sheet:(k + 1) * per_sheet]
                sheets.append(name)
                filters.append(f"A1:{column_letter(max(len(rows_of.columns), 1) - 1)}{len(part) + 1}")
                with z.open(f"xl/worksheets/sheet{len(sheets)}.xml", "w", force_zip64=True) as fh:
                    _isal_deflate(fh)
                    head = _sheet_head(widths, 1, len(part) + 1) + _header_xml(list(rows_of.columns))
                    fh.write(head.encode("utf-8"))
                    chunks = (_row_xml(rows_of.take(part[s:s + _CHUNK]), s + 2) for s in range(0, len(part), _CHUNK))
                    _write_behind(fh, chunks)
                    fh.write(_sheet_tail(filters[-1]).encode("utf-8"))
        _package(z, sheets, filters)
    os.replace(tmp, path)
    return path


def repr_sheet(name: str) -> str:
    """A sheet name as a formula reference: quoted, quotes doubled."""
    return "'" + name.replace("'", "''") + "'"


def _isal_deflate(fh: IO[bytes]) -> None:
    """Deflate the part with ISA-L instead of zlib: the same format at level 1, about four times as fast and a
    little smaller (a million findings are hundreds of MB of XML). ``zipfile`` makes its compressor when the part
    is opened and keeps it in ``_compressor``; without that attribute (another Python) zlib stays, as correct."""
    if getattr(fh, "_compressor", None) is not None:
        fh._compressor = isal_zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)  # type: ignore[attr-defined]


def _write_behind(fh: IO[bytes], chunks: Iterable[np.ndarray]) -> None:
    """Write each chunk while the next one is built: deflate and the Arrow kernels both release the GIL, so
    compressing overlaps with building the XML (at most two chunks in memory)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        for chunk in chunks:
            if pending is not None:
                pending.result()
            pending = pool.submit(fh.write, chunk)
        if pending is not None:
            pending.result()


def _package(z: zipfile.ZipFile, sheets: list[str], filters: list[str]) -> None:
    """The workbook, relationship and content-type parts around the sheets (with the hidden names Excel keeps for
    each sheet's autofilter)."""
    n = len(sheets)

    def absolute(ref: str) -> str:
        return ":".join("$" + "".join(c for c in p if c.isalpha()) + "$" + "".join(c for c in p if c.isdigit())
                        for p in ref.split(":"))

    names = "".join(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
                    f"{escape(repr_sheet(name))}!{absolute(ref)}</definedName>"
                    for i, (name, ref) in enumerate(zip(sheets, filters)))
    z.writestr("[Content_Types].xml", (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
        + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT}.worksheet+xml"/>'
                  for i in range(1, n + 1)) + "</Types>"))
    z.writestr("_rels/.rels", (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
    z.writestr("xl/workbook.xml", (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{_NS}" xmlns:r="{_REL}">'
        "<sheets>" + "".join(f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>'
                             for i, name in enumerate(sheets, start=1)) + "</sheets>"
        + f"<definedNames>{names}</definedNames></workbook>"))
    z.writestr("xl/_rels/workbook.xml.rels", (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_PKG_REL}">'
        + "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                  for i in range(1, n + 1))
        + f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'))
    z.writestr("xl/styles.xml", _STYLES)
