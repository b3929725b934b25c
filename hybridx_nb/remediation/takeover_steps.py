"""The runbook steps of the takeover backfill and the Hybrid Exchange fixes (docs/domain.md §14, §15).

Kept apart from ``runbook.py``: ``insert_steps`` adds them to a built runbook, before leaving staging mode, so the
main runbook needs no change to carry them.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from hybridx_nb.remediation.model import RunbookStep

#: The step the new steps go before (runbook's "Leave staging mode").
BEFORE, BEFORE_KEY = "Leave staging mode", "leave_staging"


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


def insert_steps(runbook: list[RunbookStep], steps: list[RunbookStep],
                 glance: list[tuple[str, str]] | None = None) -> tuple[list[RunbookStep], list[tuple[str, str]]]:
    """``runbook`` with ``steps`` placed before leaving staging mode (at the end when that step is missing),
    renumbered by position, with every resolved "step N (Title)" reference (in the steps and in the plan at a
    glance) following its step to its new number."""
    at = next((i for i, s in enumerate(runbook) if s.key == BEFORE_KEY or s.title == BEFORE), len(runbook))
    merged = [*runbook[:at], *steps, *runbook[at:]]
    moves = {f"step {s.number} ({s.title})": f"step {i} ({s.title})" for i, s in enumerate(merged, 1)
             if s in runbook and s.number != i}

    def move(text: str) -> str:
        tokens = {old: f"\x00{k}\x00" for k, old in enumerate(moves)}  # two passes: no chained renumbering
        for old, token in tokens.items():
            text = text.replace(old, token)
        for old, token in tokens.items():
            text = text.replace(token, moves[old])
        return text

    fields = ("title", "who", "where", "do", "verify", "rollback")
    out = [dataclasses.replace(s, number=i, **{f: move(getattr(s, f)) for f in fields})
           for i, s in enumerate(merged, 1)]
    return out, [(label, move(text)) for label, text in (glance or [])]
