"""Batch: three clients, one with broken input: two reports, an index that shows the failure, no leftovers."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import ROOT
from support.report_frames import hand_snapshot

from hybridx_nb.app import batch
from hybridx_nb.core.errors import InputError
from hybridx_nb.core.folders import MARKER, OutputError, write_marker
from hybridx_nb.snapshot.store import write_snapshot


def _portfolio(tmp_path: Path) -> Path:
    write_snapshot(hand_snapshot(), tmp_path / "snaps" / "one")
    write_snapshot(hand_snapshot("fabrikam.com"), tmp_path / "snaps" / "two")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "ad.csv").write_text("this is,not an AD export\n1,2\n", encoding="utf-8")
    (tmp_path / "broken" / "entra.json").write_text("{not json", encoding="utf-8")
    toml = tmp_path / "clients.toml"
    toml.write_text('[defaults]\nanchor = "auto"\n\n'
                    '[[client]]\nname = "One & Co"\nsnapshot = "snaps/one"\n\n'
                    '[[client]]\nname = "Broken <Ltd>"\nfolder = "broken"\nad = "broken/ad.csv"\n'
                    'entra = "broken/entra.json"\n\n'
                    '[[client]]\nname = "Two"\nsnapshot = "snaps/two"\n', encoding="utf-8")
    return toml


BAD_CLIENTS = (
    '[[client]]\nname = "%s"\nsnapshot = "snaps/one"\n\n' % ("L" * 300)
    + '[[client]]\nname = "Tab\\tCorp"\nsnapshot = "snaps/one"\n\n'
    + '[[client]]\nname = "Index"\nfolder = "index.html"\nsnapshot = "snaps/one"\n\n'
    + '[[client]]\nname = "Failed"\nfolder = "x.failed"\nsnapshot = "snaps/one"\n\n'
    + '[[client]]\nname = "Device"\nfolder = "CON"\nsnapshot = "snaps/one"\n\n'
    + '[[client]]\nname = "Hung"\nsnapshot = "snaps/one"\ntimeout = 1\n\n'
    + '[[client]]\nname = "Squatter"\nfolder = "squat"\nsnapshot = "snaps/one"\n\n'
)


@pytest.mark.slow
def test_one_failure_does_not_stop_the_others(tmp_path: Path) -> None:
    toml = _portfolio(tmp_path)
    toml.write_text(toml.read_text(encoding="utf-8") + BAD_CLIENTS, encoding="utf-8")
    out = tmp_path / "reports"
    out.mkdir()
    write_marker(out, "portfolio")  # a portfolio folder of an earlier batch
    (out / "two").mkdir()
    write_marker(out / "two", "report")  # an earlier report of client Two: replaced as a whole
    (out / "two" / "stale.txt").write_text("from an older run", encoding="utf-8")
    (out / "one-co.failed").mkdir()  # a folder of the consultant's that only looks like a failed run
    (out / "one-co.failed" / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "squat").mkdir()  # not hybridx's: client Squatter fails, the folder stays
    (out / "squat" / "keep.txt").write_text("mine", encoding="utf-8")
    (out / ".hung.dead.tmp").mkdir()  # a killed run's temporary folder: swept
    write_marker(out / ".hung.dead.tmp", "temporary")
    result = batch.run_batch(toml, out, jobs=2)
    names = [c.name for c in result.clients]
    assert names[:3] == ["One & Co", "Broken <Ltd>", "Two"] and len(names) == 10
    failed = {c.name: c.error for c in result.failed}
    assert set(failed) == {"Broken <Ltd>", "L" * 300, "Tab\tCorp", "Index", "Failed", "Device", "Hung", "Squatter"}
    assert "300 characters" in failed["L" * 300] and "control character" in failed["Tab\tCorp"]
    assert "hybridx uses itself" in failed["Index"] and "hybridx uses itself" in failed["Failed"]
    assert "reserved device name" in failed["Device"]
    assert "stopped after 1 s" in failed["Hung"] and "refusing to replace" in failed["Squatter"]
    for folder in ("one-co", "two"):
        assert (out / folder / "assessment.html").is_file() and (out / folder / "findings.xlsx").is_file()
    assert not (out / "two" / "stale.txt").exists()  # replaced as a whole
    assert (out / "one-co.failed" / "notes.txt").read_text(encoding="utf-8") == "mine"  # not hybridx's: kept
    assert (out / "squat" / "keep.txt").read_text(encoding="utf-8") == "mine"
    assert not (out / "index.html").is_dir() and not (out / "x.failed").exists() and not (out / "CON").exists()
    assert not (out / "broken").exists() and (out / "broken.failed" / "assessment.ipynb").is_file()
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [MARKER]  # no temporary folders
    index = result.index.read_text(encoding="utf-8")
    assert "One &amp; Co" in index and "Broken &lt;Ltd&gt;" in index and "<Ltd>" not in index
    assert 'href="one-co/assessment.html"' in index and 'href="two/assessment.html"' in index
    assert index.count(">failed<") == 8 and 'href="broken.failed/assessment.html"' in index
    assert "one-co.failed" not in index and "squat/assessment.html" not in index and "Tab\\x09Corp" in index
    ok = next(c for c in result.clients if c.name == "Two")
    assert ok.counts["hard_match"] == 1 and f">{ok.counts['new_user']:,}</td>" in index


def test_a_bad_client_fails_alone_and_folders_are_capped_and_unique(tmp_path: Path) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text('[[client]]\nname = "A"\n[[client]]\nname = "a"\n[[client]]\nname = "%s"\n'
                    '[[client]]\nname = "%s"\n[[client]]\nname = "NUL"\n[[client]]\nname = "index.html"\n'
                    '[[client]]\nname = "Acme.failed"\n[[client]]\nname = "B"\nfolder = "a"\n'
                    '[[client]]\nname = "T"\ntimeout = "soon"\n[[client]]\nname = 5\n'
                    % ("x" * 150, "x" * 150), encoding="utf-8")
    specs = batch.load_clients(toml)
    folders = [s.folder for s in specs]
    assert folders[:7] == ["a", "a-2", "x" * 64, "x" * 62 + "-2", "client-nul", "index-html", "acme-failed"]
    assert all(not batch.folder_problem(f) for f in folders)
    assert [bool(s.problem) for s in specs] == [False] * 7 + [True, True, True]
    assert "used twice" in specs[7].problem and "timeout" in specs[8].problem and "no name" in specs[9].problem
    assert specs[0].timeout == batch.DEFAULT_TIMEOUT


def test_portfolio_folder_apart_from_inputs_and_not_foreign(tmp_path: Path) -> None:
    toml = _portfolio(tmp_path)
    with pytest.raises(OutputError, match="contains the input"):
        batch.run_batch(toml, tmp_path / "snaps")
    with pytest.raises(OutputError, match="clients.toml"):
        batch.run_batch(toml, tmp_path)
    foreign = tmp_path / "work"
    foreign.mkdir()
    (foreign / "index.html").write_text("my own page", encoding="utf-8")
    with pytest.raises(OutputError, match="refusing to write into .*index.html"):
        batch.run_batch(toml, foreign)
    assert (foreign / "index.html").read_text(encoding="utf-8") == "my own page"


def test_clients_file_problems_are_clear(tmp_path: Path) -> None:
    bad = tmp_path / "c.toml"
    bad.write_text("[[client]]\nname = \n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid TOML"):
        batch.load_clients(bad)
    bad.write_bytes(b'[[client]]\nname = "\xff"\n')
    with pytest.raises(InputError, match="not UTF-8"):
        batch.load_clients(bad)


def test_example_portfolio_parses() -> None:
    specs = batch.load_clients(ROOT / "examples" / "clients.toml")
    assert [s.folder for s in specs] == ["contoso", "fabrikam", "northwind"]
    assert specs[1].params["anchor"] == "mS-DS-ConsistencyGuid" and specs[0].params["strategy"] == "auto"
    assert specs[2].params["redact_key"] == "env:HYBRIDX_REDACT_KEY"
    assert Path(specs[0].params["snapshot"]).is_absolute()
