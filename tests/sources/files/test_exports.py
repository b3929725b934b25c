"""read_exports: every file by its content, merged into one snapshot that survives write/load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support import DATA

from hybridx_nb.core.errors import InputError
from hybridx_nb.snapshot.store import load_snapshot, write_snapshot
from hybridx_nb.sources.files.exports import read_exports


def test_all_sample_files_into_one_snapshot(tmp_path: Path) -> None:
    snap = read_exports(DATA / "ad.csv", DATA / "entra.json", DATA / "okta-users.json",
                        DATA / "okta-app-users.json", DATA / "tenant.json")
    counts = {name: len(frame) for name, frame in snap.tables.items()}
    assert counts == {"ad_users": 5, "entra_users": 6, "okta_users": 4, "okta_app_users": 3, "entra_domains": 2,
                      "entra_role_members": 2, "rejected": 0}
    assert snap.tenant.okta_provisioning_mode == "user_sync"
    assert snap.sources["ad_users"] == "ad.csv (Get-ADUser Export-Csv, UTF-8)"
    loaded = load_snapshot(write_snapshot(snap, tmp_path / "snap"))
    assert loaded.tables["ad_users"].equals(snap.tables["ad_users"])
    assert loaded.tenant == snap.tenant


def test_format_is_sniffed_not_taken_from_the_extension(tmp_path: Path) -> None:
    shutil.copy(DATA / "ad-ldifde.ldf", tmp_path / "ad.csv")
    snap = read_exports(tmp_path / "ad.csv", DATA / "entra.json")
    assert snap.sources["ad_users"].startswith("ad.csv (ldifde")
    assert list(snap.rejected["reason"]) == ["not a user object (computer)"]
    assert len(snap.tables["ad_mail_objects"]) == 1


def test_rejected_rows_of_every_file_are_merged(tmp_path: Path) -> None:
    users = json.loads((DATA / "okta-users.json").read_text(encoding="utf-8").replace("]\n[", ","))
    users.append({"status": "ACTIVE", "profile": {"login": "nobody@contoso.com"}})
    (tmp_path / "okta.json").write_text(json.dumps(users), encoding="utf-8")
    snap = read_exports(DATA / "ad-ldifde.ldf", DATA / "entra.json", okta=tmp_path / "okta.json")
    assert sorted(snap.rejected["table"]) == ["ad_users", "okta_users"]
    assert "okta.json" in snap.sources["rejected"] and "ad-ldifde.ldf" in snap.sources["rejected"]


def test_wrong_kind_of_file_for_a_slot(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is JSON, but AD is read from"):
        read_exports(DATA / "entra.json", DATA / "entra.json")
    with pytest.raises(InputError, match="Okta is read from JSON"):
        read_exports(DATA / "ad.csv", DATA / "entra.json", okta=DATA / "ad.csv")


def test_each_file_is_hashed_as_read_and_the_report_shows_that_hash(tmp_path: Path) -> None:
    import codecs
    import hashlib

    from hybridx_nb.report.data import _with_file_hashes

    ad = tmp_path / "ad.csv"
    ad.write_bytes(codecs.BOM_UTF8 + (DATA / "ad.csv").read_bytes().removeprefix(codecs.BOM_UTF8))
    snap = read_exports(ad, DATA / "entra.json")
    expected = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (ad, DATA / "entra.json")}
    assert snap.files == expected  # the BOM is part of the file's hash
    tables = _with_file_hashes({}, snap.sources, snap.files)["tables"]
    assert tables["ad_users"]["sha256"] == expected["ad.csv"]
    assert tables["entra_users"]["sha256"] == expected["entra.json"]
