"""Batch: three clients, one with broken input: two reports, an index that shows the failure, no leftovers."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import ROOT
from support.report_frames import hand_snapshot

from hybridx_nb.app import batch
from hybridx_nb.core.errors import InputError
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


@pytest.mark.slow
def test_one_failure_does_not_stop_the_others(tmp_path: Path) -> None:
    toml = _portfolio(tmp_path)
    out = tmp_path / "reports"
    (out / "two").mkdir(parents=True)
    (out / "two" / "stale.txt").write_text("from an older run", encoding="utf-8")
    result = batch.run_batch(toml, out, jobs=2)
    assert [c.name for c in result.clients] == ["One & Co", "Broken <Ltd>", "Two"]
    assert [c.name for c in result.failed] == ["Broken <Ltd>"]
    for folder in ("one-co", "two"):
        assert (out / folder / "assessment.html").is_file() and (out / folder / "findings.xlsx").is_file()
    assert not (out / "two" / "stale.txt").exists()  # replaced as a whole
    assert not (out / "broken").exists() and (out / "broken.failed" / "assessment.ipynb").is_file()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary folders left
    index = result.index.read_text(encoding="utf-8")
    assert "One &amp; Co" in index and "Broken &lt;Ltd&gt;" in index and "<Ltd>" not in index
    assert 'href="one-co/assessment.html"' in index and 'href="two/assessment.html"' in index
    assert index.count(">failed<") == 1 and 'href="broken.failed/assessment.html"' in index
    ok = next(c for c in result.clients if c.name == "Two")
    assert ok.counts["hard_match"] == 1 and f">{ok.counts['new_user']:,}</td>" in index


def test_clients_file_problems_are_clear(tmp_path: Path) -> None:
    bad = tmp_path / "c.toml"
    bad.write_text("[[client]]\nname = \n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid TOML"):
        batch.load_clients(bad)
    bad.write_text('[[client]]\nname = "A"\n[[client]]\nname = "a"\n', encoding="utf-8")
    with pytest.raises(InputError, match="used twice"):
        batch.load_clients(bad)


def test_example_portfolio_parses() -> None:
    specs = batch.load_clients(ROOT / "examples" / "clients.toml")
    assert [s.folder for s in specs] == ["contoso", "fabrikam", "northwind"]
    assert specs[1].params["anchor"] == "mS-DS-ConsistencyGuid" and specs[0].params["strategy"] == "auto"
    assert specs[2].params["redact_key"] == "env:HYBRIDX_REDACT_KEY"
    assert Path(specs[0].params["snapshot"]).is_absolute()
