"""Entra users from Graph JSON (pages in every arrangement) and from a Get-MgUser CSV."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from support import DATA
from support.export_files import powershell_csv

from hybridx_nb.core.errors import InputError
from hybridx_nb.sources.files.entra_export import read_entra

pytestmark = pytest.mark.usefixtures("reading")  # in memory and streamed (tests/conftest.py)

E5 = "06ebc4ee-1bb5-47dd-8120-11324bc54e06"


def _pages() -> list[dict]:
    text = (DATA / "entra.json").read_text(encoding="utf-8")
    decoder, pos, pages = json.JSONDecoder(), 0, []
    while pos < len(text.rstrip()):
        page, pos = decoder.raw_decode(text, pos)
        pages.append(page)
        pos = len(text) - len(text[pos:].lstrip())
    return pages


def test_sample_concatenated_pages() -> None:
    result = read_entra(DATA / "entra.json")
    users = result.tables["entra_users"].set_index("upn")
    assert len(users) == 6 and result.rejected.empty
    ada = users.loc["ada@contoso.com"]
    assert ada.immutable_id == "BpazOkLGm0iEtljAONPvOQ==" and ada.on_prem_sync_enabled
    assert list(ada.assigned_licenses) == [E5] and len(ada.proxy_addresses) == 3
    juergen = users.loc["juergen.mueller@contoso.com"]
    assert pd.isna(juergen.immutable_id) and pd.isna(juergen.on_prem_sync_enabled)  # null: never synced
    guest = users.loc["partner_fabrikam.com#EXT#@contoso.onmicrosoft.com"]
    assert (guest.user_type, guest.creation_type, list(guest.assigned_licenses)) == ("Guest", "Invitation", [])
    assert result.source == "entra.json (Graph /users JSON, UTF-8)"


@pytest.mark.parametrize("shape", ["array_of_pages", "plain_array", "one_page", "pascal_case_utf16"])
def test_other_json_arrangements(tmp_path: Path, shape: str) -> None:
    pages = _pages()
    users = [u for p in pages for u in p["value"]]
    content: object = {"array_of_pages": pages, "plain_array": users, "one_page": {"value": users},
                       "pascal_case_utf16": [{k[0].upper() + k[1:]: v for k, v in u.items()} for u in users]}[shape]
    path = tmp_path / "users.json"
    path.write_bytes(json.dumps(content).encode("utf-16" if shape.endswith("utf16") else "utf-8"))
    got = read_entra(path).tables["entra_users"]
    pd.testing.assert_frame_equal(got, read_entra(DATA / "entra.json").tables["entra_users"])


_HEADERS = ["Id", "UserPrincipalName", "Mail", "OnPremisesImmutableId", "OnPremisesSyncEnabled", "AccountEnabled",
            "UserType", "DisplayName", "ProxyAddresses", "AssignedLicenses"]


def _csv_row(**kw: str) -> list[str]:
    values = {"Id": "8a1f0c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b", "UserPrincipalName": "ada@contoso.com",
              "Mail": "ada@contoso.com", "OnPremisesImmutableId": "BpazOkLGm0iEtljAONPvOQ==",
              "OnPremisesSyncEnabled": "True", "AccountEnabled": "True", "UserType": "Member",
              "DisplayName": "Ada Lovelace", "ProxyAddresses": "SMTP:ada@contoso.com;smtp:ada@contoso.onmicrosoft.com",
              "AssignedLicenses": E5} | kw
    return [values[h] for h in _HEADERS]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-bom", "utf-16-le"])
def test_get_mguser_csv(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "entra.json"  # a misleading extension: the content decides
    path.write_bytes(powershell_csv(_HEADERS, [_csv_row(), _csv_row(
        Id="9B2E1D3F-4C5E-4F60-9B1C-1D2E3F4A5B6C", UserPrincipalName="grace@contoso.com", OnPremisesSyncEnabled="",
        OnPremisesImmutableId="", ProxyAddresses="", AssignedLicenses="")], encoding=encoding, type_line=True))
    result = read_entra(path)
    users = result.tables["entra_users"]
    assert list(users["id"]) == ["8a1f0c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b", "9b2e1d3f-4c5e-4f60-9b1c-1d2e3f4a5b6c"]
    assert users["on_prem_sync_enabled"].tolist() == [True, pd.NA]
    assert [list(v) for v in users["proxy_addresses"]] == [
        ["SMTP:ada@contoso.com", "smtp:ada@contoso.onmicrosoft.com"], []]
    assert [list(v) for v in users["assigned_licenses"]] == [[E5], []]
    assert "Get-MgUser Export-Csv" in result.source


@pytest.mark.parametrize("column, placeholder", [
    ("ProxyAddresses", "System.String[]"),
    ("AssignedLicenses", "Microsoft.Graph.PowerShell.Models.MicrosoftGraphAssignedLicense[]"),
])
def test_csv_placeholder_is_an_error(tmp_path: Path, column: str, placeholder: str) -> None:
    path = tmp_path / "entra.csv"
    path.write_bytes(powershell_csv(_HEADERS, [_csv_row(**{column: placeholder})]))
    with pytest.raises(InputError) as err:
        read_entra(path)
    assert (err.value.line, err.value.column) == (2, column)
    assert "Get-MgUser -All -Property" in err.value.fix and "-join ';'" in err.value.fix


def test_csv_missing_required_column(tmp_path: Path) -> None:
    path = tmp_path / "entra.csv"
    path.write_bytes(powershell_csv(["Id", "DisplayName"], [["8a1f0c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b", "Ada"]]))
    with pytest.raises(InputError, match=r"missing: userPrincipalName .*the header has: Id, DisplayName"):
        read_entra(path)


def test_invalid_json_gives_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "entra.json"
    path.write_text('{"value": [\n  {"id": "a",\n   "userPrincipalName": }\n]}', encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_entra(path)
    assert err.value.line == 3 and "column 25" in err.value.problem and "invalid JSON" in err.value.problem


def test_bad_users_are_rejected_and_all_bad_is_an_error(tmp_path: Path) -> None:
    good = {"id": "8a1f0c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b", "userPrincipalName": "ada@contoso.com",
            "assignedLicenses": [{"disabledPlans": []}, {"skuId": E5}], "proxyAddresses": [None, " SMTP:a@b.c "], "onPremisesImmutableId": None}
    users = [good, {"id": "not-a-guid", "userPrincipalName": "x@contoso.com", "onPremisesImmutableId": None},
             {"id": good["id"].replace("8", "9"), "onPremisesImmutableId": None},
             dict(good), "garbage"]
    path = tmp_path / "entra.json"
    path.write_text(json.dumps({"value": users}), encoding="utf-8")
    result = read_entra(path)
    assert list(result.tables["entra_users"]["upn"]) == ["ada@contoso.com"]
    assert list(result.tables["entra_users"].loc[0, "assigned_licenses"]) == [E5]
    assert list(result.tables["entra_users"].loc[0, "proxy_addresses"]) == ["SMTP:a@b.c"]
    assert sorted(result.rejected["reason"]) == sorted([
        "id 'not-a-guid' is not a GUID", "missing userPrincipalName", "duplicate id (kept the first)",
        "not a JSON object"])
    path.write_text(json.dumps([users[1], users[2]]), encoding="utf-8")
    with pytest.raises(InputError, match="none of the 2 Entra users"):
        read_entra(path)


def test_empty_inputs(tmp_path: Path) -> None:
    path = tmp_path / "entra.json"
    path.write_text('{"value": []}', encoding="utf-8")
    with pytest.raises(InputError, match="no users"):
        read_entra(path)
    path.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_entra(path)
