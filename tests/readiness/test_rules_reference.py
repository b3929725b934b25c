"""The vectorised readiness rules agree with a plain per-value reference written here from docs/domain.md §6.

The reference reads the snapshot's conformed values one by one with ordinary string methods (no regular
expressions, no pandas) and yields the set of (DN, attribute, error) the rules must report. Data comes from
hypothesis and from a seeded random generator: unicode, whitespace of every kind, umlauts, emoji (two UTF-16
units), long strings around each limit, duplicates in different case, system accounts, groups and contacts,
cloud users and matched pairs.
"""

from __future__ import annotations

import random
import string

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hybridx_nb.readiness import rules
from hybridx_nb.snapshot.store import build_snapshot

# --- the reference ------------------------------------------------------------------------------------------------

WS = set("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
         "\u2028\u2029\u202f\u205f\u3000")
UMLAUTS = set("äëïöüÿÄËÏÖÜŸ")
UPN_BAD = WS | set('\\%&*+/=?{}|<>();:,[]"') | UMLAUTS
SMTP_BAD = WS | set('<>();,[]"')
PROXY_BAD = WS | set('<>(),[]"')
X400_BAD = set('\t\n\v\f\r[]"')
SAM_BAD = set('[]\\"|,/:<>+=;?*')
ATEXT = set(string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-")
LABEL = set(string.ascii_letters + string.digits + "-")
PRIVATE = {"local", "lan", "internal", "corp", "localdomain", "home", "intranet", "private", "test", "example",
           "invalid", "localhost"}
EXACT = {"krbtgt", "guest", "defaultaccount", "support_388945a0"}
PREFIXES = ("healthmailbox", "systemmailbox", "discoverysearchmailbox", "federatedemail", "msol_", "aad_",
            "migration.", "cas_{", "exchange online-applicationaccount", "exchange_online-applicationaccount")


def utf16(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2


def first_rdn(dn: str) -> str:
    """The first RDN's value as written (escapes kept)."""
    value = dn.split("=", 1)[1] if "=" in dn else ""
    out, i = "", 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out, i = out + value[i:i + 2], i + 2
        elif value[i] in ",\\":
            break
        else:
            out, i = out + value[i], i + 1
    return out


def well_known(name: str) -> bool:
    name = name.lower()
    return name in EXACT or name.startswith(PREFIXES) or name.endswith("$")


def is_system(obj: dict) -> bool:
    dn = obj["dn"]
    return (well_known(first_rdn(dn)) or well_known(obj.get("sam_account_name") or "")
            or "\\0acnf:" in dn.lower() or "\ncnf:" in dn or bool(obj.get("is_critical_system_object")))


def split_proxy(value: str) -> tuple[str, str]:
    """(lower-case type, address): the type is what precedes the first colon."""
    if ":" not in value:
        return "", value
    kind, address = value.split(":", 1)
    return kind.lower(), address


def proxy_key(value: str) -> str:
    kind, address = split_proxy(value)
    return address.lower() if kind == "smtp" else value.lower()


def routable(domain: str, verified: list[str] | None) -> bool:
    domain = domain.lower()
    if verified is not None:
        return any(domain == d or domain.endswith("." + d) for d in verified)
    return "." in domain and domain.rsplit(".", 1)[1] not in PRIVATE


def malformed(address: str) -> bool:
    return address.count("@") != 1 or address.startswith("@") or address.endswith("@")


def address_errors(address: str, verified: list[str] | None) -> set[str]:
    if malformed(address):
        return {"Format"}
    local, domain = address.split("@")
    errors = set()
    if not all(atom and set(atom) <= ATEXT for atom in local.split(".")):
        errors.add("LocalPart")
    labels = domain.split(".")
    if not (len(labels) >= 2 and all(lab and set(lab) <= LABEL and lab[0] != "-" and lab[-1] != "-"
                                     for lab in labels[:-1])
            and 2 <= len(labels[-1]) <= 17 and set(labels[-1]) <= set(string.ascii_letters)):
        errors.add("DomainPart")
    if not routable(domain, verified):
        errors.add("TopLevelDomain")
    return errors


def records(frame: pd.DataFrame) -> list[dict]:
    return [{k: (None if isinstance(v, float) else v) for k, v in row.items()} for row in frame.to_dict("records")]


def reference(snap, pairs: set[tuple[str, str]], verified: list[str] | None = None) -> set[tuple[str, str, str]]:
    users = [u for u in records(snap["ad_users"]) if not is_system(u)]
    objects = [o for o in records(snap["ad_mail_objects"]) if not is_system(o)]
    cloud = records(snap["entra_users"])
    out: set[tuple[str, str, str]] = set()

    def holders(values) -> dict[str, set[str]]:
        """key -> set of holders, from (holder, key) pairs."""
        found: dict[str, set[str]] = {}
        for holder, key in values:
            found.setdefault(key, set()).add(holder)
        return found

    object_mail = {o["mail"].lower() for o in objects if o["mail"]}
    object_keys = object_mail | {proxy_key(p) for o in objects for p in o["proxy_addresses"]}
    cloud_keys = holders([(c["id"], c["upn"].lower()) for c in cloud]
                         + [(c["id"], c["mail"].lower()) for c in cloud if c["mail"]]
                         + [(c["id"], split_proxy(p)[1].lower()) for c in cloud for p in c["proxy_addresses"]
                            if split_proxy(p)[0] == "smtp"])
    same = {attr: holders([(u["dn"], key(u[col])) for u in users if u[col] is not None])
            for attr, col, key in (("userPrincipalName", "upn", str.lower), ("mail", "mail", str.lower),
                                   ("mailNickname", "mail_nickname", str.lower),
                                   ("sAMAccountName", "sam_account_name", str.lower))}
    same["proxyAddresses"] = holders([(u["dn"], proxy_key(p)) for u in users for p in u["proxy_addresses"]])

    def unique(dn: str, attribute: str, key: str, others: set[str], cloud_too: bool) -> None:
        if len(same[attribute][key]) > 1 or key in others:
            out.add((dn, attribute, "Duplicate"))
        if cloud_too and any((dn, c) not in pairs for c in cloud_keys.get(key, ())):
            out.add((dn, attribute, "AttributeValueMustBeUnique"))

    for u in users:
        dn = u["dn"]

        def add(attribute: str, error: str, when: bool) -> None:
            if when:
                out.add((dn, attribute, error))

        if (upn := u["upn"]) is not None:
            add("userPrincipalName", "Character", any(ch in UPN_BAD for ch in upn))
            local, _, domain = upn.partition("@")
            add("userPrincipalName", "Length", utf16(upn) > 113
                or (not malformed(upn) and (utf16(local) > 64 or utf16(domain) > 48)))
            out.update((dn, "userPrincipalName", e) for e in address_errors(upn, verified))
            unique(dn, "userPrincipalName", upn.lower(), set(), True)
        if (mail := u["mail"]) is not None:
            add("mail", "Length", utf16(mail) > 256)
            unique(dn, "mail", mail.lower(), object_mail, True)
        for value in u["proxy_addresses"]:
            kind, address = split_proxy(value)
            bad = SMTP_BAD if kind == "smtp" else X400_BAD if kind in ("x400", "x500") else PROXY_BAD
            add("proxyAddresses", "Character", any(ch in bad for ch in address))
            add("proxyAddresses", "Length", utf16(value) > 256)
            add("proxyAddresses", "Format", ":" not in value)
            if kind == "smtp":
                out.update((dn, "proxyAddresses", e) for e in address_errors(address, verified))
            unique(dn, "proxyAddresses", proxy_key(value), object_keys, kind == "smtp")
            add("proxyAddresses", "ObjectTypeMismatch", proxy_key(value) in object_keys)
        add("proxyAddresses", "LargeObject", len(u["proxy_addresses"]) > 300)
        if (nick := u["mail_nickname"]) is not None:
            add("mailNickname", "Length", utf16(nick) > 64)
            add("mailNickname", "Format", nick.startswith("."))
            unique(dn, "mailNickname", nick.lower(), set(), False)
        if (sam := u["sam_account_name"]) is not None:
            add("sAMAccountName", "Length", utf16(sam) > 20)
            add("sAMAccountName", "Character", any(ch in SAM_BAD for ch in sam))
            unique(dn, "sAMAccountName", sam.lower(), set(), False)
        display = u["display_name"]
        add("displayName", "Blank", display is None or all(ch in WS for ch in display))
        add("displayName", "Length", display is not None and utf16(display) > 256)
        add("givenName", "Length", u["given_name"] is not None and utf16(u["given_name"]) > 64)
        add("targetAddress", "Length", u["target_address"] is not None and utf16(u["target_address"]) > 255)
    return out


# --- data -----------------------------------------------------------------------------------------------------------

FRAGMENTS = ["ann", "Ann", "bob", ".", "..", "@", "@@", " ", "\u00a0", "\u2003", "\t", "ä", "Ü", "é", "ß", "😀", "中",
             "o'brien", "a+b", "x_y", "-", ",", ";", ":", '"', "<", "(", "[", "\\", "%", "contoso.com", "CONTOSO.com",
             "contoso.local", "corp", "sub.contoso.com", "x.c0m", "con_toso.com", "-bad.com", "example.test",
             "fabrikam.co", "x" * 60, "y" * 30, "z" * 17]
NAMES = ["ann", "bob", "Lee\\, Ann", "krbtgt", "Guest", "DefaultAccount", "HealthMailbox0a", "SystemMailbox{1}",
         "MSOL_ab12", "Migration.8f", "SUPPORT_3889", "WS01$", "x\\0ACNF:1a2b", "Guesthouse", "carl"]
PREFIXES_USED = ["SMTP:", "smtp:", "X500:", "x400:", "sip:", "EUM:", ""]


def text(draw_fragments: list[str]) -> str:
    return "".join(draw_fragments)


fragments = st.lists(st.sampled_from(FRAGMENTS), min_size=0, max_size=6).map(text)
maybe = st.one_of(st.none(), fragments)
address = st.builds(lambda a, d: f"{a}@{d}", st.lists(st.sampled_from(FRAGMENTS[:30]), max_size=3).map(text),
                    st.sampled_from(FRAGMENTS[30:]))
value = st.one_of(address, fragments)
proxy = st.builds(lambda p, v: p + v, st.sampled_from(PREFIXES_USED), value)


@st.composite
def directories(draw):
    n = draw(st.integers(1, 8))
    users = [{"dn": f"CN={draw(st.sampled_from(NAMES))},OU=u{i},DC=contoso,DC=com",
              "object_guid": f"00000000-0000-4000-8000-{i:012x}", "upn": draw(st.one_of(st.none(), value)),
              "mail": draw(st.one_of(st.none(), value)), "proxy_addresses": draw(st.lists(proxy, max_size=4)),
              "mail_nickname": draw(maybe), "sam_account_name": draw(st.one_of(st.sampled_from(NAMES), maybe)),
              "display_name": draw(maybe), "given_name": draw(maybe), "target_address": draw(maybe),
              "is_critical_system_object": draw(st.sampled_from([None, False, True]))} for i in range(n)]
    objects = [{"dn": f"CN={draw(st.sampled_from(NAMES))},OU=g{i},DC=contoso,DC=com",
                "object_class": draw(st.sampled_from(["group", "contact"])), "mail": draw(st.one_of(st.none(), value)),
                "proxy_addresses": draw(st.lists(proxy, max_size=3))} for i in range(draw(st.integers(0, 3)))]
    cloud = [{"id": f"c{i}", "upn": f"c{i}" + draw(value), "mail": draw(st.one_of(st.none(), value)),
              "proxy_addresses": draw(st.lists(proxy, max_size=3))} for i in range(draw(st.integers(0, 4)))]
    pairs = draw(st.sets(st.tuples(st.sampled_from([u["dn"] for u in users]),
                                   st.sampled_from([c["id"] for c in cloud] or ["none"])), max_size=3))
    return users, objects, cloud, pairs


def check(users, objects, cloud, pairs, verified=None):
    tables = {"ad_users": pd.DataFrame(users), "ad_mail_objects": pd.DataFrame(objects, columns=["dn", "object_class"]
                                                                              if not objects else None)}
    if cloud:
        tables["entra_users"] = pd.DataFrame(cloud)
    snap = build_snapshot(tables)
    frame = rules.run_rules(snap, pairs=pd.DataFrame(sorted(pairs), columns=["ad_dn", "entra_id"]),
                            routable_domains=verified)
    got = set(zip(frame["DISTINGUISHEDNAME"], frame["ATTRIBUTE"], frame["ERROR"]))
    expected = reference(snap, pairs, verified)
    assert got == expected, {"missing": expected - got, "unexpected": got - expected}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(directories(), st.sampled_from([None, ["contoso.com", "fabrikam.co"]]))
def test_rules_agree_with_reference(directory, verified):
    check(*directory, verified=verified)


@pytest.mark.parametrize("seed", [1, 2])
def test_rules_agree_with_reference_on_a_larger_random_directory(seed):
    rnd = random.Random(seed)

    def frag(k: int = 4) -> str:
        return "".join(rnd.choice(FRAGMENTS) for _ in range(rnd.randint(0, k)))

    def addr() -> str:
        return f"{frag(2)}@{rnd.choice(FRAGMENTS[30:])}" if rnd.random() < 0.8 else frag()

    def opt(make):
        return make() if rnd.random() < 0.85 else None

    users = [{"dn": f"CN={rnd.choice(NAMES)},OU=u{i},DC=contoso,DC=com",
              "object_guid": f"00000000-0000-4000-8000-{i:012x}", "upn": opt(addr), "mail": opt(addr),
              "proxy_addresses": [rnd.choice(PREFIXES_USED) + addr() for _ in range(rnd.randint(0, 4))],
              "mail_nickname": opt(frag), "sam_account_name": opt(frag), "display_name": opt(lambda: frag(8)),
              "given_name": opt(lambda: frag(6)), "target_address": opt(lambda: frag(9))} for i in range(1500)]
    users[7].update(dn="CN=large,OU=u7,DC=contoso,DC=com",
                    proxy_addresses=[f"smtp:a{i}@contoso.com" for i in range(301)])
    users[8].update(dn="CN=long,OU=u8,DC=contoso,DC=com", target_address="SMTP:" + "t" * 251, given_name="😀" * 33)
    objects = [{"dn": f"CN=g{i},OU=Groups,DC=contoso,DC=com", "object_class": "group", "mail": opt(addr),
                "proxy_addresses": ["SMTP:" + addr()]} for i in range(40)]
    cloud = [{"id": f"c{i}", "upn": f"c{i}" + addr(), "mail": opt(addr),
              "proxy_addresses": ["SMTP:" + addr(), "smtp:" + addr()]} for i in range(300)]
    pairs = {(rnd.choice(users)["dn"], rnd.choice(cloud)["id"]) for _ in range(200)}
    check(users, objects, cloud, pairs, verified=None if seed == 1 else ["contoso.com", "sub.contoso.com"])
