"""AD users from Get-ADUser | Export-Csv: encodings, #TYPE line, synonyms, placeholders, bad rows."""

from __future__ import annotations

import string
import uuid
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import DATA
from support.export_files import AD_HEADERS, ENCODINGS, powershell_csv

from hybridx_nb.core import anchors
from hybridx_nb.core.errors import InputError
from hybridx_nb.sources.files.ad_csv import read_ad_csv

pytestmark = pytest.mark.usefixtures("reading")  # in memory and streamed (tests/conftest.py)

ADA, GRACE, JUERGEN = ("3ab39606-c642-489b-84b6-58c038d3ef39", "a15df3dc-4416-414b-8b7d-5fbdcb5743c1",
                       "f7cc07d7-7c15-447d-876d-c01b0e5a9e38")


def _row(guid: str = ADA, dn: str = "CN=Ada Lovelace,OU=Staff,DC=contoso,DC=com", cg: str = "",
         proxies: str = "SMTP:ada@contoso.com", **kw: str) -> list[str]:
    values = {"DistinguishedName": dn, "ObjectGUID": guid, "SamAccountName": "ada",
              "UserPrincipalName": "ada@contoso.com", "mail": "ada@contoso.com", "DisplayName": "Ada Lovelace",
              "GivenName": "Ada", "Surname": "Lovelace", "Enabled": "True", "ObjectClass": "user",
              "mS-DS-ConsistencyGuid": cg, "proxyAddresses": proxies} | kw
    return [values[h] for h in AD_HEADERS]


def _write(tmp_path: Path, rows: list[list[str]], headers: list[str] = AD_HEADERS, **kw: object) -> Path:
    path = tmp_path / "ad.csv"
    path.write_bytes(powershell_csv(headers, rows, **kw))
    return path


def test_sample_file_gives_canonical_values() -> None:
    result = read_ad_csv(DATA / "ad.csv")
    users = result.tables["ad_users"].set_index("sam_account_name")
    assert len(users) == 5 and result.rejected.empty
    assert users.loc["ada", "object_guid"] == ADA
    assert users.loc["jmueller", "object_guid"] == JUERGEN  # upper case in the file
    assert pd.isna(users.loc["ada", "consistency_guid"])
    assert users.loc["grace", "consistency_guid"] == "3PNdoRZES0GLfV+9y1dDwQ=="  # base64 kept
    assert users.loc["jmueller", "consistency_guid"] == "1wfM9xV8fUSHbcAbDlqeOA=="  # {GUID} → base64 of bytes_le
    assert list(users.loc["ada", "proxy_addresses"]) == [
        "SMTP:ada@contoso.com", "smtp:ada.lovelace@contoso.com", "smtp:ada@contoso.onmicrosoft.com"]
    assert list(users.loc["krbtgt", "proxy_addresses"]) == []
    assert users.loc["jmueller", "display_name"] == "Müller, Jürgen"
    assert users.loc["jmueller", "object_class"] == "inetOrgPerson"
    assert not users.loc["jmueller", "enabled"] and users.loc["ada", "enabled"]
    assert users.loc["krbtgt", "is_critical_system_object"]
    assert users.loc["aturing", "target_address"] == "SMTP:alan@contoso.mail.onmicrosoft.com"
    assert set(users["domain"]) == {"contoso.com"}
    assert list(users["source_line"]) == [2, 3, 4, 5, 6]
    assert result.source == "ad.csv (Get-ADUser Export-Csv, UTF-8)"


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("type_line", [False, True])
def test_encodings_and_type_line_give_the_same_frame(tmp_path: Path, encoding: str, type_line: bool) -> None:
    text = (DATA / "ad.csv").read_text(encoding="utf-8")
    path = tmp_path / "ad.csv"
    header = "#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser\r\n" if type_line else ""
    path.write_bytes((header + text).encode(ENCODINGS[encoding]))
    result = read_ad_csv(path)
    expected = read_ad_csv(DATA / "ad.csv").tables["ad_users"]
    expected["source_line"] += int(type_line)
    pd.testing.assert_frame_equal(result.tables["ad_users"], expected)
    label = {"utf-8": "UTF-8", "utf-8-bom": "UTF-8 with BOM", "utf-16-le": "UTF-16 LE"}[encoding]
    assert result.source.endswith(f"{label})") and ("#TYPE" in result.source) == type_line


def test_utf16_without_bom_is_recognised(tmp_path: Path) -> None:
    path = tmp_path / "ad.csv"
    path.write_bytes((DATA / "ad.csv").read_text(encoding="utf-8").encode("utf-16-le"))
    result = read_ad_csv(path)
    assert len(result.tables["ad_users"]) == 5 and "UTF-16 LE, no BOM" in result.source


def test_headers_match_case_insensitively_with_synonyms(tmp_path: Path) -> None:
    headers = ["dn", "objectguid", "SAMACCOUNTNAME", "userPrincipalName", "EmailAddress", "displayname",
               "givenName", "sn", "enabled", "objectClass", "msDSConsistencyGuid", "ProxyAddresses"]
    path = _write(tmp_path, [_row(cg=GRACE)], headers=headers)
    user = read_ad_csv(path).tables["ad_users"].iloc[0]
    assert (user.dn, user.object_guid, user.mail, user.surname) == (
        "CN=Ada Lovelace,OU=Staff,DC=contoso,DC=com", ADA, "ada@contoso.com", "Lovelace")
    assert user.consistency_guid == anchors.guid_to_immutable_id(GRACE)


def test_proxy_addresses_joined_with_a_pipe_and_semicolon_delimited_file(tmp_path: Path) -> None:
    path = _write(tmp_path, [_row(proxies="SMTP:ada@contoso.com|smtp:ada@contoso.onmicrosoft.com|")],
                  delimiter=";")
    user = read_ad_csv(path).tables["ad_users"].iloc[0]
    assert list(user.proxy_addresses) == ["SMTP:ada@contoso.com", "smtp:ada@contoso.onmicrosoft.com"]


def test_user_account_control_when_there_is_no_enabled_column(tmp_path: Path) -> None:
    headers = ["DistinguishedName", "ObjectGUID", "userAccountControl"]
    path = _write(tmp_path, [["CN=a,DC=x", ADA, "514"], ["CN=b,DC=x", GRACE, "66048"]], headers=headers)
    assert list(read_ad_csv(path).tables["ad_users"]["enabled"]) == [False, True]


@pytest.mark.parametrize("column, placeholder, fix", [
    ("mS-DS-ConsistencyGuid", "System.Byte[]", "[Convert]::ToBase64String"),
    ("proxyAddresses", "Microsoft.ActiveDirectory.Management.ADPropertyValueCollection", "-join ';'"),
])
def test_placeholder_is_an_error_with_the_export_command(tmp_path: Path, column: str, placeholder: str,
                                                         fix: str) -> None:
    rows = [_row(), _row(guid=GRACE, dn="CN=Grace,DC=contoso,DC=com", **{column: placeholder})]
    with pytest.raises(InputError) as err:
        read_ad_csv(_write(tmp_path, rows, type_line=True))
    assert (err.value.line, err.value.column) == (4, column)
    assert placeholder in str(err.value) and "ad.csv" in str(err.value)
    assert fix in err.value.fix and "Export-Csv -Path ad.csv -NoTypeInformation -Encoding UTF8" in err.value.fix


def test_missing_required_column_names_it_and_the_headers_found(tmp_path: Path) -> None:
    path = _write(tmp_path, [["CN=a,DC=x", "a@x"]], headers=["DistinguishedName", "UserPrincipalName"])
    with pytest.raises(InputError, match=r"ObjectGUID.*the header has: DistinguishedName, UserPrincipalName"):
        read_ad_csv(path)


def test_bad_rows_are_rejected_with_reason_and_physical_line(tmp_path: Path) -> None:
    rows = [_row(),
            _row(guid="not-a-guid", dn="CN=Bad,DC=contoso,DC=com", DisplayName="two\nlines"),
            _row(guid=GRACE, dn=""),
            _row(guid=JUERGEN, dn="CN=J,DC=contoso,DC=com", cg="%%%"),
            _row(dn="CN=Ada again,DC=contoso,DC=com"),
            _row(guid=GRACE, dn="CN=WKS1,DC=contoso,DC=com", ObjectClass="computer"),
            _row(guid="b9e1c2d3-0000-4000-8000-000000000001", dn="CN=Team,DC=contoso,DC=com", ObjectClass="group")]
    result = read_ad_csv(_write(tmp_path, rows))
    assert list(result.tables["ad_users"]["dn"]) == ["CN=Ada Lovelace,OU=Staff,DC=contoso,DC=com"]
    assert list(result.tables["ad_mail_objects"]["object_class"]) == ["group"]
    rej = result.rejected.set_index("line")
    assert rej.loc[3, "reason"] == "objectGUID 'not-a-guid' is not a GUID"
    assert rej.loc[5, "reason"] == "missing distinguishedName"  # line 5: the row above spans two lines
    assert rej.loc[6, "reason"] == "mS-DS-ConsistencyGuid '%%%' is neither a GUID nor base64"
    assert rej.loc[7, "reason"] == "duplicate objectGUID (first on line 2)"
    assert rej.loc[8, "reason"] == "not a user object (computer)"
    assert set(rej["table"]) == {"ad_users"} and rej["source"].str.startswith("ad.csv").all()


def test_every_row_bad_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"none of the 2 AD objects.*line 2: objectGUID 'x' is not a GUID"):
        read_ad_csv(_write(tmp_path, [_row(guid="x"), _row(guid="y")]))


def test_empty_file_and_header_only(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"\xef\xbb\xbf\r\n")
    with pytest.raises(InputError, match="empty"):
        read_ad_csv(tmp_path / "empty.csv")
    with pytest.raises(InputError, match="header but no rows"):
        read_ad_csv(_write(tmp_path, []))


def test_ansi_encoded_file_says_how_to_re_export(tmp_path: Path) -> None:
    path = tmp_path / "ad.csv"
    path.write_bytes(powershell_csv(AD_HEADERS, [_row(), _row(guid=GRACE, DisplayName="Jürgen")])
                     .decode("utf-8").encode("cp1252"))
    with pytest.raises(InputError) as err:
        read_ad_csv(path)
    assert err.value.line == 3 and "-Encoding UTF8" in err.value.fix and "not UTF-8" in err.value.problem


# --- round trip: a frame written in PowerShell's dialect reads back to the same canonical values -------------

_text = st.text(alphabet=string.ascii_letters + string.digits + ' ,;"\'äöüßé\n-', min_size=1, max_size=20).map(
    str.strip).filter(bool)
_address = st.from_regex(r"(SMTP|smtp|X500|sip):[a-z0-9.]{1,12}@[a-z]{1,8}\.com", fullmatch=True)


@st.composite
def _users(draw: st.DrawFn) -> list[dict]:
    guids = draw(st.lists(st.uuids(), min_size=1, max_size=8, unique=True))
    users = []
    for guid in guids:
        cg_uuid = draw(st.uuids())
        users.append({"guid": str(guid).upper() if draw(st.booleans()) else str(guid),
                      "dn": f"CN={draw(_text).replace(',', chr(92) + ',')},DC=contoso,DC=com",
                      "name": draw(_text), "proxies": draw(st.lists(_address, max_size=4)),
                      "cg": draw(st.sampled_from(["", "guid", "b64"])), "cg_uuid": str(cg_uuid),
                      "enabled": draw(st.booleans())})
    return users


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(users=_users(), encoding=st.sampled_from(list(ENCODINGS)), sep=st.sampled_from([";", "|"]),
       type_line=st.booleans(), delimiter=st.sampled_from([",", ";"]))
def test_round_trip(tmp_path: Path, users: list[dict], encoding: str, sep: str, type_line: bool,
                    delimiter: str) -> None:
    b64 = anchors.guid_to_immutable_id
    rows = [_row(guid=u["guid"], dn=u["dn"], DisplayName=u["name"], proxies=sep.join(u["proxies"]),
                 Enabled=str(u["enabled"]),
                 cg={"": "", "guid": u["cg_uuid"], "b64": b64(u["cg_uuid"])}[u["cg"]]) for u in users]
    path = _write(tmp_path, rows, encoding=encoding, type_line=type_line, delimiter=delimiter)
    got = read_ad_csv(path).tables["ad_users"]
    assert list(got["object_guid"]) == [str(uuid.UUID(u["guid"])) for u in users]
    assert list(got["dn"]) == [u["dn"] for u in users]
    assert list(got["display_name"]) == [u["name"] for u in users]
    assert [list(p) for p in got["proxy_addresses"]] == [u["proxies"] for u in users]
    assert list(got["enabled"]) == [u["enabled"] for u in users]
    assert [None if pd.isna(v) else v for v in got["consistency_guid"]] == [
        None if not u["cg"] else b64(u["cg_uuid"]) for u in users]
    expected_lines, line = [], 2 + type_line
    for row in rows:
        expected_lines.append(line)
        line += 1 + sum(value.count("\n") for value in row)
    assert list(got["source_line"]) == expected_lines
