"""Column helpers: lower-casing takes its byte-wise path only when that gives ``utf8_lower``'s result."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from hybridx_nb.core.columns import lower, lower_text, one_array

#: Mostly ASCII, as directories are, with the characters whose lower case is not byte-wise or not one character.
_TEXT = st.text(st.sampled_from(list("AbZz09@.-_ ;:") + ["É", "Ü", "ß", "İ", "Σ", "ſ", "K", "Ⅻ", "𝐀", "\x00"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), _TEXT), max_size=12), st.integers(0, 4), st.booleans())
def test_lower_is_utf8_lower(values: list[str | None], start: int, large: bool) -> None:
    """Any mix of ASCII and not, nulls, a sliced array, 32- and 64-bit offsets, chunked or not."""
    arr = pa.array(values, pa.large_string() if large else pa.string()).slice(start)
    assert lower(arr).equals(pc.utf8_lower(arr))
    chunked = pa.chunked_array([arr, pa.array(["ASCII Only"], arr.type)])
    assert lower(chunked).equals(pc.utf8_lower(chunked))
    series = pd.Series(values, dtype="str")
    pd.testing.assert_series_equal(lower_text(series), series.str.lower())


def test_an_empty_or_all_missing_column_is_lowered_too() -> None:
    for arr in (pa.array([], pa.string()), pa.nulls(3, pa.large_string())):
        assert lower(arr).equals(pc.utf8_lower(arr))


def test_one_array_keeps_a_single_chunk_and_joins_several() -> None:
    chunk = pa.array([["SMTP:a@x.com"], None, ["smtp:b@x.com", "x500:/o=X"]], pa.list_(pa.string()))
    single = one_array(pa.chunked_array([chunk]))
    assert single.values.buffers()[2].address == chunk.values.buffers()[2].address  # not copied
    joined = one_array(pa.chunked_array([chunk, chunk.slice(1)]))
    assert isinstance(joined, pa.ListArray) and joined.to_pylist() == chunk.to_pylist() + chunk.to_pylist()[1:]
    assert one_array(chunk) is chunk
