"""The takeover and Exchange columns in every export reader: Get-ADUser CSV, LDIF, Graph JSON (nested objects),
Get-MgUser CSV and Get-EXOMailbox CSV; and what each export carried, so that a column it lacks is not empty."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import pytest
from support.export_files import powershell_csv

from hybridx_nb.core.errors import InputError
from hybridx_nb.snapshot.carried import carried_columns
from hybridx_nb.sources.files.ad_csv import read_ad_csv
from hybridx_nb.sources.files.entra_export import read_entra
from hybridx_nb.sources.files.exo_export import read_exo
from hybridx_nb.sources.files.exports import read_exports
from hybridx_nb.sources.files.ldif import read_ldif

GUID = "3ab39606-c642-489b-84b6-58c038d3ef39"
MBX = "5d6a8f3c-1b2e-4c7d-9a0b-112233445566"
LEGACY = "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=4c1e0a-ada"


def test_ad_csv_with_exchange_columns(tmp_path: Path) -> None:
    headers = ["DistinguishedName", "ObjectGUID", "SamAccountName", "UserPrincipalName", "Enabled", "ObjectClass",
               "DisplayName", "mail", "Title", "Department", "physicalDeliveryOfficeName", "l", "c", "co",
               "telephoneNumber", "employeeID", "Manager", "extensionAttribute1", "msExchHideFromAddressLists",
               "msExchRecipientTypeDetails", "homeMDB", "legacyExchangeDN", "msExchMailboxGuid", "proxyAddresses"]
    row = ["CN=Ada,OU=Staff,DC=contoso,DC=com", GUID, "ada", "ada@contoso.com", "True", "user", "Ada", "",
           "Counsel", "Legal", "Redmond B2", "Redmond", "US", "United States", "+1 425 555 0100", "E000100",
           "CN=Boss,OU=Staff,DC=contoso,DC=com", "CC-LEG", "True", "1", "CN=DB01,CN=Databases,DC=contoso,DC=com",
           "/o=Contoso/cn=Recipients/cn=ada", MBX, "SMTP:ada@contoso.com;X500:" + LEGACY]
    path = tmp_path / "ad.csv"
    path.write_bytes(powershell_csv(headers, [row]))
    result = read_ad_csv(path)
    ada = result.tables["ad_users"].iloc[0]
    assert (ada.title, ada.department, ada.office, ada.city, ada.country_code, ada.country) == (
        "Counsel", "Legal", "Redmond B2", "Redmond", "US", "United States")
    assert (ada.telephone_number, ada.employee_id, ada.extension_attribute_1) == ("+1 425 555 0100", "E000100",
                                                                                   "CC-LEG")
    assert ada.manager == "CN=Boss,OU=Staff,DC=contoso,DC=com" and ada.hide_from_address_lists
    assert (ada.recipient_type_details, ada.exchange_guid) == ("1", MBX) and ada.home_mdb.startswith("CN=DB01")
    status = result.coverage.attributes["ad_users"]
    assert all(status[c] == "exported" for c in ("title", "mail", "manager", "exchange_guid", "extension_attribute_1"))
    assert all(status[c] == "missing" for c in ("mobile", "company", "archive_guid", "extension_attribute_2"))
    snap = read_exports(ad=path, entra=_graph_file(tmp_path))
    assert "company" not in carried_columns(snap, "ad_users") and "mail" in carried_columns(snap, "ad_users")


def test_ad_csv_refuses_unconverted_mailbox_guid(tmp_path: Path) -> None:
    path = tmp_path / "ad.csv"
    path.write_bytes(powershell_csv(["DistinguishedName", "ObjectGUID", "msExchMailboxGuid"],
                                    [["CN=Ada,DC=contoso,DC=com", GUID, "System.Byte[]"]]))
    with pytest.raises(InputError, match=r"\[guid\]\$_.msExchMailboxGuid"):
        read_ad_csv(path)


def test_ldif_binary_mailbox_guid_and_attributes(tmp_path: Path) -> None:
    mbx = base64.b64encode(uuid.UUID(MBX).bytes_le).decode()
    path = tmp_path / "ad.ldf"
    path.write_text("\n".join([
        "dn: CN=Ada,OU=Staff,DC=contoso,DC=com", "objectClass: user",
        f"objectGUID:: {base64.b64encode(uuid.UUID(GUID).bytes_le).decode()}", "title: Counsel",
        "manager: CN=Boss,OU=Staff,DC=contoso,DC=com", f"msExchMailboxGuid:: {mbx}",
        "msExchRecipientTypeDetails: 2147483648", "msExchRemoteRecipientType: 4",
        "targetAddress: SMTP:ada@contoso.mail.onmicrosoft.com", "msExchHideFromAddressLists: FALSE", ""]),
        encoding="utf-8")
    result = read_ldif(path)
    ada = result.tables["ad_users"].iloc[0]
    assert ada.exchange_guid == MBX and ada.remote_recipient_type == "4" and ada.title == "Counsel"
    assert ada.hide_from_address_lists is False or not ada.hide_from_address_lists
    status = result.coverage.attributes["ad_users"]
    assert all(status[c] == "exported" for c in ("title", "manager", "exchange_guid", "target_address"))
    assert status["department"] == "missing"  # no record has it and no ldifde -l names it: not exported


def _graph_file(tmp_path: Path, **extra: object) -> Path:
    user = {"id": "aaaaaaaa-0000-4000-8000-000000000001", "userPrincipalName": "ada@contoso.com",
            "mail": "ada@contoso.com", "onPremisesImmutableId": None, "jobTitle": "Counsel",
            "businessPhones": ["+1 425 555 0100"],
            "usageLocation": "US", "showInAddressList": None,
            "onPremisesExtensionAttributes": {f"extensionAttribute{i}": None for i in range(1, 16)} | {
                "extensionAttribute1": "CC-LEG"},
            "assignedPlans": [{"assignedDateTime": "2024-03-04T09:15:27Z", "capabilityStatus": "Enabled",
                               "service": "exchange", "servicePlanId": "efb87545-963c-4e0d-99df-69c6916d9eb0"},
                              {"assignedDateTime": "2024-03-04T09:15:27Z", "capabilityStatus": "Enabled",
                               "service": "SharePoint", "servicePlanId": "5dbe027f-2339-4123-9542-606e4d348a72"}],
            "provisionedPlans": [{"capabilityStatus": "Enabled", "provisioningStatus": "Success",
                                  "service": "exchange"}],
            "manager": {"@odata.type": "#microsoft.graph.user", "id": "aaaaaaaa-0000-4000-8000-000000000002"},
            **extra}
    boss = {k: None for k in user} | {"id": "aaaaaaaa-0000-4000-8000-000000000002",
                                      "userPrincipalName": "boss@contoso.com", "assignedPlans": [],
                                      "provisionedPlans": [], "businessPhones": []}
    del boss["manager"]  # Graph leaves manager out of a user without one
    path = tmp_path / "entra.json"
    path.write_text(json.dumps({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users", "value":
                                [user, boss]}), encoding="utf-8")
    return path


def test_graph_json_nested_objects(tmp_path: Path) -> None:
    result = read_entra(_graph_file(tmp_path))
    users = result.tables["entra_users"].set_index("upn")
    ada, boss = users.loc["ada@contoso.com"], users.loc["boss@contoso.com"]
    assert (ada.job_title, ada.business_phone, ada.usage_location, ada.extension_attribute_1) == (
        "Counsel", "+1 425 555 0100", "US", "CC-LEG")
    assert ada.manager_id == "aaaaaaaa-0000-4000-8000-000000000002" and not isinstance(boss.manager_id, str)
    assert (ada.exchange_assigned, ada.exchange_provisioned) == ("Enabled", "Success")
    status = result.coverage.attributes["entra_users"]
    assert all(status[c] == "exported" for c in ("job_title", "show_in_address_list", "extension_attribute_15",
                                                  "manager_id", "exchange_provisioned"))
    assert status["department"] == "missing"  # not in $select


def test_exo_csv(tmp_path: Path) -> None:
    headers = ["ExternalDirectoryObjectId", "UserPrincipalName", "PrimarySmtpAddress", "RecipientTypeDetails",
               "ExchangeGuid", "ArchiveGuid", "LegacyExchangeDN", "EmailAddresses", "Alias", "DisplayName"]
    rows = [["aaaaaaaa-0000-4000-8000-000000000001", "ada@contoso.com", "ada@contoso.com", "UserMailbox", MBX,
             "00000000-0000-0000-0000-000000000000", LEGACY,
             "SMTP:ada@contoso.com;smtp:ada@contoso.mail.onmicrosoft.com", "ada", "Ada"],
            ["", "room@contoso.com", "room@contoso.com", "RoomMailbox", MBX, "", "", "", "room", "Room"]]
    path = tmp_path / "exo.csv"
    path.write_bytes(powershell_csv(headers, rows))
    result = read_exo(path)
    ada = result.tables["exo_mailboxes"].iloc[0]
    assert (ada.exchange_guid, ada.legacy_exchange_dn, ada.recipient_type_details) == (MBX, LEGACY, "UserMailbox")
    assert not isinstance(ada.archive_guid, str)  # all zeros: no archive
    assert list(ada.email_addresses) == ["SMTP:ada@contoso.com", "smtp:ada@contoso.mail.onmicrosoft.com"]
    assert result.rejected["reason"].tolist() == ["missing ExternalDirectoryObjectId"]
    bad = tmp_path / "bad.csv"
    bad.write_bytes(powershell_csv(["ExternalDirectoryObjectId", "EmailAddresses"],
                                   [["aaaaaaaa-0000-4000-8000-000000000001", "System.Collections.ArrayList"]]))
    with pytest.raises(InputError, match="EmailAddresses -join"):
        read_exo(bad)
