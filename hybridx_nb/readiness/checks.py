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

if TYPE_CHECKING:
    from hybridx_nb.readiness.rules import RuleContext

# .NET's \s (IdFix's whitespace): Unicode separators plus \t \n \v \f \r and NEL.
WHITESPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
UMLAUTS = {"ä": "ae", "ë": "e", "ï": "i", "ö": "oe", "ü": "ue", "ÿ": "y",
           "Ä": "Ae", "Ë": "E", "Ï": "I", "Ö": "Oe", "Ü": "Ue", "Ÿ": "Y"}
UPN_BAD = WHITESPACE + '\\%&*+/=?{}|<>();:,[]"' + "".join(UMLAUTS)
SMTP_BAD = WHITESPACE + '<>();,[]"'
PROXY_BAD = WHITESPACE + '<>(),[]"'          # other address types: ';' is part of their syntax
X400_BAD = "\t\n\v\f\r" + '[]"'              # X400/X500 addresses legitimately hold spaces and ';'
SAM_BAD = '[]\\"|,/:<>+=;?*'
NON_ROUTABLE_TLDS = ("local", "lan", "internal", "corp", "localdomain", "home", "intranet", "private", "test",
                     "example", "invalid", "localhost")

_ATEXT = "A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
LOCAL_RE = rf"^[{_ATEXT}]+(?:\.[{_ATEXT}]+)*$"
DOMAIN_RE = r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,17}$"
ADDRESS_RE = LOCAL_RE[:-1] + "@" + DOMAIN_RE[1:]
_ASTRAL = r"[\x{10000}-\x{10FFFF}]"
_END = 2**31 - 1  # "to the end" for binary_slice (pyarrow fails on stop=None)
STR = pa.large_string()


def charclass(chars: str) -> str:
    """An RE2 character class matching exactly ``chars`` (every character escaped by code point)."""
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in chars) + "]"


# ---------------------------------------------------------------------------------------------------------------
# Arrow helpers
# ---------------------------------------------------------------------------------------------------------------

def arrow(s: pd.Series | pa.Array | pa.ChunkedArray) -> pa.Array:
    """One Arrow large_string array (zero-copy from pandas' Arrow-backed ``str`` dtype)."""
    if isinstance(s, pd.Series):
        s = (s if s.dtype == "str" else s.astype("str")).array.__arrow_array__()
    if isinstance(s, pa.ChunkedArray):
        s = s.chunk(0) if s.num_chunks == 1 else s.combine_chunks()
    return s if s.type == STR else s.cast(STR)


def series(arr: pa.Array) -> pd.Series:
    """An Arrow string array as a pandas ``str`` column."""
    return pd.Series(pd.array(arr, dtype="str"))


def mask(arr: pa.Array) -> np.ndarray:
    """A boolean Arrow result as numpy, missing = False."""
    return pc.fill_null(arr, False).to_numpy(zero_copy_only=False)


def has(arr: pa.Array, pattern: str) -> np.ndarray:
    """Where ``arr`` contains a match of the RE2 ``pattern`` (anchor it for a full match; missing: False)."""
    return mask(pc.match_substring_regex(arr, pattern))


def sub(arr: pa.Array, pattern: str, by: str = "") -> pa.Array:
    return pc.replace_substring_regex(arr, pattern, by)


def take(arr: pa.Array, idx: np.ndarray) -> pa.Array:
    return arr.take(pa.array(idx, pa.int64()))


def join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation (missing if any part is missing)."""
    args = [pa.scalar(p, STR) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*args, pa.scalar("", STR))


def too_long(arr: pa.Array, limit: int) -> np.ndarray:
    """Where the value is longer than ``limit`` UTF-16 code units (how AD and Entra count)."""
    out = mask(pc.greater(pc.binary_length(arr), limit))  # UTF-8 bytes >= UTF-16 units: a cheap pre-filter
    idx = np.flatnonzero(out)
    if len(idx):
        cand = take(arr, idx)
        out[idx] = mask(pc.greater(pc.add(pc.utf8_length(cand), pc.count_substring_regex(cand, _ASTRAL)), limit))
    return out


def factorize(arr: pa.Array) -> tuple[np.ndarray, int, pa.Array]:
    """An integer code per distinct value (Arrow hashing, O(n)); missing values get -1. Returns the codes, the
    number of distinct values and the distinct values."""
    if arr.nbytes < 2**31 - 1:  # hashing is about twice as fast on 32-bit offsets
        arr = arr.cast(pa.string())
    enc = pc.dictionary_encode(arr)
    codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, len(enc.dictionary), arrow(enc.dictionary)


def factorize_all(segments: list[tuple[np.ndarray, pa.Array]], like: dict[int, int] | None = None
                  ) -> tuple[list[np.ndarray], int]:
    """``factorize`` over several segments (row and value per value) at once: equal values get equal codes across
    all of them. ``like`` maps a segment to an earlier one of the same rows: its values equal to that segment's on
    the same row take that code unhashed (UPN, mail and primary SMTP address are mostly one address, and
    hashing is the cost). Returns the codes per segment and the number of distinct values."""
    like = like or {}
    reused, hashed = {}, []
    for i, (pos, key) in enumerate(segments):
        if i in like and len(pos) and len(segments[like[i]][0]):
            ref_pos, ref_key = segments[like[i]]
            row = np.full(max(ref_pos.max(), pos.max()) + 1, -1, dtype=np.int64)
            row[ref_pos] = np.arange(len(ref_pos))
            at = row[pos]
            same = (at >= 0) & mask(pc.equal(key, take(ref_key, np.maximum(at, 0))))
            reused[i] = (same, at)
            key = key.filter(pa.array(~same))
        hashed.append(key.cast(pa.string()))
    enc = pc.dictionary_encode(pa.chunked_array(hashed, pa.string()))
    n = len(enc.chunk(0).dictionary) if enc.num_chunks else 0
    flat = np.concatenate([pc.fill_null(c.indices, -1).to_numpy(zero_copy_only=False) for c in enc.chunks]
                          or [np.zeros(0, dtype=np.int32)]).astype(np.int64)
    codes = np.split(flat, np.cumsum([len(h) for h in hashed])[:-1])
    for i, (same, at) in reused.items():
        out = np.empty(len(same), dtype=np.int64)
        out[~same], out[same] = codes[i], codes[like[i]][at[same]]
        codes[i] = out
    return codes, n


def common_names(dns: pa.Array) -> pa.Array:
    """The value of each DN's first RDN (IdFix's COMMONNAME), escapes removed."""
    cn = pc.struct_field(pc.extract_regex(dns, r"^[^=]*=(?P<cn>(?:\\.|[^,\\])*)"), [0])
    return arrow(sub(cn, r"\\(.)", r"\1"))


def explode_proxies(frame: pd.DataFrame) -> tuple[np.ndarray, pa.Array]:
    """Row of ``frame`` and value of each proxy address."""
    lists = frame["proxy_addresses"].array.__arrow_array__()
    lists = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    pos = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    values = arrow(pc.list_flatten(lists))
    if not values.null_count:
        return pos, values
    keep = mask(pc.is_valid(values))
    return pos[keep], values.filter(pa.array(keep))


# ---------------------------------------------------------------------------------------------------------------
# Views: the values of one attribute
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class View:
    """The values of one attribute, one row per value. For proxy addresses ``prefix`` is the type with its colon
    (``SMTP:``; empty when missing), ``text`` the address after it, ``kind`` the lower-case type; ``key`` is what
    uniqueness compares: the lower-case value, for SMTP the lower-case address without prefix."""

    pos: np.ndarray
    value: pa.Array
    text: pa.Array
    key: pa.Array
    prefix: pa.Array | None = None
    kind: pa.Array | None = None

    def select(self, where: np.ndarray) -> "View":
        f = pa.array(where)
        pick = (lambda a: a.filter(f) if a is not None else None)
        return View(self.pos[where], pick(self.value), pick(self.text), pick(self.key), pick(self.prefix),
                    pick(self.kind))

    def with_prefix(self, text: pa.Array) -> pa.Array:
        """``text`` with this view's prefix put back."""
        return join(self.prefix, text) if self.prefix is not None else text


def single_view(column: pd.Series) -> View:
    values = arrow(column)
    if not values.null_count:
        return View(np.arange(len(values)), values, values, arrow(pc.utf8_lower(values)))
    present = mask(pc.is_valid(values))
    values = values.filter(pa.array(present))
    return View(np.flatnonzero(present), values, values, arrow(pc.utf8_lower(values)))


def proxy_view(frame: pd.DataFrame) -> View:
    """The proxy addresses of ``frame``, split at the first colon. The values are grouped by the colon's byte
    position (a handful of groups: ``SMTP:``, ``X500:``, ``sip:`` …) so that each group is cut with one slice."""
    pos, values = explode_proxies(frame)
    raw = values.cast(pa.large_binary())
    colon = pc.find_substring(raw, ":").to_numpy(zero_copy_only=False)
    prefixes, texts, order = [], [], []
    for at in np.unique(colon):
        idx = np.flatnonzero(colon == at)
        group = take(raw, idx) if len(idx) < len(raw) else raw
        prefixes.append(pc.binary_slice(group, 0, int(at) + 1))  # at = -1: the empty prefix
        texts.append(pc.binary_slice(group, int(at) + 1, _END) if at >= 0 else group)
        order.append(idx)
    if len(order) > 1:
        back = np.argsort(np.concatenate(order), kind="stable")
        prefix, text = (take(pa.concat_arrays(parts), back) for parts in (prefixes, texts))
    else:
        prefix, text = (parts[0] if parts else raw for parts in (prefixes, texts))
    prefix, text = prefix.cast(STR), text.cast(STR)
    kind = arrow(pc.binary_slice(pc.utf8_lower(prefix).cast(pa.large_binary()), 0, -1).cast(STR))
    return View(pos, values, text, proxy_keys(values)[0], prefix, kind)


def proxy_key_rows(frame: pd.DataFrame, smtp_only: bool = False) -> tuple[np.ndarray, pa.Array]:
    """Row of ``frame`` and uniqueness key (see ``proxy_keys``) of each proxy address, or of each SMTP one."""
    pos, values = explode_proxies(frame)
    if not smtp_only:
        return pos, proxy_keys(values)[0]
    low = arrow(pc.utf8_lower(values))
    smtp = mask(pc.starts_with(low, "smtp:"))
    return pos[smtp], _after_prefix(low.filter(pa.array(smtp)))


def proxy_keys(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """What uniqueness compares of each proxy address (the lower-case value; for SMTP the lower-case address
    without its prefix) and where it is an SMTP address (kind "smtp" exactly when the lower-cased value starts
    with "smtp:")."""
    low = arrow(pc.utf8_lower(values))
    smtp = mask(pc.starts_with(low, "smtp:"))
    if not smtp.any():
        return low, smtp
    where = pa.array(smtp)
    return arrow(pc.replace_with_mask(low, where, _after_prefix(low.filter(where)))), smtp


def _after_prefix(smtp: pa.Array) -> pa.Array:
    """Lower-case SMTP proxy addresses without their "smtp:"."""
    return arrow(pc.binary_slice(smtp.cast(pa.large_binary()), 5, _END).cast(STR))


def int_join(left_codes: np.ndarray, left_rows: np.ndarray, right_codes: np.ndarray,
             right_rows: np.ndarray) -> np.ndarray:
    """Distinct (left_row, right_row) for every pair of equal codes (an integer hash join); -1 never matches."""
    left = pd.DataFrame({"c": left_codes, "l": left_rows})
    right = pd.DataFrame({"c": right_codes, "r": right_rows})
    joined = left[left_codes >= 0].merge(right[right_codes >= 0], on="c")
    pairs = joined[["l", "r"]].to_numpy(dtype=np.int64).reshape(-1, 2)
    width = int(pairs[:, 1].max(initial=0)) + 1
    return pairs[~pd.Series(pairs[:, 0] * width + pairs[:, 1]).duplicated().to_numpy()]


ATTRIBUTE_COLUMNS = {
    "userPrincipalName": "upn", "mail": "mail", "mailNickname": "mail_nickname",
    "sAMAccountName": "sam_account_name", "displayName": "display_name", "givenName": "given_name",
    "targetAddress": "target_address",
}
Check = Callable[["RuleContext"], pd.DataFrame]


def hits(view: View, where: np.ndarray, *, update: pa.Array | None = None, action: str | np.ndarray = "EDIT",
         conflict_with: pa.Array | None = None) -> pd.DataFrame:
    """Hit rows for the values of ``view`` selected by the boolean ``where``. ``update``, ``action`` and
    ``conflict_with`` are either aligned with the view or already cut to the hits."""
    n = int(where.sum())
    f = pa.array(where)

    def pick(a):
        if a is None:
            return pa.nulls(n, STR)
        if isinstance(a, np.ndarray):
            return a if len(a) == n else a[where]
        return arrow(a if len(a) == n else a.filter(f))

    return pd.DataFrame({
        "pos": view.pos[where],
        "value": series(view.value.filter(f)),
        "update": series(pick(update)),
        "action": pd.Series(pick(action) if isinstance(action, np.ndarray) else [action] * n, dtype="str"),
        "conflict_with": series(pick(conflict_with)),
    })


def _all(n: int) -> np.ndarray:
    return np.ones(n, dtype=bool)


def remove_or_edit(view: View) -> np.ndarray:
    """REMOVE for a secondary proxy address (the object keeps its others), EDIT for anything else."""
    if view.prefix is None:
        return np.full(len(view.pos), "EDIT", dtype=object)
    secondary = mask(pc.and_(pc.not_equal(view.prefix, ""), pc.not_equal(view.prefix, "SMTP:")))
    return np.where(secondary, "REMOVE", "EDIT").astype(object)


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
        return _without(view, has(view.text, charclass(bad)), [(_all(len(view.pos)), bad)])
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
        bad = ~a.malformed & ~ctx.routable(a.view.key)  # an address's key is its lower-case text
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
        values = arrow(ctx.users[ATTRIBUTE_COLUMNS[attribute]])
        bad = ~mask(pc.is_valid(values)) | has(values, f"^{charclass(WHITESPACE)}*$")
        view = View(np.arange(len(values)), values, values, values)
        update = None
        if attribute == "displayName" and bad.any():
            f = pa.array(bad)
            given, surname = (pc.fill_null(arrow(ctx.users[c]).filter(f), "") for c in ("given_name", "surname"))
            name = pc.utf8_trim_whitespace(join(given, " ", surname))
            cn = common_names(arrow(ctx.users["dn"]).filter(f))
            update = pc.if_else(pc.equal(name, ""), cn, name)
        return hits(view, bad, update=update)
    return check


# ---------------------------------------------------------------------------------------------------------------
# Uniqueness: within AD, against groups and contacts, against the cloud
# ---------------------------------------------------------------------------------------------------------------

def _first_per_object(view: View, codes: np.ndarray, n: int) -> np.ndarray:
    """Where a value is the first of its code on its object (always, for single-valued attributes)."""
    once = np.ones(len(codes), dtype=bool)
    if view.prefix is None:
        return once
    again = np.flatnonzero(np.bincount(codes, minlength=n)[codes] > 1)  # only a repeated code can repeat on its row
    once[again] = ~pd.Series(view.pos[again] * max(n, 1) + codes[again]).duplicated().to_numpy()
    return once


def first_holder(codes: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """Per code, the first row holding it (-1 where none)."""
    holder = np.full(n, -1, dtype=np.int64)
    valid = codes >= 0
    holder[codes[valid][::-1]] = rows[valid][::-1]
    return holder


def duplicate(attribute: str, others: str | None = None) -> Check:
    """Values (case-insensitive; SMTP addresses compared without prefix) held by more than one object.

    ``others`` is what groups and contacts must not hold either: ``"mail"`` (their mail) or ``"proxy"`` (mail
    and proxy addresses). Of the AD users holding one value, the first by DN is marked COMPLETE (keep it)
    unless a group or contact holds it too; the others EDIT (REMOVE for a secondary proxy address)."""
    def check(ctx: RuleContext) -> pd.DataFrame:
        view = ctx.view(attribute)
        c, n = ctx.codes(attribute)
        once = _first_per_object(view, c, n)  # one object holding a value twice is no duplicate
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
    bad = count > limit
    values = pa.array([f"{k} proxy addresses" for k in count[bad]], STR)
    view = View(np.flatnonzero(bad), values, values, values)
    return hits(view, _all(len(values)))
