"""The runbook steps of the takeover backfill and the Hybrid Exchange fixes (docs/domain.md §14, §15).

Kept apart from ``runbook.py``: ``takeover_steps`` hands them to ``build_runbook`` as extra steps, before leaving
staging mode, so the main list of steps needs no change to carry them and they are numbered with the rest.
"""

from __future__ import annotations

import pandas as pd

from hybridx_nb.remediation.model import RunbookStep
from hybridx_nb.remediation.runbook import ExtraStep

#: The step the takeover steps go before (the runbook's "Leave staging mode"; at the end when it does not apply).
BEFORE_KEY = "leave_staging"


def backfill_step(rows: pd.DataFrame, losing: int, attributes: tuple[str, ...]) -> RunbookStep:
    """Copy the cloud values the takeover would lose into AD, while Entra Connect is still in staging mode."""
    adds = int(rows["operation"].eq("AddProxyAddress").sum())
    sets = int(rows["operation"].eq("SetAttribute").sum())
    if not len(rows):
        do = (f"Nothing to copy for {', '.join(attributes)}: the takeover loses no cloud value of these attributes "
              "(takeover.csv lists every change it makes).")
        verify, undo = "Nothing to verify.", "Nothing to roll back."
    else:
        do = (f"1. Read takeover.csv and ad-backfill.csv: {adds} proxy address(es) of {losing} user(s) and {sets} "
              f"empty AD value(s) ({', '.join(attributes)}) the first sync would otherwise remove from the cloud.\n"
              "2. On a machine with the ActiveDirectory module, as an account that may write those users: "
              "`./ad-backfill.ps1` (dry run: read what it would change), then `./ad-backfill.ps1 -Apply`.\n"
              "3. Run a delta sync in staging mode (`Start-ADSyncSyncCycle -PolicyType Delta`) and re-run hybridx "
              "on a fresh snapshot: takeover.csv then shows no lost address.")
        verify = ("ad-backfill.ps1 ends with no Skipped or Failed rows; its log (ad-backfill-log-*.csv) has one line "
                  "per row. A skipped row changed in AD since the assessment or is a duplicate: decide by hand.")
        undo = "`./ad-backfill.ps1 -Rollback`, then `./ad-backfill.ps1 -Rollback -Apply` (ad-backfill-rollback.csv)."
    return RunbookStep(0, "Before leaving staging: copy the cloud values the takeover would lose into AD",
                       "AD administrator (write access to the users' proxyAddresses and mail)",
                       "PowerShell with the ActiveDirectory module", do, verify, undo, "takeover_backfill")


def exchange_step(counts: dict[str, int]) -> RunbookStep:
    """Fix the Hybrid Exchange states before the first sync joins the mailboxes' owners."""
    if not sum(counts.values()):
        return RunbookStep(0, "Before leaving staging: Hybrid Exchange", "Exchange administrator",
                           "Exchange Management Shell", "No Hybrid Exchange finding among the users to take over.",
                           "Nothing to verify.", "Nothing to roll back.", "exchange_fixes")
    lines = [f"{name.replace('_', ' ')}: {n}" for name, n in counts.items() if n]
    do = ("Findings: " + "; ".join(lines) + ". Each is explained with its way out in the report.\n"
          "1. Decide every mailbox_both_sides user first (keep the on-premises or the cloud content; the report "
          "says what each way loses). For users whose on-premises mailbox stays: remove the Exchange Online licence, "
          "write yes in Approved of their exchange-plan.csv row, then in Exchange Online PowerShell "
          "`./exchange-fixes.ps1 -Shell ExchangeOnline` (dry run) and `-Apply`.\n"
          "2. licence_creates_mailbox users: disable the Exchange Online plan of their licence until the first sync "
          "has run (the plan's ReviewLicence rows).\n"
          "3. In the Exchange Management Shell: `./exchange-fixes.ps1 -Shell OnPremises` (dry run), then `-Apply`: "
          "remote mailboxes with the cloud ExchangeGuid, ExchangeGuid corrections, X500 addresses.")
    return RunbookStep(0, "Before leaving staging: Hybrid Exchange", "Exchange administrator (on-premises and "
                       "Exchange Online)", "Exchange Management Shell; Exchange Online PowerShell", do,
                       "exchange-fixes.ps1 ends with no Failed rows in either shell; Skipped rows wait for a decision "
                       "(Approved) or changed since the assessment.",
                       "`./exchange-fixes.ps1 -Shell OnPremises -Rollback` (then `-Apply`) undoes the on-premises "
                       "changes; clearing a cloud mailbox cannot be undone.", "exchange_fixes")


def takeover_steps(rows: pd.DataFrame, losing: int, attributes: tuple[str, ...],
                   exchange_counts: dict[str, int]) -> tuple[ExtraStep, ...]:
    """The backfill step (``rows``: the backfill's rows; ``losing``: users who would lose addresses) and the
    Hybrid Exchange step (findings per kind), as extra steps for ``build_runbook``, both before leaving staging."""
    return (ExtraStep("takeover_backfill", lambda _c: backfill_step(rows, losing, attributes), before=BEFORE_KEY),
            ExtraStep("exchange_fixes", lambda _c: exchange_step(exchange_counts), before=BEFORE_KEY))
