"""The runbook: the ordered steps of the cut-over, each with who, where, what to do, how to verify and roll back."""

from __future__ import annotations

import pandas as pd

from hybridx_nb.core.vocabulary import READ_ONLY_MODES
from hybridx_nb.remediation.model import (
    RunbookStep,
    TenantState,
)

_LIST_LIMIT = 20  # names spelled out in a runbook step; the rest are in ``actions``


def _listing(actions: pd.DataFrame, step: str, column: str) -> str:
    rows = actions[actions["step"].eq(step)]
    lines = [f"  - {u}: {v}" for u, v in zip(rows["entra_upn"].fillna(rows["entra_id"]).head(_LIST_LIMIT),
                                             rows[column].fillna("").str.replace(";", ", ").head(_LIST_LIMIT))]
    if len(rows) > _LIST_LIMIT:
        lines.append(f"  - … and {len(rows) - _LIST_LIMIT} more (the plan's {step} rows)")
    return "\n".join(lines)


def _flag_command(flag: str, value: str) -> str:
    return (f"`$s = Get-MgDirectoryOnPremiseSynchronization; Update-MgDirectoryOnPremiseSynchronization "
            f"-OnPremisesDirectorySynchronizationId $s.Id -BodyParameter @{{features=@{{{flag}=${value}}}}}`")


def _fix_step(chosen: str, actions: pd.DataFrame, e: dict[str, int], flags: list[str], t: TenantState) -> RunbookStep:
    do, verify, undo = [], [], []
    n = e["anchor_writes"]
    if chosen == "clear_and_regenerate" and n:
        if t.org_sync_on or t.read_only:
            do.append("Switch directory sync off for the tenant (Hybrid Identity Administrator or Global "
                      "Administrator; `Connect-MgGraph -Scopes Organization.ReadWrite.All,Directory.ReadWrite.All`): "
                      f"`Update-MgOrganization -OrganizationId {t.tenant_id or '<tenant id>'} -BodyParameter "
                      "@{onPremisesSyncEnabled=$false}` (older module versions: Update-MgBetaOrganization). "
                      "WARNING: this takes up to 72 hours, and sync cannot be switched on again until 72 hours "
                      "have passed: plan the cut-over window around it.")
            do.append("Wait until `(Get-MgOrganization).OnPremisesSyncEnabled` is no longer true. Then collect a "
                      "fresh snapshot and re-run hybridx, and use the remediation.csv of that run: the script "
                      "skips, and reports, every user whose value changed or who is still shown as synced.")
            verify.append("`(Get-MgOrganization).OnPremisesSyncEnabled` is not true before the script runs.")
        else:
            do.append("Directory sync is already off for the tenant (organization.onPremisesSyncEnabled is not "
                      "true): nothing to switch off.")
        do.append(f"Write the correct ImmutableID on {n} user(s), rather than clearing it (clearing to null is "
                  "unreliable today): `./remediation.ps1` (dry run: read what it would change), then "
                  "`./remediation.ps1 -Apply`.")
        do.append("Directory sync comes back on when the Entra Connect wizard configures the tenant in step 3.")
    elif n:
        do.append(f"Pre-stamp {n} user(s) with their expected anchor: `./remediation.ps1` (dry run: read what it "
                  "would change), then `./remediation.ps1 -Apply`.")
    if e["hard_deletes"]:
        do.append(f"Hard delete {e['hard_deletes']} user(s) listed in recreate.csv, after their data is backed up "
                  "(step 0): `Remove-MgUser -UserId <EntraId>`, then `Remove-MgDirectoryDeletedItem "
                  "-DirectoryObjectId <EntraId>` (a soft-deleted user stays 30 days and would still clash). The "
                  "first sync creates each again from AD with the right anchor.")
        undo.append("A hard delete cannot be undone: restore the backed-up data to the recreated user.")
    if not n and not e["hard_deletes"]:
        do.append("No ImmutableID to change: every matched cloud user already carries its AD anchor or will be "
                  "soft-matched.")
    if n:
        verify.append(f"remediation.ps1 ends with Changed: {n} and no Skipped or Failed; its log "
                      "(remediation-log-*.csv) has one line per user. A skipped user changed since the "
                      "assessment: re-run hybridx before touching it.")
        undo.append("`./remediation.ps1 -Rollback`, then `./remediation.ps1 -Rollback -Apply`: restores the "
                    "original values from rollback.csv, only where the value is still the one the plan wrote.")
    if e["upn_swaps"]:
        do.append(f"Users with a UPN in a federated domain: {e['upn_swaps']}. For each the script moves the UPN to "
                  f"@{t.initial_domain or '<tenant>.onmicrosoft.com'} (TemporaryUpn column), sets the ImmutableID "
                  "and moves the UPN back.")
    elif n:
        do.append("No UPN swap needed: none of them has a UPN in a federated domain.")
    if e["role_holders"]:
        do.append(f"Remove the directory roles of {e['role_holders']} role holder(s) before the sync (Privileged "
                  "Role Administrator): Entra matches no role holder. `Get-MgRoleManagementDirectoryRoleAssignment "
                  "-Filter \"principalId eq '<EntraId>'\"`, then `Remove-MgRoleManagementDirectoryRoleAssignment "
                  "-UnifiedRoleAssignmentId <id>` for each; step 7 re-adds them:\n"
                  + _listing(actions, "remove_roles", "roles"))
        verify.append("The role holders hold no directory role (Entra admin center → Roles and administrators).")
        undo.append("Re-add the removed roles (the list in step 7).")
    else:
        do.append("No role holder among the users to match: no role to remove.")
    for flag in flags:
        do.append(f"Tenant flag {flag} is true: a Global Administrator sets it to false for the cut-over "
                  f"(scope OnPremDirectorySynchronization.ReadWrite.All): {_flag_command(flag, 'false')}; "
                  "step 7 sets it back.")
        verify.append(f"`(Get-MgDirectoryOnPremiseSynchronization).Features.{flag}` is False.")
        undo.append(f"Set {flag} back to true: {_flag_command(flag, 'true')}.")
    if not flags:
        do.append("Tenant flags: nothing to change (blockSoftMatchEnabled and "
                  "blockCloudObjectTakeoverThroughHardMatchEnabled do not stand in the way).")
    if e["object_identifier_clears"]:
        do.append(f"Clear onPremisesObjectIdentifier on {e['object_identifier_clears']} user(s) (the plan's "
                  "clear_object_identifier rows): `Invoke-MgGraphRequest -Method PATCH -Uri "
                  "\"https://graph.microsoft.com/beta/users/<EntraId>\" -Body '{\"onPremisesObjectIdentifier\":"
                  "null}' -ContentType application/json`.")
    if e["review"]:
        do.append(f"{e['review']} finding(s) need a decision by hand (ambiguous matches, ImmutableIDs no AD user "
                  "claims): the plan's review rows. hybridx does not guess.")
    return RunbookStep(2, "Fix the anchors", "Entra User Administrator (ImmutableIDs); Global Administrator "
                       "(directory sync, tenant flags); Privileged Role Administrator (roles)",
                       "PowerShell 7 with the Microsoft Graph module, on an admin workstation",
                       "\n".join(f"{i}. {line}" for i, line in enumerate(do, 1)),
                       " ".join(verify) or "Nothing to verify: nothing changed.",
                       " ".join(undo) or "Nothing to roll back: nothing changed.")


def _restore_step(actions: pd.DataFrame, e: dict[str, int], flags: list[str]) -> RunbookStep:
    do, verify = [], []
    if e["role_holders"]:
        do.append(f"Re-add the directory roles of {e['role_holders']} user(s) (`New-MgRoleManagementDirectory"
                  "RoleAssignment -PrincipalId <EntraId> -RoleDefinitionId <role id> -DirectoryScopeId '/'`):\n"
                  + _listing(actions, "readd_roles", "roles"))
        verify.append("The roles show again under Roles and administrators.")
    for flag in flags:
        do.append(f"Set {flag} back to true: {_flag_command(flag, 'true')}.")
        verify.append(f"`(Get-MgDirectoryOnPremiseSynchronization).Features.{flag}` is True.")
    if e["hard_deletes"]:
        do.append(f"Re-assign the licences of the {e['hard_deletes']} recreated user(s) from recreate.csv "
                  "(`Set-MgUserLicense -UserId <new id> -AddLicenses @(@{SkuId='<skuId>'}) -RemoveLicenses @()`; "
                  "the new object ids come from `Get-MgUser -Filter \"userPrincipalName eq '<upn>'\"`), then "
                  "restore their data.")
        verify.append("The recreated users have their licences and their data.")
    if not do:
        do.append("Nothing was set aside for this client: no role removed, no tenant flag changed, no user "
                  "recreated.")
    return RunbookStep(7, "Put back what was set aside for the cut-over",
                       "Privileged Role Administrator; Global Administrator",
                       "PowerShell 7 with the Microsoft Graph module",
                       "\n".join(f"{i}. {line}" for i, line in enumerate(do, 1)),
                       " ".join(verify) or "Nothing to verify.",
                       "Nothing to roll back: this step restores the state from before the cut-over.")


def build_runbook(chosen: str, actions: pd.DataFrame, e: dict[str, int], flags: list[str], t: TenantState,
             anchor: str, anchor_reason: str) -> list[RunbookStep]:
    n, adds = e["anchor_writes"], e["adds"]
    backup = ("`Connect-MgGraph -Scopes User.Read.All`, then `Get-MgUser -All -Property Id,UserPrincipalName,"
              "OnPremisesImmutableId | Select-Object Id,UserPrincipalName,OnPremisesImmutableId | Export-Csv "
              "immutableid-backup.csv -NoTypeInformation -Encoding utf8`.")
    backup_do = (f"Keep rollback.csv from this report: the original ImmutableID of the {n} user(s) the plan "
                 f"changes. Also export every user's current value: {backup}")
    if e["hard_deletes"]:
        backup_do += (f" Back up the mailbox and OneDrive data of the {e['hard_deletes']} user(s) to be recreated "
                      "(recreate.csv lists them with their licences).")
    okta_mode = {None: "", "none": " This tenant's Okta provisioning was reported as off: check that both boxes "
                 "are already clear."}.get(t.okta_mode, "")
    if t.okta_mode in READ_ONLY_MODES:
        okta_mode = (f" Okta provisions in {t.okta_mode.replace('_', ' ').title()} mode: the users stay shown as "
                     "synced (read-only) in Entra until directory sync is switched off in step 2.")
    adds_text = f"{adds} Adds ({e['new_users']} new user(s)"
    adds_text += f" and {e['hard_deletes']} recreated)" if e["hard_deletes"] else ")"
    return [
        RunbookStep(0, "Back up the current values", "Consultant (read-only Graph access: User.Read.All)",
                    "PowerShell 7 with the Microsoft Graph module, on an admin workstation", backup_do,
                    f"immutableid-backup.csv has one row per user ({e['cloud_users']} in this snapshot); "
                    f"rollback.csv has {n} row(s).", "Nothing to roll back: nothing changed yet."),
        RunbookStep(1, "Switch Okta provisioning off without deactivating anyone",
                    "Okta administrator (Super Administrator or App Administrator of the Office 365 app)",
                    "Okta Admin Console → Applications → Microsoft Office 365 → Provisioning (To App, Integration)",
                    "1. Clear **Deactivate Users** and click Save (otherwise switching provisioning off deactivates "
                    "every assigned user).\n2. Then clear **Enable provisioning** (Enable API integration) and "
                    "click Save.\n3. Change nothing else: not the Sign On tab (federation stays as it is), not the "
                    "assignments, not the users." + okta_mode,
                    "The Provisioning tab shows the API integration disabled; users still exist and are enabled in "
                    "Microsoft 365; a test user still signs in through Okta.",
                    "Tick Enable provisioning (Enable API integration) again and save; then Deactivate Users, if it "
                    "was ticked before."),
        _fix_step(chosen, actions, e, flags, t),
        RunbookStep(3, "Install Entra Connect in staging mode", "Hybrid Identity Administrator, local administrator "
                    "of the sync server", "The Entra Connect server (wizard: Customize)",
                    f"Custom installation; on 'Uniquely identifying your users' choose the source anchor **{anchor}**"
                    + (f" ({anchor_reason})" if anchor_reason else "") + ". On 'Ready to configure' tick **Enable "
                    "staging mode** (it imports and synchronises, and exports nothing)."
                    + (" Start only once the directory sync switch-off of step 2 has completed."
                       if chosen == "clear_and_regenerate" and n and (t.org_sync_on or t.read_only) else ""),
                    f"`Get-ADSyncScheduler` shows StagingModeEnabled True; the wizard's summary names {anchor} as the "
                    "source anchor.",
                    "Uninstall Entra Connect: in staging mode it has exported nothing."),
        RunbookStep(4, "Check the pending exports against hybridx's numbers", "Consultant",
                    "The Entra Connect server (Synchronization Service Manager, csexport)",
                    "Run a full import and synchronisation (`Start-ADSyncSyncCycle -PolicyType Initial`), then "
                    "export the pending changes of the Entra ID connector: `csexport \"<tenant>.onmicrosoft.com - "
                    "AAD\" export.xml /f:x` and `CSExportAnalyzer export.xml > export.csv`. "
                    f"Expect {adds_text}, 0 Deletes, and about {e['updates']} Updates (the matched users)."
                    + (f" Until the review findings are decided, up to {e['review_ad_users']} more Adds can show: "
                       "the AD users among them would otherwise be created." if e["review_ad_users"] else ""),
                    f"Adds = {adds} and Deletes = 0. Each extra Add is a cloud user that will be duplicated: find "
                    "its UPN in findings.csv and fix its anchor before going on.",
                    "Nothing to roll back (read-only); stay in staging mode until the numbers agree."),
        RunbookStep(5, "Leave staging mode", "Hybrid Identity Administrator", "The Entra Connect server (wizard)",
                    "Wizard → Configure staging mode → clear **Enable staging mode** → Configure; then "
                    "`Start-ADSyncSyncCycle -PolicyType Delta`.",
                    f"The first export shows {adds} adds and 0 deletes; Entra admin center → Entra Connect shows no "
                    "sync errors (no PropertyConflict, InvalidSoftMatch or InvalidHardMatch).",
                    "Turn staging mode back on to stop further exports. Users already matched are now managed from "
                    "AD: to give one back to the cloud, remove it from the sync scope and restore it from deleted "
                    "items."),
        RunbookStep(6, "Verify with hybridx", "Consultant", "hybridx, on a fresh snapshot",
                    f"Collect a fresh snapshot of AD and Entra ID and run hybridx again with the anchor {anchor}. "
                    f"Expect every in-scope AD user ({e['in_scope']}) to be hard_match.",
                    f"summary.json: hard_match = {e['in_scope']}; anchor_mismatch, soft_match, new_user and "
                    "match_blocked = 0.", "Nothing to roll back (read-only)."),
        _restore_step(actions, e, flags),
    ]
