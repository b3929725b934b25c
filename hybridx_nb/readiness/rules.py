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
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from hybridx_nb.readiness import checks as rc
from hybridx_nb.readiness import views
from hybridx_nb.readiness.context import PROXY, UPN, RuleContext, build_context
from hybridx_nb.snapshot.store import Snapshot

IDFIX_COLUMNS = ("DISTINGUISHEDNAME", "COMMONNAME", "OBJECTCLASS", "ATTRIBUTE", "ERROR", "VALUE", "UPDATE",
                 "PROPOSEDACTION", "ACTION")
READINESS_COLUMNS = IDFIX_COLUMNS + ("rule", "description", "conflict_with")


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
        dn = views.take(views.arrow(ctx.users["dn"]), pos)
        object_class = views.take(views.arrow(ctx.users["object_class"].fillna("user")), pos)
        n = len(h)
        return pd.DataFrame({
            "DISTINGUISHEDNAME": views.series(dn), "COMMONNAME": views.series(views.common_names(dn)),
            "OBJECTCLASS": views.series(object_class),
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


def run_rules(snap: Snapshot, *, pairs: pd.DataFrame | Callable[[], pd.DataFrame] | None = None,
              routable_domains: Iterable[str] | None = None,
              rules: Iterable[Rule] = RULES, timings: dict[str, float] | None = None) -> pd.DataFrame:
    """The readiness frame: one row per (object, attribute, value, error), in IdFix's layout plus ``rule``,
    ``description`` and ``conflict_with`` (the other holder of a value that must be unique).

    ``pairs`` (columns ``ad_dn, entra_id``, or the engine's rows ``ad_row, cloud_row``) are the engine's matched
    AD/cloud pairs, so that the cloud user an AD user will match is not reported as a conflict; without them every
    cloud user the AD user could match (by anchor, primary SMTP address or UPN) is treated as its pair.
    ``routable_domains`` overrides the tenant's verified domains. ``pairs`` may also be a function returning them,
    called when a rule first needs them (the rules before it run meanwhile: ``app.assess`` runs them beside the
    engine). ``timings``, when given, receives seconds per rule."""
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
