"""The Hybrid Exchange fixes as a reviewed plan: exchange-plan.csv, exchange-fixes.ps1 and its rollback file.

One row per change (docs/domain.md §15), in the order they must run; ``Shell`` says where: ``OnPremises``
(Exchange Management Shell) or ``ExchangeOnline`` (Exchange Online PowerShell). The script is fixed code that
reads the rows, so no directory value becomes code; it runs the rows of the shell it is told with ``-Shell``.

- ``EnableRemoteMailbox`` (no_remote_mailbox): Enable-RemoteMailbox with the routing address, then
  Set-RemoteMailbox -ExchangeGuid with the cloud mailbox's. Re-checked: the user is still no Exchange recipient.
- ``SetExchangeGuid`` (exchange_guid_mismatch): Set-RemoteMailbox -ExchangeGuid. Re-checked: the remote
  mailbox still has the GUID hybridx saw.
- ``AddX500`` (x500_missing): the cloud LegacyExchangeDN added as an X500 address. Re-checked: not there yet.
- ``ClearPreviousMailboxInfo`` (mailbox_both_sides, keeping the on-premises mailbox): Set-User
  -PermanentlyClearPreviousMailboxInfo in Exchange Online. Destructive and irreversible: the row runs only when a
  person has written ``yes`` in its ``Approved`` column, and only once the user is a mail user again (licence
  removed). Keeping the cloud mailbox instead is a migration, left to the runbook.
- ``ReviewLicence`` (licence_creates_mailbox): no change by the script; the note says what to change.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from hybridx_nb.remediation.scripts import write_csv

SCRIPT = "exchange-fixes.ps1"
PLAN_CSV = "exchange-plan.csv"
ROLLBACK_CSV = "exchange-rollback.csv"
COLUMNS = {"Shell": "shell", "Action": "action", "Identity": "identity", "UserPrincipalName": "entra_upn",
           "ExpectedCurrent": "expected", "NewValue": "value", "RoutingAddress": "routing_address",
           "Approved": "approved", "Finding": "finding", "AdDistinguishedName": "ad_dn", "Note": "note"}
#: finding → (shell, action, identity column, expected column, value column) of the plan row.
_ROWS = {
    "no_remote_mailbox": ("OnPremises", "EnableRemoteMailbox", "ad_object_guid", None, "cloud_exchange_guid"),
    "exchange_guid_mismatch": ("OnPremises", "SetExchangeGuid", "ad_object_guid", "ad_exchange_guid",
                               "cloud_exchange_guid"),
    "x500_missing": ("OnPremises", "AddX500", "ad_object_guid", None, "x500"),
    "mailbox_both_sides": ("ExchangeOnline", "ClearPreviousMailboxInfo", "entra_id", None, None),
    "licence_creates_mailbox": ("Graph", "ReviewLicence", "entra_id", None, None),
}
_ORDER = ("EnableRemoteMailbox", "SetExchangeGuid", "AddX500", "ClearPreviousMailboxInfo", "ReviewLicence")
_NOTES = {
    "ReviewLicence": "Disable the Exchange Online plan until the first sync has run: Set-MgUserLicense -UserId "
                     "<UserPrincipalName> -AddLicenses @(@{SkuId='<skuId>'; DisabledPlans=@('<Exchange plan id>')})"
                     " -RemoveLicenses @()",
    "ClearPreviousMailboxInfo": "Only after deciding to keep the on-premises mailbox and exporting what the cloud "
                                "mailbox holds; remove the Exchange Online licence first. Write yes in Approved.",
}


def plan_rows(findings: pd.DataFrame) -> pd.DataFrame:
    """The plan rows (``COLUMNS`` values) for the Exchange findings, in the order they run."""
    parts = []
    for finding, (shell, action, identity, expected, value) in _ROWS.items():
        rows = findings[findings["finding"].eq(finding).to_numpy()]
        if not len(rows):
            continue
        x500 = "X500:" + rows["cloud_legacy_dn"]
        values = {"x500": x500, None: pd.Series(np.nan, index=rows.index, dtype="str")}
        parts.append(pd.DataFrame({
            "shell": shell, "action": action, "identity": rows[identity],
            "entra_upn": rows["entra_upn"], "expected": rows[expected] if expected else "",
            "value": values[value] if value in values else rows[value],
            "routing_address": rows["routing_address"] if action == "EnableRemoteMailbox" else "",
            "approved": "", "finding": finding, "ad_dn": rows["ad_dn"], "note": _NOTES.get(action, ""),
        }))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in COLUMNS.values()})
    out = pd.concat(parts, ignore_index=True)
    rank = out["action"].map({a: i for i, a in enumerate(_ORDER)})
    return out.assign(_r=rank).sort_values(["_r", "entra_upn"], kind="stable").drop(columns="_r").reset_index(
        drop=True)


def rollback_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Undo rows: mail-disable the enabled remote mailboxes, put the old ExchangeGuid back, remove the X500."""
    undo = rows[rows["action"].isin(["EnableRemoteMailbox", "SetExchangeGuid", "AddX500"]).to_numpy()]
    action = undo["action"].map({"EnableRemoteMailbox": "DisableRemoteMailbox", "SetExchangeGuid": "SetExchangeGuid",
                                 "AddX500": "RemoveX500"})
    swap = undo["action"].eq("SetExchangeGuid")
    return undo.assign(action=action, expected=undo["value"].where(swap, undo["value"]),
                       value=undo["expected"].where(swap, undo["value"]), note="undo")[::-1].reset_index(drop=True)


def script_text() -> bytes:
    """exchange-fixes.ps1 exactly as shipped (package data)."""
    return resources.files("hybridx_nb.remediation").joinpath("templates", SCRIPT).read_bytes()


def write_exchange_plan(findings: pd.DataFrame, folder: str | Path) -> dict[str, Path]:
    """Write exchange-fixes.ps1, exchange-plan.csv and exchange-rollback.csv into ``folder``."""
    folder = Path(folder)
    rows = plan_rows(findings)
    (folder / SCRIPT).write_bytes(script_text())
    return {SCRIPT: folder / SCRIPT, PLAN_CSV: write_csv(folder / PLAN_CSV, rows, COLUMNS),
            ROLLBACK_CSV: write_csv(folder / ROLLBACK_CSV, rollback_rows(rows), COLUMNS)}
