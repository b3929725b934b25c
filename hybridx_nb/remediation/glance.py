"""The plan at a glance: the timeline, the freeze window, the roles needed and the top risks, in a few lines.

Shown under the verdict. Every step it names comes from the assembled runbook (``{step:key}`` references), so the
glance and the runbook cannot disagree. Facts: docs/domain.md §5 (72 hours), §9 (federated sign-in), §10.
"""

from __future__ import annotations

import re

from hybridx_nb.remediation.model import RunbookStep
from hybridx_nb.remediation.runbook import resolve_references
from hybridx_nb.remediation.steps_common import RunbookContext


def _roles(steps: list[RunbookStep]) -> str:
    """Every role the runbook names in its "who" fields, once each, in order of first appearance."""
    seen: dict[str, None] = {}
    for s in steps:
        for part in re.split(r";\s*|,\s*|\s+or\s+", s.who):
            name = re.sub(r"\s*\(.*?\)\s*$", "", part).strip()
            if name and name.lower() != "consultant":
                seen.setdefault(name, None)
    return "; ".join(seen)


def _risks(c: RunbookContext, duplicated: int, readiness_open: int) -> list[str]:
    e, risks = c.e, []
    if duplicated:
        risks.append(f"{duplicated} user(s) would be duplicated by the first sync unless their anchors are fixed "
                     "in {step:fix}.")
    if c.okta is not None and len(c.okta):
        risks.append(f"{len(c.okta)} anchor write(s) in a federated domain: each needs the Okta side in the same "
                     "window, or the user is locked out of Microsoft 365 (pilot first).")
    if e["role_holders"]:
        risks.append(f"{e['role_holders']} admin role holder(s): Entra matches none of them; roles come off before "
                     "the first sync, in {step:set_aside}.")
    if e["upn_swaps"]:
        risks.append(f"{e['upn_swaps']} UPN swap(s): each sets a password and may rename the user's OneDrive URL.")
    if c.groups.get("recreated"):
        risks.append(f"{c.groups['recreated']} cloud group(s) cannot be matched and will be created again; "
                     "see {step:groups}.")
    if c.limits:
        risks.append("Beyond Cloud Sync's limits: " + "; ".join(c.limits) + ".")
    if readiness_open:
        risks.append(f"{readiness_open} directory readiness problem(s) to fix in AD before the first export.")
    if e["review"]:
        risks.append(f"{e['review']} finding(s) need a decision by hand.")
    return risks[:5]


def plan_at_a_glance(c: RunbookContext, steps: list[RunbookStep], numbers: dict[str, tuple[int, str]], *,
                     duplicated: int = 0, readiness_open: int = 0) -> list[tuple[str, str]]:
    """(label, text) rows: timeline, freeze window, roles needed, top risks."""
    engine = "Cloud Sync" if c.cloud_sync else "Entra Connect"
    export = "{step:cloud_enable}" if c.cloud_sync else "{step:leave_staging}"
    check = "{step:cloud_pilot}" if c.cloud_sync else "{step:staging} and {step:staging_check}"
    if c.sync_switch_off:
        timeline = ("Day 0: Okta provisioning off, {step:okta_off}, and directory sync off for the tenant, "
                    "{step:sync_off}. Meanwhile: the anchor fixes, {step:fix}, and " + check + ". Not earlier "
                    f"than 72 h after the switch-off: {engine} may export, {export}.")
    else:
        timeline = ("Day 0: Okta provisioning off, {step:okta_off}. Then the anchor fixes, {step:fix}, and "
                    + check + f"; {engine} exports, {export}, once every pending change is explained.")
    freeze = ("From Okta provisioning off, {step:okta_off}, until " + engine + " exports, " + export + ": "
              "joiners, leavers and licence changes are manual; nobody is unassigned from the Okta app while it "
              "federates sign-in.")
    rows = [("Timeline", timeline), ("Freeze window", freeze), ("Roles needed", _roles(steps))]
    risks = _risks(c, duplicated, readiness_open)
    rows.append(("Top risks", " ".join(f"({i}) {r}" for i, r in enumerate(risks, 1)) if risks else "None found."))
    return [(label, resolve_references(text, numbers)) for label, text in rows]
