"""The checks behind the directory readiness rules, as Arrow and numpy column operations (used by ``rules``).

A check takes a ``RuleContext`` and returns *hits*: one row per failing value with ``pos`` (row of
``ctx.users``), ``value`` (as found), ``update`` (proposed new value; missing when none can be derived),
``action`` (IdFix's EDIT / REMOVE / COMPLETE) and ``conflict_with`` (the other holder of a value that must be
unique). ``rules.Rule`` turns hits into rows of the readiness layout.

Speed: values are checked by whole-column RE2 passes; uniqueness works on integer codes from Arrow's hash
encoding (per attribute, and one dictionary of every cloud address that AD values are looked up in), so
duplicates and cloud conflicts are O(n) bincounts and integer joins, never pairwise. Work per failing value
(proposed fixes, naming the other holder) touches only the hits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.readiness.views import (
    ATTRIBUTE_COLUMNS,
    STR,
    View,
    all_rows,
    arrow,
    common_names,
    first_per_object,
    has,
    hits,
    int_join,
    join,
    mask,
    remove_or_edit,
    series,
    sub,
    take,
    too_long,
)

if TYPE_CHECKING:
    from hybridx_nb.readiness.context import RuleContext

# .NET's \s (IdFix's whitespace): Unicode separators plus \t \n \v \f \r and NEL.
WHITESPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
UMLAUTS = {"ä": "ae", "ë": "e", "ï": "i", "ö": "oe", "ü": "ue", "ÿ": "y",
           "Ä": "Ae", "Ë": "E", "Ï": "I", "Ö": "Oe", "Ü": "Ue", "Ÿ": "Y"}
UPN_BAD = WHITESPACE + '\\%&*+/=?{}|<>();:,[]"' + "".join(UMLAUTS)
SMTP_BAD = WHITESPACE + '<>();,[]"'
PROXY_BAD = WHITESPACE + '<>(),[]"'          # other address types: ';' is part of their syntax
X400_BAD = "\t\n\v\f\r" + '[]"'              # X400/X500 addresses legitimately hold spaces and ';'
SAM_BAD = '[]\\"|,/:<>+=;?*'

_ATEXT = "A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
LOCAL_RE = rf"^[{_ATEXT}]+(?:\.[{_ATEXT}]+)*$"
DOMAIN_RE = r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,17}$"
ADDRESS_RE = LOCAL_RE[:-1] + "@" + DOMAIN_RE[1:]


def charclass(chars: str) -> str:
    """An RE2 character class matching exactly ``chars`` (every character escaped by code point)."""
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in chars) + "]"


# ---------------------------------------------------------------------------------------------------------------
# Arrow helpers
# ---------------------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------------------
# Views: the values of one attribute
# ---------------------------------------------------------------------------------------------------------------


Check = Callable[["RuleContext"], pd.DataFrame]


# ---------------------------------------------------------------------------------------------------------------
# Value checks
# ---------------------------------------------------------------------------------------------------------------

def length(attribute: str, limit: int, trim: bool = False) -> Check:
    """Values longer than ``limit``; ``trim`` proposes the value cut to the limit (names, not addresses)."""
    def check(ctx: RuleContext) -> pd.DataFrame:
        view = ctx.view(attribute)
        bad = too_long(view.value, limit)
        update = None
        if trim and bad.any():  # a Python slice per value that is too long, never per value checked
            cut = [v.encode("utf-16-le")[: 2 * limit].decode("utf-16-le", "ignore").rstrip()
                   for v in view.value.filter(pa.array(bad)).to_pylist()]
            update = pa.array(cut, STR)
        return hits(view, bad, update=update)
    return check


def _without(view: View, bad: np.ndarray, sets: list[tuple[np.ndarray, str]]) -> pd.DataFrame:
    """Hits for ``bad`` values proposing them without the characters of their row's set (umlauts
    transliterated), or no update when nothing would be left."""
    if not bad.any():
        return hits(view, bad)
    sel = view.select(bad)
    fixed = _transliterate(sel.text) if any(u in chars for _, chars in sets for u in UMLAUTS) else sel.text
    out = pa.nulls(len(sel.pos), STR)
    for rows, chars in sets:
        out = pc.if_else(pa.array(rows[bad]), sub(fixed, charclass(chars)), out)
    update = pc.if_else(pc.equal(out, ""), pa.scalar(None, STR), sel.with_prefix(arrow(out)))
    return hits(view, bad, update=update)


def characters(attribute: str, bad: str) -> Check:
    """Values holding a character from ``bad``; proposes the value without them (umlauts transliterated)."""
    def check(ctx: RuleContext) -> pd.DataFrame:
        view = ctx.view(attribute)
        return _without(view, has(view.text, charclass(bad)), [(all_rows(len(view.pos)), bad)])
    return check


def proxy_characters(ctx: RuleContext) -> pd.DataFrame:
    """Proxy addresses with a character their type does not allow (SMTP, X400/X500, any other type)."""
    view = ctx.view("proxyAddresses")
    smtp = mask(pc.equal(view.kind, "smtp"))
    x400 = mask(pc.is_in(view.kind, value_set=pa.array(["x400", "x500"], STR)))
    sets = [(smtp, SMTP_BAD), (x400, X400_BAD), (~(smtp | x400), PROXY_BAD)]
    bad = np.zeros(len(view.pos), dtype=bool)
    for rows, chars in sets:
        idx = np.flatnonzero(rows)
        bad[idx] = has(take(view.text, idx), charclass(chars))
    return _without(view, bad, sets)


@dataclass(frozen=True)
class Addresses:
    """An address attribute and where its values are malformed or fail on either side of the ``@``. Values are
    split only where needed (``split``): most addresses pass the whole-address pattern in one pass."""

    view: View
    at: np.ndarray  # byte offset of the first "@" (-1: none)
    malformed: np.ndarray
    local_bad: np.ndarray
    domain_bad: np.ndarray

    def split(self, where: np.ndarray) -> tuple[pa.Array, pa.Array]:
        """Local part and domain of the selected values (the appended "@" gives every value two parts)."""
        parts = pc.split_pattern(join(self.view.text.filter(pa.array(where)), "@"), "@", max_splits=1)
        return arrow(pc.list_element(parts, 0)), arrow(pc.utf8_slice_codeunits(pc.list_element(parts, 1), 0, -1))


def addresses(ctx: RuleContext, attribute: str) -> Addresses:
    cache = ctx.__dict__.setdefault("_addresses", {})
    if attribute not in cache:
        view = ctx.address_view(attribute)
        at = pc.find_substring(view.text, "@").to_numpy(zero_copy_only=False)
        malformed = ~has(view.text, ADDRESS_RE)  # a valid address is well formed: only the others are looked at
        rest = np.flatnonzero(malformed)
        text = take(view.text, rest)
        malformed[rest] = mask(pc.not_equal(pc.count_substring(text, "@"), 1)) | (at[rest] == 0) | (
            at[rest] == pc.binary_length(text).to_numpy(zero_copy_only=False) - 1)
        unsure = np.zeros_like(malformed)
        unsure[rest] = ~malformed[rest]
        local_bad, domain_bad = np.zeros_like(malformed), np.zeros_like(malformed)
        local, domain = Addresses(view, at, malformed, local_bad, domain_bad).split(unsure)
        local_bad[unsure], domain_bad[unsure] = ~has(local, LOCAL_RE), ~has(domain, DOMAIN_RE)
        cache[attribute] = Addresses(view, at, malformed, local_bad, domain_bad)
    return cache[attribute]


def address_format(attribute: str) -> Check:
    """Not of the form ``local@domain`` (no ``@``, more than one, or an empty side)."""
    def check(ctx: RuleContext) -> pd.DataFrame:
        a = addresses(ctx, attribute)
        return hits(a.view, a.malformed)
    return check


def _transliterate(arr: pa.Array) -> pa.Array:
    for umlaut, plain in UMLAUTS.items():
        arr = pc.replace_substring(arr, umlaut, plain)
    return arr


def _part(attribute: str, side: str) -> Check:
    """Hits where one side of the ``@`` fails its pattern, proposing that side cleaned: umlauts transliterated,
    characters it may not hold dropped, repeated dots collapsed, dots (and hyphens, in a domain) trimmed."""
    local_side = side == "local"
    invalid, trim, pattern = ((f"[^.{_ATEXT}]", r"^\.+|\.+$", LOCAL_RE) if local_side
                              else ("[^A-Za-z0-9.-]", r"^[.-]+|[.-]+$", DOMAIN_RE))

    def check(ctx: RuleContext) -> pd.DataFrame:
        a = addresses(ctx, attribute)
        bad = a.local_bad if local_side else a.domain_bad
        local, domain = a.split(bad)
        fixed = sub(sub(sub(_transliterate(local if local_side else domain), invalid), r"\.{2,}", "."), trim)
        whole = join(fixed, "@", domain) if local_side else join(local, "@", fixed)
        update = pc.if_else(pa.array(has(fixed, pattern)), a.view.select(bad).with_prefix(whole),
                            pa.scalar(None, STR))
        return hits(a.view, bad, update=update)
    return check


def local_part(attribute: str) -> Check:
    """The part before ``@`` is not an RFC 2822 dot-atom (ASCII atext and single inner dots)."""
    return _part(attribute, "local")


def domain_part(attribute: str) -> Check:
    """The part after ``@`` is not a DNS name with an alphabetic top-level domain of 2 to 17 letters."""
    return _part(attribute, "domain")


def top_level_domain(attribute: str) -> Check:
    """The domain is not routable; proposes the tenant's verified domain in its place when one is known."""
    def check(ctx: RuleContext) -> pd.DataFrame:
        a = addresses(ctx, attribute)
        bad = ~a.malformed & ~ctx.routable(a.view.key())  # an address's key is its lower-case text
        update = None
        if ctx.fix_domain and bad.any():
            update = a.view.select(bad).with_prefix(join(a.split(bad)[0], "@", ctx.fix_domain))
        return hits(a.view, bad, update=update)
    return check


def upn_length(ctx: RuleContext) -> pd.DataFrame:
    """UPNs over 113 characters, or over 64 before the ``@`` or 48 after it."""
    a = addresses(ctx, "userPrincipalName")
    bad = too_long(a.view.value, 113)
    size = pc.binary_length(a.view.text).to_numpy(zero_copy_only=False)
    sides = ~a.malformed & ((a.at > 64) | (size - a.at - 1 > 48))  # in bytes, never fewer than UTF-16 units
    if sides.any():
        local, domain = a.split(sides)
        bad[sides] |= too_long(local, 64) | too_long(domain, 48)
    return hits(a.view, bad)


def proxy_prefix(ctx: RuleContext) -> pd.DataFrame:
    """Proxy addresses without a type prefix (``smtp:``, ``x500:`` …)."""
    view = ctx.view("proxyAddresses")
    return hits(view, mask(pc.equal(view.prefix, "")))


def leading_period(attribute: str) -> Check:
    """Values starting with a period; proposes them without it."""
    def check(ctx: RuleContext) -> pd.DataFrame:
        view = ctx.view(attribute)
        bad = mask(pc.starts_with(view.value, "."))
        fixed = sub(view.value.filter(pa.array(bad)), r"^\.+")
        return hits(view, bad, update=pc.if_else(pc.equal(fixed, ""), pa.scalar(None, STR), fixed))
    return check


def blank(attribute: str) -> Check:
    """A missing or whitespace-only value; for displayName proposes "given surname", else the common name."""
    def check(ctx: RuleContext) -> pd.DataFrame:
        values = ctx.column(ATTRIBUTE_COLUMNS[attribute])
        bad = ~mask(pc.is_valid(values)) | has(values, f"^{charclass(WHITESPACE)}*$")
        view = View(ctx.checked_rows, values, values)
        update = None
        if attribute == "displayName" and bad.any():
            at = ctx.checked_rows[bad]
            given, surname = (pc.fill_null(take(arrow(ctx.users[c]), at), "") for c in ("given_name", "surname"))
            name = pc.utf8_trim_whitespace(join(given, " ", surname))
            cn = common_names(take(arrow(ctx.users["dn"]), at))
            update = pc.if_else(pc.equal(name, ""), cn, name)
        return hits(view, bad, update=update)
    return check


# ---------------------------------------------------------------------------------------------------------------
# Uniqueness: within AD, against groups and contacts, against the cloud
# ---------------------------------------------------------------------------------------------------------------


def duplicate(attribute: str, others: str | None = None) -> Check:
    """Values (case-insensitive; SMTP addresses compared without prefix) held by more than one object.

    ``others`` is what groups and contacts must not hold either: ``"mail"`` (their mail) or ``"proxy"`` (mail
    and proxy addresses). Of the AD users holding one value, the first by DN is marked COMPLETE (keep it)
    unless a group or contact holds it too; the others EDIT (REMOVE for a secondary proxy address)."""
    def check(ctx: RuleContext) -> pd.DataFrame:
        view = ctx.view(attribute)
        c, n = ctx.codes(attribute)
        once = first_per_object(view, c, n)  # one object holding a value twice is no duplicate
        dup = np.bincount(c[once], minlength=n)[c] > 1
        other = ctx.mail_object_holder(attribute, others) if others else np.full(len(c), -1)
        dup |= other >= 0
        if not dup.any():
            return hits(view, dup)
        idx = np.flatnonzero(dup)
        found = pd.DataFrame({"code": c[idx], "dn": series(take(arrow(ctx.users["dn"]), view.pos[idx]))})
        order = found.drop_duplicates().sort_values(["code", "dn"])
        rank = order.groupby("code").cumcount().to_numpy()
        first, second = (order[rank == r].set_index("code")["dn"] for r in (0, 1))
        found["first"], found["second"] = found["code"].map(first), found["code"].map(second)
        has_other = other[idx] >= 0
        found["other"] = series(pc.if_else(pa.array(has_other), take(arrow(ctx.mail_objects["dn"]),
                                                                     np.where(has_other, other[idx], 0)),
                                           pa.scalar(None, STR))) if has_other.any() \
            else pd.Series(np.nan, index=found.index, dtype="str")
        keep = (found["dn"] == found["first"]).to_numpy() & ~has_other
        action = np.where(keep, "COMPLETE", remove_or_edit(view.select(dup))).astype(object)
        conflict = found["other"].fillna(found["first"].where(found["dn"] != found["first"], found["second"]))
        return hits(view, dup, action=action, conflict_with=arrow(conflict))
    return check


def cloud_conflict(attribute: str) -> Check:
    """AttributeValueMustBeUnique: an address AD will export that a cloud user other than the one this AD user
    matches already holds (as UPN, mail or SMTP proxy address; case-insensitive)."""
    def check(ctx: RuleContext) -> pd.DataFrame:
        view, c, ci = ctx.address_view(attribute), ctx.cloud_codes(attribute), ctx.cloud_index
        m = len(ctx.cloud)
        if not len(ci["holders"]):
            return hits(view, np.zeros(len(c), dtype=bool))
        holder = np.where(c >= 0, ci["first"][c], -1)
        count = np.where(c >= 0, ci["holders"][c], 0)
        lone = np.flatnonzero(count == 1)  # one cloud holder: a conflict unless it is this user's pair
        bad = np.zeros(len(c), dtype=bool)
        bad[lone] = ~_sorted_isin(view.pos[lone] * m + holder[lone], ctx.pairs)
        many = np.flatnonzero(count > 1)  # several holders: look at each (rare)
        if len(many):
            shared = ci["holders"][ci["code"]] > 1
            joined = int_join(c[many], many, ci["code"][shared], ci["row"][shared])
            joined = joined[~_sorted_isin(view.pos[joined[:, 0]] * m + joined[:, 1], ctx.pairs)]
            rows, first = np.unique(joined[:, 0], return_index=True)
            bad[rows], holder[rows] = True, joined[first, 1]
        conflict = take(arrow(ctx.cloud["upn"]), holder[bad]) if bad.any() else None
        return hits(view, bad, action=remove_or_edit(view.select(bad)), conflict_with=conflict)
    return check


def _sorted_isin(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    if not len(sorted_set):
        return np.zeros(len(values), dtype=bool)
    at = np.searchsorted(sorted_set, values).clip(max=len(sorted_set) - 1)
    return sorted_set[at] == values


def object_type_mismatch(ctx: RuleContext) -> pd.DataFrame:
    """ObjectTypeMismatch: a proxy address a user shares with a group or contact."""
    view = ctx.proxies
    holder = ctx.mail_object_holder("proxyAddresses", "proxy")
    bad = holder >= 0
    conflict = take(arrow(ctx.mail_objects["dn"]), holder[bad]) if bad.any() else None
    return hits(view, bad, action=remove_or_edit(view.select(bad)), conflict_with=conflict)


def large_object(ctx: RuleContext, limit: int = 300) -> pd.DataFrame:
    """LargeObject: more than ``limit`` proxy addresses on one user."""
    lists = ctx.users["proxy_addresses"].array.__arrow_array__()
    count = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    if ctx.checked is not None:
        count = np.where(ctx.checked, count, 0)
    bad = count > limit
    values = pa.array([f"{k} proxy addresses" for k in count[bad]], STR)
    view = View(np.flatnonzero(bad), values, values)
    return hits(view, all_rows(len(values)))
