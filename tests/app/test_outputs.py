"""The assessment's output files and its concurrent core: findings.parquet holds what findings.csv holds,
findings.xlsx holds the categories that need action in full by default (every category with ``xlsx="all"``), and
running the readiness rules beside the engine gives exactly the sequential result."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from hybridx_nb import report
from hybridx_nb.app import assess, cli, outputs
from hybridx_nb.core import csv_file
from hybridx_nb.core.errors import HybridxError
from hybridx_nb.core.folders import write_marker
from hybridx_nb.core.vocabulary import NO_ACTION, XLSX_FULL
from hybridx_nb.demo.tenant import generate
from hybridx_nb.engine.groups import group_counts, predict_groups
from hybridx_nb.engine.match import EngineSettings, predict
from hybridx_nb.readiness.rules import run_rules
from hybridx_nb.remediation.plan import build_plan
from hybridx_nb.remediation.resolved import fix_pairs, mark_resolved_by_fix, open_problems
from hybridx_nb.report.xlsx import COUNTED_ONLY


@pytest.fixture(scope="module")
def demo() -> assess.Assessment:
    return assess.run(assess.Params(client="Contoso (demo)"), snap=generate(400).snapshot)


def _summary_rows(path: Path) -> dict[str, tuple]:
    """The summary sheet's category lines by category name (its last column)."""
    rows = load_workbook(path, read_only=True)["Summary"].iter_rows(values_only=True)
    return {r[4]: r for r in rows if r and len(r) > 4 and r[4] is not None}


def test_parquet_holds_every_finding_in_the_csv_column_order(demo, tmp_path: Path) -> None:
    files = assess.write_outputs(demo, tmp_path)
    assert files["findings.parquet"] == tmp_path / "findings.parquet"
    csv = pd.read_csv(tmp_path / "findings.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    table = pq.read_table(tmp_path / "findings.parquet")
    assert table.column_names == list(csv.columns)
    assert table.num_rows == len(demo.findings) == len(csv)
    back = table.to_pandas()
    expected = demo.findings[list(csv.columns)].reset_index(drop=True)
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)
    assert str(back["okta_agrees"].dtype) == "boolean" and back["okta_agrees"].notna().any()
    # the same values as the CSV, with missing values as nulls instead of empty fields
    as_text = back.astype("str").where(back.notna(), "")
    pd.testing.assert_frame_equal(as_text.astype(object), csv.astype(object), check_dtype=False)
    assert not list(tmp_path.glob(".*.tmp"))


def test_workbook_holds_the_categories_that_need_action_and_counts_the_rest(demo, tmp_path: Path) -> None:
    view = report.prepare(demo)
    files = assess.write_outputs(demo, tmp_path, view)
    wb = load_workbook(files["findings.xlsx"], read_only=True)
    present = [c for c in XLSX_FULL["action"] if demo.counts[c]]
    summary = _summary_rows(files["findings.xlsx"])
    sheets = [summary[c][3] for c in present]
    assert wb.sheetnames[1:1 + len(sheets)] == sheets  # one sheet each, in the report's order (then the extras)
    for cat, n in demo.counts.items():
        assert summary[cat][1] == n
        if cat in NO_ACTION and n:
            assert summary[cat][2] == "no" and summary[cat][3] == COUNTED_ONLY
    assert demo.counts["hard_match"] > 0 and not set(wb.sheetnames) & {summary[c][0] for c in NO_ACTION}
    page = report.findings_sections(view).data
    assert f"All {demo.counts['hard_match']:,} rows: findings.csv and findings.parquet." in page


def test_xlsx_all_keeps_a_sheet_per_category(demo, tmp_path: Path) -> None:
    import dataclasses

    a = dataclasses.replace(demo, params=dataclasses.replace(demo.params, xlsx="all"))
    files = assess.write_outputs(a, tmp_path, report.prepare(a))
    wb = load_workbook(files["findings.xlsx"], read_only=True)
    summary = _summary_rows(files["findings.xlsx"])
    sheets = [summary[c][3] for c in XLSX_FULL["all"] if demo.counts[c]]
    assert wb.sheetnames[1:1 + len(sheets)] == sheets
    assert len(list(wb[summary["hard_match"][3]].iter_rows())) == demo.counts["hard_match"] + 1
    page = report.findings_sections(report.prepare(a)).data
    assert f"All {demo.counts['hard_match']:,} rows: findings.csv, or sheet 'hard_match' of" in page


def test_xlsx_is_a_checked_parameter_and_a_cli_option() -> None:
    with pytest.raises(HybridxError, match="xlsx must be one of action, all"):
        assess.validate_params({"snapshot": None, "ad": None, "xlsx": "everything"})
    args = cli.build_parser().parse_args(["assess", "--client", "C", "--out", "o", "--snapshot", "s", "--xlsx", "all"])
    assert cli._params_from_args(args)["xlsx"] == "all"
    args = cli.build_parser().parse_args(["demo"])
    assert args.xlsx == "action"


def test_the_concurrent_core_gives_the_sequential_result(demo) -> None:
    snap = demo.snapshot
    prediction = predict(snap, EngineSettings())
    readiness = mark_resolved_by_fix(run_rules(snap, pairs=assess.matched_pairs(prediction.findings)),
                                     fix_pairs(prediction.findings))
    plan = build_plan(prediction, snap, groups=group_counts(predict_groups(snap)),
                      readiness_open=len(open_problems(readiness)))
    pd.testing.assert_frame_equal(demo.findings, prediction.findings)
    pd.testing.assert_frame_equal(demo.readiness, readiness)
    pd.testing.assert_frame_equal(demo.plan.actions, plan.actions)
    assert demo.plan.expected == plan.expected and demo.plan.strategy == plan.strategy
    assert {"engine", "readiness", "plan", "core"} <= set(demo.timings)


def test_a_failing_engine_stops_the_readiness_thread_too(monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("engine broke")

    monkeypatch.setattr(assess, "predict", broken)
    with pytest.raises(RuntimeError, match="engine broke"):
        assess.run(assess.Params(), snap=generate(100).snapshot)


def test_findings_csv_built_in_blocks_side_by_side_keeps_the_row_order(demo, tmp_path: Path, monkeypatch) -> None:
    whole = assess.write_findings_csv(demo.findings, tmp_path / "one-block.csv").read_bytes()
    monkeypatch.setattr(csv_file, "_CSV_BLOCK", 7)  # dozens of blocks, built two at a time
    assert assess.write_findings_csv(demo.findings, tmp_path / "blocks.csv").read_bytes() == whole


def _prepared(folder: Path) -> Path:
    """A report folder as the runner prepares it before the notebook runs."""
    folder.mkdir()
    write_marker(folder, "temporary")
    return folder


def test_findings_files_started_by_the_run_are_those_write_outputs_writes(demo, tmp_path: Path) -> None:
    out = _prepared(tmp_path / "run")
    a = assess.run(assess.Params(client="Contoso (demo)", out=str(out)), snap=demo.snapshot)
    assert set(a.early_files) == {"findings.csv", "findings.parquet"}
    assert {"findings_csv", "findings_parquet"} <= set(a.timings)
    files = assess.write_outputs(a, out)
    late = assess.write_outputs(demo, tmp_path / "after")  # no folder prepared: written by write_outputs itself
    for name in ("findings.csv", "findings.parquet"):
        assert files[name] == out / name and files[name].read_bytes() == late[name].read_bytes()
    elsewhere = assess.write_outputs(a, tmp_path / "elsewhere")  # another folder than the run's: written there
    assert elsewhere["findings.csv"].read_bytes() == late["findings.csv"].read_bytes()


def test_a_run_into_a_finished_report_folder_writes_nothing(demo, tmp_path: Path) -> None:
    files = assess.write_outputs(demo, tmp_path / "report")  # marked as a report: what explore runs again with
    before = {p.name: p.stat().st_mtime_ns for p in files.values()}
    a = assess.run(assess.Params(client="Contoso (demo)", out=str(tmp_path / "report")), snap=demo.snapshot)
    assert a.early_files == {}
    assert {p.name: p.stat().st_mtime_ns for p in files.values()} == before


def test_a_run_that_fails_after_the_findings_leaves_nothing_writing(tmp_path: Path, monkeypatch) -> None:
    out = _prepared(tmp_path / "run")
    real = outputs.write_csv

    def slow(*args, **kwargs):
        time.sleep(0.5)  # still writing when the Exchange checks fail
        return real(*args, **kwargs)

    def broken(*args, **kwargs):
        raise RuntimeError("exchange broke")

    monkeypatch.setattr(outputs, "write_csv", slow)
    monkeypatch.setattr(assess, "exchange_readiness", broken)
    with pytest.raises(RuntimeError, match="exchange broke"):
        assess.run(assess.Params(out=str(out)), snap=generate(100).snapshot)
    assert sorted(p.name for p in out.iterdir()) == [".hybridx-output", "findings.csv", "findings.parquet"]
