"""Runbook steps that change anchors and prepare groups: the two-sided anchor fix (Entra with remediation.ps1,
Okta with ``hybridx okta-apply``) and the groups and contacts Okta's Universal Sync created.

Facts: docs/domain.md §5 (strategies), §9 (federated sign-in: the Okta side), §11 (groups and contacts).
"""

from __future__ import annotations

from hybridx_nb.remediation.model import RunbookStep
from hybridx_nb.remediation.steps_common import RunbookContext, step
from hybridx_nb.remediation.steps_prepare import GRAPH_PS

OKTA_APPLY = "hybridx okta-apply --config client.toml --plan <this report's folder>"


def _entra_lines(c: RunbookContext) -> list[str]:
    e, n, do = c.e, c.e["anchor_writes"], []
    if c.chosen == "clear_and_regenerate" and n:
        if not c.sync_switch_off:
            do.append("Directory sync is already off for the tenant (organization.onPremisesSyncEnabled is not "
                      "true): nothing to switch off.")
        do.append(f"Write the correct ImmutableID on {n} user(s), rather than clearing it (clearing to null is "
                  "unreliable today): `./remediation.ps1` (dry run: read what it would change), then "
                  "`./remediation.ps1 -Apply`.")
    elif n:
        do.append(f"Pre-stamp {n} user(s) with their expected anchor: `./remediation.ps1` (dry run: read what it "
                  "would change), then `./remediation.ps1 -Apply`.")
    if e["upn_swaps"]:
        do.append(f"Users with a UPN in a federated domain: {e['upn_swaps']}. For each the script moves the UPN to "
                  f"@{c.t.initial_domain or '<tenant>.onmicrosoft.com'} (TemporaryUpn column), sets the ImmutableID "
                  "and moves the UPN back. Moving a UPN out of a federated domain sets a password, so the script "
                  "asks for User-PasswordProfile.ReadWrite.All as well: the account running it needs a role that "
                  "may reset those users' passwords (User Administrator for ordinary users; a Privileged "
                  "Authentication Administrator for anyone who holds an admin role).")
    elif n:
        do.append("No UPN swap needed: none of them has a UPN in a federated domain.")
    if e["hard_deletes"]:
        do.append(f"Hard delete {e['hard_deletes']} user(s) listed in recreate.csv, after their data is backed up "
                  "({step:backup}): `Remove-MgUser -UserId <EntraId>`, then `Remove-MgDirectoryDeletedItem "
                  "-DirectoryObjectId <EntraId>` (a soft-deleted user stays 30 days and would still clash). The "
                  "first sync creates each again from AD with the right anchor.")
    if not n and not e["hard_deletes"]:
        do.append("No ImmutableID to change: every matched cloud user already carries its AD anchor or will be "
                  "soft-matched.")
    if e["review"]:
        do.append(f"{e['review']} finding(s) need a decision by hand (ambiguous matches, ImmutableIDs no AD user "
                  "claims): the plan's review rows. hybridx does not guess.")
    return do


def _okta_lines(c: RunbookContext) -> list[str]:
    """The Okta half: what okta-apply does, in the same window, pilot first; or the mapping change instead."""
    okta = c.okta
    if okta is None or not len(okta):
        return []
    n = len(okta)
    manual = int(okta["action"].eq("Manual").sum())
    domains = ", ".join(c.federated_domains) or "the federated domain"
    do = [f"Federated sign-in: while Okta federates {domains}, Okta sends the Office 365 app user's immutableId "
          "as the ImmutableID claim, and Entra signs the user in only when it equals the user's ImmutableID. "
          f"So each of these {n} anchor write(s) is a two-sided change: right after remediation.ps1 changes a "
          f"user in Entra, change the same user's app-user immutableId in Okta: `{OKTA_APPLY}` (dry run), then "
          "with `--apply --entra-log <remediation-log-….csv>` (only the users the Entra side changed). Until "
          "both sides agree the user cannot sign in to Microsoft 365: run the two back to back, in the same "
          "change window, outside working hours."]
    if c.pilot:
        do.append(f"Pilot first: run both sides for one user only (`./remediation.ps1 -Apply -User {c.pilot}`, "
                  f"then `{OKTA_APPLY} --apply --user {c.pilot}`), and have {c.pilot} sign in to Microsoft 365 "
                  "through Okta (a new private browser window, portal.office.com). Go on with everyone else only "
                  "once that sign-in works.")
    do.append("If okta-apply reports that Okta refused the write or that the immutableId mapping is applied on "
              "every update, edit the mapping instead: Okta Admin Console → Directory → Profile Editor → "
              "Microsoft Office 365 → Mappings (Okta User → Office 365): map immutableId to the AD anchor "
              f"({'findDirectoryUser().externalId, i.e. objectGUID' if c.anchor == 'objectGUID' else c.anchor}), "
              "save and apply the mapping to all users, then run okta-apply again as a dry run: every user should "
              "show Unchanged.")
    if manual:
        do.append(f"{manual} user(s) have no Okta app user in the snapshot (okta-remediation.csv, Action Manual): "
                  "find each in the Office 365 app's Assignments and set its immutableId by hand, or leave it if "
                  "the user does not sign in through Okta.")
    do.append("The alternative to the two-sided change: first move the domain to managed authentication "
              "(password hash sync or Pass-through Authentication, e.g. with Staged Rollout for a pilot group, "
              "then `Update-MgDomainFederationConfiguration`/converting the domain), and change anchors "
              "afterwards; then Okta's claim no longer matters and no UPN swap is needed.")
    return do


def fix(c: RunbookContext) -> RunbookStep:
    e, n = c.e, c.e["anchor_writes"]
    entra, okta = _entra_lines(c), _okta_lines(c)
    head = 2 if c.pilot else 1  # the federated-sign-in explanation (and the pilot) come before the Entra write
    do = okta[:head] + entra + okta[head:]
    verify, undo = [], []
    if n:
        verify.append(f"remediation.ps1 ends with Changed: {n} and no Skipped or Failed; its log "
                      "(remediation-log-*.csv) has one line per user. A skipped user changed since the assessment: "
                      "re-run hybridx before touching it.")
        undo.append("`./remediation.ps1 -Rollback`, then `./remediation.ps1 -Rollback -Apply`: restores the "
                    "original values from rollback.csv, only where the value is still the one the plan wrote.")
    if okta:
        verify.append(f"okta-apply ends with Changed: {len(c.okta)} (or Unchanged) and no Skipped or Failed; the "
                      "pilot and a sample of the others sign in to Microsoft 365 through Okta.")
        undo.append(f"The Okta side: `{OKTA_APPLY} --rollback --apply` restores the values of okta-rollback.csv "
                    "where the value is still the one okta-apply wrote. Roll back both sides together.")
    if e["hard_deletes"]:
        undo.append("A hard delete cannot be undone: restore the backed-up data to the recreated user.")
    who = "User Administrator (ImmutableIDs); Privileged Authentication Administrator (UPN swaps of admins)"
    if okta:
        who += "; Okta App Administrator of the Office 365 app (app-user immutableId)"
    return step("fix", "Fix the anchors" + (" on both sides: Entra and Okta" if okta else ""), who,
                GRAPH_PS + ("; hybridx on the same workstation" if okta else ""), do,
                verify or "Nothing to verify: nothing changed.", undo or "Nothing to roll back: nothing changed.")


def groups(c: RunbookContext) -> RunbookStep | None:
    """Groups and contacts created in the cloud by Okta's Universal Sync (docs/domain.md §11)."""
    g = c.groups
    recreated, matched, new = g.get("recreated", 0), g.get("soft_match", 0), g.get("new", 0)
    if not (recreated or matched or new):
        return None
    do = []
    if matched:
        do.append(f"{matched} mail-enabled group(s)/contact(s) will be taken over by soft match on their proxy "
                  "addresses: the cloud object's values are replaced by AD's. Check that AD holds every address "
                  "the cloud object has (groups-contacts.csv lists them) before the first export.")
    if recreated:
        do.append(f"{recreated} cloud group(s) that are not mail-enabled cannot be matched at all: Entra Connect "
                  "creates each again from AD, next to the old one. For each: note where the old cloud group is "
                  "used (app assignments, Conditional Access, Teams/SharePoint permissions, licences), move those "
                  "uses to the new group once it exists, then delete the old group.")
    if new:
        do.append(f"{new} AD group(s)/contact(s) have no cloud counterpart: the sync creates them.")
    return step("groups", "Prepare groups and contacts", "Groups Administrator; Exchange Administrator",
                "Entra admin center → Groups; Exchange admin center → Contacts", do,
                "After the first export: no ObjectTypeMismatch or AttributeValueMustBeUnique error for a group or "
                "contact; every recreated group's uses point at the new group.",
                "Nothing to roll back before the first export; afterwards, uses moved to a new group can be moved "
                "back to the old one as long as it is not deleted.")


STEPS = (("fix", fix), ("groups", groups))
