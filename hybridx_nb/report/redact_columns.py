"""Pseudonymising value columns fast: each distinct value once, in tight loops or Arrow kernels.

A million users have a million distinct names, addresses and DNs. Method calls with closures per value cost ~15 µs;
here the distinct values of a column (its Arrow dictionary) are aliased in plain loops over Python strings with the
aliases kept in the redactor's cache (so a value seen in another column or inside a sentence gets the same alias),
and a DN is split by Arrow into its first RDN (the person: distinct per user) and the rest (the OU path and domain:
a few hundred distinct values at most).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core.columns import one_array

#: The functions take the ``redact.Redactor`` (its key and alias cache) as ``r``; it imports this module.
Redactor = Any
#: The first RDN of a DN and the rest (RE2 and Python's ``re`` read it the same way).
FIRST_RDN = r"^\s*(?P<attr>[A-Za-z]+)=(?P<val>(?:\\.|[^,\\])*)(?P<rest>.*)$"


def _encoded(values: pd.Series) -> tuple[pa.Array, list[str]]:
    """The column's dictionary indices and its distinct values as Python strings."""
    enc = one_array(pa.array(values.astype("str").array)).dictionary_encode()
    return enc, enc.dictionary.to_pylist()


def _back(values: pd.Series, enc: pa.Array, aliases: list[str]) -> pd.Series:
    out = pa.array(aliases, pa.large_string()).take(enc.indices)
    return pd.Series(pd.array(out, dtype="str"), index=values.index)


def name_list(r: Redactor, items: list[str]) -> list[str]:
    """``Person 1a2b3c4d5e`` for each name (case and spacing ignored), cached."""
    cache, key, blake, out = r._cache, r._key, hashlib.blake2s, []
    for v in items:
        hit = cache.get(("name", v))
        if hit is None:
            norm = " ".join(v.casefold().split())
            hit = cache[("name", v)] = "Person " + blake(f"name\0{norm}".encode(), key=key).hexdigest()[:10]
        out.append(hit)
    return out


def local_list(r: Redactor, items: list[str]) -> list[str]:
    """``user-1a2b3c4d5e`` for each local part or sAMAccountName, cached."""
    cache, key, blake, out = r._cache, r._key, hashlib.blake2s, []
    for v in items:
        hit = cache.get(("local", v))
        if hit is None:
            hit = cache[("local", v)] = "user-" + blake(f"local\0{v.casefold()}".encode(), key=key).hexdigest()[:10]
        out.append(hit)
    return out


def email_list(r: Redactor, items: list[str]) -> list[str]:
    """Each address with its local part and domain aliased (``smtp:``/``SMTP:`` prefixes kept), cached; the
    local parts are aliased in one ``local_list`` call, the (few) domains one by one."""
    cache, out, todo = r._cache, [], []
    for i, v in enumerate(items):
        hit = cache.get(("email", v))
        out.append(hit)
        if hit is None:
            todo.append(i)
    if not todo:
        return out
    split = [items[i].rpartition("@") for i in todo]
    locals_ = [local.split(":", 1)[1] if ":" in local and local.split(":", 1)[0].casefold() in _PREFIXES
               else local for local, _, _ in split]
    aliased = local_list(r, locals_)
    domains: dict[str, str] = {}
    for i, (local, at, domain), plain, alias in zip(todo, split, locals_, aliased):
        if not at or not local or not domain:
            hit = r.email(items[i])
        else:
            dom = domains.get(domain)
            if dom is None:
                dom = domains[domain] = r.domain(domain)
            hit = f"{local[:len(local) - len(plain)]}{alias}@{dom}"
        cache[("email", items[i])] = out[i] = hit
    return out


def anchor_list(r: Redactor, items: list[str]) -> list[str]:
    """ImmutableIDs: anchors, GUIDs and Okta ids kept (one Arrow regex over the distinct values), the rest aliased."""
    keep = pc.match_substring_regex(pa.array(items, pa.large_string()), r._anchor_pattern).to_pylist()
    return [v if k else r.opaque(v) for v, k in zip(items, keep)]


def dn_series(r: Redactor, values: pd.Series) -> pd.Series:
    """Every DN of the column aliased: the first RDN by Arrow (a CN as a person's name), the rest (OU path, DCs)
    once per distinct rest."""
    enc, items = _encoded(values)
    dictionary = enc.dictionary
    parts = pc.extract_regex(dictionary, FIRST_RDN)
    ok = pc.is_valid(parts).to_numpy(zero_copy_only=False)
    attr = pc.utf8_upper(parts.field("attr")).to_pylist()
    plain = pc.replace_substring_regex(parts.field("val"), r"\\(.)", r"\1").to_pylist()
    raw_attr = parts.field("attr").to_pylist()
    rest = parts.field("rest").to_pylist()
    is_cn = [a == "CN" for a in attr]
    names = name_list(r, [p if c else "" for p, c in zip(plain, is_cn)])
    rests: dict[str, str] = {}
    cache = r._cache
    aliases = []
    for i, v in enumerate(items):
        hit = cache.get(("dn", v))
        if hit is None:
            if not ok[i]:
                hit = r.opaque(v)
            else:
                tail = rests.get(rest[i])
                if tail is None:
                    tail = rests[rest[i]] = r.dn_rest(rest[i])
                first = names[i] if is_cn[i] else r.ou(plain[i])
                hit = f"{raw_attr[i]}={first}{tail}"
            cache[("dn", v)] = hit
        aliases.append(hit)
    return _back(values, enc, aliases)


LISTS: dict[str, Callable[[Redactor, list[str]], list[str]]] = {
    "name": name_list, "local": local_list, "email": email_list, "anchor": anchor_list}
_PREFIXES = ("smtp", "sip", "x500")


def value_columns(r: Redactor, frame: pd.DataFrame, kinds: dict[str, str]) -> dict[str, pd.Series]:
    """Columns of the same kind aliased together: one dictionary over all of them (UPN, mail and login columns
    mostly hold the same addresses), each distinct value once."""
    out: dict[str, pd.Series] = {}
    by_kind: dict[str, list[str]] = {}
    for col, kind in kinds.items():
        by_kind.setdefault(kind, []).append(col)
    for kind, cols in by_kind.items():
        make = LISTS.get(kind)
        if make is None or len(cols) == 1:
            out.update({c: value_series(r, frame[c], kind) for c in cols})
            continue
        arrays = [one_array(pa.array(frame[c].astype("str").array)) for c in cols]
        enc = pa.concat_arrays([a.cast(pa.large_string()) for a in arrays]).dictionary_encode()
        aliased = pa.array(make(r, enc.dictionary.to_pylist()), pa.large_string()).take(enc.indices)
        start = 0
        for c, a in zip(cols, arrays):
            part = aliased.slice(start, len(a))
            start += len(a)
            out[c] = pd.Series(pd.array(part, dtype="str"), index=frame.index)
    return out


def value_series(r: Redactor, values: pd.Series, kind: str) -> pd.Series:
    """The column with each distinct value aliased once as ``kind``; missing values stay missing."""
    present = values.notna().to_numpy()
    if not present.any():
        return values
    if kind == "dn":
        out = dn_series(r, values)
    else:
        enc, items = _encoded(values)
        make = LISTS.get(kind)
        aliases = make(r, items) if make else [getattr(r, kind)(v) for v in items]
        out = _back(values, enc, aliases)
    return out if present.all() else out.where(present, None)
