"""The parts of ``ldapsearch`` output that are protocol, not directory objects (docs/domain.md §8).

Without ``-LLL`` OpenLDAP's ldapsearch writes "extended LDIF": a header of comments (``# requesting: …`` names the
attributes asked for), ``ref:`` search references (Active Directory returns one per application partition,
ForestDnsZones, DomainDnsZones, Configuration) and a trailer (``search: 2`` / ``result: 0 Success``, with the
paged-results control when ``-E pr=…`` was used). References and trailers are skipped without a word; a trailer
whose result is not success (``4 Size limit exceeded``) or a paged search that stopped with a cookie left shows
that the file is not the whole directory, and is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pyarrow as pa

from hybridx_nb.core.errors import InputError
from hybridx_nb.snapshot.coverage import EXPORTED, MISSING, Coverage
from hybridx_nb.sources.text import Text

#: First attribute of a record that is not an entry: a search reference or the search result trailer.
PROTOCOL_HEADS = ("ref", "search", "result")
_REQUESTING = re.compile(r"^# requesting: ?(.*)$", re.MULTILINE)
_COOKIE = re.compile(r"^# pagedresults: cookie=(\S*)[ \t]*$", re.MULTILINE)
_FIX = ("page the search so it returns everything: ldapsearch … -E pr=1000/noprompt (Active Directory returns at "
        "most 1000 entries per request), as in README.md (Export files)")


def drop_protocol_records(doc: Text, attr_names: pa.Array, attr: np.ndarray, record: np.ndarray,
                          starts: np.ndarray, value_at: Callable[[np.ndarray], pa.Array]
                          ) -> tuple[np.ndarray, np.ndarray]:
    """``record`` (record number per line, -1 for blank) and ``starts`` without the protocol records.

    Raises ``InputError`` when a trailer shows the search did not complete.
    """
    names = np.asarray(attr_names.to_pylist(), dtype=object)
    if not len(starts) or not np.isin(names, PROTOCOL_HEADS).any():
        return record, starts
    head = names[attr[starts]]
    protocol = np.isin(head, PROTOCOL_HEADS)
    result_lines = np.flatnonzero((names[attr] == "result") & (record >= 0))
    for line, value in zip(result_lines, value_at(result_lines).to_pylist()):
        if protocol[record[line]] and not re.match(r"0(?:\s|$)", value or ""):
            raise InputError(doc.path, f"the search ended with 'result: {value}', so the file does not hold every "
                             "object the search should have returned", fix=_FIX)
    cookies = _COOKIE.findall(doc.text)
    if cookies and cookies[-1]:
        raise InputError(doc.path, "the paged search stopped before its last page (the last "
                         "'# pagedresults: cookie=' is not empty)", fix=_FIX)
    if not protocol.any():
        return record, starts
    keep = ~protocol
    renumber = np.cumsum(keep) - 1
    line_ok = record >= 0
    line_ok[line_ok] = keep[record[line_ok]]
    return np.where(line_ok, renumber[np.maximum(record, 0)], -1), starts[keep]


def requested_attributes(text: str) -> set[str] | None:
    """The attributes ldapsearch's ``# requesting:`` header names (lower case, ``*`` for all), or None."""
    found = _REQUESTING.search(text[:65536])
    if found is None:
        return None
    words = found.group(1).split()
    return {"*"} if not words or words == ["ALL"] or "*" in words else {w.lower() for w in words}


def was_requested(requested: set[str] | None, names: Iterable[str]) -> bool:
    """Whether the header shows one of ``names`` was asked for (absent from every record then means empty)."""
    if requested is None:
        return False
    return "*" in requested or any(n.lower() in requested for n in names)


def ldif_coverage(source: str, carried: Mapping[str, bool]) -> Coverage:
    """An LDIF entry leaves out attributes without a value, so an attribute seen in any record (or asked for by
    name) was exported for all; one seen nowhere may not have been asked for: ``missing``."""
    return Coverage({"ad_users": {f: EXPORTED if there else MISSING for f, there in carried.items()}},
                    {"ad_users": source})
