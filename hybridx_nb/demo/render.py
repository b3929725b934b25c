"""Text rendering in Arrow for the demo export writers: concatenation, JSON values and chunked file output."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core.columns import one_array

LARGE_STRING = pa.large_string()


def as_arrow(values: pd.Series | pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous large_string Arrow array."""
    arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values, from_pandas=True)
    return one_array(arr).cast(LARGE_STRING)


def scalar(text: str) -> pa.Scalar:
    return pa.scalar(text, LARGE_STRING)


def concat_text(*parts: pa.Array | str | list, skip_nulls: bool = False) -> pa.Array:
    """Element-wise concatenation in one Arrow call; str parts are constants and list parts (from ``json_obj``)
    are spliced in. A null part makes the row null unless ``skip_nulls``."""
    flat: list[pa.Array | str] = []

    def add(part: pa.Array | str | list) -> None:
        if isinstance(part, list):
            for p in part:
                add(p)
        elif isinstance(part, str) and flat and isinstance(flat[-1], str):
            flat[-1] += part
        else:
            flat.append(part)

    add(list(parts))
    options = pc.JoinOptions(null_handling="skip" if skip_nulls else "emit_null")
    args = [scalar(p) if isinstance(p, str) else p for p in flat]
    return pc.binary_join_element_wise(*args, scalar(""), options=options)


def join_lists(offsets: np.ndarray, flat: pa.Array, sep: str) -> pa.Array:
    """Join the values of each list (given by ``offsets`` into ``flat``) with ``sep``."""
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), flat)
    return pc.binary_join(lists, scalar(sep))


def list_parts(values: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """A list column as (offsets from 0, flat values), for ``join_lists`` after an element-wise step."""
    arr = one_array(pa.array(values, from_pandas=True))
    offsets = arr.offsets.to_numpy().astype(np.int64)
    return offsets - offsets[0], as_arrow(arr.flatten())


def write_rows(fh: BinaryIO, rows: pa.Array, sep: str = "") -> None:
    """Write rows joined by ``sep`` straight from the Arrow buffer (no Python string per row)."""
    n = len(rows)
    if n == 0:
        return
    if sep:
        rows = concat_text(rows, pa.array([sep] * (n - 1) + [""], LARGE_STRING))
    rows = as_arrow(rows)
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset:rows.offset + n + 1]
    fh.write(memoryview(rows.buffers()[2])[offsets[0]:offsets[-1]])


def write_chunks(fh: BinaryIO, frame: pd.DataFrame, render: Callable[[pd.DataFrame, int], pa.Array],
                  sep: str = "") -> None:
    """Render ``frame`` a chunk of rows at a time (bounded memory, linear time) and write the rows joined by
    ``sep``. ``render(rows, start)`` returns one text per row; ``start`` is the chunk's first row number."""
    chunk = CHUNK
    for start in range(0, len(frame), chunk):
        if start:
            fh.write(sep.encode("utf-8"))
        write_rows(fh, render(frame.iloc[start:start + chunk], start), sep)


def patch(target: pa.Array, mask: np.ndarray, source: pa.Array, fn: Callable[[str], str]) -> pa.Array:
    """``target`` with the rows in ``mask`` replaced by ``fn(source value)``: Python only for those few rows."""
    if not mask.any():
        return target
    new = [fn(v) for v in as_arrow(source).filter(pa.array(mask)).to_pylist()]
    return pc.replace_with_mask(as_arrow(target), pa.array(mask), pa.array(new, LARGE_STRING))


def rows_with(arr: pa.Array, bad_byte: Callable[[np.ndarray], np.ndarray], *, first: bytes = b"",
               last: bytes = b"") -> np.ndarray:
    """Rows holding a byte for which ``bad_byte(bytes_array)`` is true, or starting/ending with given bytes.

    A scan of the Arrow data buffer with numpy: far cheaper than a regex per row."""
    arr = as_arrow(arr)
    n = len(arr)
    hit = np.zeros(n, dtype=bool)
    if n == 0 or arr.buffers()[2] is None:
        return hit
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + n + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]]
    offsets = offsets - offsets[0]
    if len(data) == 0:
        return hit
    bad = np.flatnonzero(bad_byte(data))
    hit[np.searchsorted(offsets, bad, side="right") - 1] = True
    nonempty = offsets[1:] > offsets[:-1]
    if first:
        hit |= nonempty & np.isin(data[np.minimum(offsets[:-1], len(data) - 1)], list(first))
    if last:
        hit |= nonempty & np.isin(data[np.maximum(offsets[1:] - 1, 0)], list(last))
    return hit & arr.is_valid().to_numpy(zero_copy_only=False)


def json_str(values: pd.Series | pa.Array) -> pa.Array:
    """JSON string literal of each value; missing values become ``null``.

    Only the rare values with a quote, backslash or control character go through ``json.dumps``."""
    arr = as_arrow(values)
    special = rows_with(arr, lambda b: (b < 0x20) | (b == 0x22) | (b == 0x5C))
    lit = patch(concat_text('"', arr, '"'), special, arr, lambda v: json.dumps(v, ensure_ascii=False))
    return pc.fill_null(lit, scalar("null"))


def json_bool(values: pd.Series) -> pa.Array:
    b = values.astype("boolean")
    text = np.where(b.isna().to_numpy(), "null", np.where(b.fillna(False).to_numpy(dtype=bool), "true", "false"))
    return pa.array(text, LARGE_STRING)


def json_list(values: pd.Series, element=json_str) -> pa.Array:
    offsets, flat = list_parts(values)
    return concat_text("[", join_lists(offsets, element(flat), ","), "]")


def json_obj(**fields: pa.Array | str | list) -> list:
    """The parts of a JSON object per row, for ``concat_text``: values are columns of JSON texts, constant JSON texts
    (str) or nested ``json_obj`` parts, so a whole nested document is built in a single Arrow call."""
    parts: list = []
    for i, (key, value) in enumerate(fields.items()):
        parts += [("{" if i == 0 else ",") + json.dumps(key) + ":", value]
    return parts + ["}"]


CHUNK = 99_900  # rows rendered at a time: a multiple of the Graph page size


def csv_rows(columns: tuple[pd.Series | pa.Array, ...]) -> pa.Array:
    """One Export-Csv line per row: every value double-quoted, quotes doubled, missing values empty."""
    parts: list[pa.Array | str] = []
    for values in columns:
        text = pc.fill_null(as_arrow(values), scalar(""))
        quoted = patch(text, rows_with(text, lambda b: b == 0x22), text, lambda v: v.replace('"', '""'))
        parts += ['","' if parts else '"', quoted]
    return concat_text(*parts, '"')


def write_powershell_csv(frame: pd.DataFrame, path: Path, headers: tuple[str, ...],
                         render: Callable[[pd.DataFrame, int], pa.Array]) -> Path:
    """A file as ``Export-Csv -NoTypeInformation -Encoding UTF8`` writes it: BOM, quoted header, CRLF lines."""
    with open(path, "wb") as fh:
        fh.write(b"\xef\xbb\xbf" + (",".join(f'"{h}"' for h in headers) + "\r\n").encode("utf-8"))
        write_chunks(fh, frame, render, "\r\n")
        fh.write(b"\r\n" if len(frame) else b"")
    return path
