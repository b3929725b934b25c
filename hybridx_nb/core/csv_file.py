"""CSV files for Excel users, built with Arrow string kernels: the findings, the takeover's changes, the plans.

One writer for the bulk CSV files, so they all quote, encode and end lines alike (the csv module's minimal
quoting, UTF-8 with BOM, CRLF) and a million rows take seconds, not the minutes of a row-by-row writer.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core.columns import arrow_strings, string_bytes


def write_csv(frame: pd.DataFrame, path: Path, columns: list[str] | None = None) -> Path:
    """``frame`` (its ``columns``, in that order) as a CSV file Excel opens right: UTF-8 with BOM, CRLF, missing
    values as empty cells, written atomically.

    The bytes are those of ``to_csv(index=False, encoding="utf-8-sig", lineterminator="\\r\\n")`` (a field is
    quoted when it holds a comma, a quote or a line break), built with Arrow string kernels a block of rows at a
    time: pandas' row-by-row writer takes 20 s for a million findings. Two blocks are built at once in worker
    threads (Arrow's kernels release the GIL) and written in order, at most two ahead of the file.
    """
    columns = list(frame.columns) if columns is None else columns

    def block_bytes(start: int) -> np.ndarray:
        block = frame.iloc[start:start + _CSV_BLOCK]
        fields = [_csv_field(_csv_text(block[c])) for c in columns]
        fields[-1] = pc.binary_join_element_wise(fields[-1], _CRLF, _EMPTY, null_handling="replace")
        return string_bytes(pc.binary_join_element_wise(*fields, _COMMA, null_handling="replace"))

    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh, ThreadPoolExecutor(max_workers=2, thread_name_prefix="hybridx-csv") as pool:
        header = _csv_field(pa.array([str(c) for c in columns], pa.large_string())).to_pylist()
        fh.write(("\ufeff" + ",".join(header) + "\r\n").encode("utf-8"))
        pending: deque[Future[np.ndarray]] = deque()
        for start in range(0, len(frame), _CSV_BLOCK):
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
