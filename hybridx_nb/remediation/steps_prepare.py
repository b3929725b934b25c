"""Runbook steps before any anchor is written: back up, switch Okta provisioning off, switch directory sync off,
and set aside what blocks a match (admin roles, tenant flags, onPremisesObjectIdentifier).

Facts: docs/domain.md §2 (admin roles, flags), §4 (Okta's Deactivate Users), §5 (directory sync off, 72 hours).
"""

from __future__ import annotations

from hybridx_nb.core.vocabulary import READ_ONLY_MODES
from hybridx_nb.remediation.model import RunbookStep
from hybridx_nb.remediation.steps_common import RunbookContext, flag_command, listing, step

WAIT_72H = "not earlier than 72 h after the switch-off"
GRAPH_PS = "PowerShell 7 with the Microsoft Graph module, on an admin workstation"


def backup(c: RunbookContext) -> RunbookStep:
    e = c.e
    n = e["anchor_writes"]
    cmd = ("`Connect-MgGraph -Scopes User.Read.All`, then `Get-MgUser -All -Property Id,UserPrincipalName,"
           "OnPremisesImmutableId,OnPremisesSyncEnabled | Select-Object Id,UserPrincipalName,OnPremisesImmutableId,"
           "OnPremisesSyncEnabled | Export-Csv immutableid-backup.csv -NoTypeInformation -Encoding utf8`.")
    do = [f"Keep rollback.csv from this report: the original ImmutableID of the {n} user(s) the plan changes in "
          f"Entra. Also export every user's current value: {cmd}"]
    if c.okta is not None and len(c.okta):
        do.append(f"Keep okta-rollback.csv: the original Okta app-user immutableId of the {len(c.okta)} user(s) "
                  "whose Okta side changes with them.")
    if e["hard_deletes"]:
        do.append(f"Back up the mailbox and OneDrive data of the {e['hard_deletes']} user(s) to be recreated "
                  "(recreate.csv lists them with their licences).")
    return step("backup", "Back up the current values", "Consultant (read-only Graph access: User.Read.All)",
                GRAPH_PS, do,
                f"immutableid-backup.csv has one row per user ({e['cloud_users']} in this snapshot); rollback.csv "
                f"has {n} row(s).", "Nothing to roll back: nothing changed yet.")


def okta_off(c: RunbookContext) -> RunbookStep:
    t = c.t
    note = {None: "", "none": " This tenant's Okta provisioning was reported as off: check that both boxes are "
            "already clear."}.get(t.okta_mode, "")
    if t.okta_mode in READ_ONLY_MODES:
        note = (f" Okta provisions in {t.okta_mode.replace('_', ' ').title()} mode: the users stay shown as synced "
                "(read-only) in Entra until directory sync is switched off for the tenant.")
    do = ["Clear **Deactivate Users** and click Save. The reason: while it is ticked, Okta deactivates the "
          "Microsoft 365 user of anyone who is unassigned from the app or deactivated in Okta, and the app's "
          "\"user status on deactivation\" option decides what that means (block sign-in, remove licences, or "
          "delete the user). Check that option now and note it. After the cut-over Okta no longer handles "
          "leavers: they are disabled in AD and Entra Connect carries it over.",
          "Then clear **Enable provisioning** (Enable API integration) and click Save.",
          "Change nothing else: not the Sign On tab (federation stays as it is), not the assignments, not the "
          "users. Do not unassign anyone from the app while Okta still federates sign-in to Microsoft 365: an "
          "unassigned user can no longer sign in." + note]
    return step("okta_off", "Switch Okta provisioning off without deactivating anyone",
                "Okta administrator (Super Administrator or App Administrator of the Office 365 app)",
                "Okta Admin Console → Applications → Microsoft Office 365 → Provisioning (To App, Integration)", do,
                "The Provisioning tab shows the API integration disabled; users still exist and are enabled in "
                "Microsoft 365; a test user still signs in through Okta.",
                "Tick Enable provisioning (Enable API integration) again and save; then Deactivate Users, if it "
                "was ticked before.")


def sync_off(c: RunbookContext) -> RunbookStep | None:
    """Day 0 with Okta provisioning: directory sync off for the tenant; the 72-hour clock starts."""
    if not c.sync_switch_off:
        return None
    tenant = c.t.tenant_id or "<tenant id>"
    do = ["Switch directory sync off for the tenant, on the same day as {step:okta_off} (Hybrid Identity "
          "Administrator or Global Administrator; `Connect-MgGraph -Scopes Organization.ReadWrite.All,"
          "Directory.ReadWrite.All`): `Update-MgOrganization -OrganizationId " + tenant + " -BodyParameter "
          "@{onPremisesSyncEnabled=$false}` (older module versions: Update-MgBetaOrganization). Write down the "
          "time: it is the start of the 72 hours.",
          "WARNING: the switch-off takes up to 72 hours to complete, and directory sync cannot be switched on "
          "again for 72 hours. Entra Connect may therefore export " + WAIT_72H + "; the fixes and the "
          "staging-mode check happen meanwhile.",
          "Wait until the organisation and the users no longer show as synced: `(Get-MgOrganization)."
          "OnPremisesSyncEnabled` is not true, and `Get-MgUser -All -Property Id,OnPremisesSyncEnabled | "
          "Where-Object OnPremisesSyncEnabled` returns nobody (each user's own flag clears separately). Then "
          "collect a fresh snapshot, re-run hybridx and use the files of that run: the scripts skip, and report, "
          "every user whose value changed or who is still shown as synced."]
    return step("sync_off", "Switch directory sync off for the tenant (day 0)",
                "Hybrid Identity Administrator or Global Administrator", GRAPH_PS, do,
                "`(Get-MgOrganization).OnPremisesSyncEnabled` is not true and no user has OnPremisesSyncEnabled "
                "true before the scripts of {step:fix} run.",
                "None within 72 hours: sync cannot be switched on again before that; afterwards Entra Connect "
                "switches it on when it is configured.")


def set_aside(c: RunbookContext) -> RunbookStep | None:
    """Roles, tenant flags and onPremisesObjectIdentifier: removed before the anchors are written."""
    e, do, verify, undo = c.e, [], [], []
    if e["role_holders"]:
        do.append(f"Remove the directory roles of {e['role_holders']} role holder(s) before their anchor is "
                  "written (Privileged Role Administrator). Microsoft: Entra Connect does not match an "
                  "on-premises user with a cloud user that holds an admin role, by any method; the AD user is "
                  "then quarantined as a separate object. `Get-MgRoleManagementDirectoryRoleAssignment -Filter "
                  "\"principalId eq '<EntraId>'\"`, then `Remove-MgRoleManagementDirectoryRoleAssignment "
                  "-UnifiedRoleAssignmentId <id>` for each; {step:restore} re-adds them. remediation.ps1 checks "
                  "each user again and skips anyone who still holds a role:\n"
                  + listing(c.actions, "remove_roles", "roles"))
        do.append("If the first sync already ran while a role was held: remove the roles from the cloud user, "
                  "hard-delete the quarantined object the sync created from AD (`Remove-MgUser`, then "
                  "`Remove-MgDirectoryDeletedItem`), run a sync (`Start-ADSyncSyncCycle -PolicyType Delta`), "
                  "then re-add the roles.")
        verify.append("The role holders hold no directory role (Entra admin center → Roles and administrators).")
        undo.append("Re-add the removed roles (the list in {step:restore}).")
    for flag in c.flags:
        do.append(f"Tenant flag {flag} is true: a Global Administrator sets it to false for the cut-over (scope "
                  f"OnPremDirectorySynchronization.ReadWrite.All): {flag_command(flag, 'false')}; "
                  "{step:restore} sets it back.")
        verify.append(f"`(Get-MgDirectoryOnPremiseSynchronization).Features.{flag}` is False.")
        undo.append(f"Set {flag} back to true: {flag_command(flag, 'true')}.")
    if e["object_identifier_clears"]:
        do.append(f"Clear onPremisesObjectIdentifier on {e['object_identifier_clears']} user(s) (the plan's "
                  "clear_object_identifier rows): `Invoke-MgGraphRequest -Method PATCH -Uri "
                  "\"https://graph.microsoft.com/beta/users/<EntraId>\" -Body '{\"onPremisesObjectIdentifier\":"
                  "null}' -ContentType application/json`.")
    if not do:
        return None
    return step("set_aside", "Set aside what blocks the match: admin roles, tenant flags",
                "Privileged Role Administrator (roles); Global Administrator (tenant flags)", GRAPH_PS, do,
                verify or "The plan's clear_object_identifier users show no onPremisesObjectIdentifier.",
                undo or "Nothing to roll back: the cleared values are in the snapshot.")


STEPS = (("backup", backup), ("okta_off", okta_off), ("sync_off", sync_off), ("set_aside", set_aside))
