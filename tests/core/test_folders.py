"""Output folders: hybridx replaces only what it wrote, never an input, and the swap leaves no moment without one."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from support import ROOT
from support.report_frames import hand_snapshot

from hybridx_nb.app import cli
from hybridx_nb.core import folders
from hybridx_nb.core.folders import MARKER, OutputError, marker_kind, write_marker
from hybridx_nb.snapshot.store import load_snapshot, write_snapshot


def test_only_missing_empty_or_marked_folders_are_replaceable(tmp_path: Path) -> None:
    assert folders.replaceable(tmp_path / "new", "report")
    (tmp_path / "empty").mkdir()
    assert folders.replaceable(tmp_path / "empty", "report")
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.docx").write_bytes(b"x")
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    (tmp_path / "link").symlink_to(tmp_path / "empty")
    report = tmp_path / "report"
    report.mkdir()
    write_marker(report, "report")
    (report / "findings.csv").write_text("x", encoding="utf-8")
    assert folders.replaceable(report, "report")
    assert not folders.replaceable(report, "snapshot")  # a report is never replaced by a snapshot
    for path, what in ((work, "1 entry not written by hybridx (notes.docx)"), (tmp_path / "file.txt", "a file"),
                       (tmp_path / "link", "a symbolic link"), (report, "a hybridx report folder")):
        with pytest.raises(OutputError, match="refusing to replace") as info:
            folders.check_replaceable(path, "snapshot")
        assert str(path) in str(info.value) and what in str(info.value)
    fake = tmp_path / "fake"  # a marker file with other contents is no marker
    fake.mkdir()
    (fake / MARKER).write_text('{"kind": "report"}', encoding="utf-8")
    (fake / "x").write_text("x", encoding="utf-8")
    assert marker_kind(fake) is None and not folders.replaceable(fake, "report")


def test_output_apart_from_inputs(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    ad = exports / "ad.csv"
    ad.write_text("x", encoding="utf-8")
    for out, problem in ((exports, "contains the input ad"), (ad, "is the input ad itself"),
                         (exports / "ad.csv" / "sub", "lies inside the input ad"),
                         (tmp_path, "contains the input ad")):
        with pytest.raises(OutputError, match=problem):
            folders.check_apart(out, {"ad": ad, "entra": None})
    folders.check_apart(tmp_path / "reports", {"ad": ad})
    snap = tmp_path / "snap"
    with pytest.raises(OutputError, match="lies inside the input snapshot"):
        folders.check_apart(snap / "report", {"snapshot": snap})


def test_stale_temporary_folders_are_swept_but_a_live_one_is_kept(tmp_path: Path) -> None:
    dead = tmp_path / ".out.dead.tmp"
    dead.mkdir()
    write_marker(dead, "temporary")
    (dead / "findings.csv").write_text("client data", encoding="utf-8")
    foreign = tmp_path / ".out.mine.tmp"  # unmarked: not hybridx's, kept
    foreign.mkdir()
    live = folders.stage(tmp_path / "out")  # sweeps first
    assert not dead.exists() and foreign.is_dir() and live.path.is_dir()
    other = folders.stage(tmp_path / "out")  # a second run into the same folder keeps the first's
    assert live.path.is_dir() and other.path.is_dir()
    other.discard()
    # a killed run: its lock dies with its process, and the next run sweeps its folder
    code = ("import sys, os; sys.path.insert(0, sys.argv[1]); from hybridx_nb.core import folders; "
            "s = folders.stage(sys.argv[2]); print(s.path, flush=True); os._exit(9)")
    proc = subprocess.run([sys.executable, "-c", code, str(ROOT), str(tmp_path / "out")], capture_output=True,
                          text=True, check=False)
    killed = Path(proc.stdout.strip())
    assert proc.returncode == 9 and killed.is_dir()
    assert killed in folders.sweep(tmp_path, ".out.") and live.path.is_dir()
    live.discard()


def test_swap_never_leaves_the_path_missing(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    missing, stop = [], threading.Event()

    def watch() -> None:
        while not stop.is_set():
            if not (dest / "findings.csv").exists():
                missing.append(1)

    first = folders.stage(dest)
    (first.path / "findings.csv").write_text("0", encoding="utf-8")
    folders.swap_in(first, "report")
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for n in range(1, 150):
            staging = folders.stage(dest)
            (staging.path / "findings.csv").write_text(str(n), encoding="utf-8")
            folders.swap_in(staging, "report")
    finally:
        stop.set()
        watcher.join()
    assert (dest / "findings.csv").read_text(encoding="utf-8") == "149" and marker_kind(dest) == "report"
    assert missing == [] and [p.name for p in tmp_path.iterdir()] == ["out"]


def test_exchange_is_used_on_linux(tmp_path: Path) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("renameat2 is Linux's")
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").touch()
    assert folders.exchange(a, b) and (b / "x").exists() and not (a / "x").exists()


def _snapshot(path: Path) -> Path:
    return write_snapshot(hand_snapshot(), path)


def test_cli_refuses_to_replace_inputs_and_foreign_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    snap = _snapshot(tmp_path / "snap")
    before = sorted(p.name for p in snap.iterdir())
    exports = tmp_path / "exports"
    exports.mkdir()
    ad, entra = exports / "ad.csv", exports / "entra.json"
    ad.write_text("x", encoding="utf-8")
    entra.write_text("x", encoding="utf-8")
    reports = tmp_path / "reports"
    (reports / "other-client").mkdir(parents=True)
    (reports / "other-client" / "assessment.html").write_text("theirs", encoding="utf-8")
    (tmp_path / "a-file").write_text("keep", encoding="utf-8")
    cases = [
        (["assess", "--client", "X", "--snapshot", str(snap), "--out", str(snap)], "is the input snapshot itself"),
        (["assess", "--client", "X", "--snapshot", str(snap), "--out", str(snap / "r")], "lies inside the input"),
        (["assess", "--client", "X", "--snapshot", str(snap), "--out", str(reports)], "refusing to replace a folder"),
        (["assess", "--client", "X", "--snapshot", str(snap), "--out", str(tmp_path / "a-file")], "a file"),
        (["assess", "--client", "X", "--ad", str(ad), "--entra", str(entra), "--out", str(exports)],
         "contains the input ad"),
        (["snapshot", "--ad", str(ad), "--entra", str(entra), "--out", str(exports)], "contains the input --ad"),
        (["snapshot", "--ad", str(ad), "--entra", str(entra), "--out", str(reports)], "refusing to replace"),
        (["demo", "--users", "100", "--out", str(reports)], "refusing to replace"),
        (["demo", "--users", "100", "--out", str(snap)], "a hybridx snapshot folder"),
    ]
    for argv, message in cases:
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (argv, err)
    assert sorted(p.name for p in snap.iterdir()) == before and load_snapshot(snap)
    assert ad.read_text(encoding="utf-8") == "x" and (tmp_path / "a-file").read_text(encoding="utf-8") == "keep"
    assert (reports / "other-client" / "assessment.html").read_text(encoding="utf-8") == "theirs"


def test_collect_refuses_an_out_holding_its_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "client.toml"
    config.write_text('[okta]\norg_url = "https://example.okta.com"\ntoken = "env:HX_UNSET_TOKEN"\n',
                      encoding="utf-8")
    assert cli.main(["collect", "--config", str(config), "--out", str(tmp_path)]) == 2
    assert "contains the input --config" in capsys.readouterr().err and config.is_file()


def test_snapshot_rewrite_replaces_only_its_own_kind(tmp_path: Path) -> None:
    first = _snapshot(tmp_path / "s")
    assert marker_kind(first) == "snapshot"
    _snapshot(tmp_path / "s")  # a snapshot replaces a snapshot
    report = tmp_path / "r"
    report.mkdir()
    write_marker(report, "report")
    with pytest.raises(OutputError, match="a hybridx report folder"):
        _snapshot(report)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_manifest_may_only_name_files_inside_the_snapshot(tmp_path: Path) -> None:
    import json

    from hybridx_nb.core.errors import InputError

    snap = _snapshot(tmp_path / "s")
    outside = tmp_path / "outside.parquet"
    outside.write_bytes((snap / "ad_users.parquet").read_bytes())
    manifest = json.loads((snap / "manifest.json").read_text(encoding="utf-8"))
    for bad in ("../outside.parquet", str(outside), "..", "sub/ad_users.parquet"):
        manifest["tables"]["ad_users"]["file"] = bad
        (snap / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        with pytest.raises(InputError, match="inside the snapshot folder"):
            load_snapshot(snap)
    (snap / "link.parquet").symlink_to(outside)
    manifest["tables"]["ad_users"]["file"] = "link.parquet"
    (snap / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(InputError, match="is a link or lies outside"):
        load_snapshot(snap)
    assert os.path.exists(outside)
