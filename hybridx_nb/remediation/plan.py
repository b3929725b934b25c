"""From findings to an ordered remediation plan: a strategy per user, the runbook, the numbers to check.

The field report's value is the *order* of the steps (back up, switch Okta provisioning off without deactivating
anyone, fix the anchors, Entra Connect in staging mode, compare its pending exports with these numbers, leave
staging, verify). ``build_plan`` makes that order specific to one client: who does what, with which counts.

Strategies (docs/domain.md §5):
- ``prestamp``: write the expected anchor on each cloud user before the first sync (preferred).
- ``clear_and_regenerate``: the seed's option for many users or for users Okta's User/Universal Sync keeps
  read-only: switch directory sync off for the tenant, then write the *correct* value (clearing to null is
  unreliable today), then let Entra Connect switch sync back on.
- ``hard_delete_recreate``: the seed's option for a handful of users: back up, hard delete, let the sync create
  them again, re-assign licences. Only when forced: every user hybridx can fix can also be pre-stamped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hybridx_nb.core import columns
from hybridx_nb.core.errors import HybridxError
from hybridx_nb.core.vocabulary import READ_ONLY_MODES, STRATEGIES
from hybridx_nb.remediation.scripts import write_scripts  # the pipeline contract names it here
from hybridx_nb.snapshot.store import Snapshot

if TYPE_CHECKING:  # the engine is only read (findings, anchor_setting, anchor_reason), never imported at run time
    from hybridx_nb.engine.match import Prediction

__all__ = ["Plan", "RunbookStep", "build_plan", "write_scripts", "STRATEGIES"]

ACTION_COLUMNS = ["entra_id", "entra_upn", "ad_dn", "category", "strategy", "step", "current_immutable_id",
                  "new_immutable_id", "temporary_upn", "roles", "licenses", "note"]
#: The order in which the steps happen; ``actions`` is sorted by it.
STEPS = ("remove_roles", "clear_object_identifier", "hard_delete", "set_immutable_id", "set_immutable_id_upn_swap",
         "readd_roles", "review")
HARD_MATCH_FLAG = "blockCloudObjectTakeoverThroughHardMatchEnabled"
SOFT_MATCH_FLAG = "blockSoftMatchEnabled"
_LIST_LIMIT = 20  # names spelled out in a runbook step; the rest are in ``actions``


@dataclass
class RunbookStep:
    """One step of the cut-over: who does it, where, what, how to check it, how to undo it."""

    number: int
    title: str
    who: str
    where: str
    do: str
    verify: str
    rollback: str


@dataclass
class Plan:
    """The remediation for one client (see the module docstring for the strategies)."""

    strategy: str
    strategy_reason: str
    actions: pd.DataFrame
    runbook: list[RunbookStep]
    expected: dict[str, int]
    notes: list[str] = field(default_factory=list)  # caveats the report shows next to the plan


@dataclass(frozen=True)
class _Tenant:
    """The tenant facts the plan needs, resolved once."""

    read_only: bool
    read_only_reason: str
    org_sync_on: bool
    hard_match_blocked: bool
    soft_match_blocked: bool
    initial_domain: str | None
    tenant_id: str | None
    okta_mode: str | None


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    """A str column of the findings, all-missing when the engine did not fill it."""
    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype="str")
    s = frame[column]
    return (s if s.dtype == "str" else s.astype("str")).replace("", np.nan)


def _flag(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="boolean")
    return frame[column].astype("boolean")


def _has(s: pd.Series, word: str) -> np.ndarray:
    """Whether each value of a ``;``-joined column names ``word``."""
    return s.fillna("").str.contains(rf"(?:^|;)\s*{word}\s*(?:;|$)", regex=True).to_numpy(dtype=bool)


def _tenant(snap: Snapshot, findings: pd.DataFrame) -> _Tenant:
    tenant = snap.tenant
    mode = (tenant.okta_provisioning_mode or "").strip().lower() or None
    synced = _flag(findings, "on_prem_sync_enabled").fillna(False).to_numpy(dtype=bool)
    synced_n = int((synced & _text(findings, "entra_id").notna().to_numpy()).sum())
    if mode in READ_ONLY_MODES:
        read_only, why = True, f"Okta provisions in {mode.replace('_', ' ').title()} mode"
    elif tenant.org_sync_enabled and synced_n:
        read_only, why = True, f"directory sync is on for the tenant and {synced_n} cloud user(s) show as synced"
    else:
        read_only, why = False, ""
    domains = snap["entra_domains"]
    initial = domains.loc[domains["is_initial"].fillna(False).astype(bool), "name"].str.lower().tolist()
    if not initial:  # no /domains export: the tenant's own .onmicrosoft.com name, as the UPNs show it
        suffix = snap["entra_users"]["upn"].str.lower().str.extract(r"@([^@]+\.onmicrosoft\.com)$", expand=False)
        initial = suffix[~suffix.str.endswith(".mail.onmicrosoft.com", na=True)].value_counts().index.tolist()
    return _Tenant(read_only, why, bool(tenant.org_sync_enabled), tenant.feature(HARD_MATCH_FLAG),
                   tenant.feature(SOFT_MATCH_FLAG), initial[0] if initial else None, tenant.tenant_id, mode)


def _federated(findings: pd.DataFrame, snap: Snapshot) -> pd.Series:
    """The engine's ``federated`` flag, filled from the tenant's domains where it is missing."""
    domains = snap["entra_domains"]
    fed_names = domains.loc[domains["authentication_type"].str.lower().eq("federated").fillna(False), "name"]
    domain = _text(findings, "entra_upn").str.rsplit("@", n=1).str[-1].str.lower()
    from_domains = pd.Series(columns.isin(domain, fed_names.str.lower()), index=findings.index)
    return _flag(findings, "federated").fillna(from_domains).astype(bool)


def _temporary_upns(upn: pd.Series, ids: pd.Series, initial: str | None, taken: pd.Series) -> pd.Series:
    """``local@initial`` for each UPN; with part of the object id when that name is already in use."""
    if initial is None or upn.empty:
        return pd.Series(np.nan, index=upn.index, dtype="str")
    local = upn.str.rsplit("@", n=1).str[0]
    plain = local + "@" + initial
    clash = columns.isin(plain.str.lower(), taken.str.lower()) | plain.str.lower().duplicated(keep=False).to_numpy()
    return plain.where(~clash, local + "." + ids.str[:8] + "@" + initial)


def _choose(strategy: str, n_fix: int, bulk_threshold: int, t: _Tenant) -> tuple[str, str]:
    if strategy != "auto":
        return strategy, f"forced by parameter (strategy={strategy}); {n_fix} user(s) need a new ImmutableID"
    if n_fix == 0:
        return "prestamp", "no cloud user needs a new ImmutableID: nothing to pre-stamp"
    if t.read_only:
        return "clear_and_regenerate", (
            f"{t.read_only_reason}: Graph refuses to edit those users, so directory sync must be switched off "
            f"for the tenant before the {n_fix} ImmutableID(s) can be corrected")
    if n_fix > bulk_threshold:
        return "clear_and_regenerate", (
            f"{n_fix} users need a new ImmutableID, more than bulk_threshold={bulk_threshold}: the seed's bulk "
            "route (directory sync off, correct values written, sync on)")
    return "prestamp", (f"{n_fix} user(s) need a new ImmutableID (at most bulk_threshold={bulk_threshold}) and "
                        "they can be edited: pre-stamp each with its expected anchor")


def _rows(f: pd.DataFrame, mask: np.ndarray, step: str, strategy: str, note: str | pd.Series,
          new: pd.Series | None = None) -> pd.DataFrame:
    sub = f[mask]
    return pd.DataFrame({
        "entra_id": sub["entra_id"], "entra_upn": sub["entra_upn"], "ad_dn": sub["ad_dn"],
        "category": sub["category"], "strategy": strategy, "step": step,
        "current_immutable_id": sub["immutable_id"],
        "new_immutable_id": new[mask] if new is not None else np.nan,
        "temporary_upn": sub["temporary_upn"] if step == "set_immutable_id_upn_swap" else np.nan,
        "roles": sub["entra_roles"], "licenses": sub["assigned_licenses"],
        "note": note[mask] if isinstance(note, pd.Series) else note,
    })


def build_plan(prediction: Prediction, snap: Snapshot, *, strategy: str = "auto", bulk_threshold: int = 50) -> Plan:
    """The ordered remediation for one client from the engine's ``Prediction`` and the snapshot's tenant facts."""
    if strategy != "auto" and strategy not in STRATEGIES:
        raise HybridxError(f"unknown strategy {strategy!r}: use auto, {', '.join(STRATEGIES)}")
    if isinstance(bulk_threshold, bool) or not isinstance(bulk_threshold, int) or bulk_threshold < 0:
        raise HybridxError(f"bulk_threshold must be a whole number ≥ 0, not {bulk_threshold!r}")
    raw = prediction.findings
    cols = ["category", "ad_dn", "entra_id", "entra_upn", "immutable_id", "expected_immutable_id", "block_reason",
            "entra_roles", "assigned_licenses", "anchor_kind"]
    f = pd.DataFrame({c: _text(raw, c) for c in cols}).reset_index(drop=True)
    t = _tenant(snap, raw)
    cat, block, current = f["category"], f["block_reason"], f["immutable_id"]
    blocked = cat.eq("match_blocked").to_numpy(dtype=bool)

    # A cloud user gets a new ImmutableID when its AD user is certain and the expected anchor differs from it.
    target = (f["entra_id"].notna() & f["expected_immutable_id"].notna()
              & current.ne(f["expected_immutable_id"])).to_numpy(dtype=bool)
    certain = (cat.eq("anchor_mismatch") | (cat.eq("orphan_anchor") & f["ad_dn"].notna())).to_numpy(dtype=bool)
    fix = target & (certain | (blocked & (_has(block, "federated_domain") | current.notna().to_numpy(dtype=bool))))
    chosen, reason = _choose(strategy, int(fix.sum()), bulk_threshold, t)

    role_holder = f["entra_roles"].notna().to_numpy(dtype=bool)
    roles = role_holder & ((blocked & _has(block, "admin_role")) | fix)
    objid = blocked & _has(block, "on_prem_object_identifier")
    review = (cat.eq("ambiguous") | cat.eq("orphan_anchor")).to_numpy(dtype=bool) & ~fix
    recreate = fix if chosen == "hard_delete_recreate" else np.zeros(len(f), dtype=bool)
    write = fix & ~recreate
    swap = write & _federated(raw, snap).to_numpy(dtype=bool)
    f["temporary_upn"] = pd.Series(np.nan, index=f.index, dtype="str")
    if swap.any():
        f.loc[swap, "temporary_upn"] = _temporary_upns(f.loc[swap, "entra_upn"], f.loc[swap, "entra_id"],
                                                       t.initial_domain, snap["entra_users"]["upn"])
    how = "pre-stamp" if chosen == "prestamp" else "write the correct value while directory sync is off"
    write_note = "current value: " + f["anchor_kind"].fillna("unknown kind") + "; " + how
    parts = [
        _rows(f, roles, "remove_roles", "role_removal",
              "remove before the first sync: Entra matches no role holder"),
        _rows(f, objid, "clear_object_identifier", "object_identifier",
              "onPremisesObjectIdentifier points at another object: clear it (beta PATCH to null)"),
        _rows(f, recreate, "hard_delete", chosen,
              "back up the data; hard delete; the sync creates the user again; re-assign the licences"),
        _rows(f, write & ~swap, "set_immutable_id", chosen, write_note, f["expected_immutable_id"]),
        _rows(f, swap, "set_immutable_id_upn_swap", chosen, write_note + "; federated domain: UPN swap",
              f["expected_immutable_id"]),
        _rows(f, roles, "readd_roles", "role_removal", "re-add once the first sync has matched the user"),
        _rows(f, review, "review", "manual", "decide by hand which AD user this is: hybridx does not guess"),
    ]
    actions = pd.concat(parts, ignore_index=True).astype({c: "str" for c in ACTION_COLUMNS})
    order = actions["step"].map({s: i for i, s in enumerate(STEPS)})
    actions = (actions.assign(_order=order).sort_values(["_order", "entra_upn"], kind="stable")
               .drop(columns="_order").reset_index(drop=True))

    flags = []
    hard_matches = cat.eq("hard_match").any() or fix.any() or _has(block, "hard_match_takeover_blocked").any()
    if t.hard_match_blocked and hard_matches:
        flags.append(HARD_MATCH_FLAG)
    if t.soft_match_blocked and (cat.eq("soft_match").any() or _has(block, "soft_match_blocked").any()):
        flags.append(SOFT_MATCH_FLAG)
    both_sides = (f["ad_dn"].notna() & f["entra_id"].notna()).to_numpy(dtype=bool)
    matched = both_sides & cat.isin(["hard_match", "soft_match", "anchor_mismatch", "match_blocked",
                                     "orphan_anchor"]).to_numpy(dtype=bool)
    n_new = int(cat.eq("new_user").sum())
    expected = {
        "adds": n_new + int(recreate.sum()), "deletes": 0, "updates": int((matched & ~recreate).sum()),
        "new_users": n_new, "anchor_writes": int(write.sum()), "upn_swaps": int(swap.sum()),
        "role_holders": int(roles.sum()), "object_identifier_clears": int(objid.sum()),
        "hard_deletes": int(recreate.sum()), "flag_changes": len(flags), "review": int(review.sum()),
        "review_ad_users": int((review & f["ad_dn"].notna().to_numpy(dtype=bool)).sum()),
        "in_scope": int((f["ad_dn"].notna() & cat.ne("excluded")).sum()), "cloud_users": len(snap["entra_users"]),
    }
    notes = []
    if swap.any() and t.initial_domain is None:
        notes.append("The tenant's initial .onmicrosoft.com domain is unknown (no domains export): fill the "
                     "TemporaryUpn column of remediation.csv before running the script.")
    if recreate.any():
        notes.append("A hard delete cannot be undone: back up the users' mailbox and OneDrive data first.")
    steps = _runbook(chosen, actions, expected, flags, t, prediction.anchor_setting,
                     getattr(prediction, "anchor_reason", ""))
    return Plan(chosen, reason, actions, steps, expected, notes)


# ---------------------------------------------------------------------------------------------------------------
# Runbook: the same seven steps for every client, worded with its numbers; a step with nothing to do says so.
# ---------------------------------------------------------------------------------------------------------------

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


def _fix_step(chosen: str, actions: pd.DataFrame, e: dict[str, int], flags: list[str], t: _Tenant) -> RunbookStep:
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


def _runbook(chosen: str, actions: pd.DataFrame, e: dict[str, int], flags: list[str], t: _Tenant,
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
