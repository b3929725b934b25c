"""The remediation plan: which strategy for which case, the actions, the runbook and its numbers.

Built against hand-made findings frames that follow the findings contract (README.md, Outputs), so these
tests do not depend on the engine.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from hybridx_nb.core import anchors
from hybridx_nb.core.errors import HybridxError
from hybridx_nb.remediation.model import ACTION_COLUMNS, Plan
from hybridx_nb.remediation.plan import build_plan
from hybridx_nb.snapshot.store import TenantFacts, build_snapshot

FINDING_COLUMNS = (
    "category", "ad_dn", "ad_object_guid", "ad_upn", "ad_sam", "ad_mail", "ad_display_name", "entra_id", "entra_upn",
    "entra_mail", "entra_display_name", "immutable_id", "expected_immutable_id", "anchor_source", "anchor_kind",
    "anchor_detail", "match_via", "block_reason", "candidates", "duplicate_upn", "on_prem_sync_enabled",
    "entra_roles", "assigned_licenses", "federated", "account_enabled", "okta_user_id", "okta_login",
    "okta_app_immutable_id", "okta_agrees", "reason", "action")
BOOL_COLUMNS = ("on_prem_sync_enabled", "federated", "account_enabled", "okta_agrees")
E3 = "6fd2c87f-b296-42f0-b197-1e91e994b900"


@dataclass
class FakePrediction:
    """What ``build_plan`` reads from ``match.Prediction``."""

    findings: pd.DataFrame
    anchor_setting: str = "objectGUID"
    anchor_reason: str = "auto: no user has an mS-DS-ConsistencyGuid"
    assumptions: list[str] = field(default_factory=list)


def frame(rows: list[dict]) -> pd.DataFrame:
    """A findings frame in the contract's shape: every column, str dtype, nullable booleans."""
    data = {c: [r.get(c) for r in rows] for c in FINDING_COLUMNS}
    out = pd.DataFrame(data, columns=list(FINDING_COLUMNS))
    for c in FINDING_COLUMNS:
        out[c] = out[c].astype("boolean") if c in BOOL_COLUMNS else out[c].astype("str").replace("", np.nan)
    return out


def row(n: int, category: str, *, domain: str = "contoso.com", **kw) -> dict:
    """User number ``n``: an AD side, a cloud side, or both, consistent with ``category``."""
    guid = str(uuid.UUID(int=0x1000 + n))
    expected = anchors.guid_to_immutable_id(guid)
    ad = {"ad_dn": f"CN=User {n},OU=Staff,DC=contoso,DC=com", "ad_object_guid": guid,
          "ad_upn": f"user{n}@{domain}", "expected_immutable_id": expected, "anchor_source": "objectGUID"}
    cloud = {"entra_id": str(uuid.UUID(int=0x9000 + n)), "entra_upn": f"user{n}@{domain}",
             "account_enabled": True, "on_prem_sync_enabled": None, "assigned_licenses": E3}
    sides = {
        "hard_match": {**ad, **cloud, "immutable_id": expected, "match_via": "immutable_id"},
        "soft_match": {**ad, **cloud, "match_via": "smtp"},
        "anchor_mismatch": {**ad, **cloud, "immutable_id": f"00u{n:017d}", "anchor_kind": "okta_user_id",
                            "match_via": "upn"},
        "match_blocked": {**ad, **cloud, "match_via": "upn"},
        "new_user": ad,
        "orphan_anchor": {**cloud, "immutable_id": anchors.guid_to_immutable_id(str(uuid.UUID(int=n))),
                          "anchor_kind": "unknown_guid"},
        "ambiguous": {**ad, "candidates": "a;b"},
        "cloud_only": cloud,
        "excluded": {**ad, "ad_dn": f"CN=krbtgt{n},CN=Users,DC=contoso,DC=com"},
    }[category]
    return {**sides, "category": category, **kw}


def snapshot(findings: pd.DataFrame, *, extra_upns: tuple[str, ...] = (), federated: tuple[str, ...] = (),
             initial: str | None = "contoso.onmicrosoft.com", **tenant) -> object:
    cloud = findings.loc[findings["entra_id"].notna(), ["entra_id", "entra_upn", "immutable_id"]]
    users = pd.DataFrame({"id": cloud["entra_id"].tolist() + [str(uuid.uuid4()) for _ in extra_upns],
                          "upn": cloud["entra_upn"].tolist() + list(extra_upns),
                          "immutable_id": cloud["immutable_id"].tolist() + [None] * len(extra_upns)})
    names = ["contoso.com", "fabrikam.com"] + ([initial] if initial else [])
    domains = pd.DataFrame({"name": names,
                            "authentication_type": ["Federated" if n in federated else "Managed" for n in names],
                            "is_initial": [n == initial for n in names]})
    return build_snapshot({"entra_users": users, "entra_domains": domains}, TenantFacts(**tenant))


def plan_for(rows: list[dict], *, strategy: str = "auto", bulk_threshold: int = 50, snap_kw: dict | None = None,
             target: str = "connect", extra: tuple | list = (), **tenant) -> Plan:
    findings = frame(rows)
    return build_plan(FakePrediction(findings), snapshot(findings, **(snap_kw or {}), **tenant),
                      strategy=strategy, bulk_threshold=bulk_threshold, target=target, extra=extra)


def rb(plan: Plan, key: str) -> str:
    """The text of one runbook step, by its key (numbers depend on which steps apply)."""
    found = [s for s in plan.runbook if s.key == key]
    assert found, f"no runbook step {key!r} in {[s.key for s in plan.runbook]}"
    s = found[0]
    return "\n".join((s.title, s.who, s.where, s.do, s.verify, s.rollback))


def steps(plan: Plan, step: str) -> pd.DataFrame:
    return plan.actions[plan.actions["step"].eq(step)]


def seed_client() -> list[dict]:
    """The seed's story: most users already carry their objectGUID, three got the Okta user id instead."""
    return ([row(i, "hard_match") for i in range(5)] + [row(10 + i, "anchor_mismatch") for i in range(3)]
            + [row(20, "soft_match"), row(30, "new_user"), row(31, "new_user"), row(40, "cloud_only"),
               row(50, "excluded")])


# --- strategies -----------------------------------------------------------------------------------------------

def test_auto_with_few_users_prestamps_them() -> None:
    plan = plan_for(seed_client())
    assert plan.strategy == "prestamp"
    assert "3 user(s)" in plan.strategy_reason and "bulk_threshold=50" in plan.strategy_reason
    writes = steps(plan, "set_immutable_id")
    assert len(writes) == 3 and set(writes["strategy"]) == {"prestamp"}
    f = frame(seed_client())
    mismatch = f[f["category"].eq("anchor_mismatch")]
    assert writes["new_immutable_id"].tolist() == mismatch["expected_immutable_id"].tolist()
    assert writes["current_immutable_id"].tolist() == mismatch["immutable_id"].tolist()
    assert list(plan.actions.columns) == ACTION_COLUMNS
    assert plan.actions.dtypes.eq("str").all()
    assert set(plan.actions["step"]) == {"set_immutable_id"}  # hard/soft matches, new users: nothing to change


def test_auto_with_okta_user_sync_clears_and_regenerates() -> None:
    plan = plan_for(seed_client(), okta_provisioning_mode="user_sync", org_sync_enabled=True)
    assert plan.strategy == "clear_and_regenerate"
    assert "User Sync" in plan.strategy_reason and "3 ImmutableID" in plan.strategy_reason
    off, fix = rb(plan, "sync_off"), rb(plan, "fix")
    assert "Update-MgOrganization" in off and "onPremisesSyncEnabled=$false" in off
    assert "72 hours" in off and "WARNING" in off
    assert "not earlier than 72 h after the switch-off" in off
    assert "Where-Object OnPremisesSyncEnabled" in off  # the users' own flags, not only the organisation's
    assert "rather than clearing" in fix  # writes the correct value, not null
    assert len(steps(plan, "set_immutable_id")) == 3
    assert set(steps(plan, "set_immutable_id")["strategy"]) == {"clear_and_regenerate"}
    assert "Start only once step 3 (Switch directory sync off for the tenant (day 0)) has completed" in rb(
        plan, "staging")
    assert "not earlier than 72 h after the switch-off" in rb(plan, "leave_staging")
    assert plan.sync_switch_off


def test_users_shown_as_synced_while_org_sync_is_on_are_read_only() -> None:
    rows = [r | {"on_prem_sync_enabled": True} for r in seed_client() if r.get("entra_id")]
    plan = plan_for(rows, org_sync_enabled=True)
    assert plan.strategy == "clear_and_regenerate"
    assert "show as synced" in plan.strategy_reason


def test_users_shown_as_synced_are_read_only_without_a_tenant_file() -> None:
    """Issue 10: `assess --ad --entra` without --tenant picked prestamp, and the script then skipped every user."""
    rows = [r | {"on_prem_sync_enabled": True} for r in seed_client() if r.get("entra_id")]
    plan = plan_for(rows, org_sync_enabled=None)
    assert plan.strategy == "clear_and_regenerate"
    assert "show as synced" in plan.strategy_reason


def test_auto_over_bulk_threshold_clears_and_regenerates() -> None:
    rows = [row(i, "anchor_mismatch") for i in range(60)]
    plan = plan_for(rows, bulk_threshold=50)
    assert plan.strategy == "clear_and_regenerate"
    assert "60 users" in plan.strategy_reason and "bulk_threshold=50" in plan.strategy_reason
    assert "already off" in rb(plan, "fix")  # the tenant's org sync is off: nothing to switch
    assert plan_for(rows, bulk_threshold=60).strategy == "prestamp"


def test_forced_hard_delete_recreate_lists_licences_and_the_purge() -> None:
    rows = seed_client()
    rows[5]["assigned_licenses"] = f"{E3};c7df2760-2c81-4ef7-b578-5b5392b571df"
    plan = plan_for(rows, strategy="hard_delete_recreate")
    assert plan.strategy == "hard_delete_recreate" and plan.strategy_reason.startswith("forced by parameter")
    deletes = steps(plan, "hard_delete")
    assert len(deletes) == 3 and steps(plan, "set_immutable_id").empty
    assert deletes["licenses"].tolist()[0] == f"{E3};c7df2760-2c81-4ef7-b578-5b5392b571df"
    assert plan.expected["adds"] == 2 + 3 and plan.expected["hard_deletes"] == 3
    assert "Remove-MgDirectoryDeletedItem -DirectoryObjectId" in rb(plan, "fix")
    assert "Set-MgUserLicense" in rb(plan, "restore")
    assert "mailbox and OneDrive" in rb(plan, "backup")
    assert any("cannot be undone" in n for n in plan.notes)


def test_forced_strategies_override_auto() -> None:
    assert plan_for(seed_client(), strategy="clear_and_regenerate").strategy == "clear_and_regenerate"
    assert plan_for(seed_client(), okta_provisioning_mode="user_sync", strategy="prestamp").strategy == "prestamp"


def test_unknown_strategy_and_bad_threshold_are_refused() -> None:
    with pytest.raises(HybridxError, match="unknown strategy 'delete_all'"):
        plan_for(seed_client(), strategy="delete_all")
    with pytest.raises(HybridxError, match="bulk_threshold"):
        plan_for(seed_client(), bulk_threshold=-1)


# --- blocks ---------------------------------------------------------------------------------------------------

def test_role_holders_lose_their_roles_before_the_sync_and_get_them_back() -> None:
    holder = row(60, "match_blocked", block_reason="admin_role",
                 entra_roles="Global Administrator;Exchange Administrator")
    plan = plan_for(seed_client() + [holder])
    removed, readded = steps(plan, "remove_roles"), steps(plan, "readd_roles")
    assert removed["entra_upn"].tolist() == readded["entra_upn"].tolist() == ["user60@contoso.com"]
    assert removed["roles"].iloc[0] == "Global Administrator;Exchange Administrator"
    assert "user60@contoso.com: Global Administrator, Exchange Administrator" in rb(plan, "set_aside")
    assert "user60@contoso.com: Global Administrator, Exchange Administrator" in rb(plan, "restore")
    aside = rb(plan, "set_aside")
    assert "does not match an on-premises user with a cloud user that holds an admin role" in aside
    assert "hard-delete the quarantined object" in aside and "June" not in aside
    assert plan.expected["role_holders"] == 1
    order = plan.actions["step"].tolist()
    assert order.index("remove_roles") < order.index("set_immutable_id") < order.index("readd_roles")


def test_role_holder_with_a_wrong_anchor_gets_both_fixes() -> None:
    plan = plan_for([row(61, "anchor_mismatch", entra_roles="Helpdesk Administrator")])
    assert len(steps(plan, "remove_roles")) == 1 and len(steps(plan, "set_immutable_id")) == 1


def test_federated_users_get_the_upn_swap() -> None:
    blocked = row(70, "match_blocked", block_reason="federated_domain", federated=True)
    mismatch = row(71, "anchor_mismatch", domain="fabrikam.com")  # federated from the domains table
    taken = row(72, "anchor_mismatch", domain="fabrikam.com")
    plan = plan_for([blocked, mismatch, taken, row(73, "anchor_mismatch")],
                    snap_kw={"federated": ("fabrikam.com",), "extra_upns": ("user72@contoso.onmicrosoft.com",)})
    swaps = steps(plan, "set_immutable_id_upn_swap").set_index("entra_upn")
    assert sorted(swaps.index) == ["user70@contoso.com", "user71@fabrikam.com", "user72@fabrikam.com"]
    assert swaps.loc["user70@contoso.com", "temporary_upn"] == "user70@contoso.onmicrosoft.com"
    assert swaps.loc["user70@contoso.com", "new_immutable_id"] == frame([blocked])["expected_immutable_id"][0]
    clash = swaps.loc["user72@fabrikam.com"]
    assert clash["temporary_upn"] == f"user72.{clash['entra_id'][:8]}@contoso.onmicrosoft.com"
    assert steps(plan, "set_immutable_id")["entra_upn"].tolist() == ["user73@contoso.com"]
    assert steps(plan, "set_immutable_id")["temporary_upn"].isna().all()
    assert swaps["note"].str.endswith("; federated domain: UPN swap").all()
    assert swaps["note"].str.startswith("current value: ").all()
    assert not steps(plan, "set_immutable_id")["note"].str.contains("UPN swap").any()
    assert "Users with a UPN in a federated domain: 3." in rb(plan, "fix")
    assert "User-PasswordProfile.ReadWrite.All" in rb(plan, "fix")
    assert "Privileged Authentication Administrator" in rb(plan, "fix")
    assert plan.expected["upn_swaps"] == 3 and plan.expected["anchor_writes"] == 4


def test_unknown_initial_domain_is_a_note_not_a_guess() -> None:
    plan = plan_for([row(70, "match_blocked", block_reason="federated_domain", federated=True)],
                    snap_kw={"initial": None})
    assert steps(plan, "set_immutable_id_upn_swap")["temporary_upn"].isna().all()
    assert any("TemporaryUpn" in n for n in plan.notes)


def test_tenant_flags_are_switched_for_the_cut_over_and_back() -> None:
    rows = seed_client() + [row(80, "match_blocked", block_reason="soft_match_blocked")]
    plan = plan_for(rows, features={"blockCloudObjectTakeoverThroughHardMatchEnabled": True,
                                    "blockSoftMatchEnabled": True})
    fix, restore = rb(plan, "set_aside"), rb(plan, "restore")
    for flag in ("blockCloudObjectTakeoverThroughHardMatchEnabled", "blockSoftMatchEnabled"):
        assert f"@{{features=@{{{flag}=$false}}}}" in fix
        assert f"@{{features=@{{{flag}=$true}}}}" in restore
    assert "Update-MgDirectoryOnPremiseSynchronization -OnPremisesDirectorySynchronizationId" in fix
    assert plan.expected["flag_changes"] == 2
    assert "set_aside" not in [s.key for s in plan_for(rows).runbook]  # defaults: not blocked, nothing to set aside


def test_object_identifier_blocks_are_cleared() -> None:
    plan = plan_for([row(90, "match_blocked", block_reason="admin_role;on_prem_object_identifier",
                         entra_roles="Global Reader")])
    assert len(steps(plan, "clear_object_identifier")) == 1 and len(steps(plan, "remove_roles")) == 1
    assert "beta/users/<EntraId>" in rb(plan, "set_aside") and "onPremisesObjectIdentifier" in rb(plan, "set_aside")


def test_ambiguous_and_unclaimed_orphans_are_reviewed_not_guessed() -> None:
    certain = row(101, "orphan_anchor") | {k: v for k, v in row(101, "new_user").items() if k != "category"}
    plan = plan_for([row(100, "ambiguous"), row(100, "orphan_anchor"), certain])
    assert sorted(steps(plan, "review")["category"]) == ["ambiguous", "orphan_anchor"]
    assert steps(plan, "set_immutable_id")["ad_dn"].tolist() == [certain["ad_dn"]]
    assert "2 finding(s) need a decision by hand" in rb(plan, "fix")
    assert plan.expected["review_ad_users"] == 1
    assert "up to 1 more Adds can show" in rb(plan, "staging_check")


# --- runbook and numbers --------------------------------------------------------------------------------------

def test_runbook_is_ordered_complete_and_carries_the_clients_numbers() -> None:
    plan = plan_for(seed_client())
    assert [s.number for s in plan.runbook] == list(range(1, len(plan.runbook) + 1))
    assert [s.key for s in plan.runbook] == ["backup", "okta_off", "fix", "staging", "staging_check",
                                             "leave_staging", "verify", "restore"]
    for step in plan.runbook:
        assert all(getattr(step, a).strip() for a in ("title", "who", "where", "do", "verify", "rollback")), step
    assert plan.expected["adds"] == 2 == int(frame(seed_client())["category"].eq("new_user").sum())
    assert plan.expected["deletes"] == 0
    assert plan.expected["updates"] == 5 + 3 + 1  # hard + fixed + soft matches
    assert plan.expected["in_scope"] == 11  # every AD user but the excluded one
    check = rb(plan, "staging_check")
    assert "about 2 Adds (2 new user(s)), 0 Deletes, and up to 9 Updates" in check
    assert "Deletes = 0" in check and "Compare per user, not by count" in check
    assert "may also show as an Add" in check and "Synchronization Service" in check
    assert " - AAD\" export.xml" not in check  # the connector name is copied, not hard-coded
    okta = rb(plan, "okta_off")
    assert okta.index("**Deactivate Users**") < okta.index("**Enable provisioning**")
    assert "not the Sign On tab" in okta and "not the assignments" in okta
    assert "unassigned from the app or deactivated in Okta" in okta and "user status on deactivation" in okta
    assert "Do not unassign anyone from the app while Okta still federates sign-in" in okta
    assert "**objectGUID**" in rb(plan, "staging") and "**Enable staging mode**" in rb(plan, "staging")
    assert "Export-Csv" in rb(plan, "backup") and "rollback.csv" in rb(plan, "backup")
    assert "every in-scope AD user (11) to be hard_match" in rb(plan, "verify")


def test_a_clean_tenant_still_gets_every_step_saying_there_is_nothing_to_do() -> None:
    plan = plan_for([row(i, "hard_match") for i in range(3)])
    assert plan.actions.empty and list(plan.actions.columns) == ACTION_COLUMNS
    assert len(plan.runbook) == 8
    assert "No ImmutableID to change" in rb(plan, "fix")
    assert "Nothing was set aside" in rb(plan, "restore")
    assert plan.expected["adds"] == 0


def test_empty_findings() -> None:
    plan = plan_for([])
    assert plan.strategy == "prestamp" and plan.actions.empty and len(plan.runbook) == 8


def test_plan_scales_to_a_large_tenant() -> None:
    rows = [row(i, "hard_match") for i in range(200)] + [row(1000 + i, "anchor_mismatch") for i in range(40)]
    base = frame(rows)
    findings = pd.concat([base] * 250, ignore_index=True)  # 60 000 findings
    snap = snapshot(base)
    start = time.perf_counter()
    plan = build_plan(FakePrediction(findings), snap)
    assert time.perf_counter() - start < 5
    assert plan.expected["anchor_writes"] == 10_000 and plan.strategy == "clear_and_regenerate"
