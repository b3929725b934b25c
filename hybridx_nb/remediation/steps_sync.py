"""Runbook steps that bring in the new sync engine, verify, and put back what was set aside.

Entra Connect (``target=connect``): staging mode, a per-user check of the pending exports, leaving staging.
Entra Cloud Sync (``target=cloud-sync``): it has no staging mode, so the agents are installed and configured with
the configuration left disabled, pilot users are provisioned on demand, then the configuration is enabled.
Facts: docs/domain.md §4 (staging check per user), §10 (Cloud Sync), §5 (72 hours).
"""

from __future__ import annotations

from hybridx_nb.remediation.model import RunbookStep
from hybridx_nb.remediation.steps_common import RunbookContext, flag_command, listing, step
from hybridx_nb.remediation.steps_prepare import GRAPH_PS, WAIT_72H

_NOT_EARLY = " Start only once {step:sync_off} has completed (organisation and users no longer shown as synced)."


def staging(c: RunbookContext) -> RunbookStep | None:
    if c.cloud_sync:
        return None
    return step("staging", "Install Entra Connect in staging mode",
                "Hybrid Identity Administrator, local administrator of the sync server",
                "The Entra Connect server (wizard: Customize)",
                f"Custom installation; on 'Uniquely identifying your users' choose the source anchor **{c.anchor}**"
                + (f" ({c.anchor_reason})" if c.anchor_reason else "") + ". On 'Ready to configure' tick **Enable "
                "staging mode** (it imports and synchronises, and exports nothing)."
                + (_NOT_EARLY if c.sync_switch_off else ""),
                f"`Get-ADSyncScheduler` shows StagingModeEnabled True; the wizard's summary names {c.anchor} as the "
                "source anchor.", "Uninstall Entra Connect: in staging mode it has exported nothing.")


def staging_check(c: RunbookContext) -> RunbookStep | None:
    if c.cloud_sync:
        return None
    e = c.e
    adds = f"{e['adds']} Adds ({e['new_users']} new user(s)"
    adds += f" and {e['hard_deletes']} recreated)" if e["hard_deletes"] else ")"
    do = ["Run a full import and synchronisation (`Start-ADSyncSyncCycle -PolicyType Initial`), then export the "
          "pending changes of the Entra ID connector: `csexport \"<connector name>\" export.xml /f:x` and "
          "`CSExportAnalyzer export.xml > export.csv`. Copy the connector name exactly as Synchronization Service "
          "→ Connectors shows it (usually `<tenant>.onmicrosoft.com - AAD`). hybridx does the comparison below "
          "for you: `hybridx verify-staging --export export.xml --assessment <this report's folder> --out <dir>`.",
          "Compare per user, not by count: each pending Add carries its sourceAnchor. Look each up in findings.csv: "
          "the expected_immutable_id of a new_user row is an expected Add; the expected_immutable_id of a "
          "hard_match, soft_match or fixed row may also show as an Add, because whether the sync engine joins a "
          "takeover to the imported cloud user before the export is not documented (the cloud side then matches "
          "it on export); an Add whose sourceAnchor is in neither is a user hybridx did not expect: find why "
          "before going on. An Add for a user whose cloud ImmutableID is not yet its anchor is a duplicate in "
          "the making: fix it first.",
          f"The totals to expect: about {adds}, 0 Deletes, and up to {e['updates']} Updates (the matched users)."
          + (f" Until the review findings are decided, up to {e['review_ad_users']} more Adds can show: the AD "
             "users among them would otherwise be created." if e["review_ad_users"] else "")]
    return step("staging_check", "Check the pending exports user by user", "Consultant",
                "The Entra Connect server (Synchronization Service Manager, csexport)", do,
                f"Every Add's sourceAnchor belongs to a new_user or matched row of findings.csv, and Deletes = 0 "
                f"(expected: {e['adds']} new).", "Nothing to roll back (read-only); stay in staging mode until every "
                "Add is explained.")


def leave_staging(c: RunbookContext) -> RunbookStep | None:
    if c.cloud_sync:
        return None
    wait = f" Do this {WAIT_72H} ({{step:sync_off}})." if c.sync_switch_off else ""
    return step("leave_staging", "Leave staging mode", "Hybrid Identity Administrator",
                "The Entra Connect server (wizard)",
                "Wizard → Configure staging mode → clear **Enable staging mode** → Configure; then "
                "`Start-ADSyncSyncCycle -PolicyType Delta`." + wait,
                f"The first export shows {c.e['adds']} adds and 0 deletes; Entra admin center → Entra Connect shows "
                "no sync errors (no PropertyConflict, InvalidSoftMatch or InvalidHardMatch).",
                "Turn staging mode back on to stop further exports. Users already matched are now managed from AD: "
                "to give one back to the cloud, remove it from the sync scope and restore it from deleted items.")


def cloud_agents(c: RunbookContext) -> RunbookStep | None:
    if not c.cloud_sync:
        return None
    limits = (" The tenant exceeds what Cloud Sync supports: " + "; ".join(c.limits) + ". Use Entra Connect "
              "instead, or scope the configuration below those limits.") if c.limits else ""
    return step("cloud_agents", "Install the Cloud Sync provisioning agents; configure, do not enable",
                "Hybrid Identity Administrator; local administrator of the agent servers",
                "Two or more domain-joined servers (not the Okta AD agent servers); Entra admin center → Entra "
                "Connect → Cloud Sync",
                ["Install the Microsoft Entra provisioning agent on at least two servers (not on the servers that "
                 "run Okta's AD agents) and register them with the tenant.",
                 "Create the configuration for the domain and scope it (OUs). The source anchor is not a choice "
                 "here: Cloud Sync uses mS-DS-ConsistencyGuid where it is set, else objectGUID; hybridx's expected "
                 f"anchors follow that rule ({c.anchor}).",
                 "Leave the configuration disabled: Cloud Sync has no staging mode, so the only dry run is hybridx's "
                 "prediction plus provisioning on demand in {step:cloud_pilot}." + limits]
                + ([_NOT_EARLY.strip()] if c.sync_switch_off else []),
                "Entra admin center → Cloud Sync → Agents lists the agents as active; the configuration exists and "
                "is disabled.", "Delete the configuration and uninstall the agents: nothing was provisioned.")


def cloud_pilot(c: RunbookContext) -> RunbookStep | None:
    if not c.cloud_sync:
        return None
    who = f" Start with {c.pilot} (whose anchor {{step:fix}} changed), then" if c.pilot else " Pick"
    return step("cloud_pilot", "Provision pilot users on demand", "Hybrid Identity Administrator",
                "Entra admin center → Entra Connect → Cloud Sync → the configuration → Provision on demand",
                f"{who} a few users of each finding category (a hard match, a soft match, a new user): enter each "
                "user's AD distinguished name and provision it. Each must be matched to its existing cloud user "
                "(the log shows the match), never created as a second user. Cloud Sync does not create a user when "
                "the match fails; read the error and fix the anchor first.",
                "The pilot users show as synced (onPremisesSyncEnabled true) with their original object ids; no "
                "duplicate appeared (`Get-MgUser -Filter \"startswith(userPrincipalName,'<name>')\"`).",
                "A user provisioned on demand is now managed from AD: to give it back, remove it from the scope "
                "and restore it from deleted items.")


def cloud_enable(c: RunbookContext) -> RunbookStep | None:
    if not c.cloud_sync:
        return None
    wait = f" Enable it {WAIT_72H} ({{step:sync_off}})." if c.sync_switch_off else ""
    return step("cloud_enable", "Enable the Cloud Sync configuration", "Hybrid Identity Administrator",
                "Entra admin center → Entra Connect → Cloud Sync", "Enable the configuration." + wait
                + " Watch the provisioning logs for the first cycles (every two minutes).",
                f"The provisioning logs show no failed matches; {c.e['adds']} users created, 0 deleted.",
                "Disable the configuration to stop further changes; users already matched stay managed from AD.")


def verify(c: RunbookContext) -> RunbookStep:
    e = c.e
    return step("verify", "Verify with hybridx", "Consultant", "hybridx, on a fresh snapshot",
                f"Collect a fresh snapshot of AD and Entra ID and run hybridx again with the anchor {c.anchor}. "
                f"Expect every in-scope AD user ({e['in_scope']}) to be hard_match.",
                f"summary.json: hard_match = {e['in_scope']}; anchor_mismatch, soft_match, new_user and match_blocked "
                "= 0.", "Nothing to roll back (read-only).")


def restore(c: RunbookContext) -> RunbookStep:
    e, do, checks = c.e, [], []
    if e["role_holders"]:
        do.append(f"Re-add the directory roles of {e['role_holders']} user(s) (`New-MgRoleManagementDirectory"
                  "RoleAssignment -PrincipalId <EntraId> -RoleDefinitionId <role id> -DirectoryScopeId '/'`):\n"
                  + listing(c.actions, "readd_roles", "roles"))
        checks.append("The roles show again under Roles and administrators.")
    for flag in c.flags:
        do.append(f"Set {flag} back to true: {flag_command(flag, 'true')}.")
        checks.append(f"`(Get-MgDirectoryOnPremiseSynchronization).Features.{flag}` is True.")
    if e["hard_deletes"]:
        do.append(f"Re-assign the licences of the {e['hard_deletes']} recreated user(s) from recreate.csv "
                  "(`Set-MgUserLicense -UserId <new id> -AddLicenses @(@{SkuId='<skuId>'}) -RemoveLicenses @()`; "
                  "the new object ids come from `Get-MgUser -Filter \"userPrincipalName eq '<upn>'\"`), then "
                  "restore their data.")
        checks.append("The recreated users have their licences and their data.")
    if not do:
        do.append("Nothing was set aside for this client: no role removed, no tenant flag changed, no user "
                  "recreated.")
    return step("restore", "Put back what was set aside for the cut-over",
                "Privileged Role Administrator; Global Administrator", GRAPH_PS, do,
                checks or "Nothing to verify.",
                "Nothing to roll back: this step restores the state from before the cut-over.")


STEPS = (("staging", staging), ("staging_check", staging_check), ("leave_staging", leave_staging),
         ("cloud_agents", cloud_agents), ("cloud_pilot", cloud_pilot), ("cloud_enable", cloud_enable),
         ("verify", verify), ("restore", restore))
