"""Groups and contacts on the first sync (docs/domain.md §11), read from Graph JSON exports, for a tenant whose Okta
provisions in Universal Sync mode; and the readiness rows the anchor fix resolves."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from hybridx_nb.core.errors import InputError
from hybridx_nb.engine.groups import group_counts, predict_groups
from hybridx_nb.remediation.resolved import RESOLVED, fix_pairs, mark_resolved_by_fix, open_problems
from hybridx_nb.snapshot.store import TenantFacts, build_snapshot
from hybridx_nb.sources.files.entra_groups import read_entra_contacts, read_entra_groups

AD = pd.DataFrame({
    "dn": ["CN=Sales,OU=Groups,DC=contoso,DC=com", "CN=Engineering,OU=Groups,DC=contoso,DC=com",
           "CN=Partner Ext,OU=Contacts,DC=contoso,DC=com", "CN=Newbies,OU=Groups,DC=contoso,DC=com",
           "CN=All Staff,OU=Groups,DC=contoso,DC=com"],
    "object_class": ["group", "group", "contact", "group", "group"],
    "mail": ["sales@contoso.com", None, "ext@partner.example", None, "all@contoso.com"],
    "proxy_addresses": [["SMTP:sales@contoso.com", "smtp:vertrieb@contoso.com"], [], ["SMTP:ext@partner.example"], [],
                        ["SMTP:all@contoso.com"]],
    "display_name": ["Sales", "Engineering", "Partner Ext", "Newbies", "All Staff"],
})

# Graph /groups and /contacts pages, as Invoke-MgGraphRequest returns them (two pages for groups)
GROUP_PAGES = [
    {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups(id,displayName,mail,mailEnabled,"
                       "securityEnabled,groupTypes,proxyAddresses,onPremisesSyncEnabled)",
     "@odata.nextLink": "https://graph.microsoft.com/v1.0/groups?$skiptoken=X",
     "value": [
         {"id": "0a1b2c3d-0000-4000-8000-000000000001", "displayName": "Sales", "mail": "sales@contoso.com",
          "mailNickname": "sales", "mailEnabled": True, "securityEnabled": False, "groupTypes": [],
          "proxyAddresses": ["SMTP:Sales@contoso.com"], "onPremisesSyncEnabled": True},
         {"id": "0a1b2c3d-0000-4000-8000-000000000002", "displayName": "Engineering", "mail": None,
          "mailNickname": "engineering", "mailEnabled": False, "securityEnabled": True, "groupTypes": [],
          "proxyAddresses": [], "onPremisesSyncEnabled": True}]},
    {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups", "value": [
        {"id": "0a1b2c3d-0000-4000-8000-000000000003", "displayName": "All Staff", "mail": "all@contoso.com",
         "mailNickname": "all", "mailEnabled": True, "securityEnabled": False, "groupTypes": [],
         "proxyAddresses": ["SMTP:all@contoso.com"], "onPremisesSyncEnabled": None},
        {"id": "0a1b2c3d-0000-4000-8000-000000000004", "displayName": "All Staff (copy)", "mail": None,
         "mailNickname": "all2", "mailEnabled": True, "securityEnabled": False, "groupTypes": ["Unified"],
         "proxyAddresses": ["smtp:all@contoso.com", "SMTP:all2@contoso.com"], "onPremisesSyncEnabled": None},
        {"id": "0a1b2c3d-0000-4000-8000-000000000005", "displayName": "Leftover", "mailEnabled": False,
         "securityEnabled": True, "groupTypes": [], "proxyAddresses": [], "onPremisesSyncEnabled": True},
        {"displayName": "no id"}]},
]
CONTACTS = {"value": [{"id": "5f5f5f5f-0000-4000-8000-000000000001", "displayName": "Partner Ext",
                       "mail": "EXT@partner.example", "mailNickname": "ext",
                       "proxyAddresses": ["SMTP:ext@partner.example"], "onPremisesSyncEnabled": True}]}


def exports(tmp_path: Path) -> tuple[Path, Path]:
    groups, contacts = tmp_path / "groups.json", tmp_path / "contacts.json"
    groups.write_text("\n".join(json.dumps(p) for p in GROUP_PAGES), encoding="utf-8")  # pages one after another
    contacts.write_text(json.dumps(CONTACTS), encoding="utf-8-sig")
    return groups, contacts


def test_graph_exports_are_read_and_bad_records_set_aside(tmp_path: Path) -> None:
    groups, contacts = exports(tmp_path)
    g = read_entra_groups(groups)
    assert len(g.tables["entra_groups"]) == 5
    assert g.rejected["reason"].tolist() == ["no id"] and g.rejected["line"].tolist() == [6]
    frame = g.tables["entra_groups"].set_index("display_name")
    assert frame.loc["Engineering", "mail_enabled"] is False or not frame.loc["Engineering", "mail_enabled"]
    assert pd.isna(frame.loc["All Staff", "on_prem_sync_enabled"])  # null stays unknown, never false
    assert read_entra_contacts(contacts).tables["entra_contacts"]["mail"].tolist() == ["EXT@partner.example"]
    users = tmp_path / "users.json"
    users.write_text(json.dumps({"value": [{"id": "x", "userPrincipalName": "a@b.c"}]}), encoding="utf-8")
    with pytest.raises(InputError, match="these are users"):
        read_entra_groups(users)


def test_universal_sync_groups_and_contacts(tmp_path: Path) -> None:
    groups, contacts = exports(tmp_path)
    snap = build_snapshot({"ad_mail_objects": AD, "entra_groups": read_entra_groups(groups).tables["entra_groups"],
                           "entra_contacts": read_entra_contacts(contacts).tables["entra_contacts"]},
                          TenantFacts(okta_provisioning_mode="universal_sync"))
    f = predict_groups(snap)
    by_ad = f[f["ad_dn"].notna()].set_index("ad_name")
    assert by_ad.loc["Sales", "outcome"] == "soft_match"  # case-insensitive SMTP address
    assert by_ad.loc["Sales", "entra_id"] == "0a1b2c3d-0000-4000-8000-000000000001"
    assert by_ad.loc["Partner Ext", "outcome"] == "soft_match" and by_ad.loc["Partner Ext", "kind"] == "contact"
    assert by_ad.loc["Engineering", "outcome"] == "recreated"  # not mail-enabled: cannot be matched
    assert by_ad.loc["Newbies", "outcome"] == "new"
    assert by_ad.loc["All Staff", "outcome"] == "ambiguous"  # two mail-enabled groups hold all@contoso.com
    cloud_only = f[f["outcome"].eq("cloud_only")]["entra_name"].tolist()
    assert "Leftover" in cloud_only
    assert group_counts(f) == {"soft_match": 2, "ambiguous": 1, "recreated": 1, "new": 1,
                               "cloud_only": len(cloud_only)}
    assert predict_groups(build_snapshot({"ad_mail_objects": AD})) is None  # not collected: no prediction


def test_the_groups_reach_the_plan_and_the_report(tmp_path: Path) -> None:
    from hybridx_nb import report
    from hybridx_nb.app.assess import Params, run, write_outputs
    from hybridx_nb.demo.tenant import generate

    groups, contacts = exports(tmp_path)
    demo = generate(users=100, seed=3).snapshot
    tables = dict(demo.tables)
    tables["ad_mail_objects"] = AD
    tables["entra_groups"] = read_entra_groups(groups).tables["entra_groups"]
    tables["entra_contacts"] = read_entra_contacts(contacts).tables["entra_contacts"]
    tables.pop("rejected")
    snap = build_snapshot(tables, TenantFacts(**{**demo.tenant.__dict__, "okta_provisioning_mode": "universal_sync"}))
    a = run(Params(client="Universal"), snap)
    keys = [s.key for s in a.plan.runbook]
    assert "groups" in keys
    step = a.plan.runbook[keys.index("groups")]
    assert "cannot be matched at all" in step.do and "1 cloud group(s)" in step.do
    files = write_outputs(a, tmp_path / "out")
    assert "groups-contacts.csv" in files
    html = report.findings_sections(report.prepare(a)).data
    assert 'id="cat-groups"' in html and "Cannot be matched: created again" in html
    assert "Universal Sync mode" in html


def test_readiness_rows_resolved_by_the_anchor_fix() -> None:
    findings = pd.DataFrame({"category": ["anchor_mismatch", "hard_match"],
                             "ad_dn": ["CN=Pat,DC=contoso,DC=com", "CN=Lee,DC=contoso,DC=com"],
                             "entra_upn": ["pat@contoso.com", "lee@contoso.com"]})
    readiness = pd.DataFrame({
        "DISTINGUISHEDNAME": ["CN=Pat,DC=contoso,DC=com", "CN=Pat,DC=contoso,DC=com", "CN=Lee,DC=contoso,DC=com"],
        "ERROR": ["AttributeValueMustBeUnique", "AttributeValueMustBeUnique", "AttributeValueMustBeUnique"],
        "conflict_with": ["PAT@contoso.com", "someone.else@contoso.com", "lee@contoso.com"],
        "PROPOSEDACTION": ["EDIT", "EDIT", "EDIT"], "UPDATE": ["x", "y", "z"], "description": ["d", "d", "d"],
    }).astype("str")
    marked = mark_resolved_by_fix(readiness, fix_pairs(findings))
    assert marked["resolved"].tolist()[0] == RESOLVED and marked["resolved"].isna().tolist() == [False, True, True]
    assert marked.loc[0, "PROPOSEDACTION"] == "COMPLETE" and pd.isna(marked.loc[0, "UPDATE"])
    assert marked.loc[1, "PROPOSEDACTION"] == "EDIT"  # another holder: still a real conflict
    assert len(open_problems(marked)) == 2
