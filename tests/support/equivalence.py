"""One small tenant across a real Samba DC, the fake Okta and the fake Graph, for the live-vs-export proof.

The AD users are created over LDAP in their own OU (``OU=Equivalence``) of the session's Samba DC and read back
with the server's own objectGUID bytes; the Entra users, role holders and Okta users/app users are derived from
those GUIDs, so every planted case (docs/domain.md §2-§4) hangs on real AD anchors. The same data is then written as
the export files a consultant brings (README.md (Export files)): Get-ADUser Export-Csv or ``ldapsearch -LLL`` LDIF built
from the server's raw values, and Graph/Okta answers saved page by page from the fake servers, as the documented
commands save them.
"""

from __future__ import annotations

import base64
import csv
import json
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .fake_graph import SKU_E3, graph_user
from .fake_okta import app_user, office365_app, okta_id, okta_user
from .samba import BASE_DN, SambaDC

EQ_OU = f"OU=Equivalence,{BASE_DN}"
READER = "hxeqreader"  # a normal domain user, outside the OU (so not one of the tenant's users)
READER_DN = f"CN={READER},CN=Users,{BASE_DN}"
READER_PASSWORD = "Eq-R3ader-Pa55!"
MANAGED, FEDERATED, INITIAL = "contoso.example", "fabrikam.example", "contoso.onmicrosoft.com"
APP_ID = okta_id("0oa", 42)
TENANT_ID = "aaaabbbb-0000-1111-2222-333344445555"
GLOBAL_ADMIN = ("62e90394-69f5-4237-9190-012177145e10", "Global Administrator")
EXCHANGE_ADMIN = ("29232cdf-9323-42fd-ade2-1d097af3e4de", "Exchange Administrator")
USER_CLASSES = ["top", "person", "organizationalPerson", "user"]
#: What ``ldapsearch``/Get-ADUser are asked for (README.md (Export files)).
AD_ATTRS = ["objectClass", "distinguishedName", "objectGUID", "mS-DS-ConsistencyGuid", "sAMAccountName",
            "userPrincipalName", "mail", "proxyAddresses", "displayName", "givenName", "sn", "userAccountControl",
            "isCriticalSystemObject"]


@dataclass
class Person:
    """One identity of the tenant and the finding the first sync must give it (docs/domain.md §2).

    ``immutable``: how the cloud user's onPremisesImmutableId is made: ``objectGUID`` (right), ``okta_id``,
    ``big_endian``, ``consistency`` (base64 of this user's mS-DS-ConsistencyGuid), ``guid_string``, ``unknown_guid``
    (a GUID no AD object has), ``none`` (empty), or ``None`` for no cloud user at all."""

    key: str
    category: str
    ad: bool = True
    immutable: str | None = "objectGUID"
    kind: str | None = None  # expected anchor_kind
    block: str | None = None  # expected block_reason
    domain: str = MANAGED
    display: str | None = None
    consistency: str | None = None  # "self" (its own objectGUID), "other" (another GUID), "ascii" (GUID text)
    disabled: bool = False
    role: tuple[str, str] | None = None
    okta: str | None = "ACTIVE"  # Okta user status; None: no Okta user
    okta_immutable: str | None = "same"  # the app user's immutableId: "same" as the cloud, "objectGUID", None
    guest: bool = False
    cloud_upn: str | None = None  # local parts that differ from the key (the ambiguous case)
    cloud_mail: str | None = None
    n: int = 0  # set by plan(): the Okta/Entra id number


def plan() -> list[Person]:
    """The tenant: 62 identities, each case of docs/domain.md §2-§4 at least once."""
    people = [Person(f"eq{i:03d}", "hard_match") for i in range(30)]
    people[0].display = "Zoë Ünal"  # non-ASCII: base64 text in LDIF, UTF-8 in the CSV
    people[1].display = 'Pat "PJ" O\'Brien, Jr.'  # quotes and a comma: CSV quoting
    people[2].disabled = True  # disabled users are synchronised too
    people += [
        *(Person(f"oktaid{i}", "anchor_mismatch", immutable="okta_id", kind="okta_user_id") for i in range(3)),
        Person("bigend0", "anchor_mismatch", immutable="big_endian", kind="big_endian_guid"),
        Person("bigend1", "anchor_mismatch", immutable="big_endian", kind="big_endian_guid",
               okta_immutable="objectGUID"),  # Okta holds the right value, the cloud the wrong one
        Person("guidtext", "anchor_mismatch", immutable="guid_string", kind="guid_string"),
        *(Person(f"soft{i}", "soft_match", immutable="none", okta_immutable=None) for i in range(4)),
        *(Person(f"new{i}", "new_user", immutable=None, okta="ACTIVE" if i < 2 else None) for i in range(4)),
        *(Person(f"left{i}", "orphan_anchor", ad=False, immutable="unknown_guid", kind="unknown_guid",
                 okta="DEPROVISIONED" if i == 0 else "SUSPENDED") for i in range(3)),
        *(Person(f"cloud{i}", "cloud_only", ad=False, immutable="none", okta_immutable=None) for i in range(3)),
        Person("admin.hard", "match_blocked", block="admin_role", role=GLOBAL_ADMIN),
        Person("admin.soft", "match_blocked", immutable="none", block="admin_role", role=EXCHANGE_ADMIN,
               okta_immutable=None),
        *(Person(f"fed{i}", "match_blocked", immutable="none", block="federated_domain", domain=FEDERATED,
                 okta_immutable=None) for i in range(2)),
        Person("fedhard", "hard_match", domain=FEDERATED),  # federation blocks soft matches only
        Person("cgself", "hard_match", consistency="self"),  # Entra Connect had stamped its own objectGUID
        Person("cgascii", "hard_match", consistency="ascii"),
        Person("cgother", "anchor_mismatch", immutable="consistency", consistency="other",
               kind="same_user_other_anchor"),
        Person("guest", "excluded", ad=False, immutable="none", okta=None, guest=True),
        # SMTP leads to one cloud user, UPN to another: Entra Connect cannot tell which (ambiguous, 3 rows)
        Person("amb", "ambiguous", immutable=None, okta=None),
        Person("amb.x", "ambiguous", ad=False, immutable="none", cloud_mail="amb", okta=None),
        Person("amb.y", "ambiguous", ad=False, immutable="none", cloud_upn="amb", okta=None),
    ]
    for n, person in enumerate(people, 1):
        person.n = n
    return people


# ---------------------------------------------------------------------------------------------------------------
# Active Directory: created over LDAP, read back raw
# ---------------------------------------------------------------------------------------------------------------

def _ad_attrs(p: Person) -> dict[str, object]:
    mail = f"{p.key}@{p.domain}"
    given, _, surname = (p.display or f"Eq {p.key}").partition(" ")
    attrs: dict[str, object] = {
        "sAMAccountName": p.key, "userPrincipalName": mail, "mail": mail, "displayName": p.display or f"Eq {p.key}",
        "givenName": given, "sn": surname or p.key, "userAccountControl": "546" if p.disabled else "544",
        "proxyAddresses": [f"SMTP:{mail}", f"smtp:{p.key}@contoso.mail.onmicrosoft.com"]}
    if p.consistency == "other":
        attrs["mS-DS-ConsistencyGuid"] = uuid.uuid5(uuid.NAMESPACE_URL, f"cg:{p.key}").bytes_le
    elif p.consistency == "ascii":
        attrs["mS-DS-ConsistencyGuid"] = b"3ab39606-c642-48"  # a script wrote GUID text: 16 ASCII bytes
    return attrs


def create_directory(dc: SambaDC, people: list[Person]) -> None:
    """The OU, its users and a reader account (a normal domain user), as Administrator over LDAPS."""
    conn = dc.admin_connection()
    try:
        conn.add(EQ_OU, ["top", "organizationalUnit"])
        for p in (p for p in people if p.ad):
            conn.add(f"CN={p.key},{EQ_OU}", USER_CLASSES, _ad_attrs(p))
        for p in (p for p in people if p.consistency == "self"):
            dn = f"CN={p.key},{EQ_OU}"
            conn.search(dn, "(objectClass=*)", "BASE", attributes=["objectGUID"])
            guid = conn.response[0]["raw_attributes"]["objectGUID"][0]
            conn.modify(dn, {"mS-DS-ConsistencyGuid": [("MODIFY_REPLACE", [guid])]})
        conn.add(READER_DN, USER_CLASSES, {
            "sAMAccountName": READER, "userPrincipalName": f"{READER}@hybridx.test", "userAccountControl": "512",
            "unicodePwd": f'"{READER_PASSWORD}"'.encode("utf-16-le")})
    finally:
        conn.unbind()


def remove_directory(dc: SambaDC) -> None:
    """Delete what ``create_directory`` made, so other tests see the domain as their fixture left it."""
    conn = dc.admin_connection()
    conn.raise_exceptions = False
    try:
        conn.search(EQ_OU, "(objectClass=*)", "SUBTREE", attributes=["distinguishedName"])
        dns = sorted((e["dn"] for e in conn.response if e.get("type") == "searchResEntry"),
                     key=lambda dn: -dn.count(","))  # leaves first, the OU last
        for dn in [*dns, READER_DN]:
            conn.delete(dn)
    finally:
        conn.unbind()


def read_directory(dc: SambaDC) -> list[tuple[str, dict[str, list[bytes]]]]:
    """(DN, raw attributes) of every user in the OU, as the server sends them, in the server's order."""
    conn = dc.admin_connection()
    try:
        entries = conn.extend.standard.paged_search(EQ_OU, "(&(objectCategory=person)(objectClass=user))",
                                                    attributes=AD_ATTRS, paged_size=1000, generator=False)
        return [(e["dn"], e["raw_attributes"]) for e in entries if e.get("type") == "searchResEntry"]
    finally:
        conn.unbind()


def _first(raw: dict[str, list[bytes]], name: str) -> bytes | None:
    values = raw.get(name) or []
    return values[0] if values else None


def _text(raw: dict[str, list[bytes]], name: str) -> str:
    value = _first(raw, name)
    return value.decode("utf-8") if value is not None else ""


def write_ad_csv(entries: list[tuple[str, dict[str, list[bytes]]]], path: Path) -> Path:
    """What README.md (Export files)'s Get-ADUser | Select-Object | Export-Csv -NoTypeInformation -Encoding UTF8 writes
    for these entries (UTF-8 with BOM, CRLF, every field quoted; this forest has no Exchange schema)."""
    headers = ["DistinguishedName", "ObjectGUID", "SamAccountName", "UserPrincipalName", "mail", "DisplayName",
               "GivenName", "Surname", "mailNickname", "targetAddress", "Enabled", "ObjectClass",
               "isCriticalSystemObject", "mS-DS-ConsistencyGuid", "proxyAddresses", *_TAKEOVER_HEADERS]
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(headers)
        for dn, raw in entries:
            consistency = _first(raw, "mS-DS-ConsistencyGuid")
            critical = _text(raw, "isCriticalSystemObject")
            writer.writerow([
                dn, str(uuid.UUID(bytes_le=_first(raw, "objectGUID"))), _text(raw, "sAMAccountName"),
                _text(raw, "userPrincipalName"), _text(raw, "mail"), _text(raw, "displayName"),
                _text(raw, "givenName"), _text(raw, "sn"), "", "",
                "False" if int(_text(raw, "userAccountControl")) & 2 else "True",
                raw["objectClass"][-1].decode(), critical.capitalize(),
                base64.b64encode(consistency).decode() if consistency else "",
                ";".join(v.decode("utf-8") for v in raw.get("proxyAddresses") or []),
                *(_text(raw, h) for h in _TAKEOVER_HEADERS)])
    return path


#: The attributes of the export command that Samba's schema has (the default sync rules flow them).
_TAKEOVER_HEADERS = ("title", "department", "company", "physicalDeliveryOfficeName", "streetAddress", "l", "st",
                     "postalCode", "c", "co", "telephoneNumber", "mobile", "facsimileTelephoneNumber", "employeeID",
                     "manager")


def _ldif_line(name: str, value: bytes) -> str:
    """``name: value``, or ``name:: base64`` when RFC 2849 does not allow the value as it is; folded at 76."""
    safe = (value.isascii() and not any(b in value for b in (0, 10, 13)) and value[:1] not in (b" ", b":", b"<")
            and not value.endswith(b" "))
    line = f"{name}: {value.decode()}" if safe else f"{name}:: {base64.b64encode(value).decode()}"
    return "\n ".join(line[i:i + (76 if i == 0 else 75)] for i in [0, *range(76, len(line), 75)])


def write_ad_ldif(entries: list[tuple[str, dict[str, list[bytes]]]], path: Path) -> Path:
    """What ``ldapsearch -LLL ... > ad.ldif`` writes for these entries (binary attributes always base64)."""
    binary = {"objectguid", "ms-ds-consistencyguid"}
    records = []
    for dn, raw in entries:
        lines = [_ldif_line("dn", dn.encode("utf-8"))]
        for name, values in raw.items():
            for value in values:
                lines.append(f"{name}:: {base64.b64encode(value).decode()}" if name.lower() in binary
                             else _ldif_line(name, value))
        records.append("\n".join(lines) + "\n")
    path.write_text("\n".join(records), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------------------------
# The cloud side, derived from the server's GUIDs
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Cloud:
    """What the fake Graph and the fake Okta serve."""

    graph_users: list[dict] = field(default_factory=list)
    role_assignments: list[dict] = field(default_factory=list)
    domains: list[dict] = field(default_factory=list)
    organization: dict = field(default_factory=dict)
    sync: dict = field(default_factory=dict)
    okta_users: list[dict] = field(default_factory=list)
    app_users: list[dict] = field(default_factory=list)
    entra_ids: dict[str, str] = field(default_factory=dict)  # person key → Entra object id


def _immutable(p: Person, raw: dict[str, list[bytes]] | None, okta_user_id: str) -> str | None:
    guid = _first(raw, "objectGUID") if raw else None
    rule = p.immutable
    if rule == "objectGUID":
        return base64.b64encode(guid).decode()
    if rule == "big_endian":
        return base64.b64encode(uuid.UUID(bytes_le=guid).bytes).decode()
    if rule == "guid_string":
        return str(uuid.UUID(bytes_le=guid))
    if rule == "consistency":
        return base64.b64encode(_first(raw, "mS-DS-ConsistencyGuid")).decode()
    if rule == "okta_id":
        return okta_user_id
    if rule == "unknown_guid":
        return base64.b64encode(uuid.uuid5(uuid.NAMESPACE_URL, f"gone:{p.key}").bytes_le).decode()
    return None


def derive_cloud(people: list[Person], ad: dict[str, dict[str, list[bytes]]]) -> Cloud:
    """Entra users, roles, domains, tenant flags, Okta users and Office 365 app users for ``people``;
    ``ad``: sAMAccountName → the server's raw attributes."""
    cloud = Cloud()
    for p in people:
        raw = ad.get(p.key)
        uid = okta_id("00u", p.n)
        immutable = _immutable(p, raw, uid)
        upn = f"{p.cloud_upn or p.key}@{p.domain}"
        mail = f"{p.cloud_mail or p.key}@{p.domain}"
        if p.guest:
            upn, mail = f"{p.key}_partner.example#EXT#@{INITIAL}", f"{p.key}@partner.example"
        entra_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"entra:{p.key}"))
        if p.immutable is not None:
            cloud.entra_ids[p.key] = entra_id
            cloud.graph_users.append(graph_user(
                p.n, id=entra_id, userPrincipalName=upn, mail=mail, mailNickname=p.key,
                proxyAddresses=[f"SMTP:{mail}", f"smtp:{p.key}@{INITIAL}"], onPremisesImmutableId=immutable,
                onPremisesSyncEnabled=None if p.immutable == "none" else True,
                displayName=p.display or f"Eq {p.key}", userType="Guest" if p.guest else "Member",
                assignedLicenses=[] if p.guest else [{"disabledPlans": [], "skuId": SKU_E3}],
                creationType="Invitation" if p.guest else None))
            if p.role:
                cloud.role_assignments.append({
                    "id": f"assignment-{p.key}", "principalId": entra_id, "roleDefinitionId": p.role[0],
                    "directoryScopeId": "/", "roleDefinition": {"id": p.role[0], "displayName": p.role[1],
                                                                "templateId": p.role[0], "isBuiltIn": True}})
        if p.okta is None:
            continue
        user = okta_user(p.n, p.okta, provider="ACTIVE_DIRECTORY" if p.ad else "OKTA", login=mail, email=mail,
                         firstName=(p.display or "Eq").split(" ")[0], lastName=p.key)
        cloud.okta_users.append(user)
        if p.immutable is None or p.okta == "DEPROVISIONED":
            continue  # not assigned to the Office 365 app (any more)
        value = {"same": immutable, None: None,
                 "objectGUID": base64.b64encode(_first(raw, "objectGUID")).decode() if raw else None}[p.okta_immutable]
        member = app_user(user, value, upn=upn)
        member["externalId"] = entra_id  # Okta keeps the Entra object id as the app user's externalId
        cloud.app_users.append(member)
    cloud.domains = [
        {"id": MANAGED, "authenticationType": "Managed", "isVerified": True, "isDefault": True, "isInitial": False,
         "isRoot": True, "supportedServices": ["Email"]},
        {"id": FEDERATED, "authenticationType": "Federated", "isVerified": True, "isDefault": False,
         "isInitial": False, "isRoot": True, "supportedServices": ["Email"]},
        {"id": INITIAL, "authenticationType": "Managed", "isVerified": True, "isDefault": False, "isInitial": True,
         "isRoot": True, "supportedServices": ["Email"]}]
    cloud.organization = {"id": TENANT_ID, "displayName": "Contoso Equivalence", "onPremisesSyncEnabled": True,
                          "onPremisesLastSyncDateTime": None}
    cloud.sync = {"id": TENANT_ID, "configuration": {"synchronizationInterval": "PT30M"},
                  "features": {"softMatchOnUpnEnabled": True, "blockSoftMatchEnabled": False,
                               "blockCloudObjectTakeoverThroughHardMatchEnabled": False,
                               "passwordSyncEnabled": False}}
    return cloud


def okta_app() -> dict:
    return office365_app(APP_ID)


# ---------------------------------------------------------------------------------------------------------------
# The export files, saved from the servers' answers as the documented commands save them
# ---------------------------------------------------------------------------------------------------------------

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(url: str, auth: str) -> tuple[object, object]:
    request = urllib.request.Request(url, headers={"Authorization": auth, "Accept": "application/json"})
    with _OPENER.open(request, timeout=30) as response:
        return json.loads(response.read()), response.headers


def graph_pages(url: str, token: str) -> list[dict]:
    """``Invoke-MgGraphRequest`` in a loop over ``@odata.nextLink`` (README.md (Export files), Entra ID as JSON)."""
    pages: list[dict] = []
    while url:
        page, _ = _get(url, f"Bearer {token}")
        pages.append(page)
        url = page.get("@odata.nextLink")
    return pages


def okta_pages(url: str, token: str) -> list[list[dict]]:
    """README.md (Export files)'s ``okta_pages``: curl following the ``Link: <…>; rel="next"`` headers."""
    pages: list[list[dict]] = []
    while url:
        page, headers = _get(url, f"SSWS {token}")
        pages.append(page)
        nxt = [v for v in headers.get_all("Link") or [] if 'rel="next"' in v]
        url = nxt[0].split(">", 1)[0].lstrip("<") if nxt else None
    return pages


def write_cloud_exports(graph_url: str, graph_token: str, okta_url: str, okta_token: str,
                        folder: Path) -> dict[str, Path]:
    """Entra users as Graph JSON pages, Okta users and app users as curl'd pages, and tenant.json."""
    from hybridx_nb.sources.live.graph_api import USER_EXPAND, USER_SELECT  # README.md's $select and $expand

    select, expand = ",".join(USER_SELECT), ",".join(USER_EXPAND)
    g = f"{graph_url}/v1.0"
    pages = graph_pages(f"{g}/users?$select={select}&$expand={expand}&$top=999", graph_token)
    entra = folder / "entra.json"  # ConvertTo-Json | Set-Content -Encoding UTF8 (Windows PowerShell: BOM)
    entra.write_text(json.dumps(pages, indent=4, ensure_ascii=False), encoding="utf-8-sig")

    def curl(url: str, path: Path) -> Path:  # each page as received, then a newline
        path.write_text("".join(json.dumps(p) + "\n" for p in okta_pages(url, okta_token)), encoding="utf-8")
        return path

    users = curl(f"{okta_url}/api/v1/users?limit=200", folder / "okta-users.json")
    deprovisioned = curl(f"{okta_url}/api/v1/users?limit=200&search=status%20eq%20%22DEPROVISIONED%22",
                         folder / "okta-deprov.json")
    users.write_text(users.read_text(encoding="utf-8") + deprovisioned.read_text(encoding="utf-8"), encoding="utf-8")
    deprovisioned.unlink()
    app_users = curl(f"{okta_url}/api/v1/apps/{APP_ID}/users?limit=500", folder / f"okta-app-users-{APP_ID}.json")

    assignments = graph_pages(f"{g}/roleManagement/directory/roleAssignments?$expand=roleDefinition",
                              graph_token)
    tenant = {
        "organization": graph_pages(f"{g}/organization", graph_token)[0],
        "domains": [d for page in graph_pages(f"{g}/domains", graph_token) for d in page["value"]],
        "onPremisesSynchronization": graph_pages(f"{g}/directory/onPremisesSynchronization", graph_token)[0],
        "roleMembers": [{"principalId": a["principalId"], "roleName": a["roleDefinition"]["displayName"],
                         "roleId": a["roleDefinitionId"]} for page in assignments for a in page["value"]],
    }
    path = folder / "tenant.json"
    path.write_text(json.dumps(tenant, indent=4, ensure_ascii=False), encoding="utf-8-sig")
    return {"entra": entra, "okta": users, "okta_app_users": app_users, "tenant": path}
