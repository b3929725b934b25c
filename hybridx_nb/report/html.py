"""HTML building blocks: escaping, the little Markdown of the runbook, tables and fact lists.

Every value that comes from a directory goes through ``esc`` before it reaches the page: a display name such as
``<img src=x onerror=alert(1)>`` shows as text, and a value longer than ``CELL_MAX`` characters is shortened (the
CSV and XLSX keep it whole). Big tables show their first rows with a pointer to the full files."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping

import pandas as pd

#: Rows of one category (or of the plan / readiness) shown in the HTML; the rest is in CSV/XLSX.
ROW_LIMIT = 100


def esc(value: object) -> str:
    """Escape anything for HTML text or attribute values; missing values become an empty string."""
    if value is None or (not isinstance(value, (list, tuple, dict)) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")
_ITEM = re.compile(r"^\s*(?:\d+[.)]|[-*])\s+")


class Markup(str):
    """HTML built here from escaped parts: inserted as it is."""


def rich(text: object) -> Markup:
    """Plain text with the little Markdown the runbook uses (``**bold**``, ```code```, numbered or dashed lines),
    escaped first, so nothing in it can become markup of its own."""
    lines = [line for line in esc(text).splitlines() if line.strip()]

    def inline(line: str) -> str:
        return _CODE.sub(r"<code>\1</code>", _BOLD.sub(r"<strong>\1</strong>", line))

    out, items, ordered = [], [], False
    for line in lines + [""]:
        if line and _ITEM.match(line):
            numbered = bool(re.match(r"^\s*\d", line))
            item = inline(_ITEM.sub("", line, count=1))
            if ordered and not numbered:  # a dashed line under a numbered step belongs to that step
                items[-1] = (items[-1][:-5] + f"<ul><li>{item}</li></ul></li>").replace("</ul><ul>", "")
            else:
                ordered = ordered or numbered
                items.append(f"<li>{item}</li>")
            continue
        if items:
            tag = "ol" if ordered else "ul"
            out.append(f"<{tag}>{''.join(items)}</{tag}>")
            items, ordered = [], False
        if line:
            out.append(f"<p>{inline(line)}</p>" if len(lines) > 1 else inline(line))
    return Markup("".join(out))


#: Characters of one value shown in a table cell or a fact; the CSV and XLSX files keep the whole value.
CELL_MAX = 300


def shorten(value: object, limit: int = CELL_MAX) -> object:
    """A string value cut to ``limit`` characters with a note of its full length (a 100 MB display name made a
    200 MB page); other values as they are."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]}… ({len(value):,} characters; the whole value is in findings.csv)"
    return value


def cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        value = str(value)
    return esc(shorten(value))


def table(frame: pd.DataFrame, columns: Mapping[str, str] | None = None, *, detail: Mapping[str, str] | None = None,
          total: int | None = None, limit: int = ROW_LIMIT, more: str = "", interactive: bool = True,
          caption: str = "") -> str:
    """An HTML table of the first ``limit`` rows, every cell escaped; sortable and filterable in the browser.

    ``detail`` columns (long sentences such as the reason and the fix) go into a full-width line under each row.
    Each record is its own ``<tbody>`` so that sorting and filtering keep a row and its detail line together.
    """
    columns = dict(columns) if columns is not None else {c: c for c in frame.columns}
    columns = {c: label for c, label in columns.items() if c in frame.columns}
    detail = {c: label for c, label in (detail or {}).items() if c in frame.columns}
    total = len(frame) if total is None else total
    shown = frame.head(limit)
    head = "".join(f'<th scope="col" data-col="{esc(c)}">{esc(label)}</th>' for c, label in columns.items())
    # data-col lets print leave a column out; data-label names the value where a narrow screen shows rows as cards
    opens = [f'<td data-col="{esc(c)}" data-label="{esc(label)}">' for c, label in columns.items()]

    def values(cols: Mapping[str, str]) -> list[list[object]]:
        return [shown[c].astype(object).where(shown[c].notna(), None).tolist() for c in cols]

    body = []
    if len(shown):
        main, extra = values(columns), values(detail)
        for i in range(len(shown)):
            row = "<tr>" + "".join(f"{o}{cell(col[i])}</td>" for o, col in zip(opens, main)) + "</tr>"
            if detail:
                bits = " ".join(f'<span class="hx-dl">{esc(label)}:</span> {cell(col[i])}'
                                for label, col in zip(detail.values(), extra) if col[i] is not None)
                row += f'<tr class="hx-detail"><td colspan="{len(columns)}">{bits}</td></tr>' if bits else ""
            body.append(f"<tbody>{row}</tbody>")
    else:
        body.append(f'<tbody><tr><td colspan="{max(len(columns), 1)}" class="hx-empty">none</td></tr></tbody>')
    note = ""
    if total > len(shown):
        note = (f'<p class="hx-more">Showing the first {len(shown):,} of {total:,} rows. '
                f'{more or "The full list is in findings.csv and findings.xlsx."}</p>')
    tools = ""
    if interactive and len(shown) > 5:
        tools = ('<div class="hx-tools"><input type="search" class="hx-filter" placeholder="Filter these rows…" '
                 'aria-label="Filter rows"><span class="hx-count"></span></div>')
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    cls = "hx-table hx-sortable" if interactive else "hx-table"
    return (f'<div class="hx-tablewrap">{tools}<div class="hx-scroll"><table class="{cls}">{cap}<thead><tr>{head}'
            f'</tr></thead>{"".join(body)}</table></div>{note}</div>')


def kv(rows: Iterable[tuple[str, object]]) -> str:
    """A two-column facts table; values are escaped unless wrapped in ``Markup``."""
    out = "".join(f'<tr><th scope="row">{esc(k)}</th><td>{v if isinstance(v, Markup) else esc(shorten(v))}</td></tr>'
                  for k, v in rows)
    return f'<table class="hx-facts"><tbody>{out}</tbody></table>'
