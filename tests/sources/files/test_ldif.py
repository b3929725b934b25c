"""AD objects from LDIF (ldifde, ldapsearch -LLL): folding, base64, multi-valued attributes, classes."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pandas as pd
import pytest
from support import DATA
from support.export_files import fold, synthetic_ldif

from hybridx_nb.core import anchors
from hybridx_nb.core.errors import InputError
from hybridx_nb.sources.files.ldif import read_ldif

ADA, GRACE = "3ab39606-c642-489b-84b6-58c038d3ef39", "a15df3dc-4416-414b-8b7d-5fbdcb5743c1"
ZOE = "f7cc07d7-7c15-447d-876d-c01b0e5a9e38"


def _b64(text: str | bytes) -> str:
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


def _write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "ad.ldf"
    path.write_bytes(text.encode(encoding))
    return path


def test_ldifde_sample_routes_users_groups_and_computers() -> None:
    result = read_ldif(DATA / "ad-ldifde.ldf")
    users = result.tables["ad_users"]
    assert list(users["object_guid"]) == [ADA] and users.loc[0, "enabled"]
    assert list(users.loc[0, "proxy_addresses"]) == ["SMTP:ada@contoso.com", "smtp:ada.lovelace@contoso.com"]
    assert users.loc[0, "source_line"] == 2  # ldifde starts with a blank line
    group = result.tables["ad_mail_objects"].iloc[0]
    assert (group.object_class, group.mail) == ("group", "sales@contoso.com")
    assert result.rejected[["line", "key", "reason"]].values.tolist() == [
        [20, "CN=WKS-0042,OU=Computers,DC=contoso,DC=com", "not a user object (computer)"]]
    assert result.source == "ad-ldifde.ldf (ldifde, UTF-8)"


def test_ldapsearch_sample_folding_base64_text_and_multi_values() -> None:
    result = read_ldif(DATA / "ad-ldapsearch.ldif")
    users = result.tables["ad_users"].set_index("sam_account_name")
    grace, juergen = users.loc["grace"], users.loc["jmueller"]
    assert grace.object_guid == GRACE and grace.consistency_guid == "3PNdoRZES0GLfV+9y1dDwQ=="
    assert list(grace.proxy_addresses)[1] == \
        "smtp:grace.hopper.with.a.really.long.alias.that.folds@contoso.mail.onmicrosoft.com"
    assert not grace.enabled and juergen.enabled  # userAccountControl 514 / 66048
    assert juergen.dn == "CN=Müller\\, Jürgen,OU=Staff,DC=contoso,DC=com"  # dn:: base64 of UTF-8
    assert (juergen.display_name, juergen.object_class) == ("Müller, Jürgen", "inetOrgPerson")
    assert list(users["source_line"]) == [1, 19]
    contact = result.tables["ad_mail_objects"].iloc[0]
    assert (contact.object_class, contact.mail) == ("contact", "partner@fabrikam.com")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_version_comments_crlf_and_encodings(tmp_path: Path, encoding: str) -> None:
    guid_line = fold("objectGUID:: " + anchors.guid_to_immutable_id(ADA), width=20)  # base64 folded mid-value
    text = "\r\n".join(["# exported by ldapsearch", "version: 1", "", "# entry 1",
                        "dn: CN=Ada,DC=contoso,DC=com", "OBJECTCLASS: user", guid_line.replace("\n", "\r\n"),
                        "description: a comment-like # value", "", ""])
    result = read_ldif(_write(tmp_path, text, encoding))
    user = result.tables["ad_users"].iloc[0]
    assert (user.dn, user.object_guid, user.source_line) == ("CN=Ada,DC=contoso,DC=com", ADA, 5)


def test_attribute_forms_samba_text_guid_and_consistency_guid_text(tmp_path: Path) -> None:
    text = "\n".join([
        "dn: CN=Ada,DC=contoso,DC=com", "objectClass: top", "objectClass: user",
        f"objectGUID: {ADA.upper()}",  # Samba's ldbsearch prints the GUID as text
        f"ms-ds-consistencyguid: {GRACE}",  # text value: the attribute holds these 36 ASCII bytes
        "proxyAddresses: SMTP:a@contoso.com", "proxyaddresses: smtp:b@contoso.com",
        "givenName:: " + _b64("Zoë"), ""])
    user = read_ldif(_write(tmp_path, text)).tables["ad_users"].iloc[0]
    assert user.object_guid == ADA
    assert user.consistency_guid == _b64(GRACE)  # the wrong-form value docs/domain.md §1 names, kept as bytes
    assert list(user.proxy_addresses) == ["SMTP:a@contoso.com", "smtp:b@contoso.com"]
    assert user.given_name == "Zoë"


def test_bad_records_are_rejected_with_reason(tmp_path: Path) -> None:
    text = "\n".join([
        "dn: CN=Ada,DC=contoso,DC=com", f"objectGUID:: {anchors.guid_to_immutable_id(ADA)}", "objectClass: user",
        "",
        "dn: CN=Short,DC=contoso,DC=com", "objectGUID:: " + _b64(b"fifteen bytes!!"), "",
        "dn: CN=NoGuid,DC=contoso,DC=com", "objectClass: user", "",
        "dn: CN=BadText,DC=contoso,DC=com", f"objectGUID:: {anchors.guid_to_immutable_id(GRACE)}",
        "displayName:: //79", "",
        "ref: ldap://ForestDnsZones.contoso.com/DC=ForestDnsZones,DC=contoso,DC=com", "",
        "dn: CN=Ada again,DC=contoso,DC=com", f"objectGUID:: {anchors.guid_to_immutable_id(ADA)}",
        "objectClass: user", "",
        "dn: CN=NoClass,DC=contoso,DC=com", f"objectGUID:: {anchors.guid_to_immutable_id(ZOE)}", "",
        "changetype: add", ""])
    result = read_ldif(_write(tmp_path, text))
    assert list(result.tables["ad_users"]["dn"]) == ["CN=Ada,DC=contoso,DC=com"]
    reasons = dict(zip(result.rejected["line"], result.rejected["reason"]))
    assert reasons[5].startswith("objectGUID '") and reasons[5].endswith("' is not a GUID")
    assert reasons[8] == "missing objectGUID"
    assert reasons[11] == "displayName:: is not base64 of UTF-8 text"
    assert 15 not in reasons  # a search reference is protocol, not an object: skipped without a row
    assert reasons[17] == "duplicate objectGUID (first on line 1)"
    assert reasons[21].startswith("no objectClass in this record")
    assert reasons[24] == "LDIF record without a dn (a search reference?)"


def test_malformed_line_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        read_ldif(_write(tmp_path, "dn: CN=a,DC=x\nthis line has no colon\n"))
    assert err.value.line == 2 and "not an LDIF line" in err.value.problem
    with pytest.raises(InputError, match="empty"):
        read_ldif(_write(tmp_path, "\n\n"))
    with pytest.raises(InputError, match="no LDIF records"):
        read_ldif(_write(tmp_path, "# only a comment\nversion: 1\n"))


def test_every_record_bad_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="none of the 2 AD objects"):
        read_ldif(_write(tmp_path, "dn: CN=a,DC=x\nobjectClass: computer\n\ndn: CN=b,DC=x\n"))


def test_synthetic_file_matches_its_generator(tmp_path: Path) -> None:
    result = read_ldif(_write(tmp_path, synthetic_ldif(300)))
    users = result.tables["ad_users"]
    assert len(users) == 300 and result.rejected.empty
    assert users["object_guid"].map(lambda g: str(uuid.UUID(g))).equals(users["object_guid"])
    assert users["proxy_addresses"].list.len().eq(2).all()
    assert users.loc[0, "surname"] == "Müller0" and pd.notna(users.loc[0, "consistency_guid"])
    assert users["source_line"].is_monotonic_increasing


_FOLDED = ["version: 1", "", "# a comment that is", " folded", "dn: CN=Ada Lovelace,OU=Mathematicians,OU=Staff,DC=cont",
           " oso,DC=com", "objectClass: user", "objectGUID:: BpazOkLGm0iEtljAONPvOQ==",
           "userPrincipalName: ada@contoso.com", "proxyAddresses: SMTP:ada@contoso.com", "proxyAddresses: smtp:ada",
           " @contoso.onmicrosoft.com", "", "dn: CN=Bob,DC=contoso,DC=com", "objectClass: user",
           "objectGUID:: 2IM5HbKbUUqIEYp6uAqDnQ==", "mail: bob", " @contoso", " .com"]


@pytest.mark.parametrize("ends", ["\n", "\r\n", "mixed"])
def test_folds_join_the_same_whatever_the_line_ends(tmp_path: Path, ends: str) -> None:
    path = tmp_path / "folded.ldf"
    if ends == "mixed":
        body = "".join(line + ("\r\n" if i % 2 else "\n") for i, line in enumerate(_FOLDED))
    else:
        body = ends.join(_FOLDED) + ends
    path.write_bytes(body.encode("utf-8"))
    users = read_ldif(path).tables["ad_users"].set_index("upn", drop=False)
    ada = users.loc["ada@contoso.com"]
    assert ada.dn == "CN=Ada Lovelace,OU=Mathematicians,OU=Staff,DC=contoso,DC=com"
    assert list(ada.proxy_addresses) == ["SMTP:ada@contoso.com", "smtp:ada@contoso.onmicrosoft.com"]
    assert ada.source_line == 5  # the physical line its dn starts on
    bob = users[users["dn"] == "CN=Bob,DC=contoso,DC=com"].iloc[0]
    assert bob.mail == "bob@contoso.com" and bob.source_line == 14


@pytest.fixture(scope="module")
def demo_ldif(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from hybridx_nb.demo.tenant import generate, write_exports

    return Path(write_exports(generate(users=1500, seed=5), tmp_path_factory.mktemp("ldif"), ad_format="ldif")["ad"])


@pytest.mark.parametrize("part", [4096, 100_000])
def test_a_big_file_read_in_parts_gives_what_one_piece_gives(demo_ldif: Path, monkeypatch, part: int) -> None:
    from hybridx_nb.sources.files import ldif

    whole = read_ldif(demo_ldif)
    raw = demo_ldif.read_bytes()
    assert ldif._cuts(raw) == [0, len(raw)]
    monkeypatch.setattr(ldif, "_PART", part)
    cuts = ldif._cuts(raw)
    assert len(cuts) > 3 and cuts == sorted(set(cuts)) and cuts[-1] == len(raw)
    assert all(raw[c - 4:c] == b"\r\n\r\n" and raw[c:c + 3] == b"dn:" for c in cuts[1:-1])
    parts = read_ldif(demo_ldif)
    for name in whole.tables:
        pd.testing.assert_frame_equal(parts.tables[name], whole.tables[name])
    pd.testing.assert_frame_equal(parts.rejected, whole.rejected)
    assert parts.coverage == whole.coverage and parts.source == whole.source


def test_a_part_never_starts_on_a_continuation_line(monkeypatch) -> None:
    from hybridx_nb.sources.files import ldif

    monkeypatch.setattr(ldif, "_PART", 8)
    raw = b"dn: CN=A\n\n mail: folded after a blank line\n\ndn: CN=B\nmail: b\n\ndn: CN=C\n"
    cuts = ldif._cuts(raw)
    assert all(raw[c:c + 1] != b" " for c in cuts[1:-1]) and raw.index(b"dn: CN=B") in cuts


def test_a_bad_line_in_a_later_part_names_its_physical_line(demo_ldif: Path, tmp_path: Path,
                                                               monkeypatch) -> None:
    from hybridx_nb.sources.files import ldif

    lines = demo_ldif.read_bytes().split(b"\r\n")
    bad = len(lines) * 3 // 4
    while not lines[bad].startswith(b"mail: "):
        bad += 1
    lines[bad] = b"this line has no colon"
    path = tmp_path / "bad.ldf"
    path.write_bytes(b"\r\n".join(lines))
    monkeypatch.setattr(ldif, "_PART", 4096)
    assert sum(c < sum(len(x) + 2 for x in lines[:bad]) for c in ldif._cuts(path.read_bytes())) > 3
    with pytest.raises(InputError) as err:
        read_ldif(path)
    assert err.value.line == bad + 1
