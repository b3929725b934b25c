"""findings.xlsx: a summary sheet, then one sheet per category (split past Excel's row limit).

Written with openpyxl's write-only mode (rows are streamed, memory stays flat). Every directory value is stored
as a text cell: a display name such as ``=HYPERLINK(...)`` stays text and never becomes a formula, and control
characters Excel refuses are removed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

#: Rows per sheet including the header row (Excel's limit).
EXCEL_MAX_ROWS = 1_048_576
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F3A5F")


def _sheet_names(category: str, parts: int) -> list[str]:
    base = category[:25]
    return [base] if parts == 1 else [f"{base} ({i + 1})"[:31] for i in range(parts)]


def _clean(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Text without control characters, list columns joined with ``;``, missing → None; plus a mask of the
    text cells that start with ``=`` (to be stored as text, not as formulas)."""
    out, mask = {}, np.zeros(frame.shape, dtype=bool)
    for j, col in enumerate(frame.columns):
        s = frame[col]
        if isinstance(s.dtype, pd.ArrowDtype) and "list" in str(s.dtype):
            s = s.list.join(";") if hasattr(s.list, "join") else s.map(";".join, na_action="ignore")
        if s.dtype == "str" or s.dtype == object:
            s = s.astype("str").str.replace(_ILLEGAL, "", regex=True)
            mask[:, j] = s.str.startswith("=").fillna(False).to_numpy(dtype=bool)
        out[col] = s.astype(object).where(s.notna(), None)
    return pd.DataFrame(out, index=frame.index), mask


def _header(ws, columns: Sequence[str]) -> list[WriteOnlyCell]:
    cells = []
    for name in columns:
        cell = WriteOnlyCell(ws, value=name)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cells.append(cell)
    return cells


def _rows(ws, frame: pd.DataFrame, formula_like: np.ndarray) -> Iterable[list]:
    """Rows as plain values, except the masked cells, which become explicit text cells."""
    risky_rows = formula_like.any(axis=1)
    for i, row in enumerate(frame.itertuples(index=False, name=None)):
        if not risky_rows[i]:
            yield list(row)
            continue
        out = list(row)
        for j in np.flatnonzero(formula_like[i]):
            cell = WriteOnlyCell(ws, value=out[j])
            cell.data_type = "s"
            out[j] = cell
        yield out


def _widths(ws, frame: pd.DataFrame) -> None:
    for j, col in enumerate(frame.columns, start=1):
        sample = frame[col].head(200).dropna().astype(str)
        width = max([len(col)] + [len(v) for v in sample]) if len(sample) else len(col)
        ws.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 10), 60)


def write_findings_xlsx(findings: pd.DataFrame, path: str | Path, *, categories: Sequence[str] | None = None,
                        summary: Sequence[tuple[str, object]] = (), max_rows: int = EXCEL_MAX_ROWS) -> Path:
    """Write ``findings.xlsx`` atomically; returns its path.

    ``summary`` rows (label, value) head the summary sheet, followed by the count per category and the sheet(s)
    holding it. ``max_rows`` (header included) exists so tests can exercise the split without a million rows.
    """
    path = Path(path)
    categories = list(categories) if categories is not None else list(pd.unique(findings["category"].dropna()))
    per_sheet = max_rows - 1
    wb = Workbook(write_only=True)
    ws_sum = wb.create_sheet("Summary")
    ws_sum.column_dimensions["A"].width, ws_sum.column_dimensions["B"].width = 34, 60
    ws_sum.column_dimensions["C"].width = 50
    for label, value in summary:
        ws_sum.append([_text(ws_sum, label), _text(ws_sum, value)])
    if summary:
        ws_sum.append([])
    ws_sum.append(_header(ws_sum, ["category", "findings", "sheet(s)"]))
    groups = {c: g for c, g in findings.groupby("category", sort=False, observed=True)} if len(findings) else {}
    plan = []
    for cat in categories:
        frame = groups.get(cat)
        n = 0 if frame is None else len(frame)
        parts = max(1, -(-n // per_sheet))
        names = _sheet_names(cat, parts) if n else []
        ws_sum.append([cat, n, ", ".join(names) if names else "(none)"])
        if n:
            plan.append((frame, names))
    ws_sum.append(["total", int(len(findings)), ""])
    for frame, names in plan:
        clean, formula_like = _clean(frame.reset_index(drop=True))
        for k, name in enumerate(names):
            rows = slice(k * per_sheet, (k + 1) * per_sheet)
            part = clean.iloc[rows]
            ws = wb.create_sheet(name)
            ws.freeze_panes = "A2"
            _widths(ws, part)
            ws.append(_header(ws, list(part.columns)))
            for row in _rows(ws, part, formula_like[rows]):
                ws.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    wb.save(tmp)
    os.replace(tmp, path)
    return path


def _text(ws, value: object) -> object:
    if isinstance(value, str):
        cell = WriteOnlyCell(ws, value=_ILLEGAL.sub("", value))
        cell.data_type = "s"
        return cell
    return value
