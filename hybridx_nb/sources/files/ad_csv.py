"""AD users from ``Get-ADUser ... | Select-Object ... | Export-Csv`` (Windows PowerShell 5.1 or PowerShell 7).

Column operations only: a million rows are parsed by Arrow's CSV reader and converted with the vectorised
anchor functions; no Python loop per row.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hybridx_nb.core.errors import InputError
from hybridx_nb.sources import common, powershell_csv, presence, text
from hybridx_nb.sources.common import AD_FIELDS, ReadResult
from hybridx_nb.sources.text import Text

#: The export command README.md (Export files) explains; errors quote it so the consultant can re-run it as it is.
#: ``$x`` holds the Exchange schema's attributes (docs/domain.md §14, §15): without that schema, set ``$x = @()``.
AD_EXPORT_COMMAND = (
    "$p = 'DisplayName','GivenName','Surname','mail','isCriticalSystemObject','Title','Department','Company',"
    "'physicalDeliveryOfficeName','StreetAddress','l','st','PostalCode','c','co','telephoneNumber','mobile',"
    "'facsimileTelephoneNumber','employeeID','Manager'; "
    "$x = 'mailNickname','targetAddress','msExchHideFromAddressLists','msExchRecipientTypeDetails',"
    "'msExchRecipientDisplayType','msExchRemoteRecipientType','homeMDB','legacyExchangeDN' + "
    "(1..15 | ForEach-Object { \"extensionAttribute$_\" }); "
    "$c = @{n='mS-DS-ConsistencyGuid';e={if ($_.'mS-DS-ConsistencyGuid') "
    "{[Convert]::ToBase64String($_.'mS-DS-ConsistencyGuid')}}}, "
    "@{n='proxyAddresses';e={$_.proxyAddresses -join ';'}}; "
    "if ($x) { $c += @{n='msExchMailboxGuid';e={if ($_.msExchMailboxGuid) {[guid]$_.msExchMailboxGuid}}}, "
    "@{n='msExchArchiveGUID';e={if ($_.msExchArchiveGUID) {[guid]$_.msExchArchiveGUID}}} }; "
    "Get-ADUser -Filter * -Properties ($p + $x + 'proxyAddresses','mS-DS-ConsistencyGuid','msExchMailboxGuid',"
    "'msExchArchiveGUID' | Where-Object { $x -or $_ -notlike 'msExch*' }) | "
    "Select-Object (@('DistinguishedName','ObjectGUID','SamAccountName','UserPrincipalName','Enabled',"
    "'ObjectClass') + $p + $x + $c) | "
    "Export-Csv -Path ad.csv -NoTypeInformation -Encoding UTF8")

_FIXES = {
    "consistency_guid": "convert the bytes in Select-Object: @{n='mS-DS-ConsistencyGuid';e={if "
                        "($_.'mS-DS-ConsistencyGuid') {[Convert]::ToBase64String($_.'mS-DS-ConsistencyGuid')}}}; "
                        f"the whole command: {AD_EXPORT_COMMAND}",
    "proxy_addresses": "join the values in Select-Object: @{n='proxyAddresses';e={$_.proxyAddresses -join ';'}}; "
                       f"the whole command: {AD_EXPORT_COMMAND}",
    "exchange_guid": "convert the bytes in Select-Object: @{n='msExchMailboxGuid';e={if ($_.msExchMailboxGuid) "
                     f"{{[guid]$_.msExchMailboxGuid}}}}}}; the whole command: {AD_EXPORT_COMMAND}",
    "archive_guid": "convert the bytes in Select-Object: @{n='msExchArchiveGUID';e={if ($_.msExchArchiveGUID) "
                    f"{{[guid]$_.msExchArchiveGUID}}}}}}; the whole command: {AD_EXPORT_COMMAND}",
    "*": f"convert multi-valued and byte attributes in Select-Object, as in: {AD_EXPORT_COMMAND}",
}


def read_ad_csv(path: str | Path, doc: Text | None = None) -> ReadResult:
    """AD users, groups and contacts from a PowerShell CSV export; bad rows go to ``rejected``."""
    doc = doc or text.read_text(path)
    parsed = powershell_csv.read_powershell_csv(doc)
    raw = parsed.frame
    found = powershell_csv.match_columns(doc.path, parsed.headers, AD_FIELDS, ("dn", "object_guid"),
                                 fix=f"export with: {AD_EXPORT_COMMAND}")
    if not len(raw):
        raise InputError(doc.path, "the file has a header but no rows",
                                fix=f"check the -SearchBase / -Filter of: {AD_EXPORT_COMMAND}")
    by_header = {v: k for k, v in found.items()}
    powershell_csv.check_placeholders(doc.path, raw, parsed.lines, found.values(),
                              {h: _FIXES.get(by_header[h], _FIXES["*"]) for h in found.values()} | {"*": _FIXES["*"]})
    col = lambda name: powershell_csv.column(raw, found, name)  # noqa: E731
    consistency, bad_consistency = common.consistency_guid(col("consistency_guid"))
    proxies = col("proxy_addresses")
    critical = common.bool_text(col("is_critical_system_object"))
    if "is_critical_system_object" in found:  # Get-ADUser writes the unset attribute as an empty field: false
        critical = critical.mask(powershell_csv.blank(col("is_critical_system_object")), False)
    if "enabled" in found:
        enabled = common.bool_text(col("enabled"))
    else:
        enabled = common.enabled_from_uac(col("user_account_control"))
    frame = pd.DataFrame({
        "dn": col("dn"), "object_guid": col("object_guid").str.strip(), "consistency_guid": consistency,
        "sam_account_name": col("sam_account_name"), "upn": col("upn"), "mail": col("mail"),
        "proxy_addresses": common.split_list(proxies, common.detect_separator(proxies)),
        "display_name": col("display_name"), "given_name": col("given_name"), "surname": col("surname"),
        "mail_nickname": col("mail_nickname"), "target_address": col("target_address"), "enabled": enabled,
        "object_class": col("object_class").str.strip().replace("", np.nan),
        "is_critical_system_object": critical,
        "source_line": parsed.lines,
        **{f: col(f) for f in common.AD_TEXT_FIELDS if f not in ("mail_nickname", "target_address")},
        **{f: common.guid_text(col(f)) for f in common.AD_GUID_FIELDS},
        "hide_from_address_lists": common.bool_text(col("hide_from_address_lists")),
    })
    reason = pd.Series(np.nan, index=frame.index, dtype="str")
    reason = common.add_reason(reason, bad_consistency, lambda rows: "mS-DS-ConsistencyGuid '"
                               + col("consistency_guid").iloc[rows].str.slice(0, 60) + "' is neither a GUID nor base64")
    frame["is_deleted"] = common.bool_text(col("is_deleted"))
    how = "Get-ADUser Export-Csv" + (", #TYPE line" if parsed.type_line else "")
    source = f"{doc.name} ({how}, {doc.encoding})"
    result = common.finish_ad_objects(doc.path, source, frame, reason, class_exported="object_class" in found)
    carried = {f: f in found for f in AD_FIELDS if f not in ("dn", "user_account_control")}
    carried["enabled"] = "enabled" in found or "user_account_control" in found
    result.coverage = presence.all_exported("ad_users", source, carried)
    return result
