"""Directory readiness rules: the successor of Microsoft IdFix (retired), plus checks that predict sync errors.

Each ``Rule`` checks one attribute of the AD users for one kind of error and proposes a fix where one can be
derived. ``run_rules`` applies them all to a snapshot and returns the *readiness* frame in IdFix's own layout
(so consultants keep their IdFix habits), and ``to_idfix_csv`` writes it as IdFix's CSV export.

Error kinds are IdFix's (Character, Format, TopLevelDomain, DomainPart, LocalPart, Length, Duplicate, Blank) and
Entra Connect's (AttributeValueMustBeUnique, ObjectTypeMismatch, LargeObject); limits follow docs/domain.md §6.
The checks themselves are in ``rules_checks``: column operations, never a Python loop per value.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core import anchors
from hybridx_nb.readiness import checks as rc
from hybridx_nb.snapshot.store import Snapshot

IDFIX_COLUMNS = ("DISTINGUISHEDNAME", "COMMONNAME", "OBJECTCLASS", "ATTRIBUTE", "ERROR", "VALUE", "UPDATE",
                 "PROPOSEDACTION", "ACTION")
READINESS_COLUMNS = IDFIX_COLUMNS + ("rule", "description", "conflict_with")

_EXACT = "krbtgt|guest|defaultaccount"
_PREFIX = r"healthmailbox|systemmailbox|discoverysearchmailbox|federatedemail|msol_|migration\.|support_"
# The DN's first RDN value (escapes such as "\," allowed), then the same tests; plus conflict objects.
_SYSTEM_DN = (rf"(?i)^[^=]*=(?:{_EXACT})(?:,|$)|^[^=]*=(?:{_PREFIX})|^[^=]*=(?:[^,\\]|\\.)*\$(?:,|$)"
              r"|\\0ACNF:|\nCNF:")
_SYSTEM_NAME = rf"(?i)^(?:{_EXACT})$|^(?:{_PREFIX})|\$$"
UPN, PROXY = "userPrincipalName", "proxyAddresses"
# The attributes whose values must be unique (within AD, against groups and contacts, against the cloud).
UNIQUE_ATTRIBUTES = (UPN, "mail", PROXY, "mailNickname", "sAMAccountName")


@dataclass
class RuleContext:
    """What the checks read: AD users to check (system objects already left out; ``pos`` = row number), groups
    and contacts with mail, cloud users, matched pairs (``pos, entra_id``; None: guess them), and the routable
    domains (None: judge by top-level domain) with the one to propose instead of a private one."""

    users: pd.DataFrame
    mail_objects: pd.DataFrame
    cloud: pd.DataFrame
    given_pairs: pd.DataFrame | None = None
    verified_domains: tuple[str, ...] | None = None
    fix_domain: str | None = None

    def view(self, attribute: str) -> rc.View:
        if attribute == "proxyAddresses":
            return self.proxies
        cache = self.__dict__.setdefault("_views", {})
        if attribute not in cache:
            cache[attribute] = rc.single_view(self.users[rc.ATTRIBUTE_COLUMNS[attribute]])
        return cache[attribute]

    def address_view(self, attribute: str) -> rc.View:
        """The values of ``attribute`` that are e-mail addresses: all of them, or the SMTP proxy addresses."""
        cache = self.__dict__.setdefault("_address_views", {})
        if attribute not in cache:
            view = self.view(attribute)
            cache[attribute] = view.select(self._smtp) if attribute == "proxyAddresses" else view
        return cache[attribute]

    @cached_property
    def proxies(self) -> rc.View:
        return rc.proxy_view(self.users)

    @cached_property
    def _smtp(self) -> np.ndarray:
        return rc.mask(pc.equal(self.proxies.kind, "smtp"))

    @cached_property
    def _keys(self) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], int]:
        """Every value uniqueness compares, encoded in one hash pass so that equal keys get equal codes across all
        of them: the AD users' ``UNIQUE_ATTRIBUTES``, the groups' and contacts' mail and proxy addresses
        (``objects mail``, ``objects proxy``) and the cloud users' UPN, mail and SMTP proxy addresses (``cloud
        upn`` …). Per segment its codes and the rows holding them; and the number of codes."""
        segments = {a: (self.view(a).pos, self.view(a).key) for a in UNIQUE_ATTRIBUTES}
        for name, frame, column in (("objects mail", self.mail_objects, "mail"), ("cloud upn", self.cloud, "upn"),
                                    ("cloud mail", self.cloud, "mail")):
            view = rc.single_view(frame[column])
            segments[name] = (view.pos, view.key)
        segments["objects proxy"] = rc.proxy_key_rows(self.mail_objects)
        segments["cloud smtp"] = rc.proxy_key_rows(self.cloud, smtp_only=True)
        names = list(segments)
        like = {names.index(a): names.index(b) for a, b in (("mail", UPN), (PROXY, UPN), ("objects proxy",
                "objects mail"), ("cloud mail", "cloud upn"), ("cloud smtp", "cloud upn"))}
        codes, n = rc.factorize_all(list(segments.values()), like)
        return {name: (c, segments[name][0]) for name, c in zip(names, codes)}, n

    def _segments(self, *names: str) -> tuple[np.ndarray, np.ndarray]:
        """Codes and rows of the named segments of ``_keys``, concatenated in that order."""
        parts = [self._keys[0][name] for name in names]
        return np.concatenate([c for c, _ in parts]), np.concatenate([r for _, r in parts])

    def codes(self, attribute: str) -> tuple[np.ndarray, int]:
        """Integer code per value of ``attribute`` (equal keys, equal codes) and the number of codes."""
        if attribute in UNIQUE_ATTRIBUTES:
            return self._keys[0][attribute][0], self._keys[1]
        cache = self.__dict__.setdefault("_codes", {})
        if attribute not in cache:
            cache[attribute] = rc.factorize(self.view(attribute).key)[:2]
        return cache[attribute]

    def mail_object_holder(self, attribute: str, kind: str) -> np.ndarray:
        """Per value of ``attribute`` (one of ``UNIQUE_ATTRIBUTES``), the row of a group or contact holding the
        same key (-1 where none); they hold their mail (``kind="mail"``), or mail and proxy addresses
        (``"proxy"``). The first such row, mail before proxy addresses."""
        if attribute not in UNIQUE_ATTRIBUTES:
            raise ValueError(f"groups and contacts are compared on {', '.join(UNIQUE_ATTRIBUTES)} only")
        cache = self.__dict__.setdefault("_mail_object_holders", {})
        if kind not in cache:
            codes, rows = self._segments("objects mail", *(["objects proxy"] if kind == "proxy" else []))
            cache[kind] = rc.first_holder(codes, rows, self._keys[1])
        return cache[kind][self.codes(attribute)[0]]

    @cached_property
    def cloud_index(self) -> dict[str, np.ndarray]:
        """Every address the cloud users hold (UPN, mail, SMTP proxy addresses): ``code``/``row`` per holding and
        ``is_upn``; per code (of ``_keys``) the lowest cloud row holding it (``first``, -1: none) and the number
        of distinct cloud users holding it (``holders``: 0, 1, or 2 for two or more)."""
        codes, rows = self._segments("cloud upn", "cloud mail", "cloud smtp")
        n = self._keys[1]
        low, high = np.full(n, len(self.cloud), dtype=np.int64), np.full(n, -1, dtype=np.int64)
        np.minimum.at(low, codes, rows)
        np.maximum.at(high, codes, rows)
        held = high >= 0
        return {"code": codes, "row": rows, "is_upn": np.arange(len(codes)) < len(self._keys[0]["cloud upn"][0]),
                "holders": held.astype(np.int64) + (held & (low != high)), "first": np.where(held, low, -1)}

    def cloud_codes(self, attribute: str) -> np.ndarray:
        """Per address of ``address_view(attribute)``, its code (see ``cloud_index`` for who in the cloud holds it)."""
        codes = self.codes(attribute)[0]
        return codes[self._smtp] if attribute == "proxyAddresses" else codes

    @cached_property
    def pairs(self) -> np.ndarray:
        """Matched AD/cloud pairs as sorted ``pos * len(cloud) + cloud_row``."""
        m = len(self.cloud)
        if self.given_pairs is not None:
            rows = pc.index_in(rc.arrow(self.given_pairs["entra_id"]), value_set=rc.arrow(self.cloud["id"]),
                               skip_nulls=True)
            rows = pc.fill_null(rows, -1).to_numpy(zero_copy_only=False).astype(np.int64)
            pos = self.given_pairs["pos"].to_numpy(dtype=np.int64)
            return np.sort(pd.unique(pos[rows >= 0] * m + rows[rows >= 0]))
        return np.sort(pd.unique(self._guess_pairs() @ np.array([m, 1], dtype=np.int64)))

    def _guess_pairs(self) -> np.ndarray:
        """docs/domain.md §2 in brief: the cloud user(s) holding the AD user's anchor as ImmutableID; else those with
        its primary SMTP address; else those with its UPN. An (n, 2) array of (pos, cloud_row)."""
        n = len(self.users)
        guid = anchors.guid_to_immutable_id_series(self.users["object_guid"])
        cloud_codes, _, dictionary = rc.factorize(rc.arrow(self.cloud["immutable_id"]))
        ad_codes = pc.index_in(pa.concat_arrays([rc.arrow(guid), rc.arrow(self.users["consistency_guid"])]),
                               value_set=dictionary)
        ad_codes = pc.fill_null(ad_codes, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        by_anchor = rc.int_join(ad_codes, np.tile(np.arange(n), 2), cloud_codes, np.arange(len(self.cloud)))
        ci = self.cloud_index
        smtp = self.address_view("proxyAddresses")
        primary = rc.mask(pc.equal(smtp.prefix, "SMTP:"))
        by_smtp = rc.int_join(self.cloud_codes("proxyAddresses")[primary], smtp.pos[primary], ci["code"],
                              ci["row"])
        upn = self.view("userPrincipalName")
        by_upn = rc.int_join(self.cloud_codes("userPrincipalName"), upn.pos, ci["code"][ci["is_upn"]],
                             ci["row"][ci["is_upn"]])
        found, taken = [], np.zeros(n, dtype=bool)
        for pairs in (by_anchor, by_smtp, by_upn):
            pairs = pairs[~taken[pairs[:, 0]]]
            found.append(pairs)
            taken[pairs[:, 0]] = True
        return np.concatenate(found)

    def routable(self, low: pa.Array) -> np.ndarray:
        """Where the (lower-case) address's domain is routable: a verified domain or a subdomain of one when the
        tenant's domains are known; otherwise any domain whose top-level domain is not a known private one."""
        if self.verified_domains is not None:
            out = np.zeros(len(low), dtype=bool)
            for domain in self.verified_domains:
                out |= rc.mask(pc.ends_with(low, "@" + domain)) | rc.mask(pc.ends_with(low, "." + domain))
            return out
        out = ~rc.has(low, r"@[^.]*$")  # single-label domain
        for tld in rc.NON_ROUTABLE_TLDS:
            out &= ~rc.mask(pc.ends_with(low, "." + tld))
        return out


@dataclass(frozen=True)
class Rule:
    """One check of one attribute: ``check`` returns hits (see ``rules_checks``), ``evaluate`` readiness rows."""

    name: str
    attribute: str
    error: str
    description: str
    check: Callable[[RuleContext], pd.DataFrame]

    def evaluate(self, ctx: RuleContext) -> pd.DataFrame:
        """The rule's findings as rows of the readiness layout."""
        h = self.check(ctx)
        if h.empty:
            return empty_readiness()
        pos = h["pos"].to_numpy(dtype=np.int64)
        dn = rc.take(rc.arrow(ctx.users["dn"]), pos)
        object_class = rc.take(rc.arrow(ctx.users["object_class"].fillna("user")), pos)
        n = len(h)
        return pd.DataFrame({
            "DISTINGUISHEDNAME": rc.series(dn), "COMMONNAME": rc.series(rc.common_names(dn)),
            "OBJECTCLASS": rc.series(object_class),
            "ATTRIBUTE": [self.attribute] * n, "ERROR": [self.error] * n,
            "VALUE": h["value"], "UPDATE": h["update"], "PROPOSEDACTION": h["action"], "ACTION": [""] * n,
            "rule": [self.name] * n, "description": [self.description] * n, "conflict_with": h["conflict_with"],
        }, columns=list(READINESS_COLUMNS)).astype("str")


_EMPTY = pd.DataFrame({c: pd.Series([], dtype="str") for c in READINESS_COLUMNS})


def empty_readiness() -> pd.DataFrame:
    """A readiness frame without rows."""
    return _EMPTY.copy()


def _r(name: str, attribute: str, error: str, description: str, check: Callable[[RuleContext], pd.DataFrame]) -> Rule:
    return Rule(name, attribute, error, description, check)


_UNIQUE = "AttributeValueMustBeUnique"
_SHOWN_UPN_BAD = '\\ % & * + / = ? { } | < > ( ) ; : , [ ] "'

RULES: tuple[Rule, ...] = (
    _r("upn_character", UPN, "Character", f"UPN holds whitespace, an umlaut or one of {_SHOWN_UPN_BAD}; "
       "the update drops them (umlauts transliterated).", rc.characters(UPN, rc.UPN_BAD)),
    _r("upn_length", UPN, "Length", "UPN longer than 113 characters, or 64 before the @ or 48 after it.",
       rc.upn_length),
    _r("upn_format", UPN, "Format", "UPN is not of the form name@domain.", rc.address_format(UPN)),
    _r("upn_local_part", UPN, "LocalPart", "The part before @ is not an RFC 2822 name (ASCII letters, digits, "
       "!#$%&'*+/=?^_`{|}~- and single inner dots).", rc.local_part(UPN)),
    _r("upn_domain_part", UPN, "DomainPart", "The part after @ is not a valid DNS domain.", rc.domain_part(UPN)),
    _r("upn_top_level_domain", UPN, "TopLevelDomain", "UPN domain is not routable (not a verified domain of the "
       "tenant, or a private suffix such as .local): Entra would replace it with onmicrosoft.com.",
       rc.top_level_domain(UPN)),
    _r("upn_duplicate", UPN, "Duplicate", "Another AD user has the same UPN (case-insensitive).", rc.duplicate(UPN)),
    _r("upn_cloud_conflict", UPN, _UNIQUE, "A different cloud user (not the one this AD user will match) already "
       "holds this address as UPN, mail or proxy address.", rc.cloud_conflict(UPN)),
    _r("mail_length", "mail", "Length", "mail longer than 256 characters.", rc.length("mail", 256)),
    _r("mail_duplicate", "mail", "Duplicate", "Another AD user, group or contact has the same mail.",
       rc.duplicate("mail", others="mail")),
    _r("mail_cloud_conflict", "mail", _UNIQUE, "A different cloud user (not the one this AD user will match) "
       "already holds this address.", rc.cloud_conflict("mail")),
    _r("proxy_character", PROXY, "Character", "Proxy address with whitespace or one of < > ( ) ; , [ ] \" (SMTP), "
       "< > ( ) , [ ] \" (other types), or a control character, [ ] \" (X400/X500).", rc.proxy_characters),
    _r("proxy_length", PROXY, "Length", "Proxy address longer than 256 characters.", rc.length(PROXY, 256)),
    _r("proxy_prefix", PROXY, "Format", "Proxy address without its type prefix (smtp:, x500: …).",
       rc.proxy_prefix),
    _r("proxy_format", PROXY, "Format", "SMTP proxy address is not of the form name@domain.",
       rc.address_format(PROXY)),
    _r("proxy_local_part", PROXY, "LocalPart", "The part before @ of an SMTP proxy address is not an RFC 2822 name.",
       rc.local_part(PROXY)),
    _r("proxy_domain_part", PROXY, "DomainPart", "The domain of an SMTP proxy address is not a valid DNS domain.",
       rc.domain_part(PROXY)),
    _r("proxy_top_level_domain", PROXY, "TopLevelDomain", "SMTP proxy address in a domain that is not routable; "
       "Exchange Online drops it.", rc.top_level_domain(PROXY)),
    _r("proxy_duplicate", PROXY, "Duplicate", "Another AD user, group or contact has the same address "
       "(case-insensitive, compared after the prefix for SMTP).", rc.duplicate(PROXY, others="proxy")),
    _r("proxy_cloud_conflict", PROXY, _UNIQUE, "A different cloud user (not the one this AD user will match) "
       "already holds this SMTP address.", rc.cloud_conflict(PROXY)),
    _r("proxy_object_type_mismatch", PROXY, "ObjectTypeMismatch", "A group or contact holds the same address: "
       "the sync reports ObjectTypeMismatch.", rc.object_type_mismatch),
    _r("proxy_large_object", PROXY, "LargeObject", "More than 300 proxy addresses: the sync reports LargeObject.",
       rc.large_object),
    _r("mailnickname_length", "mailNickname", "Length", "mailNickname longer than 64 characters; the update "
       "trims it.", rc.length("mailNickname", 64, trim=True)),
    _r("mailnickname_period", "mailNickname", "Format", "mailNickname starts with a period; the update drops it.",
       rc.leading_period("mailNickname")),
    _r("mailnickname_duplicate", "mailNickname", "Duplicate", "Another AD user has the same mailNickname.",
       rc.duplicate("mailNickname")),
    _r("sam_length", "sAMAccountName", "Length", "sAMAccountName longer than 20 characters; the update trims it.",
       rc.length("sAMAccountName", 20, trim=True)),
    _r("sam_character", "sAMAccountName", "Character", "sAMAccountName holds one of [ ] \\ \" | , / : < > + = ; "
       "? *; the update drops them.", rc.characters("sAMAccountName", rc.SAM_BAD)),
    _r("sam_duplicate", "sAMAccountName", "Duplicate", "Another AD user (another domain of the forest) has the "
       "same sAMAccountName.", rc.duplicate("sAMAccountName")),
    _r("displayname_length", "displayName", "Length", "displayName longer than 256 characters; the update trims "
       "it.", rc.length("displayName", 256, trim=True)),
    _r("displayname_blank", "displayName", "Blank", "displayName is empty; the update proposes given name and "
       "surname, or the common name.", rc.blank("displayName")),
    _r("givenname_length", "givenName", "Length", "givenName longer than 64 characters; the update trims it.",
       rc.length("givenName", 64, trim=True)),
    _r("targetaddress_length", "targetAddress", "Length", "targetAddress longer than 255 characters.",
       rc.length("targetAddress", 255)),
)


def system_account_mask(ad_users: pd.DataFrame) -> np.ndarray:
    """Where the row is a system object IdFix skipped: names ending in ``$``, conflict objects (``\\0ACNF:`` in
    the DN), isCriticalSystemObject, and well-known accounts (krbtgt, Guest, DefaultAccount, HealthMailbox…,
    SystemMailbox…, DiscoverySearchMailbox…, FederatedEmail…, MSOL_…, Migration.…, SUPPORT_…), by common name or
    sAMAccountName. Works on any frame with a ``dn`` column (users, groups, contacts)."""
    out = rc.has(rc.arrow(ad_users["dn"]), _SYSTEM_DN)
    if "sam_account_name" in ad_users.columns:
        out |= rc.has(rc.arrow(ad_users["sam_account_name"]), _SYSTEM_NAME)
    if "is_critical_system_object" in ad_users.columns:
        out |= ad_users["is_critical_system_object"].fillna(False).to_numpy(dtype=bool)
    return out


def _domains(snap: Snapshot, routable_domains: Iterable[str] | None) -> tuple[tuple[str, ...] | None, str | None]:
    """The routable domains (None: judge by top-level domain) and the one to propose instead of a private one."""
    if routable_domains is not None:
        domains = tuple(d.strip().lower() for d in routable_domains if d and d.strip())
        return domains, (domains[0] if domains else None)
    if not snap.has("entra_domains"):
        return None, None
    doms = snap["entra_domains"]
    doms = doms[doms["is_verified"].fillna(False).to_numpy(dtype=bool)]
    if doms.empty:
        return None, None
    default = doms["is_default"].fillna(False).to_numpy(dtype=bool)
    initial = doms["is_initial"].fillna(False).to_numpy(dtype=bool)
    names = doms["name"].str.lower()
    preference = np.lexsort((np.arange(len(doms)), initial, ~default))
    return tuple(names), names.iloc[preference[0]]


def build_context(snap: Snapshot, *, pairs: pd.DataFrame | None = None,
                  routable_domains: Iterable[str] | None = None) -> RuleContext:
    """The rules' view of a snapshot: system objects left out, pairs mapped to user rows, domains resolved."""
    users = snap["ad_users"]
    users = users[~system_account_mask(users)].reset_index(drop=True)
    mail_objects = snap["ad_mail_objects"]
    mail_objects = mail_objects[~system_account_mask(mail_objects)].reset_index(drop=True)
    given = None
    if pairs is not None:
        missing = {"ad_dn", "entra_id"} - set(pairs.columns)
        if missing:
            raise ValueError(f"pairs needs the columns ad_dn and entra_id (missing: {', '.join(sorted(missing))})")
        row = pc.index_in(rc.arrow(pairs["ad_dn"].astype("str")), value_set=rc.arrow(users["dn"]))
        row = pc.fill_null(row, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        given = pd.DataFrame({"pos": row, "entra_id": pairs["entra_id"].astype("str").array})
        given = given[given["pos"].to_numpy() >= 0]
    verified, fix_domain = _domains(snap, routable_domains)
    return RuleContext(users, mail_objects, snap["entra_users"], given, verified, fix_domain)


def run_rules(snap: Snapshot, *, pairs: pd.DataFrame | None = None, routable_domains: Iterable[str] | None = None,
              rules: Iterable[Rule] = RULES, timings: dict[str, float] | None = None) -> pd.DataFrame:
    """The readiness frame: one row per (object, attribute, value, error), in IdFix's layout plus ``rule``,
    ``description`` and ``conflict_with`` (the other holder of a value that must be unique).

    ``pairs`` (columns ``ad_dn, entra_id``) are the engine's matched AD/cloud pairs, so that the cloud user an AD
    user will match is not reported as a conflict; without them every cloud user the AD user could match (by
    anchor, primary SMTP address or UPN) is treated as its pair. ``routable_domains`` overrides the tenant's
    verified domains. ``timings``, when given, receives seconds per rule."""
    ctx = build_context(snap, pairs=pairs, routable_domains=routable_domains)
    frames = []
    for rule in rules:
        start = time.perf_counter()
        frames.append(rule.evaluate(ctx))
        if timings is not None:
            timings[rule.name] = time.perf_counter() - start
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_readiness()
    out = pd.concat(frames, ignore_index=True)
    order = pd.DataFrame({"dn": out["DISTINGUISHEDNAME"].str.lower(), "a": out["ATTRIBUTE"], "v": out["VALUE"],
                          "e": out["ERROR"]})
    out = out.iloc[order.sort_values(["dn", "a", "v", "e"], kind="stable").index].reset_index(drop=True)
    return out.astype("str")


def to_idfix_csv(readiness: pd.DataFrame, path: str | Path) -> None:
    """Write IdFix's CSV export: its nine columns in its order, UTF-8 with BOM (Excel), CRLF line ends.

    Values are written as they are (no formula escaping): IdFix re-imports this file and applies UPDATE to AD,
    so a changed byte would be written to the directory. Open it in Excel as data, not by double-click, when
    values may start with ``=``, ``+``, ``-`` or ``@``."""
    frame = readiness.reindex(columns=list(IDFIX_COLUMNS))
    frame.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
