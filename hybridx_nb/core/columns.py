"""Column helpers on pandas' Arrow-backed str columns, shared by every stage (no domain knowledge)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def as_str(s: pd.Series) -> pd.Series:
    """The column as pandas' str dtype (a no-op when it already is)."""
    return s.astype("str") if s.dtype != "str" else s


def arrow_text(s: pd.Series) -> pa.ChunkedArray:
    """The column's Arrow strings without a copy (the column is converted to the str dtype first if needed)."""
    return pa.chunked_array(as_str(s).array.__arrow_array__())


def isin(values: pd.Series, known: pd.Series | pd.Index) -> np.ndarray:
    """Boolean mask of ``values`` found in ``known``, hashed in Arrow (pandas' str ``isin`` loops in Python)."""
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    value_set = pa.array(as_str(pd.Series(known)).dropna(), type=pa.large_string())
    hits = pc.is_in(pa.array(as_str(values), type=pa.large_string(), from_pandas=True), value_set=value_set)
    return hits.fill_null(False).to_numpy(zero_copy_only=False)


def isin_codes(codes: np.ndarray, wanted: list[int]) -> np.ndarray:
    """Boolean mask of the integer ``codes`` that are one of ``wanted`` (a few values: one comparison each)."""
    out = np.zeros(len(codes), dtype=bool)
    for value in wanted:
        out |= codes == value
    return out
