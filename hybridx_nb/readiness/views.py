"""The data mechanics of the readiness checks: Arrow helpers, per-attribute views of the values to check, and
integer codes for comparing values across objects in one hash pass."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core.columns import lower, one_array

NON_ROUTABLE_TLDS = ("local", "lan", "internal", "corp", "localdomain", "home", "intranet", "private", "test",
                     "example", "invalid", "localhost")


_END = 2**31 - 1  # "to the end" for binary_slice (pyarrow fails on stop=None)


STR = pa.large_string()


def arrow(s: pd.Series | pa.Array | pa.ChunkedArray) -> pa.Array:
    """One Arrow large_string array (zero-copy from pandas' Arrow-backed ``str`` dtype)."""
    if isinstance(s, pd.Series):
        s = (s if s.dtype == "str" else s.astype("str")).array.__arrow_array__()
    s = one_array(s)
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


def factorize_all(segments: list[tuple[np.ndarray, pa.Array | Callable[[], pa.Array]]],
                  like: dict[int, int] | None = None) -> tuple[list[np.ndarray], int]:
    """``factorize`` over several segments (row and value per value) at once: equal values get equal codes across
    all of them. ``like`` maps a segment to an earlier one of the same rows: its values equal to that segment's on
    the same row take that code unhashed (UPN, mail and primary SMTP address are mostly one address, and
    hashing is the cost). Returns the codes per segment and the number of distinct values.

    A segment's values may be a function returning them: they are then built one segment at a time, and those of
    a segment ``like`` maps are only kept as far as they are hashed (at a million users the proxy addresses' keys
    are 160 MB, of which a third equal the UPN)."""
    like = like or {}
    refs: dict[int, pa.Array] = {}
    reused, hashed = {}, []
    for i, (pos, key) in enumerate(segments):
        key = key() if callable(key) else key
        if i in like.values():
            refs[i] = key
        if i in like and len(pos) and len(segments[like[i]][0]):
            ref_pos, ref_key = segments[like[i]][0], refs[like[i]]
            row = np.full(max(ref_pos.max(), pos.max()) + 1, -1, dtype=np.int64)
            row[ref_pos] = np.arange(len(ref_pos))
            at = row[pos]
            same = (at >= 0) & _equal_at(key, ref_key, np.maximum(at, 0))
            reused[i] = (same, at)
            key = key.filter(pa.array(~same))
        hashed.append(key.cast(pa.string()))
    del refs  # the references are hashed: only their codes are needed from here
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


def _equal_at(key: pa.Array, ref: pa.Array, at: np.ndarray, block: int = 1 << 18) -> np.ndarray:
    """``key == ref[at]`` (missing: False), a block at a time: whole, the values taken from ``ref`` would be a
    copy of every key (at a million users, 150 MB beside the hash table)."""
    return np.concatenate([mask(pc.equal(key.slice(s, block), take(ref, at[s:s + block])))
                           for s in range(0, len(key), block)] or [np.zeros(0, dtype=bool)])


def common_names(dns: pa.Array) -> pa.Array:
    """The value of each DN's first RDN (IdFix's COMMONNAME), escapes removed."""
    cn = pc.struct_field(pc.extract_regex(dns, r"^[^=]*=(?P<cn>(?:\\.|[^,\\])*)"), [0])
    return arrow(sub(cn, r"\\(.)", r"\1"))


def explode_proxies(frame: pd.DataFrame, rows: np.ndarray | None = None) -> tuple[np.ndarray, pa.Array]:
    """Row of ``frame`` and value of each proxy address (of the rows where ``rows`` is true, when given)."""
    lists = one_array(frame["proxy_addresses"].array.__arrow_array__())
    pos = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    values = arrow(pc.list_flatten(lists))
    keep = _present(values, None if rows is None else rows[pos])
    return (pos, values) if keep is None else (pos[keep], values.filter(pa.array(keep)))


def _present(values: pa.Array, rows: np.ndarray | None) -> np.ndarray | None:
    """Where a value is present and its row is one of ``rows`` (None: everywhere)."""
    keep = mask(pc.is_valid(values)) if values.null_count else None
    return keep if rows is None else rows if keep is None else keep & rows


@dataclass(frozen=True)
class View:
    """The values of one attribute, one row per value. For proxy addresses ``prefix`` is the type with its colon
    (``SMTP:``; empty when missing), ``text`` the address after it, ``kind`` the lower-case type."""

    pos: np.ndarray
    value: pa.Array
    text: pa.Array
    prefix: pa.Array | None = None
    kind: pa.Array | None = None

    def select(self, where: np.ndarray) -> "View":
        f = pa.array(where)
        pick = (lambda a: a.filter(f) if a is not None else None)
        return View(self.pos[where], pick(self.value), pick(self.text), pick(self.prefix), pick(self.kind))

    def key(self) -> pa.Array:
        """What uniqueness compares: the lower-case value, for SMTP the lower-case address without prefix. Built
        on demand: it is hashed once, and at a million users the proxy addresses' keys are 150 MB."""
        if self.kind is None:
            return arrow(lower(self.value))
        return _smtp_keys(self.value, self.text, mask(pc.equal(self.kind, "smtp")))

    def with_prefix(self, text: pa.Array) -> pa.Array:
        """``text`` with this view's prefix put back."""
        return join(self.prefix, text) if self.prefix is not None else text


def single_view(column: pd.Series, rows: np.ndarray | None = None) -> View:
    """The present values of ``column`` (of the rows where ``rows`` is true, when given)."""
    values = arrow(column)
    keep = _present(values, rows)
    if keep is None:
        return View(np.arange(len(values)), values, values)
    values = values.filter(pa.array(keep))
    return View(np.flatnonzero(keep), values, values)


def proxy_view(frame: pd.DataFrame, rows: np.ndarray | None = None) -> View:
    """The proxy addresses of ``frame`` (of the rows where ``rows`` is true, when given), split at the first
    colon. The values are grouped by the colon's byte position (a handful of groups: ``SMTP:``, ``X500:``,
    ``sip:`` …) so that each group is cut with one slice."""
    pos, values = explode_proxies(frame, rows)
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
    kind = arrow(pc.binary_slice(lower(prefix).cast(pa.large_binary()), 0, -1).cast(STR))
    return View(pos, values, text, prefix, kind)


def _smtp_keys(values: pa.Array, text: pa.Array, smtp: np.ndarray) -> pa.Array:
    """``proxy_keys`` from the split values: an SMTP address's key is its ``text`` lower-cased (usually every
    value is one, and the key is one new array, not four)."""
    if smtp.all():
        return arrow(lower(text))
    if not smtp.any():
        return arrow(lower(values))
    return arrow(lower(pc.if_else(pa.array(smtp), text, values)))  # one copy lower-cased, not both


def proxy_key_rows(frame: pd.DataFrame, smtp_only: bool = False) -> tuple[np.ndarray, pa.Array]:
    """Row of ``frame`` and uniqueness key (see ``proxy_keys``) of each proxy address, or of each SMTP one."""
    pos, values = explode_proxies(frame)
    if not smtp_only:
        return pos, proxy_keys(values)[0]
    smtp = mask(pc.equal(lower(pc.utf8_slice_codeunits(values, 0, 5)), "smtp:"))  # (not every value lower-cased)
    return pos[smtp], arrow(lower(_after_prefix(values.filter(pa.array(smtp)))))


def proxy_keys(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """What uniqueness compares of each proxy address (the lower-case value; for SMTP the lower-case address
    without its prefix) and where it is an SMTP address (kind "smtp" exactly when the lower-cased value starts
    with "smtp:")."""
    low = arrow(lower(values))
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


def all_rows(n: int) -> np.ndarray:
    return np.ones(n, dtype=bool)


def remove_or_edit(view: View) -> np.ndarray:
    """REMOVE for a secondary proxy address (the object keeps its others), EDIT for anything else."""
    if view.prefix is None:
        return np.full(len(view.pos), "EDIT", dtype=object)
    secondary = mask(pc.and_(pc.not_equal(view.prefix, ""), pc.not_equal(view.prefix, "SMTP:")))
    return np.where(secondary, "REMOVE", "EDIT").astype(object)


def first_per_object(view: View, codes: np.ndarray, n: int) -> np.ndarray:
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


_ASTRAL = r"[\x{10000}-\x{10FFFF}]"
