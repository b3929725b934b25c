"""The runbook holds together: numbers from the page position, every reference names the step it points to, the
Okta side of a federated fix, the plan at a glance, and the Cloud Sync variant."""

from __future__ import annotations

import re

import pytest
from test_plan import plan_for, rb, row, seed_client

from hybridx_nb.core.errors import HybridxError
from hybridx_nb.remediation import runbook
from hybridx_nb.remediation.model import Plan
from hybridx_nb.remediation.steps_common import step

FED = {"federated": ("contoso.com",)}


def federated_client() -> list[dict]:
    rows = seed_client()
    rows.append(row(60, "match_blocked", block_reason="admin_role", entra_roles="Global Administrator"))
    rows.append(row(61, "anchor_mismatch", entra_roles="Helpdesk Administrator"))
    return rows


VARIANTS = {
    "seed": lambda: plan_for(seed_client()),
    "user_sync": lambda: plan_for(seed_client(), okta_provisioning_mode="user_sync", org_sync_enabled=True),
    "federated": lambda: plan_for(federated_client(), snap_kw=FED, okta_provisioning_mode="user_sync",
                                  org_sync_enabled=True,
                                  features={"blockCloudObjectTakeoverThroughHardMatchEnabled": True}),
    "recreate": lambda: plan_for(seed_client(), strategy="hard_delete_recreate", snap_kw=FED),
    "cloud_sync": lambda: plan_for(federated_client(), snap_kw=FED, target="cloud-sync",
                                   okta_provisioning_mode="user_sync", org_sync_enabled=True),
    "clean": lambda: plan_for([row(i, "hard_match") for i in range(3)]),
}


def references(plan: Plan) -> list[tuple[int, str]]:
    """(number, text that follows "step N (") for every reference in the runbook and the glance."""
    texts = [getattr(s, f) for s in plan.runbook for f in runbook.TEXT_FIELDS] + [t for _, t in plan.glance]
    return [(int(m[1]), text[m.end():]) for text in texts for m in re.finditer(r"\bstep (\d+) \(", text)]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_reference_names_the_step_it_points_to(variant: str) -> None:
    plan = VARIANTS[variant]()
    assert [s.number for s in plan.runbook] == list(range(1, len(plan.runbook) + 1))
    refs = references(plan)
    for number, following in refs:
        assert 1 <= number <= len(plan.runbook), (variant, number)
        title = plan.runbook[number - 1].title
        assert following.startswith(title + ")"), (variant, number, title, following[:80])
    for s in plan.runbook:
        for f in runbook.TEXT_FIELDS:
            assert "{step:" not in getattr(s, f), (variant, s.key, f)
    if variant != "clean":
        assert refs, variant


def test_the_reference_check_catches_a_wrong_number() -> None:
    plan = VARIANTS["federated"]()
    numbers = {s.key: (s.number, s.title) for s in plan.runbook}
    good = runbook.resolve_references("see {step:restore}", numbers)
    assert good == f"see step {len(plan.runbook)} ({plan.runbook[-1].title})"
    wrong = good.replace(f"step {len(plan.runbook)} ", f"step {len(plan.runbook) - 1} ")
    number, following = int(re.search(r"step (\d+) \(", wrong)[1]), wrong.split("(", 1)[1]
    assert not following.startswith(plan.runbook[number - 1].title + ")")
    with pytest.raises(KeyError):
        runbook.resolve_references("see {step:no_such_step}", numbers)


def test_a_step_can_be_inserted_without_touching_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runbook, "STEPS", list(runbook.STEPS))
    runbook.insert_step("extra", lambda c: step("extra", "An inserted step", "Someone", "Somewhere",
                                                "Do it before {step:staging}.", "Checked.", "Undo it."),
                        after="fix")
    plan = plan_for(seed_client())
    keys = [s.key for s in plan.runbook]
    assert keys.index("extra") == keys.index("fix") + 1
    extra = plan.runbook[keys.index("extra")]
    staging = plan.runbook[keys.index("staging")]
    assert extra.do == f"Do it before step {staging.number} ({staging.title})."


def test_federated_anchor_writes_get_their_okta_side_and_a_pilot() -> None:
    plan = VARIANTS["federated"]()
    writes = plan.actions[plan.actions["step"].eq("set_immutable_id_upn_swap")]
    assert len(writes) == 4
    okta = plan.okta_actions
    assert sorted(okta["entra_id"]) == sorted(writes["entra_id"])
    assert okta.set_index("entra_id").loc[writes["entra_id"], "new_immutable_id"].tolist() == \
        writes["new_immutable_id"].tolist()
    assert set(okta["action"]) == {"Manual"}  # no Okta app users in this snapshot: by hand, never left out
    fix = rb(plan, "fix")
    assert "two-sided change" in fix and "hybridx okta-apply" in fix and "--entra-log" in fix
    assert "Pilot first" in fix and "sign in to Microsoft 365 through Okta" in fix
    assert "managed authentication" in fix and "Profile Editor" in fix  # the alternative and the mapping change
    pilot = re.search(r"-User (\S+)`", fix)[1]
    assert pilot in set(okta["entra_upn"]) and pilot != "user61@contoso.com"  # not a role holder
    assert plan.expected["okta_manual"] == 4 and plan.expected["okta_writes"] == 0


def test_no_okta_side_for_managed_domains() -> None:
    plan = plan_for(seed_client())
    assert plan.okta_actions.empty and "two-sided" not in rb(plan, "fix")


def test_plan_at_a_glance_names_the_timeline_freeze_roles_and_risks() -> None:
    plan = VARIANTS["federated"]()
    glance = dict(plan.glance)
    assert list(glance) == ["Timeline", "Freeze window", "Roles needed", "Top risks"]
    assert "Day 0" in glance["Timeline"] and "Not earlier than 72 h after the switch-off" in glance["Timeline"]
    assert "joiners, leavers and licence changes are manual" in glance["Freeze window"]
    assert "Privileged Role Administrator" in glance["Roles needed"]
    assert "Consultant" not in glance["Roles needed"]
    assert "locked out" in glance["Top risks"] and "admin role" in glance["Top risks"]
    calm = dict(plan_for(seed_client()).glance)
    assert "72 h" not in calm["Timeline"]  # directory sync stays as it is: no 72-hour wait


def test_cloud_sync_variant_replaces_staging_mode() -> None:
    plan = VARIANTS["cloud_sync"]()
    keys = [s.key for s in plan.runbook]
    assert "staging" not in keys and "leave_staging" not in keys
    assert keys.index("cloud_agents") < keys.index("cloud_pilot") < keys.index("cloud_enable")
    assert "no staging mode" in rb(plan, "cloud_agents")
    assert "Provision on demand" in rb(plan, "cloud_pilot")
    assert "not earlier than 72 h after the switch-off" in rb(plan, "cloud_enable")
    assert plan.target == "cloud-sync"
    with pytest.raises(HybridxError, match="unknown target"):
        plan_for(seed_client(), target="dirsync")


def test_cloud_sync_anchor_and_limits_are_checked_against_the_tenant() -> None:
    import pandas as pd

    from hybridx_nb.app.assess import validate_params
    from hybridx_nb.app.cli import build_parser
    from hybridx_nb.remediation.cloud_sync import OBJECTS_PER_DOMAIN, engine_anchor, target_limits
    from hybridx_nb.snapshot.store import build_snapshot

    assert engine_anchor("cloud-sync", "auto")[0] == "mS-DS-ConsistencyGuid"
    assert engine_anchor("connect", "objectGUID") == ("objectGUID", None)
    with pytest.raises(HybridxError, match="not possible with target cloud-sync"):
        validate_params({"client": "x", "ad": __file__, "entra": __file__, "target": "cloud-sync",
                         "anchor": "objectGUID"})
    n = OBJECTS_PER_DOMAIN + 1
    ad = pd.DataFrame({"dn": [f"CN=u{i},DC=big,DC=example" for i in range(n)],
                       "object_guid": [f"{i:08x}-0000-4000-8000-000000000000" for i in range(n)]})
    exceeded, unchecked = target_limits(build_snapshot({"ad_users": ad}), "cloud-sync")
    assert exceeded == [f"{n:,} objects in domain big.example (Cloud Sync supports up to 150,000 per domain)"]
    assert any("50,000 members" in u for u in unchecked)
    assert target_limits(build_snapshot({"ad_users": ad}), "connect") == ([], [])
    args = build_parser().parse_args(["demo", "--target", "cloud-sync"])
    assert args.target == "cloud-sync"
    assert build_parser().parse_args(["batch", "c.toml"]).target is None
