"""What the readiness checks read: the AD objects in scope, the cloud users, the matched pairs and the routable
domains, with the per-attribute views and value codes computed once and shared by every check."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core import anchors
from hybridx_nb.engine.scope import system_object_mask
from hybridx_nb.readiness import views
from hybridx_nb.snapshot.store import Snapshot

UPN = "userPrincipalName"


PROXY = "proxyAddresses"


# The addresses whose values must be unique within AD, against groups and contacts and against the cloud: encoded
# in one hash pass. mailNickname and sAMAccountName must be unique within AD only: each is encoded on its own, so
# the one pass (and its hash table, the rules' largest memory) stays smaller.
SHARED_CODES = (UPN, "mail", PROXY)


@dataclass
class RuleContext:
    """What the checks read: the AD users (the snapshot's rows; ``pos`` = row number) and which of them are
    checked (``checked``: system objects are not; None: every row), groups and contacts with mail, cloud users,
    matched pairs (``ad_dn, entra_id``, or the engine's snapshot rows ``ad_row, cloud_row``; or a function
    returning them; None: guess them), and the routable domains (None: judge by top-level domain) with the one to
    propose instead of a private one."""

    users: pd.DataFrame
    mail_objects: pd.DataFrame
    cloud: pd.DataFrame
    given_pairs: pd.DataFrame | Callable[[], pd.DataFrame] | None = None
    verified_domains: tuple[str, ...] | None = None
    fix_domain: str | None = None
    checked: np.ndarray | None = None  # per row of ``users``, whether it is checked (None: every row)

    @cached_property
    def checked_rows(self) -> np.ndarray:
        """The rows of ``users`` that are checked."""
        return np.arange(len(self.users)) if self.checked is None else np.flatnonzero(self.checked)

    def column(self, name: str) -> pa.Array:
        """A column of ``users`` at ``checked_rows``."""
        values = views.arrow(self.users[name])
        return values if self.checked is None else views.take(values, self.checked_rows)

    def view(self, attribute: str) -> views.View:
        if attribute == "proxyAddresses":
            return self.proxies
        cache = self.__dict__.setdefault("_views", {})
        if attribute not in cache:
            cache[attribute] = views.single_view(self.users[views.ATTRIBUTE_COLUMNS[attribute]], self.checked)
        return cache[attribute]

    def address_view(self, attribute: str) -> views.View:
        """The values of ``attribute`` that are e-mail addresses: all of them, or the SMTP proxy addresses."""
        cache = self.__dict__.setdefault("_address_views", {})
        if attribute not in cache:
            view = self.view(attribute)
            cache[attribute] = view.select(self._smtp) if attribute == "proxyAddresses" else view
        return cache[attribute]

    @cached_property
    def proxies(self) -> views.View:
        return views.proxy_view(self.users, self.checked)

    @cached_property
    def _smtp(self) -> np.ndarray:
        return views.mask(pc.equal(self.proxies.kind, "smtp"))

    @cached_property
    def _keys(self) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], int]:
        """Every value uniqueness compares, encoded in one hash pass so that equal keys get equal codes across all
        of them: the AD users' ``SHARED_CODES``, the groups' and contacts' mail and proxy addresses
        (``objects mail``, ``objects proxy``) and the cloud users' UPN, mail and SMTP proxy addresses (``cloud
        upn`` …). Per segment its codes and the rows holding them; and the number of codes."""
        segments = {a: (self.view(a).pos, self.view(a).key) for a in SHARED_CODES}  # keys built when hashed
        for name, frame, column in (("objects mail", self.mail_objects, "mail"), ("cloud upn", self.cloud, "upn"),
                                    ("cloud mail", self.cloud, "mail")):
            view = views.single_view(frame[column])
            segments[name] = (view.pos, view.key)
        segments["objects proxy"] = views.proxy_key_rows(self.mail_objects)
        segments["cloud smtp"] = views.proxy_key_rows(self.cloud, smtp_only=True)
        names = list(segments)
        like = {names.index(a): names.index(b) for a, b in (("mail", UPN), (PROXY, UPN), ("objects proxy",
                "objects mail"), ("cloud mail", "cloud upn"), ("cloud smtp", "cloud upn"))}
        codes, n = views.factorize_all(list(segments.values()), like)
        return {name: (c, segments[name][0]) for name, c in zip(names, codes)}, n

    def _segments(self, *names: str) -> tuple[np.ndarray, np.ndarray]:
        """Codes and rows of the named segments of ``_keys``, concatenated in that order."""
        parts = [self._keys[0][name] for name in names]
        return np.concatenate([c for c, _ in parts]), np.concatenate([r for _, r in parts])

    def codes(self, attribute: str) -> tuple[np.ndarray, int]:
        """Integer code per value of ``attribute`` (equal keys, equal codes) and the number of codes."""
        if attribute in SHARED_CODES:
            return self._keys[0][attribute][0], self._keys[1]
        cache = self.__dict__.setdefault("_codes", {})
        if attribute not in cache:
            cache[attribute] = views.factorize(self.view(attribute).key())[:2]
        return cache[attribute]

    def mail_object_holder(self, attribute: str, kind: str) -> np.ndarray:
        """Per value of ``attribute`` (one of ``SHARED_CODES``), the row of a group or contact holding the
        same key (-1 where none); they hold their mail (``kind="mail"``), or mail and proxy addresses
        (``"proxy"``). The first such row, mail before proxy addresses."""
        if attribute not in SHARED_CODES:
            raise ValueError(f"groups and contacts are compared on {', '.join(SHARED_CODES)} only")
        cache = self.__dict__.setdefault("_mail_object_holders", {})
        if kind not in cache:
            codes, rows = self._segments("objects mail", *(["objects proxy"] if kind == "proxy" else []))
            cache[kind] = views.first_holder(codes, rows, self._keys[1])
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
            given = self.given_pairs() if callable(self.given_pairs) else self.given_pairs
            if {"ad_row", "cloud_row"} <= set(given.columns):  # the engine's rows
                pos = given["ad_row"].to_numpy(dtype=np.int64)
                rows = given["cloud_row"].to_numpy(dtype=np.int64)
                if self.checked is not None:
                    rows = np.where(self.checked[pos], rows, -1)
            else:
                given = _pair_rows(self.users, given, self.checked)
                rows = pc.index_in(views.arrow(given["entra_id"]), value_set=views.arrow(self.cloud["id"]),
                                   skip_nulls=True)
                rows = pc.fill_null(rows, -1).to_numpy(zero_copy_only=False).astype(np.int64)
                pos = given["pos"].to_numpy(dtype=np.int64)
            return np.sort(pd.unique(pos[rows >= 0] * m + rows[rows >= 0]))
        return np.sort(pd.unique(self._guess_pairs() @ np.array([m, 1], dtype=np.int64)))

    def _guess_pairs(self) -> np.ndarray:
        """docs/domain.md §2 in brief: the cloud user(s) holding the AD user's anchor as ImmutableID; else those with
        its primary SMTP address; else those with its UPN. An (n, 2) array of (pos, cloud_row)."""
        n = len(self.users)
        guid = anchors.guid_to_immutable_id_series(self.users["object_guid"])
        cloud_codes, _, dictionary = views.factorize(views.arrow(self.cloud["immutable_id"]))
        ad_codes = pc.index_in(pa.concat_arrays([views.arrow(guid), views.arrow(self.users["consistency_guid"])]),
                               value_set=dictionary)
        ad_codes = pc.fill_null(ad_codes, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        by_anchor = views.int_join(ad_codes, np.tile(np.arange(n), 2), cloud_codes, np.arange(len(self.cloud)))
        ci = self.cloud_index
        smtp = self.address_view("proxyAddresses")
        primary = views.mask(pc.equal(smtp.prefix, "SMTP:"))
        by_smtp = views.int_join(self.cloud_codes("proxyAddresses")[primary], smtp.pos[primary], ci["code"],
                              ci["row"])
        upn = self.view("userPrincipalName")
        by_upn = views.int_join(self.cloud_codes("userPrincipalName"), upn.pos, ci["code"][ci["is_upn"]],
                             ci["row"][ci["is_upn"]])
        if self.checked is not None:
            by_anchor = by_anchor[self.checked[by_anchor[:, 0]]]
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
                out |= views.mask(pc.ends_with(low, "@" + domain)) | views.mask(pc.ends_with(low, "." + domain))
            return out
        out = ~views.has(low, r"@[^.]*$")  # single-label domain
        for tld in views.NON_ROUTABLE_TLDS:
            out &= ~views.mask(pc.ends_with(low, "." + tld))
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


def build_context(snap: Snapshot, *, pairs: pd.DataFrame | Callable[[], pd.DataFrame] | None = None,
                  routable_domains: Iterable[str] | None = None) -> RuleContext:
    """The rules' view of a snapshot: system objects left out, pairs mapped to user rows, domains resolved.

    ``pairs`` may be a function returning them: it is called when a rule first needs the pairs, so the rules
    that do not can run while the engine is still matching."""
    users = snap["ad_users"]
    system = system_object_mask(users)  # left out by masks, not by a copy of a million users without a few
    mail_objects = snap["ad_mail_objects"]
    mail_objects = mail_objects[~system_object_mask(mail_objects)].reset_index(drop=True)
    if isinstance(pairs, pd.DataFrame):
        _check_pairs(pairs)
    verified, fix_domain = _domains(snap, routable_domains)
    return RuleContext(users, mail_objects, snap["entra_users"], pairs, verified, fix_domain,
                       ~system if system.any() else None)


def _check_pairs(pairs: pd.DataFrame) -> None:
    missing = {"ad_dn", "entra_id"} - set(pairs.columns)
    if missing:
        raise ValueError(f"pairs needs the columns ad_dn and entra_id (missing: {', '.join(sorted(missing))})")


def _pair_rows(users: pd.DataFrame, pairs: pd.DataFrame, checked: np.ndarray | None) -> pd.DataFrame:
    """The pairs as (``pos``: row of ``users``, ``entra_id``); pairs of users that are not checked are left out."""
    _check_pairs(pairs)
    row = pc.index_in(views.arrow(pairs["ad_dn"].astype("str")), value_set=views.arrow(users["dn"]))
    row = pc.fill_null(row, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    if checked is not None:
        row[(row >= 0) & ~checked[np.maximum(row, 0)]] = -1
    given = pd.DataFrame({"pos": row, "entra_id": pairs["entra_id"].astype("str").array})
    return given[given["pos"].to_numpy() >= 0]
