"""Issue 16 (input reading): one clear line for bad input, never a traceback; exact values kept."""

from __future__ import annotations

import csv
import json
import os
import threading
from pathlib import Path

import pytest
from support import DATA

from hybridx_nb.app.assess import validate_params
from hybridx_nb.core.errors import HybridxError, InputError
from hybridx_nb.snapshot.store import load_snapshot, write_snapshot
from hybridx_nb.sources.files.entra_export import read_entra
from hybridx_nb.sources.files.exports import read_ad, read_exports
from hybridx_nb.sources.files.okta_export import read_okta
from hybridx_nb.sources.files.tenant_export import read_tenant


def test_a_fifo_is_named_and_never_read(tmp_path: Path) -> None:
    fifo = tmp_path / "ad.csv"
    os.mkfifo(fifo)
    done = threading.Event()

    def read() -> None:
        with pytest.raises(InputError, match="named pipe"):
            read_ad(fifo)
        done.set()

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(5)
    if not done.is_set():  # unblock the reader before failing
        with open(fifo, "w"):
            pass
    assert done.is_set(), "reading a FIFO blocked"
    with pytest.raises(HybridxError, match="is a named pipe"):
        validate_params({"ad": str(fifo), "entra": str(DATA / "entra.json")})


def test_a_folder_is_called_a_folder(tmp_path: Path) -> None:
    with pytest.raises(HybridxError, match=r"ad file .* is a folder, not a file"):
        validate_params({"ad": str(tmp_path), "entra": str(DATA / "entra.json")})
    with pytest.raises(InputError, match="is a folder"):
        read_ad(tmp_path)


def test_deeply_nested_json_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "entra.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputError, match="nested too deeply"):
        read_entra(path)


def test_a_csv_header_over_the_field_limit_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "ad.csv"
    path.write_text('"' + "x" * (csv.field_size_limit() + 10) + "\n")
    with pytest.raises(InputError, match="not a CSV header") as err:
        read_ad(path)
    assert err.value.line == 1


def test_a_stray_quote_names_its_line(tmp_path: Path) -> None:
    rows = (DATA / "ad.csv").read_text(encoding="utf-8").splitlines()
    rows[2] = rows[2].replace('"grace@contoso.com",', '"grace@contoso.com,', 1)
    path = tmp_path / "ad.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="stray quote") as err:
        read_ad(path)
    assert err.value.line == 3


def test_an_ldif_that_starts_with_a_continuation_line_is_not_called_csv(tmp_path: Path) -> None:
    text = (DATA / "ad-ldapsearch.ldif").read_text(encoding="utf-8")
    cut = text[text.index(" o.mail.onmicrosoft.com"):]
    path = tmp_path / "ad.ldif"
    path.write_text(cut, encoding="utf-8")
    with pytest.raises(InputError, match="starts with a continuation line") as err:
        read_ad(path)
    assert "CSV" not in str(err.value) and err.value.line == 1


def test_one_bad_links_value_rejects_only_its_record(tmp_path: Path) -> None:
    records = json.loads((DATA / "okta-app-users.json").read_text(encoding="utf-8"))
    records[1]["_links"] = "not an object"
    path = tmp_path / "app-users.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    result = read_okta(path)
    assert len(result.tables["okta_app_users"]) == len(records) - 1
    assert list(result.rejected["reason"]) == ["missing app id"]


@pytest.mark.parametrize(("tenant", "key"), [
    ({"onPremisesSynchronization": {"features": {"blockSoftMatchEnabled": "true"}}},
     "onPremisesSynchronization.features.blockSoftMatchEnabled"),
    ({"organization": {"value": [{"onPremisesSyncEnabled": "yes"}]}}, "organization.onPremisesSyncEnabled"),
    ({"organization": "Contoso"}, "organization"),
    ({"domains": "contoso.com"}, "domains"),
    ({"okta": "user_sync"}, "okta"),
])
def test_wrong_types_in_tenant_json_name_the_key(tmp_path: Path, tenant: dict, key: str) -> None:
    path = tmp_path / "tenant.json"
    path.write_text(json.dumps(tenant), encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_tenant(path)
    assert err.value.column == key and "\n" in str(err.value)


def test_a_tenant_file_with_the_readme_placeholder_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tenant.json"
    path.write_text(json.dumps({"okta": {"provisioningMode": "<fill in>"}}), encoding="utf-8")
    with pytest.raises(InputError, match="Provisioning page"):
        read_tenant(path)


@pytest.mark.parametrize(("edit", "key"), [
    (lambda m: m["tables"]["ad_users"].pop("sha256"), "tables.ad_users.sha256"),
    (lambda m: m["tables"].__setitem__("ad_users", "ad_users.parquet"), "tables.ad_users"),
    (lambda m: m.__setitem__("tables", []), "tables"),
    (lambda m: m["tenant"].__setitem__("colour", "blue"), "tenant.colour"),
    (lambda m: m["tenant"].__setitem__("features", {"blockSoftMatchEnabled": "true"}), "tenant.features"),
    (lambda m: m.__setitem__("coverage", {"attributes": {"entra_users": {"immutable_id": "maybe"}}}),
     "coverage.attributes.entra_users"),
])
def test_a_malformed_manifest_names_the_file_and_the_key(tmp_path: Path, edit, key: str) -> None:
    folder = write_snapshot(read_exports(DATA / "ad.csv", DATA / "entra.json"), tmp_path / "snap")
    manifest = json.loads((folder / "manifest.json").read_text())
    edit(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError) as err:
        load_snapshot(folder)
    assert "manifest.json" in str(err.value) and f"'{key}'" in str(err.value)


def test_leading_tabs_and_crs_in_upns_are_kept_and_values_never_collapse(tmp_path: Path) -> None:
    rows = (DATA / "ad.csv").read_text(encoding="utf-8").splitlines()
    rows[1] = rows[1].replace('"ada@contoso.com","ada@contoso.com"', '"\tada@contoso.com","ada@contoso.com"', 1)
    rows[2] = rows[2].replace('"grace@contoso.com","grace@contoso.com"', '"grace@contoso.com\r","grace@contoso.com"',
                              1)
    path = tmp_path / "ad.csv"
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("utf-8"))
    users = read_ad(path).tables["ad_users"].set_index("sam_account_name")
    assert users.loc["ada", "upn"] == "\tada@contoso.com"
    assert users.loc["grace", "upn"] == "grace@contoso.com\r"
    assert users.loc["ada", "mail"] == "ada@contoso.com"
