"""The notebook through papermill: the report set on a hand-built snapshot and on the demo tenant, failures that
name the cell, the committed notebook's shape, and a secret that never reaches any output file."""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from openpyxl import load_workbook
from support import ROOT
from support.report_frames import demo_report, hand_report, hand_snapshot

from hybridx_nb.app import assess, cli, runner
from hybridx_nb.engine.match import predict
from hybridx_nb.snapshot.store import load_snapshot

REPORT_SET = ("assessment.html", "assessment.ipynb", "findings.csv", "findings.xlsx", "summary.json",
              "readiness.csv", "remediation.ps1", "remediation.csv", "rollback.csv")
SECTIONS = ("verdict", "tenant", "findings", "plan", "readiness", "appendix")


DEMO_INPUTS = {"ad": "ad.csv", "entra": "entra_users.json", "okta": "okta_users.json",
               "okta_app_users": "okta_app_users.json", "tenant": "tenant.json", "exo": "exo_mailboxes.csv"}


@pytest.mark.parametrize("name", ["assessment.ipynb", "explore.ipynb"])
def test_committed_notebooks_are_clean_and_saved_as_jupyter_saves_them(name: str) -> None:
    path = ROOT / "notebooks" / name
    assert path.is_symlink() and path.resolve() == (runner.notebook_path().parent / name).resolve()
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:40]
    # byte for byte what JupyterLab writes on save, with the kernel's own metadata: opening it changes nothing
    assert path.read_text(encoding="utf-8") == nbformat.writes(nb) + "\n"
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5) and all(c.get("id") for c in nb.cells)
    assert nb.metadata.kernelspec == {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    assert set(nb.metadata.language_info) == {"codemirror_mode", "file_extension", "mimetype", "name",
                                              "nbconvert_exporter", "pygments_lexer", "version"}


def test_assessment_notebook_parameters_default_to_the_demo() -> None:
    nb = nbformat.read(runner.notebook_path(), as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    values = {t.targets[0].id: ast.literal_eval(t.value) for t in ast.parse(params[0].source).body}
    defaults = {f.name: f.default for f in dataclasses.fields(assess.Params)}
    assert set(values) == set(defaults)
    assert {k: values[k] for k in DEMO_INPUTS} == {k: f"reports/demo/inputs/{v}" for k, v in DEMO_INPUTS.items()}
    assert values["out"] != "reports/demo"  # a hand run never writes into the folder hybridx demo made
    differ = {k for k in defaults if values[k] != defaults[k]}
    assert differ == set(DEMO_INPUTS) | {"client", "out"}
    dig = [c for c in nb.cells if c.get("id", "").startswith("dig-in")]
    assert len(dig) == 2 and all("notebook-only" in c.metadata.tags for c in dig)
    text = "".join(c.source for c in dig)
    for name in ("a.findings", "a.plan.actions", "a.readiness", "a.snapshot.tables["):
        assert name in text, name


def _check_report_set(out: Path, counts: dict[str, int]) -> str:
    for name in REPORT_SET:
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["counts"] == counts
    assert summary["parameters"]["out"] == str(out)
    executed = (out / "assessment.ipynb").read_text(encoding="utf-8")
    assert ".tmp" not in executed and f'out = {json.dumps(str(out))}'.replace('"', '\\"') in executed
    csv = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")
    assert {k: v for k, v in csv["category"].value_counts().items()} == {k: v for k, v in counts.items() if v}
    rows = list(load_workbook(out / "findings.xlsx", read_only=True)["Summary"].iter_rows(values_only=True))
    xlsx_counts = {r[4]: r[1] for r in rows if r and len(r) > 4 and r[4] in counts}
    assert xlsx_counts == counts
    page = (out / "assessment.html").read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f'id="{section}"' in page, section
    for n, label in ((counts["anchor_mismatch"], "will be duplicated"), (counts["new_user"], "are new")):
        assert re.search(rf'<div class="hx-num">{n:,}</div><div class="hx-lbl">{label}</div>', page)
    # no code, no prompts, nothing from a network, no notebook-only cells
    assert "jp-InputArea-editor" not in page and "In&nbsp;[" not in page and "Out[" not in page
    assert "report.verdict(view)" not in page and "validate_params" not in page
    assert not re.search(r'(src|href)="https?:', page)
    assert "Run it by hand in JupyterLab" not in page
    executed = nbformat.read(out / "assessment.ipynb", as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    dig = next(c for c in executed.cells if c.get("id") == "dig-in")  # runs, but stays out of the report
    assert dig.outputs and not any(o.get("output_type") == "error" for o in dig.outputs)
    assert "Dig in" not in page and "dupes" not in page
    committed = nbformat.read(runner.notebook_path(), as_version=4).metadata.language_info
    ran = executed.metadata.language_info  # what the kernel reports, as JupyterLab records it on opening
    assert {k: v for k, v in ran.items() if k != "version"} == {k: v for k, v in committed.items() if k != "version"}
    assert ran["version"].split(".")[:2] == committed["version"].split(".")[:2]
    assert not (out / "kernel.log").exists()
    return page


@pytest.mark.slow
def test_hand_built_snapshot(tmp_path_factory: pytest.TempPathFactory) -> None:
    result = hand_report(tmp_path_factory.mktemp("hand"))
    snap = load_snapshot(result.out.parent / "hand-snapshot")
    counts = assess.category_counts(predict(snap).findings)
    assert counts["hard_match"] == counts["soft_match"] == counts["anchor_mismatch"] == counts["new_user"] == 1
    page = _check_report_set(result.out, counts)
    assert "Hand Client" in page
    assert not list(result.out.parent.glob(".hand-report.*"))  # no temporary folder left behind


@pytest.mark.slow
def test_demo_tenant_from_export_files(tmp_path_factory: pytest.TempPathFactory) -> None:
    result, files = demo_report(tmp_path_factory.mktemp("demo"))
    snap = assess.load_inputs(assess.validate_params(files))
    counts = assess.category_counts(predict(snap).findings)
    _check_report_set(result.out, counts)
    assert result.counts == counts and result.html_bytes < 2_000_000


@pytest.mark.slow
def test_failure_keeps_the_partial_notebook_and_names_the_cell(tmp_path: Path) -> None:
    good = runner.run_assessment({"client": "X", "snapshot": str(_snapshot(tmp_path))}, tmp_path / "out")
    broken = tmp_path / "not-a-snapshot"
    broken.mkdir()
    with pytest.raises(runner.NotebookFailed) as info:
        runner.run_assessment({"client": "X", "snapshot": str(broken)}, tmp_path / "out")
    # named by its purpose (the heading above it), and its id
    assert info.value.cell == "'Read the inputs and run the assessment' (cell validate-and-run)"
    assert "manifest.json" in info.value.message
    partial = nbformat.read(info.value.notebook, as_version=4)
    failed = next(c for c in partial.cells if c.get("id") == "validate-and-run")
    assert "no manifest.json" in "".join(o.get("evalue", "") + "".join(o.get("traceback", []))
                                         for o in failed.outputs)
    assert (tmp_path / "out.failed" / "error.txt").is_file()
    assert (tmp_path / "out.failed" / "kernel.log").is_file()  # the kernel's own messages, kept with the failure
    assert (good.out / "assessment.html").is_file()  # the previous good report stays
    assert ".tmp" not in (tmp_path / "out.failed" / "assessment.ipynb").read_text(encoding="utf-8")
    # a folder named like a failed run that hybridx did not write is neither replaced nor removed
    mine = tmp_path / "mine"
    (tmp_path / "mine.failed").mkdir()
    (tmp_path / "mine.failed" / "notes.txt").write_text("keep", encoding="utf-8")
    with pytest.raises(runner.NotebookFailed) as info:
        runner.run_assessment({"client": "X", "snapshot": str(broken)}, mine)
    assert "was not kept" in str(info.value) and "partially executed notebook" not in str(info.value)
    runner.run_assessment({"client": "X", "snapshot": str(_snapshot(tmp_path))}, mine)
    assert (tmp_path / "mine.failed" / "notes.txt").read_text(encoding="utf-8") == "keep"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.slow
def test_demo_twice_into_one_folder_keeps_its_inputs_and_records_the_final_folder(tmp_path: Path,
                                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                                  capsys) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "demo"
    for seed in ("7", "8"):  # the second run replaces the first (a report folder hybridx wrote)
        assert cli.main(["demo", "--users", "100", "--seed", seed, "--out", str(out), "--quiet"]) == 0
    assert f"export files in {out / 'inputs'}" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["parameters"]["ad"] == str(out / "inputs" / Path(summary["parameters"]["ad"]).name)
    assert Path(summary["parameters"]["ad"]).is_file() and Path(summary["parameters"]["entra"]).is_file()
    for path in out.rglob("*"):
        if path.suffix in (".json", ".ipynb", ".html", ".csv"):
            assert ".tmp" not in path.read_text(encoding="utf-8-sig"), path
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]


def _snapshot(tmp_path: Path) -> Path:
    from hybridx_nb.snapshot.store import write_snapshot

    return write_snapshot(hand_snapshot(), tmp_path / "snap")


def test_cli_refuses_bad_parameters_before_a_kernel_starts(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["assess", "--client", "X", "--out", str(tmp_path / "o"), "--ad", str(tmp_path / "nope.csv"),
                     "--entra", str(tmp_path / "nope.json")])
    assert code != 0 and "ad file not found" in capsys.readouterr().err
    with pytest.raises(Exception, match="unknown parameter"):
        runner.run_assessment({"snapshot": str(tmp_path), "colour": "blue"}, tmp_path / "o")
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_secret_reference_never_reaches_an_output_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f"hx-secret-{uuid.uuid4().hex}"
    monkeypatch.setenv("HX_TEST_REDACT_SECRET", secret)
    result = runner.run_assessment({"client": "Secretive", "snapshot": str(_snapshot(tmp_path)), "redact": True,
                                    "redact_key": "env:HX_TEST_REDACT_SECRET"}, tmp_path / "out")
    files = [p for p in result.out.rglob("*") if p.is_file()]
    assert len(files) >= len(REPORT_SET)
    for path in files:
        data = path.read_bytes()
        assert secret.encode() not in data, path
        if path.suffix == ".xlsx":  # zipped: look inside
            import zipfile

            with zipfile.ZipFile(path) as z:
                assert all(secret.encode() not in z.read(n) for n in z.namelist()), path
    page = (result.out / "assessment.html").read_text(encoding="utf-8")
    assert "env:HX_TEST_REDACT_SECRET" in page and "Alice" not in page and "pseudonymised" in page
    ws = load_workbook(result.out / "findings.xlsx", read_only=True)
    assert not any("Alice" in str(v) for name in ws.sheetnames for row in ws[name].iter_rows(values_only=True)
                   for v in row)


def _kernels(proc: subprocess.Popen) -> list[int]:
    """The process ids of ``proc``'s children that run ipykernel."""
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    return [int(c) for c in children if b"ipykernel" in Path(f"/proc/{c}/cmdline").read_bytes()]


#: The command as a terminal's foreground job runs it: Ctrl-C (SIGINT) raises KeyboardInterrupt. A test run
#: started in the background (``pytest &`` in a script) ignores SIGINT, and its children inherit that, as shells
#: make background jobs do: hybridx then ignores Ctrl-C too, rightly, and this test would see the run finish.
_FOREGROUND_CLI = ("import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
                   "runpy.run_module('hybridx_nb.app.cli', run_name='__main__')")


def _demo_while_its_kernel_computes(tmp_path: Path) -> tuple[subprocess.Popen, list[int]]:
    """``hybridx demo`` started in its own process group, returned once its kernel has been running its cells
    for a while, with the kernel's process ids. 30,000 users keep the kernel busy for seconds after that, so a
    signal sent then lands mid-run."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", _FOREGROUND_CLI, "demo", "--users", "30000", "--out", "out",
                             "--quiet"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)

    deadline = time.monotonic() + 120
    while not _kernels(proc) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(2.0)  # its imports done, the kernel is reading the export files and assessing them
    found = _kernels(proc)
    assert found and proc.poll() is None, "the demo's kernel was not running"
    return proc, found


@pytest.mark.slow
def test_ctrl_c_during_assess_exits_cleanly(tmp_path: Path) -> None:
    """SIGINT to the command's process group (what a terminal's Ctrl-C sends) while the kernel computes: exit
    130, one line, no kernel traceback, and no temporary folder left with client data in it."""
    proc, _ = _demo_while_its_kernel_computes(tmp_path)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and err.strip() == "hybridx: interrupted", err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_kernel_killed_mid_run_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    """The kernel killed while it computes (the out-of-memory killer does this): exit 2, one line that says what
    happened, no papermill or asyncio traceback, and no temporary folder with client data left behind."""
    proc, kernels = _demo_while_its_kernel_computes(tmp_path)
    for pid in kernels:
        os.kill(pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert err.strip().startswith("hybridx: the notebook's kernel stopped before the assessment was done"), err
    assert len(err.strip().splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_kernel_killed_while_it_starts_is_one_line_too(tmp_path: Path) -> None:
    """Killed as soon as it exists, before it answers papermill (jupyter_client's RuntimeError "Kernel died before
    replying to kernel_info" was a traceback): exit 2, one line, nothing left behind."""
    proc = subprocess.Popen([sys.executable, "-m", "hybridx_nb.app.cli", "demo", "--users", "300", "--out", "out",
                             "--quiet"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)
    deadline = time.monotonic() + 120
    while not (found := _kernels(proc)) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert found, "no kernel process to kill"
    for pid in found:
        os.kill(pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert err.strip().startswith("hybridx: the notebook's kernel stopped"), err  # while starting, or just after
    assert len(err.strip().splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []
