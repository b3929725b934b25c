"""Okta users and app users from saved API responses, told apart by shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import DATA

from hybridx_nb.core.errors import InputError
from hybridx_nb.sources.files.okta_export import read_okta

APP = "0oa4k2m9x7PqR5sT1d7h"


def _app_users() -> list[dict]:
    return json.loads((DATA / "okta-app-users.json").read_text(encoding="utf-8"))


def test_users_pages_appended() -> None:
    result = read_okta(DATA / "okta-users.json")
    users = result.tables["okta_users"].set_index("id")
    assert list(result.tables) == ["okta_users"] and len(users) == 4 and result.rejected.empty
    ada = users.loc["00u1a2b3c4d5e6f7g8h9"]
    assert (ada.login, ada.first_name, ada.provider_type, ada.provider_name) == (
        "ada@contoso.com", "Ada", "ACTIVE_DIRECTORY", "contoso.com")
    assert users.loc["00u3c4d5e6f7g8h9i0j1", "last_name"] == "Müller"
    assert "/api/v1/users" in result.source


def test_app_users_with_app_id_from_links() -> None:
    result = read_okta(DATA / "okta-app-users.json")
    app_users = result.tables["okta_app_users"].set_index("user_id")
    assert set(app_users["app_id"]) == {APP} and app_users["app_label"].isna().all()
    ada = app_users.loc["00u1a2b3c4d5e6f7g8h9"]
    assert (ada.immutable_id, ada.user_name, ada.external_id, ada.scope, ada.sync_state, ada.status) == (
        "BpazOkLGm0iEtljAONPvOQ==", "ada@contoso.com", "8a1f0c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b", "GROUP",
        "SYNCHRONIZED", "PROVISIONED")
    assert app_users.loc["00u4d5e6f7g8h9i0j1k2", "immutable_id"] == "00u4d5e6f7g8h9i0j1k2"


def test_app_id_from_file_name_or_option_else_an_error(tmp_path: Path) -> None:
    records = _app_users()
    for r in records:
        del r["_links"]
    named = tmp_path / f"okta-app-users-{APP}.json"
    named.write_text(json.dumps(records), encoding="utf-8")
    assert set(read_okta(named).tables["okta_app_users"]["app_id"]) == {APP}
    plain = tmp_path / "app-users.json"
    plain.write_text(json.dumps(records), encoding="utf-8")
    got = read_okta(plain, app_id="0oaOTHER0000000000001", app_label="Microsoft Office 365")
    assert set(got.tables["okta_app_users"]["app_label"]) == {"Microsoft Office 365"}
    with pytest.raises(InputError, match="which Okta app") as err:
        read_okta(plain)
    assert "--okta-app-id" in err.value.fix


def test_combined_hybridx_file(tmp_path: Path) -> None:
    users = json.loads((DATA / "okta-users.json").read_text(encoding="utf-8").replace("]\n[", ","))
    path = tmp_path / "okta.json"
    path.write_text(json.dumps({"users": users, "appUsers": _app_users(),
                                "apps": [{"id": APP, "label": "Microsoft Office 365", "name": "office365"}]}))
    result = read_okta(path)
    assert set(result.tables) == {"okta_users", "okta_app_users"}
    assert set(result.tables["okta_app_users"]["app_label"]) == {"Microsoft Office 365"}
    assert result.sources["okta_users"].startswith("okta.json (Okta hybridx Okta JSON")


def test_bad_records_and_unknown_shape(tmp_path: Path) -> None:
    records = _app_users()
    records[1]["id"] = None
    records.append(dict(records[0]))
    path = tmp_path / "app.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    result = read_okta(path)
    assert len(result.tables["okta_app_users"]) == 2
    assert sorted(result.rejected["reason"]) == ["duplicate app id/id (kept the first)", "missing id"]
    path.write_text(json.dumps([{"name": "not okta"}]), encoding="utf-8")
    with pytest.raises(InputError, match="neither Okta users"):
        read_okta(path)


def test_empty_app_user_list_is_an_empty_table(tmp_path: Path) -> None:
    path = tmp_path / f"app-{APP}.json"
    path.write_text("[]", encoding="utf-8")
    result = read_okta(path)
    assert result.rejected.empty and all(len(t) == 0 for t in result.tables.values())


def test_pages_nested_in_an_array_and_a_bom_before_each_page(tmp_path: Path) -> None:
    pages = json.loads("[" + (DATA / "okta-users.json").read_text(encoding="utf-8").replace("]\n[", "],[") + "]")
    nested = tmp_path / "nested.json"
    nested.write_text(json.dumps(pages), encoding="utf-8")  # ConvertTo-Json of Invoke-RestMethod -FollowRelLink
    appended = tmp_path / "appended.json"
    appended.write_bytes(b"".join(b"\xef\xbb\xbf" + json.dumps(p).encode() + b"\r\n" for p in pages))
    for path in (nested, appended):
        assert len(read_okta(path).tables["okta_users"]) == 4
