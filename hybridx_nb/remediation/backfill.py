"""Backfill before leaving staging: copy the cloud values the takeover would lose into AD (docs/domain.md §14).

``ad-backfill.csv`` lists one change per row, taken from the takeover's changes: by default every ``lost`` proxy
address (added to AD's proxyAddresses; a lost primary ``SMTP:`` address is added as a secondary ``smtp:`` one,
AD's primary stays and the report names the change) and ``mail`` where AD's is empty. ``backfill`` names more
Entra properties to copy where AD is empty (``cleared``), such as ``mobilePhone``. Values AD already has are never
overwritten: an ``overwritten`` value is AD's decision, shown in the report, not changed here.

``ad-backfill.ps1`` is fixed code (ActiveDirectory module) that reads these rows: dry run unless ``-Apply``, each
value re-read and the row skipped when AD changed since the snapshot, a proxy address another object already holds
skipped, one log line per row, and ``-Rollback`` undoes from ``ad-backfill-rollback.csv``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from hybridx_nb.remediation.scripts import write_csv

SCRIPT = "ad-backfill.ps1"
PLAN_CSV = "ad-backfill.csv"
ROLLBACK_CSV = "ad-backfill-rollback.csv"
DEFAULT = ("proxyAddresses", "mail")
#: Entra properties whose AD attribute is plain text and may be written from the cloud value.
TEXT_FLOWS = ("mail", "displayName", "givenName", "surname", "jobTitle", "department", "companyName",
              "officeLocation", "streetAddress", "city", "state", "postalCode", "country", "businessPhones",
              "mobilePhone", "faxNumber", "employeeId", "mailNickname",
              *(f"extensionAttribute{i}" for i in range(1, 16)))
COLUMNS = {"Operation": "operation", "ObjectGuid": "ad_object_guid", "DistinguishedName": "ad_dn",
           "Attribute": "ad_attribute", "ExpectedCurrent": "expected", "Value": "value",
           "UserPrincipalName": "entra_upn", "Reason": "reason"}


def chosen(spec: str | None) -> tuple[str, ...]:
    """The attributes named by the ``backfill`` parameter (comma-separated Entra property names)."""
    names = tuple(n.strip() for n in (spec if spec is not None else ",".join(DEFAULT)).split(",") if n.strip())
    unknown = [n for n in names if n != "proxyAddresses" and n not in TEXT_FLOWS]
    if unknown:
        raise ValueError(f"backfill: {', '.join(unknown)} cannot be copied into AD; choose among proxyAddresses, "
                         + ", ".join(TEXT_FLOWS))
    return names


def backfill_rows(changes: pd.DataFrame, attributes: tuple[str, ...] = DEFAULT) -> pd.DataFrame:
    """The plan rows (``COLUMNS`` values) for the chosen attributes, in takeover.csv's order."""
    lost = changes["status"].eq("lost").to_numpy() & ("proxyAddresses" in attributes)
    cleared = changes["status"].eq("cleared").to_numpy() & changes["attribute"].isin(
        [a for a in attributes if a in TEXT_FLOWS]).to_numpy()
    rows = changes[lost | cleared]
    is_proxy = rows["status"].eq("lost").to_numpy()
    value = rows["cloud_value"].where(~is_proxy, rows["cloud_value"].str.replace(r"^SMTP:", "smtp:", regex=True))
    primary = is_proxy & rows["cloud_value"].str.startswith("SMTP:").fillna(False).to_numpy()
    reason = pd.Series(np.where(is_proxy, "cloud alias the takeover would remove",
                                "AD is empty: the takeover would clear the cloud value"), index=rows.index)
    reason = reason.mask(primary, "the cloud's primary address, kept as a secondary one: AD's primary wins")
    return pd.DataFrame({
        "operation": np.where(is_proxy, "AddProxyAddress", "SetAttribute"),
        "ad_object_guid": rows["ad_object_guid"], "ad_dn": rows["ad_dn"],
        "ad_attribute": np.where(is_proxy, "proxyAddresses", rows["ad_attribute"]),
        "expected": "", "value": value, "entra_upn": rows["entra_upn"], "reason": reason,
    }).reset_index(drop=True)


def rollback_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The same changes undone: the added address removed, the attribute emptied again."""
    return rows.assign(operation=rows["operation"].map({"AddProxyAddress": "RemoveProxyAddress",
                                                        "SetAttribute": "ClearAttribute"}),
                       expected=rows["value"], reason="undo of the backfill")


def script_text() -> bytes:
    """ad-backfill.ps1 exactly as shipped (package data)."""
    return resources.files("hybridx_nb.remediation").joinpath("templates", SCRIPT).read_bytes()


def write_backfill(changes: pd.DataFrame, folder: str | Path, attributes: tuple[str, ...] = DEFAULT
                   ) -> dict[str, Path]:
    """Write ad-backfill.ps1, ad-backfill.csv and ad-backfill-rollback.csv into ``folder``."""
    folder = Path(folder)
    rows = backfill_rows(changes, attributes)
    (folder / SCRIPT).write_bytes(script_text())
    return {SCRIPT: folder / SCRIPT, PLAN_CSV: write_csv(folder / PLAN_CSV, rows, COLUMNS),
            ROLLBACK_CSV: write_csv(folder / ROLLBACK_CSV, rollback_rows(rows), COLUMNS)}
