"""Pseudonymising free text column-wise: every DN, mail address/UPN and known directory word inside sentences.

Python's ``re.sub`` with a callback costs ~10 µs a sentence (a million findings have a million distinct reasons,
each naming its user). Here the column is dictionary-encoded first (each distinct sentence once), then Arrow's RE2
kernels mark every match in one pass (``\\x1e`` around it) and split on the marks, so the sentence becomes an
alternating list ``[text, match, text, match, …, text]``. Only the *distinct matches* (directory values, already
aliased when the value columns were done) go through Python; the pieces are joined back with Arrow.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core.columns import one_array

_MARK = "\x1e"  # record separator: never part of directory text (removed from the input first)

#: Characters of an address's local part (RFC 5322 atext plus the quote and dot, any letter or digit: UPNs may
#: be non-ASCII in Entra ID) and of a domain label.
_LOCAL = r"[\p{L}\p{N}\p{M}._%+'\"#!$&*=?^`{|}~-]+"
_LABEL = r"[\p{L}\p{N}\p{M}-]+"
EMAIL = rf"{_LOCAL}@(?:{_LABEL}\.)+{_LABEL}"
_RDN_VALUE = r"(?:\\.|[^,=\\\n\x1e])+"
#: A DN or a run of RDNs (kept simple: RE2 extracts submatches of simple patterns several times faster).
DN = rf"(?i:\b(?:CN|OU|O|DC)={_RDN_VALUE}(?:,\s?(?:CN|OU|O|L|ST|C|DC)={_RDN_VALUE})*)"
#: Literal alternatives per RE2 pattern (RE2 refuses patterns past its memory budget).
LITERAL_CHUNK = 400

_ASCII_WORD = re.compile(r"[A-Za-z0-9_]")
_PY_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PY_DN = re.compile(r"^(?:CN|OU|O|DC)=", re.IGNORECASE)


def literal_patterns(values: Iterable[str]) -> list[str]:
    """Case-insensitive RE2 patterns matching any of ``values`` as a whole word, longest first, at most
    ``LITERAL_CHUNK`` values per pattern."""
    words = sorted({v.strip() for v in values if v and len(v.strip()) >= 3}, key=len, reverse=True)

    def bounded(word: str) -> str:  # RE2's \b knows only ASCII word characters
        left = r"\b" if _ASCII_WORD.match(word[0]) else ""
        right = r"\b" if _ASCII_WORD.match(word[-1]) else ""
        return f"{left}{re.escape(word)}{right}"

    return ["(?i:" + "|".join(bounded(w) for w in words[i:i + LITERAL_CHUNK]) + ")"
            for i in range(0, len(words), LITERAL_CHUNK)]


def _flat_marked(arr: pa.Array, pattern: str) -> tuple[pa.Array, np.ndarray]:
    """``arr`` split at every match of ``pattern``: the flat pieces and the list offsets."""
    clean = pc.replace_substring(arr, _MARK, "") if pc.any(pc.match_substring(arr, _MARK)).as_py() else arr
    # \0 (the whole match) lets RE2 find each match with its DFAs; a capture group would need its slower NFA
    marked = pc.replace_substring_regex(clean, pattern, f"{_MARK}\\0{_MARK}")
    lists = pc.split_pattern(marked, _MARK)
    offsets = np.asarray(lists.offsets)
    return lists.flatten(), offsets


def replace_matches(values: pd.Series, patterns: Sequence[str], alias: Callable[[str], str]) -> pd.Series:
    """``values`` with every match of each RE2 pattern in turn replaced by ``alias(match)``; missing stays missing.

    Vectorised: the distinct sentences go through every pattern once (each match marked and split by Arrow, each
    distinct match aliased once), and only then back to one value per row.
    """
    present = values.notna().to_numpy()
    if not present.any():
        return values
    encoded = one_array(pa.array(values.astype("str").array).dictionary_encode())
    sentences = encoded.dictionary.cast(pa.large_string())
    for pattern in patterns:
        sentences = _replace_in(sentences, pattern, alias)
    out = sentences.take(encoded.indices)
    result = pd.Series(pd.array(out, dtype="str"), index=values.index)
    return result.where(present, None) if not present.all() else result


def _replace_in(sentences: pa.Array, pattern: str, alias: Callable[[str], str]) -> pa.Array:
    """Each of ``sentences`` (distinct, none missing) with the matches of ``pattern`` aliased."""
    flat, offsets = _flat_marked(sentences, pattern)
    # Inside each sentence's list the pieces alternate: even positions are text, odd positions are matches.
    owner = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    odd = ((np.arange(len(flat)) - offsets[owner]) % 2).astype(bool)
    if not odd.any():
        return sentences
    matches = flat.filter(pa.array(odd))
    distinct = matches.dictionary_encode()
    mapped = pa.array([alias(m) for m in distinct.dictionary.to_pylist()], pa.large_string())
    aliased = mapped.take(distinct.indices)
    index = np.arange(len(flat))
    index[odd] = len(flat) + np.arange(len(aliased))
    flat = pa.concat_arrays([flat, aliased]).take(pa.array(index))
    return pc.binary_join(pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), flat),
                          pa.scalar("", pa.large_string()))


def classify(match: str) -> str:
    """What a matched piece is: ``dn``, ``email`` or ``literal``."""
    if _PY_DN.match(match):
        return "dn"
    if _PY_EMAIL.match(match):
        return "email"
    return "literal"
