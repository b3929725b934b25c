"""The LDAP collector against a real Samba AD DC: anchors from the server's own bytes, paging, TLS, binds."""

from __future__ import annotations

import base64
import logging

import certifi
import pytest
from support.samba import (
    ASCII_GUID,
    READER,
    READER_PASSWORD,
    STAFF_OU,
    Directory,
    SambaDC,
    raw_objects,
    samba_dc,
    samba_directory,
)

from hybridx_nb.core import anchors
from hybridx_nb.core.errors import CollectionError
from hybridx_nb.sources.live.config import LdapConfig, Secret
from hybridx_nb.sources.live.ldap_ad import USER_FILTER, collect_ad

pytestmark = [pytest.mark.slow, pytest.mark.samba]
__all__ = ["samba_dc", "samba_directory"]  # fixtures, imported for pytest

PW_ENV = "HYBRIDX_TEST_LDAP_PW"


@pytest.fixture
def reader_cfg(samba_dc: SambaDC, samba_directory: Directory, monkeypatch: pytest.MonkeyPatch) -> LdapConfig:
    """A normal domain user's simple bind over LDAPS with the DC's CA: the documented least privilege."""
    monkeypatch.setenv(PW_ENV, READER_PASSWORD)
    return LdapConfig(name="hybridx.test", urls=[samba_dc.url()], base_dns=[samba_dc.base_dn],
                      user=f"{READER}@hybridx.test", password=Secret(f"env:{PW_ENV}"), ca_file=samba_dc.ca_file,
                      tls_name=samba_dc.tls_name, page_size=500)


@pytest.fixture(scope="module")
def server_users(samba_dc: SambaDC, samba_directory: Directory) -> dict[str, dict[str, list[bytes]]]:
    return raw_objects(samba_dc, USER_FILTER, ["objectGUID", "mS-DS-ConsistencyGuid", "userAccountControl"])


def test_users_match_the_servers_own_bytes(reader_cfg: LdapConfig, server_users: dict, samba_directory: Directory):
    pages: list[tuple[str, int, int]] = []
    result = collect_ad(reader_cfg, lambda *call: pages.append(call))
    users = result.tables["ad_users"].set_index("dn")

    assert len(server_users) > 1200 and set(users.index) == set(server_users)  # paging returned every user
    assert max(p for t, _, p in pages if t == "ad_users") >= 3  # more than two pages of 500
    assert result.rejected.empty
    for dn, raw in server_users.items():
        guid_bytes = raw["objectGUID"][0]
        row = users.loc[dn]
        assert row["object_guid"] == anchors.bytes_to_guid(guid_bytes)
        assert anchors.guid_to_immutable_id(row["object_guid"]) == base64.b64encode(guid_bytes).decode()
        consistency = raw.get("mS-DS-ConsistencyGuid")
        if consistency:
            assert base64.b64decode(row["consistency_guid"]) == consistency[0]  # byte-exact
        else:
            assert row["consistency_guid"] != row["consistency_guid"]  # NaN: empty stays empty


def test_consistency_guid_kinds_and_flags(reader_cfg: LdapConfig, samba_directory: Directory):
    users = collect_ad(reader_cfg).tables["ad_users"].set_index("dn")
    for dn in samba_directory.objectguid_copy:  # stamped with their own objectGUID: the anchors agree
        assert users.loc[dn, "consistency_guid"] == anchors.guid_to_immutable_id(users.loc[dn, "object_guid"])
    assert base64.b64decode(users.loc[samba_directory.ascii_guid_user, "consistency_guid"]) == ASCII_GUID
    other = users.loc[samba_directory.other_guid]
    assert (other["consistency_guid"] != anchors.guid_to_immutable_id_series(other["object_guid"])).all()
    assert users["consistency_guid"].notna().sum() == len(samba_directory.other_guid) + 5 + 1

    assert not users.loc[samba_directory.disabled, "enabled"]
    assert users.loc[samba_directory.staff, "enabled"].all()
    first = users.loc[samba_directory.staff[0]]
    assert first["upn"] == "user0000@hybridx.test" and first["mail"] == "user0000@contoso.example"
    assert list(first["proxy_addresses"]) == ["SMTP:user0000@contoso.example",
                                              "smtp:user0000@contoso.mail.onmicrosoft.com"]
    assert first["object_class"] == "user" and first["domain"] == "hybridx.test"
    assert users.loc[f"CN=krbtgt,CN=Users,{reader_cfg.base_dns[0]}", "is_critical_system_object"]


def test_groups_and_contacts_with_addresses(reader_cfg: LdapConfig, samba_directory: Directory):
    result = collect_ad(reader_cfg)
    mail = result.tables["ad_mail_objects"].set_index("dn")
    assert mail.loc[samba_directory.group, "object_class"] == "group"
    assert "smtp:user0001@contoso.example" in list(mail.loc[samba_directory.group, "proxy_addresses"])
    assert mail.loc[samba_directory.contact, "object_class"] == "contact"
    assert mail.loc[samba_directory.contact, "mail"] == "partner@fabrikam.example"
    assert mail["object_guid"].notna().all()


def test_missing_exchange_attributes_are_recorded(reader_cfg: LdapConfig):
    result = collect_ad(reader_cfg)
    lacks = result.sources["ad_users"].split("schema lacks ", 1)[1]
    for name in ("mailNickname", "targetAddress", "msExchRecipientTypeDetails", "msExchMailboxGuid",
                 "extensionAttribute1"):
        assert name in lacks
    assert result.tables["ad_users"]["mail_nickname"].isna().all()
    # attributes the schema lacks were not exported: not carried, so never compared as empty
    status = result.coverage.attributes["ad_users"]
    assert all(status[c] == "missing" for c in ("mail_nickname", "recipient_type_details", "exchange_guid",
                                                "extension_attribute_1"))
    assert not {"title", "manager", "employee_id", "country_code"} & set(status)  # asked for: exported


def test_takeover_attributes_from_the_server(reader_cfg: LdapConfig, samba_dc: SambaDC, samba_directory: Directory):
    """The attributes the default sync rules flow, as a real DC serves them (Samba has no Exchange schema: the
    Exchange attributes are tested through LDIF and CSV fixtures)."""
    user, boss = samba_directory.staff[7], samba_directory.staff[8]
    values = {"title": "Counsel", "department": "Legal", "company": "Contoso Ltd",
              "physicalDeliveryOfficeName": "Redmond B2", "streetAddress": "1 Contoso Way", "l": "Redmond",
              "st": "WA", "postalCode": "98052", "c": "US", "co": "United States",
              "telephoneNumber": "+1 425 555 0107", "mobile": "+1 206 555 0107", "employeeID": "E000107",
              "facsimileTelephoneNumber": "+1 425 555 0199", "manager": boss}
    conn = samba_dc.admin_connection()
    conn.modify(user, {k: [("MODIFY_REPLACE", [v])] for k, v in values.items()})
    conn.unbind()
    users = collect_ad(reader_cfg).tables["ad_users"].set_index("dn")
    row = users.loc[user]
    assert (row.title, row.department, row.company, row.office, row.street_address, row.city, row.state,
            row.postal_code, row.country_code, row.country) == (
        "Counsel", "Legal", "Contoso Ltd", "Redmond B2", "1 Contoso Way", "Redmond", "WA", "98052", "US",
        "United States")
    assert (row.telephone_number, row.mobile, row.fax, row.employee_id) == (
        "+1 425 555 0107", "+1 206 555 0107", "+1 425 555 0199", "E000107")
    assert row.manager.lower() == boss.lower()
    assert users["title"].isna()[boss]


def test_sync_scope_and_extra_filter(reader_cfg: LdapConfig, samba_directory: Directory):
    reader_cfg.sync_ous = [STAFF_OU]
    reader_cfg.user_filter = "(!(sAMAccountName=gone))"
    users = collect_ad(reader_cfg).tables["ad_users"]
    assert set(users["dn"]) == set(samba_directory.staff) | {samba_directory.ascii_guid_user}


def test_starttls_and_failover(reader_cfg: LdapConfig, samba_dc: SambaDC):
    reader_cfg.urls = ["ldaps://127.0.0.1:9", samba_dc.url("ldap")]  # a dead DC first, then StartTLS
    assert len(collect_ad(reader_cfg).tables["ad_users"]) > 1200


def test_ntlm(reader_cfg: LdapConfig):
    """Samba has no NTLM (Sicily) bind, which Windows DCs have: the client side is checked against the
    MS-NLMP test vector (MD4 from pycryptodome on OpenSSL 3), and Samba's refusal must read clearly."""
    from ldap3.utils.ntlm import NtlmClient

    assert NtlmClient("Domain", "User", "Password").ntowf_v2().hex() == "0c868a403bfd7a93a3001ef22ef02e3f"
    reader_cfg.bind, reader_cfg.user = "ntlm", f"HYBRIDX\\{READER}"
    with pytest.raises(CollectionError, match="does not accept NTLM"):
        collect_ad(reader_cfg)


def test_wrong_ca_fails_clearly(reader_cfg: LdapConfig):
    reader_cfg.ca_file = certifi.where()  # public CAs: none of them issued Samba's certificate
    with pytest.raises(CollectionError, match=r"certificate could not be validated.*ca_file"):
        collect_ad(reader_cfg)


def test_certificate_name_is_checked(reader_cfg: LdapConfig):
    reader_cfg.tls_name = None  # the certificate says hxdc.hybridx.test, the URL an IP address
    with pytest.raises(CollectionError, match="tls_name"):
        collect_ad(reader_cfg)


def test_opt_outs_work_and_warn(reader_cfg: LdapConfig, samba_dc: SambaDC, caplog: pytest.LogCaptureFixture):
    reader_cfg.ca_file = None
    reader_cfg.insecure = True
    with caplog.at_level(logging.WARNING):
        assert len(collect_ad(reader_cfg).tables["ad_users"]) > 1200
    assert "NOT validated" in caplog.text
    caplog.clear()
    reader_cfg.urls, reader_cfg.tls, reader_cfg.insecure = [samba_dc.url("ldap")], "none", False
    with caplog.at_level(logging.WARNING):
        assert len(collect_ad(reader_cfg).tables["ad_users"]) > 1200
    assert "INSECURE" in caplog.text and "unencrypted" in caplog.text


def test_bad_password_and_bad_base(reader_cfg: LdapConfig, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(PW_ENV, "Wr0ng-Secret-Value")
    with pytest.raises(CollectionError, match="invalidCredentials") as info:
        collect_ad(reader_cfg)
    assert "Wr0ng-Secret-Value" not in str(info.value) and f"env:{PW_ENV}" in str(info.value)
    monkeypatch.setenv(PW_ENV, READER_PASSWORD)
    reader_cfg.base_dns = ["OU=Nowhere,DC=hybridx,DC=test"]
    with pytest.raises(CollectionError, match="noSuchObject"):
        collect_ad(reader_cfg)


def test_kerberos_without_gssapi_is_a_clear_error(reader_cfg: LdapConfig):
    try:
        import gssapi  # noqa: F401
        pytest.skip("gssapi is installed here")
    except ImportError:
        pass
    reader_cfg.bind = "kerberos"
    with pytest.raises(CollectionError, match="gssapi"):
        collect_ad(reader_cfg)
