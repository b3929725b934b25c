"""The bulk output files of one assessment besides findings.csv: ``findings.parquet`` for analysts and
``findings.xlsx`` for Excel users, each written atomically.

``app.assess.write_outputs`` writes them in worker threads while it writes findings.csv: Arrow's kernels, Parquet's
encoders and zlib release the GIL, so on two cores the three files take little more than the slowest of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hybridx_nb.core.csv_file import write_csv
from hybridx_nb.core.vocabulary import XLSX_FULL


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


def findings_writers(findings: pd.DataFrame, out: Path, contract: tuple[str, ...]) -> dict[str, Callable[[], Path]]:
    """findings.csv and findings.parquet in ``out`` (the ``contract`` columns first), each written when its
    function is called."""
    columns = ordered_columns(findings, contract)
    return {"findings.csv": lambda: write_csv(findings, out / "findings.csv", columns),
            "findings.parquet": lambda: write_findings_parquet(findings, out / "findings.parquet", columns)}


def write_workbook(view: Any, scope: str, path: Path) -> Path:
    """findings.xlsx from the report's (possibly pseudonymised) findings: per ``scope`` (``XLSX_FULL``) the
    categories that need action, or all of them, in full; a count for the rest."""
    from hybridx_nb import report
    from hybridx_nb.report.xlsx import write_findings_xlsx

    return write_findings_xlsx(view.findings, path, categories=list(view.counts), summary=report.xlsx_summary(view),
                               extra=report.xlsx_extra(view), full=XLSX_FULL[scope])


def write_findings_csv(findings: pd.DataFrame, path: Path, contract: tuple[str, ...] = ()) -> Path:
    """findings.csv: the ``contract`` columns first, then the rest (``core.csv_file``)."""
    return write_csv(findings, path, ordered_columns(findings, contract))
