"""findings.xlsx: summary sheet, one sheet per category, split past the row limit, text stays text; findings.csv
has the bytes pandas would write."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook
from support.report_frames import findings_frame

from hybridx_nb.app.assess import write_findings_csv
from hybridx_nb.report.xlsx import EXCEL_MAX_CELL, column_letter, write_findings_xlsx


def _rows(ws) -> list[tuple]:
    return list(ws.iter_rows(values_only=True))


def test_summary_and_one_sheet_per_category(tmp_path: Path) -> None:
    frame = findings_frame()
    path = write_findings_xlsx(frame, tmp_path / "findings.xlsx", categories=["hard_match", "anchor_mismatch",
                                                                               "new_user", "cloud_only", "ambiguous"],
                               summary=[("Client", "Contoso")])
    wb = load_workbook(path, read_only=True)
    # the report's order and labels: the duplicates first, no sheet for an empty category
    assert wb.sheetnames == ["Summary", "Duplicate (wrong ImmutableID)", "New user", "Hard match", "Cloud only"]
    summary = _rows(wb["Summary"])
    assert summary[0][:2] == ("Client", "Contoso")
    assert summary[2][:5] == ("Category", "Identities", "Needs action", "Sheet(s)", "category in findings.csv")
    assert [r[4] for r in summary[3:8]] == ["anchor_mismatch", "ambiguous", "new_user", "hard_match", "cloud_only"]
    assert {r[4]: r[1] for r in summary[3:8]} == {"hard_match": 3, "anchor_mismatch": 2, "new_user": 1,
                                                  "cloud_only": 1, "ambiguous": 0}
    assert summary[3][2] == "yes" and summary[6][2] == "no" and summary[4][3] == "(no rows)"
    assert summary[8][:2] == ("Total", 7)
    rows = _rows(wb["Duplicate (wrong ImmutableID)"])
    assert rows[0] == tuple(frame.columns)
    assert len(rows) == 3 and rows[1][frame.columns.get_loc("immutable_id")] == "00uA1b2C3d4E5f6G7h8i"
    assert rows[1][frame.columns.get_loc("federated")] is True


def test_category_split_past_the_row_limit(tmp_path: Path) -> None:
    frame = findings_frame({"hard_match": 10, "new_user": 2})
    path = write_findings_xlsx(frame, tmp_path / "f.xlsx", max_rows=5)  # 4 data rows per sheet
    wb = load_workbook(path, read_only=True)
    assert wb.sheetnames == ["Summary", "New user", "Hard match (1)", "Hard match (2)", "Hard match (3)"]
    data = [r for name in wb.sheetnames[2:5] for r in _rows(wb[name])[1:]]
    assert [r[frame.columns.get_loc("ad_upn")] for r in data] == frame["ad_upn"].head(10).tolist()
    assert all(len(_rows(wb[n])) <= 5 for n in wb.sheetnames[1:])
    assert [wb[n].max_row for n in wb.sheetnames[1:]] == [3, 5, 5, 3]  # the declared dimension


def test_formulas_and_control_characters_stay_harmless_text(tmp_path: Path) -> None:
    frame = pd.DataFrame({"category": ["new_user"] * 2,
                          "ad_display_name": ['=HYPERLINK("http://evil","x")', "bad\x00\x07name"],
                          "entra_roles": pd.Series(["a;b", None], dtype="str")})
    path = write_findings_xlsx(frame, tmp_path / "f.xlsx")
    ws = load_workbook(path)["New user"]
    assert ws["B2"].data_type == "s" and ws["B2"].value == '=HYPERLINK("http://evil","x")'
    assert ws["B3"].value == "badname"
    assert ws["C3"].value is None


EDGES = ["plain", "", None, 'a "quote"', "a, comma", "line\nfeed", "carriage\rreturn", " leading", "trailing ",
         "tab\tinside", "é ü ß", "=1+2", "a&b <c>"]


def _edge_frame() -> pd.DataFrame:
    return pd.DataFrame({"category": pd.Series(["new_user"] * len(EDGES), dtype="str"),
                         "ad_display_name": pd.Series(EDGES, dtype="str"),
                         "federated": pd.array([True, False, None] + [True] * (len(EDGES) - 3), dtype="boolean")})


def test_findings_csv_has_the_bytes_pandas_writes(tmp_path: Path) -> None:
    frame = pd.concat([findings_frame(), _edge_frame()], ignore_index=True)
    path = write_findings_csv(frame, tmp_path / "findings.csv")
    expected = tmp_path / "pandas.csv"
    frame[list(pd.read_csv(path, encoding="utf-8-sig", nrows=0).columns)].to_csv(
        expected, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    assert path.read_bytes() == expected.read_bytes()
    assert path.read_bytes().startswith(b"\xef\xbb\xbfcategory,ad_dn,ad_upn,entra_id,entra_upn,immutable_id,")


def test_spaces_markup_and_long_values_survive(tmp_path: Path) -> None:
    frame = _edge_frame()
    frame.loc[0, "ad_display_name"] = "x" * (EXCEL_MAX_CELL + 10)
    ws = load_workbook(write_findings_xlsx(frame, tmp_path / "f.xlsx"))["New user"]
    values = [ws.cell(row=i + 2, column=2).value for i in range(len(EDGES))]
    assert values[0] == "x" * EXCEL_MAX_CELL
    assert values[1:] == EDGES[1:]
    assert [ws.cell(row=i + 2, column=3).value for i in range(3)] == [True, False, None]


def test_every_sheet_has_a_frozen_header_and_an_autofilter(tmp_path: Path) -> None:
    frame = findings_frame()
    path = write_findings_xlsx(frame, tmp_path / "f.xlsx", summary=[("Client", "C"), ("Recommendation", "go")])
    wb = load_workbook(path)  # not read-only: the views and filters are read too
    last = column_letter(len(frame.columns) - 1)
    for ws in wb.worksheets[1:]:
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref == f"A1:{last}{ws.max_row}", ws.title
    summary = wb["Summary"]
    header = next(r for r in range(1, summary.max_row + 1) if summary.cell(r, 1).value == "Category")
    assert summary.freeze_panes == f"A{header + 1}"
    assert summary.auto_filter.ref.startswith(f"A{header}:E")
    with zipfile.ZipFile(path) as z:  # openpyxl reads these hidden names into auto_filter; Excel wants them
        workbook = z.read("xl/workbook.xml").decode()
    assert workbook.count('name="_xlnm._FilterDatabase"') == len(wb.worksheets)
    assert "&apos;Duplicate (wrong ImmutableID)&apos;!$A$1:$" in workbook or \
        "'Duplicate (wrong ImmutableID)'!$A$1:$" in workbook
