"""Directory readiness rules: each rule on passing and failing values, IdFix's CSV layout, exclusions, uniqueness."""

from __future__ import annotations

import pandas as pd
import pytest
from support.system_objects import SYSTEM  # one list for the engine and the readiness rules

from hybridx_nb.readiness import rules
from hybridx_nb.snapshot.store import build_snapshot

GUIDS = iter(f"00000000-0000-4000-8000-{i:012x}" for i in range(1, 10**6))


def user(name: str = "ann", **fields) -> dict:
    base = {"dn": f"CN={name},OU=Staff,DC=contoso,DC=com", "object_guid": next(GUIDS),
            "upn": f"{name}@contoso.com", "sam_account_name": name, "mail": f"{name}@contoso.com",
            "proxy_addresses": [f"SMTP:{name}@contoso.com"], "display_name": name.title(), "given_name": name.title(),
            "mail_nickname": name}
    base.update(fields)
    return base


def run(users: list[dict], cloud: list[dict] | None = None, mail_objects: list[dict] | None = None,
        **kwargs) -> pd.DataFrame:
    tables = {"ad_users": pd.DataFrame(users)}
    if cloud is not None:
        tables["entra_users"] = pd.DataFrame(cloud)
    if mail_objects is not None:
        tables["ad_mail_objects"] = pd.DataFrame(mail_objects)
    if "domains" in kwargs:
        tables["entra_domains"] = pd.DataFrame(kwargs.pop("domains"))
    return rules.run_rules(build_snapshot(tables), **kwargs)


def found(frame: pd.DataFrame, dn_name: str = "ann") -> set[tuple[str, str]]:
    mine = frame[frame["DISTINGUISHEDNAME"].str.startswith(f"CN={dn_name},")]
    return set(zip(mine["ATTRIBUTE"], mine["ERROR"]))


UPN, PROXY = "userPrincipalName", "proxyAddresses"


@pytest.mark.parametrize("upn, errors, update", [
    ("ann.lee@contoso.com", set(), None),
    ("o'brien@contoso.com", set(), None),  # an apostrophe is allowed in a UPN
    ("ann lee@contoso.com", {"Character", "LocalPart"}, "annlee@contoso.com"),
    ("jörg@contoso.com", {"Character", "LocalPart"}, "joerg@contoso.com"),
    ("ann@contoso.local", {"TopLevelDomain"}, None),
    ("ann@contoso", {"DomainPart", "TopLevelDomain"}, None),
    ("ann", {"Format"}, None),
    ("ann@b@contoso.com", {"Format"}, None),
    ("@contoso.com", {"Format"}, None),
    (".ann@contoso.com", {"LocalPart"}, "ann@contoso.com"),
    ("ann..lee@contoso.com", {"LocalPart"}, "ann.lee@contoso.com"),
    ("ann@con_toso.com", {"DomainPart"}, "ann@contoso.com"),
    ("ann@contoso.c0m", {"DomainPart"}, None),
    ("a" * 65 + "@contoso.com", {"Length"}, None),
    ("ann@" + "d" * 45 + ".com", {"Length"}, None),
    ("a" * 64 + "@" + "d" * 44 + ".com", set(), None),  # exactly 64 + 48
])
def test_upn_rules(upn, errors, update):
    frame = run([user(upn=upn), user("bob")])
    assert {e for a, e in found(frame) if a == UPN} == errors
    if update is not None:
        rows = frame[(frame["ATTRIBUTE"] == UPN) & frame["ERROR"].isin(["Character", "LocalPart", "DomainPart"])]
        assert set(rows["UPDATE"]) == {update}
        assert set(rows["PROPOSEDACTION"]) == {"EDIT"}


@pytest.mark.parametrize("proxies, errors", [
    (["SMTP:ann@contoso.com", "smtp:a.lee@contoso.com", "X500:/o=Org/ou=Admin Group/cn=ann"], set()),
    (["X400:C=US;A= ;P=Org;O=Exchange;S=Lee;G=Ann;"], set()),  # spaces and ';' belong to X400
    (["SMTP:ann lee@contoso.com"], {"Character", "LocalPart"}),
    (["SMTP:ann;lee@contoso.com"], {"Character", "LocalPart"}),
    (["sip:ann lee@contoso.com"], {"Character"}),  # not SMTP: no address checks
    (["X500:/o=Org\tcn=ann"], {"Character"}),
    (["SMTP:ann@contoso.local"], {"TopLevelDomain"}),
    (["smtp:ann"], {"Format"}),
    (["ann@contoso.com"], {"Format"}),  # no type prefix
    (["smtp:" + "a" * 246 + "@x.com"], {"Length"}),  # 257 characters
    (["smtp:" + "a" * 245 + "@x.com"], set()),  # 256
])
def test_proxy_rules(proxies, errors):
    frame = run([user(proxy_addresses=proxies), user("bob")])
    assert {e for a, e in found(frame) if a == PROXY} == errors


@pytest.mark.parametrize("field, attribute, value, errors, update", [
    ("mail_nickname", "mailNickname", "ann", set(), None),
    ("mail_nickname", "mailNickname", ".ann", {"Format"}, "ann"),
    ("mail_nickname", "mailNickname", "n" * 65, {"Length"}, "n" * 64),
    ("sam_account_name", "sAMAccountName", "ann", set(), None),
    ("sam_account_name", "sAMAccountName", "an[n]*", {"Character"}, "ann"),
    ("sam_account_name", "sAMAccountName", "s" * 21, {"Length"}, "s" * 20),
    ("display_name", "displayName", "Ann Lee", set(), None),
    ("display_name", "displayName", None, {"Blank"}, "Ann Lee"),
    ("display_name", "displayName", "\u200a\u3000", {"Blank"}, "Ann Lee"),
    ("display_name", "displayName", "d" * 257, {"Length"}, "d" * 256),
    ("given_name", "givenName", "g" * 64, set(), None),
    ("given_name", "givenName", "g" * 65, {"Length"}, "g" * 64),
    ("given_name", "givenName", "😀" * 33, {"Length"}, "😀" * 32),  # 66 UTF-16 units
    ("target_address", "targetAddress", "SMTP:ann@contoso.mail.onmicrosoft.com", set(), None),
    ("target_address", "targetAddress", "SMTP:" + "t" * 251, {"Length"}, None),
    ("mail", "mail", "m" * 251 + "@x.com", {"Length"}, None),  # 257 characters
    ("mail", "mail", "m" * 250 + "@x.com", set(), None),
])
def test_single_valued_rules(field, attribute, value, errors, update):
    extra = {"surname": "Lee", "given_name": "Ann"} if field == "display_name" else {}
    frame = run([user(**{**extra, field: value}), user("bob")])
    assert {e for a, e in found(frame) if a == attribute} == errors
    rows = frame[frame["ATTRIBUTE"] == attribute]
    if update is not None:
        assert list(rows["UPDATE"]) == [update]
    elif errors:
        assert rows["UPDATE"].isna().all()


def test_duplicates_case_insensitive_keep_first():
    frame = run([user("ann", upn="Same@contoso.com"), user("bob", upn="same@CONTOSO.com"), user("cid")])
    dup = frame[(frame["ATTRIBUTE"] == UPN) & (frame["ERROR"] == "Duplicate")]
    assert list(dup["DISTINGUISHEDNAME"].str[:6]) == ["CN=ann", "CN=bob"]
    assert list(dup["PROPOSEDACTION"]) == ["COMPLETE", "EDIT"]
    assert list(dup["conflict_with"]) == ["CN=bob,OU=Staff,DC=contoso,DC=com", "CN=ann,OU=Staff,DC=contoso,DC=com"]


def test_proxy_duplicate_compares_address_after_prefix_and_counts_objects():
    ann = user("ann", proxy_addresses=["SMTP:ann@contoso.com", "smtp:ANN@contoso.com"])  # twice on one object
    bob = user("bob", proxy_addresses=["SMTP:bob@contoso.com", "smtp:shared@contoso.com"])
    cid = user("cid", proxy_addresses=["SMTP:Shared@contoso.com"])
    frame = run([ann, bob, cid])
    assert (PROXY, "Duplicate") not in found(frame, "ann")
    dup = frame[frame["ERROR"] == "Duplicate"]
    assert set(zip(dup["DISTINGUISHEDNAME"].str[3:6], dup["PROPOSEDACTION"])) == {("bob", "COMPLETE"),
                                                                                  ("cid", "EDIT")}


def test_proxy_shared_with_contact_is_duplicate_and_object_type_mismatch():
    contact = {"dn": "CN=Ext Ann,OU=Contacts,DC=contoso,DC=com", "object_class": "contact",
               "proxy_addresses": ["SMTP:ann.alias@contoso.com"]}
    ann = user(proxy_addresses=["SMTP:ann@contoso.com", "smtp:ann.alias@contoso.com"])
    frame = run([ann], mail_objects=[contact])
    rows = frame[frame["VALUE"] == "smtp:ann.alias@contoso.com"].set_index("ERROR")
    assert set(rows.index) == {"Duplicate", "ObjectTypeMismatch"}
    assert set(rows["PROPOSEDACTION"]) == {"REMOVE"}
    assert set(rows["conflict_with"]) == {contact["dn"]}


def test_mail_duplicate_with_group():
    group = {"dn": "CN=Sales,OU=Groups,DC=contoso,DC=com", "object_class": "group", "mail": "ANN@contoso.com"}
    frame = run([user()], mail_objects=[group])
    assert ("mail", "Duplicate") in found(frame)


@pytest.mark.parametrize("count, expected", [(300, False), (301, True)])
def test_large_object(count, expected):
    proxies = ["SMTP:ann@contoso.com"] + [f"smtp:ann{i}@contoso.com" for i in range(count - 1)]
    frame = run([user(proxy_addresses=proxies)])
    assert ((PROXY, "LargeObject") in found(frame)) is expected
    if expected:
        assert frame.loc[frame["ERROR"] == "LargeObject", "VALUE"].item() == "301 proxy addresses"




def test_system_accounts_are_skipped():
    bad = {"upn": "bad value@contoso.local", "mail": "x@contoso.com", "proxy_addresses": ["nope"], "display_name": None}
    frame = run([user(**{**bad, **s}) for s in SYSTEM] + [user("ann")])
    assert frame.empty


def test_cloud_conflict_excludes_the_matched_pair():
    ann = user("ann", proxy_addresses=["SMTP:ann@contoso.com", "smtp:sales@contoso.com"])
    cloud = [{"id": "c-ann", "upn": "ann@contoso.com", "proxy_addresses": ["SMTP:ann@contoso.com"]},
             {"id": "c-sales", "upn": "sales.box@contoso.com", "proxy_addresses": ["SMTP:SALES@contoso.com"]}]
    pairs = pd.DataFrame({"ad_dn": [ann["dn"]], "entra_id": ["c-ann"]})
    frame = run([ann], cloud=cloud, pairs=pairs)
    conflicts = frame[frame["ERROR"] == "AttributeValueMustBeUnique"]
    assert list(zip(conflicts["ATTRIBUTE"], conflicts["VALUE"], conflicts["conflict_with"],
                    conflicts["PROPOSEDACTION"])) == [(PROXY, "smtp:sales@contoso.com", "sales.box@contoso.com",
                                                       "REMOVE")]
    unpaired = run([ann], cloud=cloud, pairs=pairs.iloc[:0])
    assert set(unpaired.loc[unpaired["ERROR"] == "AttributeValueMustBeUnique", "ATTRIBUTE"]) == {UPN, "mail", PROXY}


def test_cloud_conflict_guesses_pairs_without_engine():
    """Without pairs, the cloud user an AD user soft-matches (primary SMTP, else UPN) is its own, any other one
    holding its UPN is a conflict."""
    ann = user("ann", upn="ann@contoso.com", proxy_addresses=["SMTP:ann.lee@contoso.com"], mail="ann.lee@contoso.com")
    cloud = [{"id": "c1", "upn": "ann.lee@contoso.onmicrosoft.com", "proxy_addresses": ["SMTP:ann.lee@contoso.com"]},
             {"id": "c2", "upn": "ann@contoso.com"}]
    frame = run([ann], cloud=cloud)
    conflicts = frame[frame["ERROR"] == "AttributeValueMustBeUnique"]
    assert list(zip(conflicts["ATTRIBUTE"], conflicts["conflict_with"])) == [(UPN, "ann@contoso.com")]


def test_verified_domains_decide_routability_and_propose_the_default():
    domains = [{"name": "contoso.onmicrosoft.com", "is_verified": True, "is_initial": True},
               {"name": "Contoso.com", "is_verified": True, "is_default": True},
               {"name": "fabrikam.com", "is_verified": False}]
    users = [user("ann", upn="ann@fabrikam.com"), user("bob", upn="bob@eu.contoso.com"), user("cid")]
    frame = run(users, domains=domains)
    tld = frame[(frame["ERROR"] == "TopLevelDomain") & (frame["ATTRIBUTE"] == UPN)]
    assert list(zip(tld["VALUE"], tld["UPDATE"])) == [("ann@fabrikam.com", "ann@contoso.com")]
    overridden = run(users, domains=domains, routable_domains=["fabrikam.com"])
    tld = overridden[(overridden["ERROR"] == "TopLevelDomain") & (overridden["ATTRIBUTE"] == UPN)]
    assert set(tld["DISTINGUISHEDNAME"].str[3:6]) == {"bob", "cid"}


def test_idfix_csv_layout(tmp_path):
    ann = user("ann", dn="CN=Lee\\, Ann,OU=Staff,DC=contoso,DC=com", upn='ann "x"@contoso.com')
    frame = run([ann], rules=[r for r in rules.RULES if r.name == "upn_character"])
    path = tmp_path / "readiness.csv"
    rules.to_idfix_csv(frame, path)
    assert path.read_bytes() == (
        b"\xef\xbb\xbfDISTINGUISHEDNAME,COMMONNAME,OBJECTCLASS,ATTRIBUTE,ERROR,VALUE,UPDATE,PROPOSEDACTION,ACTION\r\n"
        b'"CN=Lee\\, Ann,OU=Staff,DC=contoso,DC=com","Lee, Ann",user,userPrincipalName,Character,'
        b'"ann ""x""@contoso.com",annx@contoso.com,EDIT,\r\n')
    assert list(frame.columns) == list(rules.READINESS_COLUMNS)
    assert frame["rule"].item() == "upn_character" and frame["description"].item()


def test_rules_are_well_formed():
    names = [r.name for r in rules.RULES]
    assert len(names) == len(set(names))
    errors = {"Character", "Format", "TopLevelDomain", "DomainPart", "LocalPart", "Length", "Duplicate", "Blank",
              "AttributeValueMustBeUnique", "ObjectTypeMismatch", "LargeObject"}
    assert {r.error for r in rules.RULES} == errors
    assert all(r.description and r.attribute for r in rules.RULES)


def test_empty_snapshot_and_bad_pairs():
    frame = rules.run_rules(build_snapshot({}))
    assert frame.empty and list(frame.columns) == list(rules.READINESS_COLUMNS)
    with pytest.raises(ValueError, match="ad_dn"):
        rules.run_rules(build_snapshot({}), pairs=pd.DataFrame({"dn": []}))


def test_factorize_all_gives_equal_keys_equal_codes_across_segments_and_reused_rows():
    import numpy as np
    import pyarrow as pa

    from hybridx_nb.readiness import views

    upn = (np.array([0, 1, 3]), pa.array(["a@x", "b@x", "c@x"], pa.large_string()))
    mail = (np.array([0, 1, 2, 3]), pa.array(["a@x", "c@x", "d@x", "c@x"], pa.large_string()))  # rows 0, 3 like UPN
    cloud = (np.array([0, 1]), pa.array(["d@x", "b@x"], pa.large_string()))
    (u, m, c), n = views.factorize_all([upn, mail, cloud], like={1: 0})
    assert n == 4
    assert m[0] == u[0] and m[1] == u[2] == m[3] and m[2] == c[0] and c[1] == u[1]
    assert len({u[0], u[1], u[2], m[2]}) == 4
