"""Exchange Online recipients from ``Get-EXOMailbox … | Export-Csv`` (``--exo``): the cloud side of the Hybrid
Exchange checks (docs/domain.md §15).

Get-EXOMailbox returns ExternalDirectoryObjectId (the Entra user's object id), UserPrincipalName,
PrimarySmtpAddress, RecipientTypeDetails and EmailAddresses in its minimum property set; ``-Properties`` adds
ExchangeGuid, ArchiveGuid and LegacyExchangeDN. EmailAddresses is a list: unjoined, Export-Csv writes its type
name, and the file is refused with the command that joins it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hybridx_nb.core import anchors
from hybridx_nb.core.errors import InputError
from hybridx_nb.snapshot import schema
from hybridx_nb.sources import common, powershell_csv, presence, text
from hybridx_nb.sources.common import ReadResult
from hybridx_nb.sources.text import Text

#: The export README.md (Export files) explains; errors quote it.
EXO_EXPORT_COMMAND = (
    "Get-EXOMailbox -ResultSize Unlimited -Properties ExchangeGuid,ArchiveGuid,LegacyExchangeDN,EmailAddresses,"
    "RecipientTypeDetails | Select-Object ExternalDirectoryObjectId,UserPrincipalName,PrimarySmtpAddress,"
    "RecipientTypeDetails,ExchangeGuid,ArchiveGuid,LegacyExchangeDN,"
    "@{n='EmailAddresses';e={$_.EmailAddresses -join ';'}} | "
    "Export-Csv -Path exo-mailboxes.csv -NoTypeInformation -Encoding UTF8")

EXO_FIELDS: dict[str, tuple[str, ...]] = {
    "entra_id": ("ExternalDirectoryObjectId",),
    "upn": ("UserPrincipalName",),
    "primary_smtp": ("PrimarySmtpAddress",),
    "recipient_type_details": ("RecipientTypeDetails",),
    "exchange_guid": ("ExchangeGuid",),
    "archive_guid": ("ArchiveGuid",),
    "legacy_exchange_dn": ("LegacyExchangeDN",),
    "email_addresses": ("EmailAddresses",),
}
_EMPTY_GUID = "00000000-0000-0000-0000-000000000000"


def read_exo(path: str | Path, doc: Text | None = None) -> ReadResult:
    """Exchange Online mailboxes from a Get-EXOMailbox CSV; rows without an object id go to ``rejected``."""
    doc = doc or text.read_text(path)
    if text.sniff(doc.head()) in ("json", "ldif"):
        raise InputError(doc.path, "is not a CSV file, but --exo reads a Get-EXOMailbox Export-Csv",
                         fix=f"export with: {EXO_EXPORT_COMMAND}")
    parsed = powershell_csv.read_powershell_csv(doc)
    raw = parsed.frame
    found = powershell_csv.match_columns(doc.path, parsed.headers, EXO_FIELDS, ("entra_id",),
                                         fix=f"export with: {EXO_EXPORT_COMMAND}")
    if not len(raw):
        raise InputError(doc.path, "the file has a header but no rows", fix=f"export with: {EXO_EXPORT_COMMAND}")
    powershell_csv.check_placeholders(doc.path, raw, parsed.lines, found.values(),
                                      {"*": f"join EmailAddresses in Select-Object, as in: {EXO_EXPORT_COMMAND}"})
    col = lambda name: powershell_csv.column(raw, found, name)  # noqa: E731
    guids = {f: anchors.normalize_guid_series(col(f)) for f in ("exchange_guid", "archive_guid")}
    frame = pd.DataFrame({
        "entra_id": anchors.normalize_guid_series(col("entra_id")),
        "upn": col("upn"), "primary_smtp": col("primary_smtp"),
        "recipient_type_details": col("recipient_type_details"),
        "exchange_guid": guids["exchange_guid"].mask(guids["exchange_guid"] == _EMPTY_GUID),
        "archive_guid": guids["archive_guid"].mask(guids["archive_guid"] == _EMPTY_GUID),  # none: all zeros
        "legacy_exchange_dn": col("legacy_exchange_dn"),
        "email_addresses": common.split_list(col("email_addresses"), ";"),
        "source_line": parsed.lines,
    })
    source = f"{doc.name} (Get-EXOMailbox Export-Csv, {doc.encoding})"
    reason = pd.Series(np.nan, index=frame.index, dtype="str")
    reason = reason.mask(~powershell_csv.blank(col("entra_id")) & frame["entra_id"].isna().to_numpy(),
                         "ExternalDirectoryObjectId '" + col("entra_id").str.slice(0, 60) + "' is not a GUID")
    reason = common.reject_incomplete(frame, {"entra_id": "ExternalDirectoryObjectId"}, ("entra_id",), reason)
    bad = reason.notna().to_numpy()
    rej = common.rejected("exo_mailboxes", source, bad, reason, line=frame["source_line"],
                          key=col("upn").fillna(col("entra_id")))
    if bad.all():
        raise common.all_bad(doc.path, "Exchange Online recipients", rej, len(frame))
    coverage = presence.all_exported("exo_mailboxes", source, {c: c in found for c in EXO_FIELDS})
    return ReadResult({"exo_mailboxes": schema.conform("exo_mailboxes", common.kept(frame, ~bad))}, rej, source,
                      coverage=coverage)
