"""Entra ID users from Graph JSON (``Invoke-MgGraphRequest`` pages, a collector's file) or a ``Get-MgUser`` CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hybridx_nb.core import anchors
from hybridx_nb.core.errors import InputError
from hybridx_nb.snapshot import schema
from hybridx_nb.snapshot.coverage import MISSING, Coverage
from hybridx_nb.sources import common, json_columns, powershell_csv, presence, text
from hybridx_nb.sources.common import ReadResult
from hybridx_nb.sources.files import entra_arrow, entra_objects
from hybridx_nb.sources.text import Text

#: The Get-MgUser export README.md (Export files) explains; quoted by errors about placeholders and missing columns.
ENTRA_CSV_COMMAND = (
    "$c = @{n='ProxyAddresses';e={$_.ProxyAddresses -join ';'}}, "
    "@{n='AssignedLicenses';e={($_.AssignedLicenses | ForEach-Object SkuId) -join ';'}}, "
    "@{n='BusinessPhones';e={$_.BusinessPhones -join ';'}}, @{n='ManagerId';e={$_.Manager.Id}}, "
    "@{n='AssignedPlans';e={($_.AssignedPlans | ForEach-Object { '{0}:{1}' -f $_.Service, $_.CapabilityStatus })"
    " -join ';'}}, "
    "@{n='ProvisionedPlans';e={($_.ProvisionedPlans | ForEach-Object { '{0}:{1}:{2}' -f $_.Service, "
    "$_.CapabilityStatus, $_.ProvisioningStatus }) -join ';'}} + (1..15 | ForEach-Object { "
    "@{n=\"extensionAttribute$_\";e=[scriptblock]::Create(\"`$_.OnPremisesExtensionAttributes.ExtensionAttribute$_\")}"
    " }); "
    "Get-MgUser -All -Property Id,UserPrincipalName,Mail,ProxyAddresses,OnPremisesImmutableId,"
    "OnPremisesSyncEnabled,AccountEnabled,UserType,DisplayName,MailNickname,AssignedLicenses,CreationType,"
    "GivenName,Surname,JobTitle,Department,CompanyName,OfficeLocation,StreetAddress,City,State,PostalCode,"
    "UsageLocation,Country,BusinessPhones,MobilePhone,FaxNumber,EmployeeId,ShowInAddressList,"
    "OnPremisesExtensionAttributes,AssignedPlans,ProvisionedPlans -ExpandProperty Manager | "
    "Select-Object (@('Id','UserPrincipalName','Mail','OnPremisesImmutableId','OnPremisesSyncEnabled',"
    "'AccountEnabled','UserType','DisplayName','MailNickname','CreationType','GivenName','Surname','JobTitle',"
    "'Department','CompanyName','OfficeLocation','StreetAddress','City','State','PostalCode','UsageLocation',"
    "'Country','MobilePhone','FaxNumber','EmployeeId','ShowInAddressList') + $c) | "
    "Export-Csv -Path entra.csv -NoTypeInformation -Encoding UTF8")
#: The Graph JSON export README.md (Export files) explains, on one line.
ENTRA_JSON_COMMAND = (
    "$uri = 'https://graph.microsoft.com/v1.0/users?$select=id,userPrincipalName,mail,proxyAddresses,"
    "onPremisesImmutableId,onPremisesSyncEnabled,accountEnabled,userType,displayName,mailNickname,assignedLicenses,"
    "creationType,givenName,surname,jobTitle,department,companyName,officeLocation,streetAddress,city,state,"
    "postalCode,usageLocation,country,businessPhones,mobilePhone,faxNumber,employeeId,showInAddressList,"
    "onPremisesExtensionAttributes,assignedPlans,provisionedPlans&$expand=manager($select=id)&$top=999'; "
    "Set-Content -Path entra.json -Value $null -Encoding UTF8; while ($uri) { $page = Invoke-MgGraphRequest "
    "-Method GET -Uri $uri; $page | ConvertTo-Json -Depth 10 -Compress | Add-Content -Path entra.json -Encoding UTF8; "
    "$uri = $page.'@odata.nextLink' }")

#: The properties the takeover comparison and the Exchange checks read (docs/domain.md §14, §15), in ``$select``.
TAKEOVER_SELECT = ("givenName", "surname", "jobTitle", "department", "companyName", "officeLocation",
                   "streetAddress", "city", "state", "postalCode", "usageLocation", "country", "businessPhones",
                   "mobilePhone", "faxNumber", "employeeId", "showInAddressList", "onPremisesExtensionAttributes",
                   "assignedPlans", "provisionedPlans")

#: Canonical column → Graph property (first) and other names exports use.
ENTRA_FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("id", "ObjectId"),
    "upn": ("userPrincipalName", "UPN"),
    "mail": ("mail",),
    "proxy_addresses": ("proxyAddresses",),
    "immutable_id": ("onPremisesImmutableId", "ImmutableId"),
    "on_prem_sync_enabled": ("onPremisesSyncEnabled", "DirSyncEnabled"),
    "on_prem_object_identifier": ("onPremisesObjectIdentifier",),
    "account_enabled": ("accountEnabled",),
    "user_type": ("userType",),
    "display_name": ("displayName",),
    "mail_nickname": ("mailNickname",),
    "assigned_licenses": ("assignedLicenses", "LicenseSkuIds", "SkuIds"),
    "creation_type": ("creationType",),
    "on_prem_last_sync": ("onPremisesLastSyncDateTime", "OnPremisesLastSyncDateTime"),
    "on_prem_provisioning_errors": ("onPremisesProvisioningErrors",),
    "service_provisioning_errors": ("serviceProvisioningErrors",),
    # written by the default sync rules (docs/domain.md §14)
    "given_name": ("givenName",), "surname": ("surname",), "job_title": ("jobTitle",),
    "department": ("department",), "company_name": ("companyName",), "office_location": ("officeLocation",),
    "street_address": ("streetAddress",), "city": ("city",), "state": ("state",), "postal_code": ("postalCode",),
    "usage_location": ("usageLocation",), "country": ("country",), "business_phone": ("businessPhones",),
    "mobile_phone": ("mobilePhone",), "fax_number": ("faxNumber",), "employee_id": ("employeeId",),
    "show_in_address_list": ("showInAddressList",),
    # object-valued: taken apart below (docs/domain.md §14, §15)
    "extension_attributes": ("onPremisesExtensionAttributes",), "manager": ("manager", "ManagerId"),
    "assigned_plans": ("assignedPlans",), "provisioned_plans": ("provisionedPlans",),
}
_BOOLS = ("on_prem_sync_enabled", "account_enabled", "show_in_address_list")
_LISTS = ("proxy_addresses", "assigned_licenses")
#: Object-valued properties taken apart by ``entra_objects`` (docs/domain.md §14, §15); businessPhones keeps its
#: first value; Graph leaves ``manager`` out of users without one.
_OBJECTS = ("extension_attributes", "manager", "assigned_plans", "provisioned_plans", "business_phone")
#: Graph's JSON type of the properties checked (the provisioning-error arrays are kept as JSON text, unchecked).
_TEXT = ("id", "upn", "mail", "immutable_id", "on_prem_object_identifier", "user_type", "display_name",
         "mail_nickname", "creation_type", "on_prem_last_sync")
_TYPES = {**{f: "text" for f in _TEXT if f in ENTRA_FIELDS}, **{f: "bool" for f in _BOOLS},
          "proxy_addresses": "list"}
_NAMES = {f: names[0] for f, names in ENTRA_FIELDS.items()}
#: The columns Graph's /users returns without $select (Get-MgUser without -Property).
_DEFAULT_SELECT = ("upn", "mail", "display_name")


def read_entra(path: str | Path, doc: Text | None = None, *, allow_partial: bool = False) -> ReadResult:
    """Entra users from a Graph JSON file or a Get-MgUser CSV (picked by content).

    A Graph export whose last page still links to a next one is refused, unless ``allow_partial``: then it is
    read and recorded as incomplete, and the engine marks what depends on the missing users as unknown.
    """
    doc = doc or text.read_text(path)
    return _read_json(doc, allow_partial) if text.sniff(doc.head()) == "json" else _read_csv(doc)


def _read_json(doc: Text, allow_partial: bool = False) -> ReadResult:
    source = f"{doc.name} (Graph /users JSON, {doc.encoding})"
    arrow = entra_arrow.read(doc, ENTRA_FIELDS, _field_kind)
    if arrow is not None:
        frame, present, last_page = arrow
        n, rej, numbers, wrong = len(frame), schema.empty("rejected"), None, None
    else:
        frame, present, numbers, rej, wrong = _python_frame(doc, source)
        n, last_page = len(frame), doc.utf8()
    present = entra_objects.expand_presence(present, entra_objects.SPARSE)
    coverage, frame["not_exported"] = presence.coverage_of("entra_users", source, present, n)
    link = presence.next_link(last_page)
    if link is not None:
        if not allow_partial:
            raise InputError(doc.path, f"the export is incomplete: its last page still links to the next one "
                             f"(@odata.nextLink), so only the first {n:,} users were saved",
                             fix=f"run the export loop to its end: {ENTRA_JSON_COMMAND}; or pass --allow-partial "
                                 "to assess what was saved, with every prediction that depends on the missing "
                                 "users marked unknown")
        coverage.incomplete["entra_users"] = (f"{doc.name} stops after {n:,} users: its last page still carries "
                                              "@odata.nextLink")
    lines = pd.Series(numbers if numbers is not None else np.arange(1, n + 1))
    _refuse_missing(doc.path, coverage, ENTRA_JSON_COMMAND, "Graph returns the onPremises* properties only when "
                    "$select names them")
    return _finish(doc.path, source, frame, lines, rej, wrong, coverage)


def _python_frame(doc: Text, source: str) -> tuple[pd.DataFrame, dict[str, np.ndarray], np.ndarray | None,
                                                    pd.DataFrame, pd.Series]:
    """The columns decoded into Python values (msgspec structs, or dicts for any other shape), their presence,
    record numbers, rejected records and values of the wrong JSON type."""
    with text.gc_paused():
        fast = _fast_columns(doc)
        if fast is not None:
            cols, present = fast
            rej, numbers = schema.empty("rejected"), None
        else:
            cols, present, numbers, rej = _general_columns(doc, source)
        n = len(cols["id"])
        wrong = presence.wrong_types(cols, _TYPES, _NAMES, n)
        frame = pd.DataFrame({f: common.text_column(v) for f, v in cols.items()
                              if f not in _LISTS and f not in _OBJECTS})
        frame["proxy_addresses"] = common.lists_from_python(cols["proxy_addresses"])
        frame["assigned_licenses"] = entra_objects.sku_ids(cols["assigned_licenses"])
        for name, values in entra_objects.columns(cols).items():
            frame[name] = values
        del cols
    return frame, present, numbers, rej, wrong


def _field_kind(field: str) -> str:
    """How a reader field is typed: ``text``, ``bool``, ``list`` (of text), ``object`` or ``json`` (kept as text)."""
    if field in _BOOLS:
        return "bool"
    if field in _OBJECTS or field == "assigned_licenses":
        return "object"
    if field == "proxy_addresses":
        return "list"
    return "json" if field.endswith("provisioning_errors") else "text"


def _general_columns(doc: Text, source: str) -> tuple[dict[str, list[object]], dict[str, np.ndarray], np.ndarray,
                                                      pd.DataFrame]:
    """Every shape of JSON: parsed into dicts, non-objects rejected, keys matched in any letter case."""
    records = text.json_records(text.load_json_documents(doc))
    users, numbers, rej = text.objects_only(doc.path, "entra_users", source, records)
    if not records:
        raise InputError(doc.path, "the file holds no users", fix="check the Graph request and its paging")
    keys = text.key_finder(users)
    spelled = {f: next((keys[n.lower()] for n in names if n.lower() in keys), names[0])
               for f, names in ENTRA_FIELDS.items()}
    present = {f: presence.key_present(users, k) for f, k in spelled.items() if f != "id"}
    return common.frame_of(users, {f: (k,) for f, k in spelled.items()}), present, numbers, rej


def _refuse_missing(path: Path, coverage: Coverage, command: str, why: str) -> None:
    """An Entra export without onPremisesImmutableId cannot tell a cloud user without one from a cloud user with
    the wrong one (docs/domain.md §8): refused, with the command that carries it."""
    if coverage.status("entra_users", "immutable_id") == MISSING:
        raise InputError(path, "the export has no onPremisesImmutableId for any user (" + why + "): every cloud "
                         "user would look as if it had no ImmutableID, and users with a wrong one would be "
                         "predicted to soft-match instead of being duplicated", fix=f"re-export with: {command}")


def _fast_columns(doc: Text) -> tuple[dict[str, list[object]], dict[str, np.ndarray]] | None:
    """The same columns decoded straight into structs, when the file is plain Graph pages or one array of users.

    Keys are spelled as in the first records; the result is refused (None: the general path) when a record lacks
    one of those keys or a name not seen there appears anywhere in the file, so both paths read the same keys.
    """
    raw = doc.utf8()
    first = json_columns.sample(raw)
    if not first:
        return None
    keys = text.key_finder(first)
    spelled, unseen = {}, []
    for f, names in ENTRA_FIELDS.items():
        hit = next((i for i, n in enumerate(names) if n.lower() in keys), None)
        spelled[f] = keys[names[hit].lower()] if hit is not None else names[0]
        unseen += names if hit is None else names[:hit]
    if json_columns.mentions(raw, unseen):
        return None
    seen = [f for f, k in spelled.items() if k.lower() in keys]
    cols = json_columns.decode(raw, {f: (k,) for f, k in spelled.items()}, unset=seen)
    if cols is None or any(json_columns.has_unset(cols[f]) for f in seen if f not in entra_objects.SPARSE):
        return None
    for f in entra_objects.SPARSE:  # Graph leaves ``manager`` out of users without one
        cols[f] = [None if v is json_columns.UNSET else v for v in cols[f]]
    n = len(cols["id"])
    return cols, {f: np.full(n, f in seen) for f in ENTRA_FIELDS if f != "id"}


def _read_csv(doc: Text) -> ReadResult:
    parsed = powershell_csv.read_powershell_csv(doc)
    raw = parsed.frame
    found = powershell_csv.match_columns(doc.path, parsed.headers, ENTRA_FIELDS, ("id", "upn"),
                                 fix=f"export with: {ENTRA_CSV_COMMAND}")
    if not len(raw):
        raise InputError(doc.path, "the file has a header but no rows", fix=f"export with: {ENTRA_CSV_COMMAND}")
    fixes = {"*": f"join list properties in Select-Object, as in: {ENTRA_CSV_COMMAND}"}
    # the object-valued columns are checked once it is known the export asked for them (below)
    powershell_csv.check_placeholders(doc.path, raw, parsed.lines,
                                      [h for f, h in found.items() if f not in _OBJECTS], fixes)
    frame = pd.DataFrame({f: powershell_csv.column(raw, found, f) for f in ENTRA_FIELDS
                          if f not in _LISTS and f not in _OBJECTS})
    for f in _LISTS:
        values = powershell_csv.column(raw, found, f)
        frame[f] = common.split_list(values, common.detect_separator(values))
    # businessPhones joined with ';': Entra holds one, the first is kept
    frame["business_phone"] = powershell_csv.column(raw, found, "business_phone").str.replace(
        r";.*$", "", regex=True).str.strip()
    extra = entra_objects.csv_columns(raw, parsed.headers)
    for name, values in extra.items():
        frame[name] = values
    source = f"{doc.name} (Get-MgUser Export-Csv, {doc.encoding})"
    carried = {f: f in found for f in ENTRA_FIELDS if f not in ("id", *_OBJECTS)}
    carried.update({c: c in extra for c in entra_objects.EXPANDED})
    carried["business_phone"] = "business_phone" in found
    if "account_enabled" in found and powershell_csv.blank(frame["account_enabled"]).all():
        # Graph returns accountEnabled for every user it is asked for; blank everywhere means Get-MgUser ran
        # without -Property and Export-Csv wrote every model property, empty (docs/domain.md §8)
        carried.update({f: False for f in carried if f not in _DEFAULT_SELECT and f in frame
                        and powershell_csv.blank(frame[f] if f not in _LISTS else
                                                 powershell_csv.column(raw, found, f)).all()})
    coverage = presence.all_exported("entra_users", source, carried)
    _refuse_missing(doc.path, coverage, ENTRA_CSV_COMMAND, "Get-MgUser returns OnPremisesImmutableId only when "
                    "-Property names it")
    powershell_csv.check_placeholders(doc.path, raw, parsed.lines,
                                      [h for f, h in found.items() if f in _OBJECTS], fixes)
    return _finish(doc.path, source, frame, pd.Series(parsed.lines), schema.empty("rejected"), None, coverage)


def _finish(path: Path, source: str, frame: pd.DataFrame, lines: pd.Series, rej: pd.DataFrame,
            wrong: pd.Series | None, coverage: Coverage) -> ReadResult:
    reason = wrong if wrong is not None else pd.Series(np.nan, index=frame.index, dtype="str")
    for f in _BOOLS:
        flags = common.bool_text(frame[f])
        odd = flags.isna().to_numpy() & ~powershell_csv.blank(frame[f])
        reason = common.add_reason(reason, odd, lambda rows, f=f: f"{_NAMES[f]} '"
                                   + frame[f].iloc[rows].str.slice(0, 40) + "' is not True or False")
        frame[f] = flags
    raw_id = frame["id"]
    frame["id"] = anchors.normalize_guid_series(raw_id)
    reason = common.add_reason(reason, ~powershell_csv.blank(raw_id) & frame["id"].isna().to_numpy(),
                               lambda rows: "id '" + raw_id.iloc[rows].str.slice(0, 60) + "' is not a GUID")
    reason = common.reject_incomplete(frame.assign(id=frame["id"].fillna(raw_id)),
                                      {"id": "id", "upn": "userPrincipalName"}, ("id",), reason)
    bad = reason.notna().to_numpy()
    key = raw_id.fillna(frame["upn"])
    rej = common.concat([rej, common.rejected("entra_users", source, bad, reason, line=lines, key=key)],
                        "rejected")
    if bad.all():
        raise common.all_bad(path, "Entra users", rej, len(frame))
    return ReadResult({"entra_users": schema.conform("entra_users", common.kept(frame, ~bad))}, rej, source,
                      coverage=coverage)
