"""Text columns in a snapshot: only ``""`` is missing (a tab or a space is data), whatever the Arrow layout; a column
no row carries costs no memory of its own."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from hybridx_nb.core.columns import arrow_text
from hybridx_nb.snapshot.schema import blank_as_missing, conform, null_text

GUID = "d5b80f1b-9d4d-4038-a05f-f5048a5c3614"

VALUES = ["a", "", None, "\t", " ", "", "xyz"]
WANT = ["a", None, None, "\t", " ", None, "xyz"]


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_only_the_empty_string_is_missing(kind: pa.DataType) -> None:
    arr = pa.array(VALUES, kind)
    out = blank_as_missing(arr)
    assert out.to_pylist() == WANT and out.null_count == 3 and out.type == kind
    assert out.buffers()[2].address == arr.buffers()[2].address  # the strings are not copied
    assert blank_as_missing(arr.slice(1)).to_pylist() == WANT[1:]
    assert blank_as_missing(pa.chunked_array([arr, arr.slice(2)])).to_pylist() == WANT + WANT[2:]
    assert blank_as_missing(pa.chunked_array([arr])).to_pylist() == WANT
    assert blank_as_missing(pa.array(["a", None], kind)).to_pylist() == ["a", None]
    assert blank_as_missing(pa.array([], kind)).to_pylist() == []


def test_a_column_no_row_carries_shares_one_read_only_buffer() -> None:
    frame = pd.DataFrame({"dn": ["CN=a", "CN=b"], "object_guid": [GUID, GUID], "fax": ["", None],
                          "mobile": ["", "+1 425"]})
    users = conform("ad_users", frame)
    fax, title = (arrow_text(users[c]).chunk(0) for c in ("fax", "title"))  # blank in the file; not in it
    assert users["fax"].isna().all() and users["title"].isna().all() and users["mobile"].tolist()[1] == "+1 425"
    assert fax.buffers()[1].address == title.buffers()[1].address == null_text(1).buffers()[1].address
    assert not fax.buffers()[1].is_mutable
    assert users["fax"].fillna("x").tolist() == ["x", "x"] and users["fax"].str.lower().isna().all()
    again = conform("ad_users", users, canonical_text=True)  # as a snapshot is loaded
    assert arrow_text(again["fax"]).chunk(0).buffers()[1].address == fax.buffers()[1].address
