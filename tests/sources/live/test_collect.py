"""``collect``: all sources or nothing, merged into one snapshot; secrets never reach the snapshot or the logs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest
from support.samba import READER, READER_PASSWORD, Directory, SambaDC, samba_dc, samba_directory

from hybridx_nb.core.errors import CollectionError, InputError
from hybridx_nb.snapshot import schema
from hybridx_nb.snapshot.store import TenantFacts, load_snapshot
from hybridx_nb.sources.common import ReadResult
from hybridx_nb.sources.live import collect as collect_mod
from hybridx_nb.sources.live.collect import collect

__all__ = ["samba_dc", "samba_directory"]  # fixtures, imported for pytest
PW_ENV = "HYBRIDX_TEST_LDAP_PW"


def fake_config(tmp_path: Path) -> Path:
    path = tmp_path / "client.toml"
    path.write_text('client = "Fake"\n[graph]\ntenant_id = "t"\naccess_token = "env:NOT_USED"\n')
    return path


def result(table: str, frame: dict, source: str, tenant: TenantFacts | None = None) -> ReadResult:
    return ReadResult({table: pd.DataFrame(frame)}, schema.empty("rejected"), source, tenant)


def fake_ad(cfg, progress):
    progress("ad_users", 2, 1)
    rej = schema.rejected_rows("ad_users", "LDAP fake", "objectGUID has 3 bytes, not 16", key=pd.Series(["CN=odd"]))
    out = result("ad_users", {"dn": ["CN=a", "CN=b"], "object_guid": ["f7cc07d7-7c15-447d-876d-c01b0e5a9e38",
                                                                     "3ab39606-c642-489b-84b6-58c038d3ef39"]}, "LDAP fake")
    out.rejected = rej
    return out


def fake_okta(cfg, progress):
    progress("okta_app_users", 1, 1)
    return result("okta_app_users", {"app_id": ["0oa1"], "user_id": ["00u1"]}, "Okta fake",
                  TenantFacts(okta_provisioning_mode="user_sync"))


def fake_graph(cfg, progress):
    progress("entra_users", 1, 1)
    return result("entra_users", {"id": ["e1"], "upn": ["a@contoso.example"]}, "Graph fake",
                  TenantFacts(tenant_id="t1", org_sync_enabled=True, features={"blockSoftMatchEnabled": True}))


def failing_graph(cfg, progress):
    progress("entra_users", 999, 1)
    raise CollectionError("Graph: GET /users page 2 failed after 5 tries: HTTP 503")


@pytest.fixture(autouse=True)
def fake_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOT_USED", "x")  # the fake config's Graph token: checked before collection starts


def test_sources_are_merged_into_one_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.setattr(collect_mod, "_collectors", lambda cfg: [
        ("AD", fake_ad, None), ("Okta", fake_okta, None), ("Entra", fake_graph, None)])
    folder = collect(fake_config(tmp_path), tmp_path / "snap", progress=True)
    snap = load_snapshot(folder)
    assert len(snap["ad_users"]) == 2 and len(snap["entra_users"]) == 1 and len(snap["okta_app_users"]) == 1
    assert snap.rejected["key"].tolist() == ["CN=odd"]
    assert snap.sources["entra_users"] == "Graph fake" and snap.sources["rejected"] == "LDAP fake"
    assert snap.tenant == TenantFacts(tenant_id="t1", org_sync_enabled=True,
                                      features={"blockSoftMatchEnabled": True}, okta_provisioning_mode="user_sync")
    err = capsys.readouterr().err
    assert "AD: ad_users 2, 1 set aside" in err and "Entra: entra_users 1" in err


def test_a_failing_source_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    out = tmp_path / "snap"
    monkeypatch.setattr(collect_mod, "_collectors", lambda cfg: [("AD", fake_ad, None), ("Okta", fake_okta, None)])
    collect(fake_config(tmp_path), out, progress=False)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    monkeypatch.setattr(collect_mod, "_collectors", lambda cfg: [("AD", fake_ad, None),
                                                                 ("Entra", failing_graph, None)])
    with pytest.raises(CollectionError) as info:
        collect(fake_config(tmp_path), out, progress=False)
    text = str(info.value)
    assert text.startswith("Entra: collection failed, nothing was written to") and "HTTP 503" in text
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the earlier snapshot is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["client.toml", "snap"]  # no temporary left behind

    with pytest.raises(CollectionError, match="nothing was written"):
        collect(fake_config(tmp_path), tmp_path / "new", progress=False)
    assert not (tmp_path / "new").exists()


def test_an_unexpected_error_is_reported_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def broken(cfg, progress):
        raise KeyError("value")

    monkeypatch.setattr(collect_mod, "_collectors", lambda cfg: [("Okta", broken, None)])
    with pytest.raises(CollectionError, match=r"Okta: collection failed with an unexpected KeyError.*--verbose"):
        collect(fake_config(tmp_path), tmp_path / "snap", progress=False)
    assert not (tmp_path / "snap").exists()


def test_missing_secret_stops_before_any_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    calls = []
    monkeypatch.setattr(collect_mod, "_collectors", lambda cfg: [("AD", lambda c, p: calls.append(c), None)])
    monkeypatch.delenv("NOT_USED", raising=False)
    with pytest.raises(CollectionError, match="NOT_USED is not set.*nothing was collected"):
        collect(fake_config(tmp_path), tmp_path / "snap", progress=False)
    assert not calls


def test_bad_config_is_an_input_error(tmp_path: Path):
    path = tmp_path / "client.toml"
    path.write_text('[ldap]\nurls = ["ldaps://dc"]\nuser = "u@x"\npassword = "P@ssw0rd"\n')
    with pytest.raises(InputError, match=r"\[ldap\] password: is not a secret reference"):
        collect(path, tmp_path / "snap", progress=False)


@pytest.mark.slow
@pytest.mark.samba
def test_collect_ldap_only_keeps_the_secret_out(samba_dc: SambaDC, samba_directory: Directory, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch, caplog, capfd):
    monkeypatch.setenv(PW_ENV, READER_PASSWORD)
    config = tmp_path / "client.toml"
    config.write_text(f"""
client = "Samba"
[ldap]
urls = ["{samba_dc.url()}"]
base_dn = "{samba_dc.base_dn}"
user = "{READER}@hybridx.test"
password = "env:{PW_ENV}"
ca_file = "{samba_dc.ca_file}"
tls_name = "{samba_dc.tls_name}"
page_size = 500
""")
    with caplog.at_level(logging.DEBUG):
        folder = collect(config, tmp_path / "snapshots" / "samba", verbose=True, progress=True)
    snap = load_snapshot(folder)
    assert len(snap["ad_users"]) > 1200 and len(snap["ad_mail_objects"]) == 2
    manifest = json.loads((folder / "manifest.json").read_text())
    lacks = manifest["tables"]["ad_users"]["source"].split("schema lacks ", 1)[1]
    assert "mailNickname" in lacks and "targetAddress" in lacks
    # what the source carried is in the manifest: the Exchange attributes the schema lacks are not among them
    status = manifest["coverage"]["attributes"]["ad_users"]
    assert status["mail_nickname"] == "missing" and "title" not in status  # not listed: exported
    assert snap.coverage.status("ad_users", "extension_attribute_1") == "missing"

    secret = READER_PASSWORD.encode()
    for path in folder.rglob("*"):
        data = path.read_bytes()
        assert secret not in data and READER_PASSWORD.encode("utf-16-le") not in data, path
    for name, frame in snap.tables.items():  # Parquet is compressed: check the decoded cells too
        text = frame.astype(str).to_csv()
        assert READER_PASSWORD not in text, name
    captured = capfd.readouterr()
    assert READER_PASSWORD not in caplog.text + captured.out + captured.err
    assert "bound to" in caplog.text and "Active Directory (hybridx.test)" in captured.err  # logs and bar ran
