"""Text columns in a snapshot: only ``""`` is missing (a tab or a space is data), whatever the Arrow layout."""

from __future__ import annotations

import pyarrow as pa
import pytest

from hybridx_nb.snapshot.schema import _blank_as_missing

VALUES = ["a", "", None, "\t", " ", "", "xyz"]
WANT = ["a", None, None, "\t", " ", None, "xyz"]


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_only_the_empty_string_is_missing(kind: pa.DataType) -> None:
    arr = pa.array(VALUES, kind)
    out = _blank_as_missing(arr)
    assert out.to_pylist() == WANT and out.null_count == 3 and out.type == kind
    assert out.buffers()[2].address == arr.buffers()[2].address  # the strings are not copied
    assert _blank_as_missing(arr.slice(1)).to_pylist() == WANT[1:]
    assert _blank_as_missing(pa.chunked_array([arr, arr.slice(2)])).to_pylist() == WANT + WANT[2:]
    assert _blank_as_missing(pa.chunked_array([arr])).to_pylist() == WANT
    assert _blank_as_missing(pa.array(["a", None], kind)).to_pylist() == ["a", None]
    assert _blank_as_missing(pa.array([], kind)).to_pylist() == []
