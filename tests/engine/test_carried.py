"""Issue 10: never a confident prediction that rests on a field the export did not carry.

Each export shape under tests/data/exports/ is read and assessed with its expected outcome: a refusal naming the
file and the export command, a named assumption, or ``unknown`` rows; never soft_match/cloud_only/new_user/
hard_match resting on a missing field.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support import DATA

from hybridx_nb.core.errors import InputError
from hybridx_nb.engine.carried import Assumption, as_dicts
from hybridx_nb.engine.match import EngineSettings, predict
from hybridx_nb.snapshot.store import load_snapshot, write_snapshot
from hybridx_nb.sources.files.exports import read_exports
from hybridx_nb.sources.files.ldif import read_ldif

ENTRA_USER = {"id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd", "userPrincipalName": "AdeleV@contoso.com",
              "mail": "AdeleV@contoso.com", "proxyAddresses": ["SMTP:AdeleV@contoso.com"],
              "onPremisesImmutableId": None, "onPremisesSyncEnabled": None, "accountEnabled": True,
              "userType": "Member"}


def _graph(tmp_path: Path, users: list[dict], name: str = "entra.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
                                "value": users}), encoding="utf-8")
    return path


def test_graph_default_select_is_refused_with_the_select_command() -> None:
    with pytest.raises(InputError) as err:
        read_exports(DATA / "ad.csv", DATA / "graph-default-select.json")
    text = str(err.value)
    assert "graph-default-select.json" in text and "no onPremisesImmutableId" in text
    assert "$select=id,userPrincipalName,mail,proxyAddresses,onPremisesImmutableId" in text


def test_get_mguser_without_property_is_refused_with_the_property_command() -> None:
    """Get-MgUser without -Property writes every model column, empty: the column is there, the data is not."""
    with pytest.raises(InputError) as err:
        read_exports(DATA / "ad.csv", DATA / "get-mguser-default.csv")
    assert "get-mguser-default.csv" in str(err.value) and "-Property Id,UserPrincipalName" in str(err.value)


def test_get_aduser_default_property_set_is_refused_for_the_smtp_soft_match() -> None:
    snap = read_exports(DATA / "ad-get-aduser-default.csv", DATA / "entra.json")
    assert snap.sources["ad_users"] == "ad-get-aduser-default.csv (Get-ADUser Export-Csv, #TYPE line, UTF-8)"
    with pytest.raises(InputError) as err:
        predict(snap)
    text = str(err.value)
    assert "ad-get-aduser-default.csv" in text and "neither proxyAddresses nor mail" in text
    assert "Get-ADUser -Filter * -Properties" in text


def test_extended_ldif_references_and_trailer_are_not_objects() -> None:
    result = read_ldif(DATA / "ad-ldapsearch-extended.ldif")
    assert list(result.tables["ad_users"]["sam_account_name"]) == ["adelev", "alexw"]
    assert list(result.rejected["reason"]) == ["not a user object (computer)"]  # refs and trailer: no rows
    # '# requesting:' names mS-DS-ConsistencyGuid: asked for, so its absence means empty, not "not exported"
    assert result.coverage.status("ad_users", "consistency_guid") == "exported"
    p = predict(read_exports(DATA / "ad-ldapsearch-extended.ldif", DATA / "entra.json"))
    assert not [a for a in p.assumptions if isinstance(a, Assumption) and a.attribute == "mS-DS-ConsistencyGuid"]


def test_a_search_that_hit_the_size_limit_is_refused(tmp_path: Path) -> None:
    text = (DATA / "ad-ldapsearch-extended.ldif").read_text()
    path = tmp_path / "ad.ldif"
    path.write_text(text.replace("result: 0 Success", "result: 4 Size limit exceeded"))
    with pytest.raises(InputError, match="result: 4 Size limit exceeded.*\n.*pr=1000/noprompt"):
        read_ldif(path)
    path.write_text(text.replace("# pagedresults: cookie=", "# pagedresults: cookie=AQAAAAAA"))
    with pytest.raises(InputError, match="paged search stopped"):
        read_ldif(path)


def test_consistency_guid_not_exported_is_an_assumption_or_a_refusal(tmp_path: Path) -> None:
    text = (DATA / "ad-ldapsearch-extended.ldif").read_text()
    path = tmp_path / "ad.ldif"
    path.write_text("\n".join(line for line in text.split("\n") if not line.startswith("# requesting")))
    snap = read_exports(path, DATA / "entra.json")
    p = predict(snap)
    cg = [a for a in as_dicts(p.assumptions) if a["attribute"] == "mS-DS-ConsistencyGuid"]
    assert cg and cg[0]["status"] == "not exported" and "objectGUID" in cg[0]["effect"] and cg[0]["fix"]
    with pytest.raises(InputError, match="no mS-DS-ConsistencyGuid"):
        predict(snap, EngineSettings(anchor="mS-DS-ConsistencyGuid"))
    predict(snap, EngineSettings(anchor="objectGUID"))  # the anchor does not need it


def test_a_tombstone_search_is_refused_and_a_deleted_user_is_never_new(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="deleted object"):
        predict(read_exports(DATA / "ad-tombstones.ldif", DATA / "entra.json"))
    zoe = "f7cc07d7-7c15-447d-876d-c01b0e5a9e38"
    record = (f"# Zoe\\0ADEL:{zoe}, Deleted Objects, contoso.com\n"
              f"dn: CN=Zoe\\0ADEL:{zoe},CN=Deleted Objects,DC=contoso,DC=com\nobjectClass: top\nobjectClass: person\n"
              "objectClass: organizationalPerson\nobjectClass: user\nisDeleted: TRUE\n"
              "objectGUID:: 1wfM9xV8fUSHbcAbDlqeOA==\nsAMAccountName: zoe\nmail: zoe@contoso.com\n\n")
    live = (DATA / "ad-ldapsearch-extended.ldif").read_text()
    path = tmp_path / "ad.ldif"
    path.write_text(live.replace("# search reference", record + "# search reference", 1))
    snap = read_exports(path, DATA / "entra.json")
    f = predict(snap).findings
    deleted = f[f["ad_dn"].str.contains("DEL:", regex=False).fillna(False)]
    assert list(deleted["category"]) == ["excluded"] and "deleted object" in deleted["reason"].iloc[0]


def test_a_graph_export_cut_after_a_page_is_refused_or_marked_unknown() -> None:
    with pytest.raises(InputError) as err:
        read_exports(DATA / "ad.csv", DATA / "graph-page-with-nextlink.json")
    assert "@odata.nextLink" in str(err.value) and "first 1 users" in str(err.value)
    snap = read_exports(DATA / "ad.csv", DATA / "graph-page-with-nextlink.json", allow_partial=True)
    p = predict(snap)
    counts = p.findings["category"].value_counts().to_dict()
    assert "new_user" not in counts and counts["unknown"] >= 3
    assert any(a.attribute == "Entra users" for a in p.assumptions if isinstance(a, Assumption))


def test_a_key_missing_from_some_records_makes_those_users_unknown(tmp_path: Path) -> None:
    ada = {**ENTRA_USER, "id": "8a1f0c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b", "userPrincipalName": "ada@contoso.com",
           "mail": "ada@contoso.com", "proxyAddresses": ["SMTP:ada@contoso.com"]}
    grace = {k: v for k, v in {**ENTRA_USER, "id": "9b2e1d3f-4c5e-4f60-9b1c-1d2e3f4a5b6c",
                               "userPrincipalName": "grace@contoso.com", "mail": "grace@contoso.com",
                               "proxyAddresses": ["SMTP:grace@contoso.com"]}.items()
             if k != "onPremisesImmutableId"}
    lone = {k: v for k, v in {**ENTRA_USER, "id": "0c1a2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                              "userPrincipalName": "nobody@contoso.com", "mail": "nobody@contoso.com",
                              "proxyAddresses": []}.items() if k != "onPremisesImmutableId"}
    other = {**ENTRA_USER, "id": "1d2b3c4e-5f60-4b7c-9d8e-0f1a2b3c4d5e", "userPrincipalName": "else@contoso.com",
             "mail": "else@contoso.com", "proxyAddresses": []}
    snap = read_exports(DATA / "ad.csv", _graph(tmp_path, [ada, grace, lone, other]))
    assert snap.coverage.status("entra_users", "immutable_id") == "partial"
    snap = load_snapshot(write_snapshot(snap, tmp_path / "snap"))  # the manifest keeps it
    f = predict(snap).findings.set_index("entra_upn")
    assert f.loc["ada@contoso.com", "category"] == "soft_match"        # explicit null: no value
    assert f.loc["grace@contoso.com", "category"] == "unknown"         # key absent: not known
    assert f.loc["grace@contoso.com", "ad_dn"] == "CN=Grace Hopper,OU=Staff,DC=contoso,DC=com"
    assert "did not carry onPremisesImmutableId" in f.loc["grace@contoso.com", "reason"]
    assert f.loc["nobody@contoso.com", "category"] == "unknown"        # not cloud_only
    assert f.loc["else@contoso.com", "category"] == "cloud_only"


def test_wrong_json_types_are_rejected_rows_with_their_record(tmp_path: Path) -> None:
    good = {**ENTRA_USER, "id": "8a1f0c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b", "userPrincipalName": "ada@contoso.com"}
    users = [good, {**ENTRA_USER, "proxyAddresses": "SMTP:AdeleV@contoso.com"},
             {**ENTRA_USER, "id": "0c1a2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "accountEnabled": "yes"}]
    snap = read_exports(DATA / "ad.csv", _graph(tmp_path, users))
    rows = dict(zip(snap.rejected["line"], snap.rejected["reason"]))
    assert rows == {2: "proxyAddresses is text ('SMTP:AdeleV@contoso.com'), not a list of text",
                    3: "accountEnabled is text ('yes'), not true or false"}
    assert len(snap["entra_users"]) == 1


def test_okta_export_with_a_next_link_is_refused(tmp_path: Path) -> None:
    users = json.loads((DATA / "okta-users.json").read_text(encoding="utf-8").replace("]\n[", ","))
    path = tmp_path / "okta.json"
    path.write_text(json.dumps({"users": users[:2], "next": "https://contoso.okta.com/api/v1/users?after=00u2&limit=2"}))
    with pytest.raises(InputError, match="next page"):
        read_exports(DATA / "ad.csv", DATA / "entra.json", okta=path)
    snap = read_exports(DATA / "ad.csv", DATA / "entra.json", okta=path, allow_partial=True)
    assert "okta_users" in snap.coverage.incomplete


def test_app_users_of_another_app_are_refused_naming_it(tmp_path: Path) -> None:
    records = json.loads((DATA / "okta-app-users.json").read_text(encoding="utf-8"))
    for r in records:
        r["profile"].pop("immutableId", None)
    path = tmp_path / "okta-app-users.json"
    path.write_text(json.dumps({"appUsers": records, "apps": [{"id": records[0]["_links"]["app"]["href"].rsplit(
        "/", 1)[-1], "label": "Salesforce.com"}]}))
    with pytest.raises(InputError, match="not users of Okta's Office 365 app: they belong to Salesforce.com"):
        read_exports(DATA / "ad.csv", DATA / "entra.json", okta_app_users=path)


def test_with_okta_exports_the_provisioning_mode_is_a_named_assumption(tmp_path: Path) -> None:
    snap = read_exports(DATA / "ad.csv", DATA / "entra.json", okta=DATA / "okta-users.json")
    names = [a.attribute for a in predict(snap).assumptions if isinstance(a, Assumption)]
    assert "Okta provisioning mode" in names


def test_summary_assumptions_are_machine_readable() -> None:
    a = Assumption("mS-DS-ConsistencyGuid", "not exported", "assumed empty", "re-export")
    assert a.startswith("mS-DS-ConsistencyGuid: not exported; assumed empty")
    assert as_dicts([a, "plain note"]) == [
        {"attribute": "mS-DS-ConsistencyGuid", "status": "not exported", "effect": "assumed empty", "fix": "re-export"},
        {"attribute": "note", "status": "assumed", "effect": "plain note", "fix": ""}]


def test_manifest_without_coverage_still_loads(tmp_path: Path) -> None:
    snap = read_exports(DATA / "ad.csv", DATA / "entra.json")
    folder = write_snapshot(snap, tmp_path / "snap")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["coverage"]["attributes"]["entra_users"]["immutable_id"] == "exported"
    shutil.copytree(folder, tmp_path / "old")
    manifest.pop("coverage")
    (tmp_path / "old" / "manifest.json").write_text(json.dumps(manifest))
    assert load_snapshot(tmp_path / "old").coverage.status("ad_users", "consistency_guid") == "exported"
