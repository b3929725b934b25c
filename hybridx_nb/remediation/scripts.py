"""The files a consultant runs: remediation.ps1 (fixed code) and the CSVs it reads.

Directory values never become code. ``remediation.ps1`` is a package data file copied as it is; everything that
names a user (ids, UPNs, ImmutableIDs) goes into CSV files written with the csv module, which PowerShell's
``Import-Csv`` reads back as plain strings. An apostrophe in ``o'brien@…`` or ``$(…)`` in a display name is just
text in a CSV cell.

The CSVs are UTF-8 with a byte-order mark (Excel then shows non-ASCII names correctly) and CRLF line ends. Values
are written exactly as they are: a value starting with ``=``, ``+``, ``-`` or ``@`` is *not* prefixed to defuse
spreadsheet formulas, because the script needs the exact value (the check compares it byte for byte). Open these
files in a text editor rather than Excel, or import them as text (see docs/remediation.md).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from hybridx_nb.core import csv_file
from hybridx_nb.remediation.model import Plan

SCRIPT = "remediation.ps1"
PLAN_CSV = "remediation.csv"
ROLLBACK_CSV = "rollback.csv"
RECREATE_CSV = "recreate.csv"
OKTA_PLAN_CSV = "okta-remediation.csv"
OKTA_ROLLBACK_CSV = "okta-rollback.csv"

#: CSV column → plan column, in file order.
PLAN_COLUMNS = {"Action": "action", "EntraId": "entra_id", "UserPrincipalName": "entra_upn",
                "ExpectedCurrentImmutableId": "current_immutable_id", "NewImmutableId": "new_immutable_id",
                "TemporaryUpn": "temporary_upn", "Category": "category", "AdDistinguishedName": "ad_dn",
                "Note": "note", "Roles": "roles", "TenantId": "tenant_id"}
ROLLBACK_COLUMNS = {"Action": "action", "EntraId": "entra_id", "UserPrincipalName": "entra_upn",
                    "PlannedImmutableId": "new_immutable_id", "OriginalImmutableId": "current_immutable_id",
                    "TemporaryUpn": "temporary_upn", "Roles": "roles", "TenantId": "tenant_id"}
RECREATE_COLUMNS = {"EntraId": "entra_id", "UserPrincipalName": "entra_upn", "AdDistinguishedName": "ad_dn",
                    "SkuIds": "licenses", "Roles": "roles"}
#: okta-remediation.csv and okta-rollback.csv, read by ``hybridx okta-apply`` (docs/domain.md §9).
OKTA_PLAN_COLUMNS = {"Action": "action", "AppId": "app_id", "OktaUserId": "okta_user_id", "EntraId": "entra_id",
                     "UserPrincipalName": "entra_upn", "ExpectedCurrentImmutableId": "current_immutable_id",
                     "NewImmutableId": "new_immutable_id", "EntraStep": "entra_step", "Note": "note"}
OKTA_ROLLBACK_COLUMNS = {"Action": "action", "AppId": "app_id", "OktaUserId": "okta_user_id", "EntraId": "entra_id",
                         "UserPrincipalName": "entra_upn", "PlannedImmutableId": "new_immutable_id",
                         "OriginalImmutableId": "current_immutable_id"}
_SCRIPT_ACTIONS = {"set_immutable_id": "SetImmutableId", "set_immutable_id_upn_swap": "SetImmutableIdWithUpnSwap"}


def script_text() -> bytes:
    """The PowerShell script exactly as shipped (package data)."""
    return resources.files("hybridx_nb.remediation").joinpath("templates", SCRIPT).read_bytes()


def _write_csv(path: Path, rows: pd.DataFrame, columns: dict[str, str]) -> Path:
    """The ``columns`` (CSV header → column of ``rows``) as a CSV file: UTF-8 with BOM, CRLF, minimal quoting;
    missing values as empty cells; values otherwise untouched (``core.csv_file``)."""
    frame = rows.reindex(columns=list(columns.values()))
    frame.columns = list(columns)
    return csv_file.write_csv(frame, path)


def write_scripts(plan: Plan, folder: str | Path) -> dict[str, Path]:
    """Write remediation.ps1, remediation.csv and rollback.csv (recreate.csv for hard deletes, and the Okta side,
    okta-remediation.csv and okta-rollback.csv, when anchors change in a federated domain) into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    actions = plan.actions
    writes = actions[actions["step"].isin(list(_SCRIPT_ACTIONS))].assign(
        action=lambda a: a["step"].map(_SCRIPT_ACTIONS), tenant_id=getattr(plan, "tenant_id", None) or "")
    script = folder / SCRIPT
    script.write_bytes(script_text())
    paths = {
        SCRIPT: script,
        PLAN_CSV: _write_csv(folder / PLAN_CSV, writes, PLAN_COLUMNS),
        ROLLBACK_CSV: _write_csv(folder / ROLLBACK_CSV, writes, ROLLBACK_COLUMNS),
    }
    recreate = actions[actions["step"].eq("hard_delete")]
    if len(recreate):
        paths[RECREATE_CSV] = _write_csv(folder / RECREATE_CSV, recreate, RECREATE_COLUMNS)
    okta = getattr(plan, "okta_actions", None)
    if okta is not None and len(okta):
        paths[OKTA_PLAN_CSV] = _write_csv(folder / OKTA_PLAN_CSV, okta, OKTA_PLAN_COLUMNS)
        paths[OKTA_ROLLBACK_CSV] = _write_csv(folder / OKTA_ROLLBACK_CSV, okta, OKTA_ROLLBACK_COLUMNS)
    return paths


#: The same CSV writer for the other plans (ad-backfill.csv, exchange-plan.csv).
write_csv = _write_csv
