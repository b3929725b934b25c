"""The runbook holds together: numbers from the page position, every reference names the step it points to, extra
steps passed as data (none left behind for the next plan), the Okta side of a federated fix, the plan at a glance,
and the Cloud Sync variant."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from test_plan import plan_for, rb, row, seed_client

from hybridx_nb.core.errors import HybridxError
from hybridx_nb.remediation import runbook
from hybridx_nb.remediation.model import Plan
from hybridx_nb.remediation.steps_common import step
from hybridx_nb.remediation.takeover_steps import takeover_steps

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


def extra_step(key: str, text: str = "Checked.", **where: str) -> runbook.ExtraStep:
    return runbook.ExtraStep(key, lambda c: step(key, f"Extra {key}", "Someone", "Somewhere", text, "Checked.",
                                                 "Undo it."), **where)


def test_extra_steps_are_data_placed_and_numbered_with_the_others() -> None:
    base = plan_for(seed_client())
    extra = [extra_step("extra", "Do it before {step:staging}; {step:extra_last} comes last.", after="fix"),
             extra_step("extra_2", after="fix"), extra_step("extra_0", before="fix"), extra_step("extra_last")]
    plan = plan_for(seed_client(), extra=extra)
    keys = [s.key for s in plan.runbook]
    base_keys = [s.key for s in base.runbook]
    fix = base_keys.index("fix")
    assert keys == [*base_keys[:fix], "extra_0", "fix", "extra", "extra_2", *base_keys[fix + 1:], "extra_last"]
    assert [s.number for s in plan.runbook] == list(range(1, len(keys) + 1))
    staging = plan.runbook[keys.index("staging")]
    assert plan.runbook[keys.index("extra")].do == (f"Do it before step {staging.number} ({staging.title}); "
                                                    f"step {len(keys)} (Extra extra_last) comes last.")
    assert staging.number == base_keys.index("staging") + 1 + 3  # three extra steps before it
    timeline = dict(plan.glance)["Timeline"]  # the glance numbers the final runbook too
    assert f"step {staging.number} ({staging.title})" in timeline
    assert "Someone" in dict(plan.glance)["Roles needed"]  # ... and names the extra steps' roles


def test_building_twice_in_one_process_leaks_no_step() -> None:
    steps = runbook.STEPS
    assert isinstance(steps, tuple)
    first = [s.key for s in plan_for(seed_client()).runbook]
    with_extra = [s.key for s in plan_for(seed_client(), extra=[extra_step("extra", after="fix")]).runbook]
    again = plan_for(seed_client())
    assert "extra" in with_extra and [s.key for s in again.runbook] == first
    assert runbook.STEPS is steps and [k for k, _ in runbook.STEPS] == [k for k, _ in steps]
    assert "insert_step" not in dir(runbook)


def test_an_extra_step_missing_its_place_goes_last_and_wrong_extras_are_refused() -> None:
    plan = VARIANTS["cloud_sync"]()  # no staging mode: "before leave_staging" has no step to go before
    moved = plan_for(federated_client(), snap_kw=FED, target="cloud-sync", okta_provisioning_mode="user_sync",
                     org_sync_enabled=True, extra=[extra_step("extra", before="leave_staging")])
    assert [s.key for s in moved.runbook] == [s.key for s in plan.runbook] + ["extra"]
    skipped = runbook.ExtraStep("none", lambda c: None, before="fix")  # a builder may find nothing to do
    assert [s.key for s in plan_for(seed_client(), extra=[skipped]).runbook] == \
        [s.key for s in plan_for(seed_client()).runbook]
    for bad, message in ((extra_step("fix"), "exists already"), (extra_step("x", before="no_such"), "no runbook"),
                         (extra_step("x", before="fix", after="fix"), "not both"),
                         (runbook.ExtraStep("x", lambda c: step("y", "T", "W", "W", "D", "V", "R")), "keyed 'y'")):
        with pytest.raises(ValueError, match=message):
            plan_for(seed_client(), extra=[bad])


def test_takeover_steps_go_before_leaving_staging() -> None:
    rows = pd.DataFrame({"operation": ["AddProxyAddress", "AddProxyAddress", "SetAttribute"]})
    extra = takeover_steps(rows, 2, ("proxyAddresses", "mail"), {"mailbox_both_sides": 1})
    plan = plan_for(seed_client(), extra=extra)
    keys = [s.key for s in plan.runbook]
    assert keys[keys.index("leave_staging") - 2:keys.index("leave_staging")] == ["takeover_backfill",
                                                                                 "exchange_fixes"]
    assert "2 proxy address(es) of 2 user(s) and 1 empty AD value(s)" in rb(plan, "takeover_backfill")
    assert "mailbox both sides: 1" in rb(plan, "exchange_fixes")
    roles = dict(plan.glance)["Roles needed"]
    assert "AD administrator" in roles and "Exchange administrator" in roles


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
