"""The bulk output files of one assessment besides findings.csv: ``findings.parquet`` for analysts and
``findings.xlsx`` for Excel users, each written atomically.

``app.assess.write_outputs`` writes them in worker threads while it writes findings.csv: Arrow's kernels, Parquet's
encoders and zlib release the GIL, so on two cores the three files take little more than the slowest of them.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hybridx_nb.core.vocabulary import XLSX_FULL
from hybridx_nb.report.xlsx import arrow_strings, string_bytes


def ordered_columns(findings: pd.DataFrame, contract: tuple[str, ...]) -> list[str]:
    """The findings' columns with the contract columns first (findings.csv's order, README: Outputs)."""
    columns = [c for c in contract if c in findings.columns]
    return columns + [c for c in findings.columns if c not in columns]


def write_findings_parquet(findings: pd.DataFrame, path: Path, columns: list[str]) -> Path:
    """findings.parquet: every finding, the columns of findings.csv in its order, typed (text as UTF-8 strings,
    flags as booleans, missing values as nulls); Snappy-compressed, which pandas, DuckDB and Excel's Power Query
    all read."""
    table = pa.Table.from_pandas(findings[columns], preserve_index=False)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression="snappy")
    os.replace(tmp, path)
    return path


def write_workbook(view: Any, scope: str, path: Path) -> Path:
    """findings.xlsx from the report's (possibly pseudonymised) findings: per ``scope`` (``XLSX_FULL``) the
    categories that need action, or all of them, in full; a count for the rest."""
    from hybridx_nb import report
    from hybridx_nb.report.xlsx import write_findings_xlsx

    return write_findings_xlsx(view.findings, path, categories=list(view.counts), summary=report.xlsx_summary(view),
                               extra=report.xlsx_extra(view), full=XLSX_FULL[scope])


def write_findings_csv(findings: pd.DataFrame, path: Path, contract: tuple[str, ...] = ()) -> Path:
    """findings.csv: the ``contract`` columns first, then the rest; UTF-8 with BOM so Excel shows accents right.

    The bytes are those of ``to_csv(index=False, encoding="utf-8-sig", lineterminator="\\r\\n")`` (a field is
    quoted when it holds a comma, a quote or a line break), built with Arrow string kernels a block of rows at a
    time: pandas' row-by-row writer takes 20 s for a million findings. Two blocks are built at once in worker
    threads (Arrow's kernels release the GIL) and written in order, at most two ahead of the file.
    """
    columns = ordered_columns(findings, contract)

    def block_bytes(start: int) -> np.ndarray:
        block = findings.iloc[start:start + _CSV_BLOCK]
        fields = [_csv_field(_csv_text(block[c])) for c in columns]
        fields[-1] = pc.binary_join_element_wise(fields[-1], _CRLF, _EMPTY, null_handling="replace")
        return string_bytes(pc.binary_join_element_wise(*fields, _COMMA, null_handling="replace"))

    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh, ThreadPoolExecutor(max_workers=2, thread_name_prefix="hybridx-csv") as pool:
        header = _csv_field(pa.array([str(c) for c in columns], pa.large_string())).to_pylist()
        fh.write(("\ufeff" + ",".join(header) + "\r\n").encode("utf-8"))
        pending: deque[Future[np.ndarray]] = deque()
        for start in range(0, len(findings), _CSV_BLOCK):
            pending.append(pool.submit(block_bytes, start))
            if len(pending) > 2:
                fh.write(pending.popleft().result())
        while pending:
            fh.write(pending.popleft().result())
    os.replace(tmp, path)
    return path


_CSV_BLOCK = 100_000
_COMMA, _CRLF, _EMPTY = (pa.scalar(s, pa.large_string()) for s in (",", "\r\n", ""))


def _csv_text(values: pd.Series) -> pa.Array:
    """A column as pandas writes it: True/False for flags, empty for missing values."""
    if pd.api.types.is_bool_dtype(values.dtype):
        flags = pa.array(values.astype("boolean").array)
        return pc.if_else(flags, pa.scalar("True", pa.large_string()), pa.scalar("False", pa.large_string()))
    return arrow_strings(values)


def _csv_field(arr: pa.Array) -> pa.Array:
    """Quote the values that hold a comma, a quote or a line break (quotes doubled), as the csv module does."""
    data = string_bytes(arr)
    if not any(bool((data == ch).any()) for ch in b'",\r\n'):
        return arr
    quote = pa.scalar('"', pa.large_string())
    quoted = pc.binary_join_element_wise(quote, pc.replace_substring(arr, '"', '""'), quote, _EMPTY)
    return pc.if_else(pc.match_substring_regex(arr, '[",\r\n]'), quoted, arr)
