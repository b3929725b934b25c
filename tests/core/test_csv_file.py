"""The one CSV writer: the bytes pandas' ``to_csv`` and the csv module write (minimal quoting, UTF-8 with BOM,
CRLF, missing values empty), for any text, flags and numbers, in one block or many."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from hybridx_nb.core import csv_file

_text = st.one_of(st.none(), st.text(alphabet=st.sampled_from(list('ab ,;"\r\n\té€\u2028x')), max_size=12))


def _csv_module(frame: pd.DataFrame) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(frame.columns)
    writer.writerows(frame.astype(object).where(frame.notna(), "").itertuples(index=False, name=None))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_text, _text, st.one_of(st.none(), st.booleans())), max_size=25), st.integers(1, 9))
def test_bytes_equal_the_csv_module_and_pandas(rows, block) -> None:
    frame = pd.DataFrame({"plain": pd.array([r[0] for r in rows], dtype="str"),
                          'with "quote", comma': pd.array([r[1] for r in rows], dtype="str"),
                          "flag": pd.array([r[2] for r in rows], dtype="boolean")})
    old = csv_file._CSV_BLOCK
    with tempfile.TemporaryDirectory() as folder:
        try:
            csv_file._CSV_BLOCK = block
            got = csv_file.write_csv(frame, Path(folder) / "out.csv").read_bytes()
        finally:
            csv_file._CSV_BLOCK = old
    assert got == _csv_module(frame)
    assert got == frame.to_csv(index=False, encoding="utf-8-sig", lineterminator="\r\n").encode("utf-8-sig")
