"""AD objects from LDIF: ``ldifde -f out.ldf ...`` or ``ldapsearch -LLL ...`` (RFC 2849).

The whole file is handled as one byte buffer: unfolding, cutting each line at its first colon and record
numbering are numpy arithmetic on it, values and the pivot to one row per record are Arrow column operations, so a
million records take seconds, not minutes. Only values that are base64 *text* (non-ASCII names, ``dn::``) are
decoded one by one.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core import anchors
from hybridx_nb.core.columns import lower
from hybridx_nb.core.errors import InputError
from hybridx_nb.sources import common, powershell_csv, stream, text
from hybridx_nb.sources.common import AD_FIELDS, ReadResult
from hybridx_nb.sources.files import ldif_protocol as protocol
from hybridx_nb.sources.text import Text

_ATTR_RE = r"(?:[A-Za-z][A-Za-z0-9-]*|[0-9.]+)(?:;[^:]*)?"  # attr[;options], then ``:``, ``::`` or ``:<``
_MULTI = ("proxy_addresses", "object_class")
_BINARY = ("object_guid", "consistency_guid", *common.AD_GUID_FIELDS)  # keep their base64 (the anchor form)
# the most specific class wins; anything else: the last value listed (LDAP lists classes from top down)
_CLASS_ORDER = ("computer", "inetOrgPerson", "group", "contact", "user")
_FIELDS = {"dn": ("dn",), **{k: v for k, v in AD_FIELDS.items() if k != "dn"}, "dn_attr": ("distinguishedName",)}
_NAMES = list(_FIELDS)
_TEXT, _B64, _URL = range(3)


def read_ldif(path: str | Path, doc: Text | None = None) -> ReadResult:
    """AD users, groups and contacts from an LDIF export; computers and other classes go to ``rejected``.

    A big file is read in parts, two side by side (cut after a blank line, which always ends a record): the work
    is numpy and Arrow, which release the GIL."""
    doc = doc or text.read_text(path)
    requested = protocol.requested_attributes(doc.head())
    parts = _parts(doc)
    doc.release()
    n = sum(len(p.frame) for p in parts)
    if not n:
        raise InputError(doc.path, "the file holds no LDIF records", fix="check the search base and filter")
    frames = [p.frame for p in parts if len(p.frame)]
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    reason = np.concatenate([p.reason for p in parts])
    carried = np.logical_or.reduce([p.carried for p in parts])
    tool = "ldifde" if any(p.changetype for p in parts) else "LDIF"
    source = f"{doc.name} ({tool}, {doc.encoding})"
    coverage = protocol.ldif_coverage(source, {f: bool(carried[i]) or protocol.was_requested(requested, _FIELDS[f])
                                               for i, f in enumerate(_NAMES) if f not in ("dn", "dn_attr")})
    if not coverage.attributes["ad_users"].get("object_class") == "exported":
        raise InputError(doc.path, f"no record of the {n:,} has objectClass: the search did not ask for it, so "
                         "users cannot be told from computers, groups and other objects",
                         fix="add objectClass to the attributes the search returns, as in README.md (Export files)")
    result = common.finish_ad_objects(doc.path, source, frame, pd.Series(reason, dtype="str"), class_exported=True)
    result.coverage = coverage
    return result


def _parts(doc: Text) -> list[_Part]:
    """The records of the file, read in parts of about ``_PART`` bytes, two side by side."""
    raw = doc.utf8()
    cuts = _cuts(raw)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hybridx-ldif-lines") as counter, \
            ThreadPoolExecutor(max_workers=2, thread_name_prefix="hybridx-ldif") as pool:
        # each part's first physical line, counted beside the parsing: a part needs it only for its line numbers
        # at its end, or for an error
        lines = counter.submit(lambda: np.cumsum([1] + [stream.count_newlines(raw, a, b)
                                                        for a, b in zip(cuts, cuts[1:-1])]))
        parts = [pool.submit(_records, doc, raw, a, b, lambda k=k: int(lines.result()[k]))
                 for k, (a, b) in enumerate(zip(cuts, cuts[1:]))]
        try:
            return [part.result() for part in parts]
        except BaseException:
            for part in parts:  # a bad line stops the read: the parts not yet started never start
                part.cancel()
            raise


#: The size of a part. Each part's numpy arrays hold one int64 per line, so a part of tens of megabytes works in
#: memory the allocator hands back to it part after part; one piece of a gigabyte file would take ten times the
#: file's size in fresh memory, which the kernel must zero page by page.
_PART = 32 << 20


def _cuts(raw: bytes) -> list[int]:
    """Where the parts begin and end: 0, then a cut after a blank line every ``_PART`` bytes or so (a blank line
    always ends a record; the cut is not before a line that continues it), then the file's length."""
    cuts = [0]
    while len(raw) - cuts[-1] >= 2 * _PART:
        cut = _cut_after(raw, cuts[-1] + _PART)
        if not cut:
            break
        cuts.append(cut)
    return cuts + [len(raw)]


def _cut_after(raw: bytes, pos: int) -> int:
    """Just after the first blank line from ``pos`` that a line other than a continuation follows; 0 if none."""
    window = 1 << 16  # searched a window at a time: a file with CRLF line ends has no LF LF to find at all
    while pos < len(raw):
        stop = pos + window + 3
        hits = [(i, i + len(sep)) for sep in (b"\n\n", b"\n\r\n") if (i := raw.find(sep, pos, stop)) >= 0]
        if not hits:
            pos, window = stop - 3, window * 2
            continue
        cut = min(hits)[1]
        if cut < len(raw) and raw[cut:cut + 1] != b" ":
            return cut
        pos = cut
    return 0


@dataclass
class _Part:
    """The records of one part of the file: the frame before routing, reasons, which fields it carried."""

    frame: pd.DataFrame
    reason: np.ndarray
    carried: np.ndarray
    changetype: bool


def _records(doc: Text, raw: bytes, first: int, stop: int, first_line: Callable[[], int]) -> _Part:
    """One row per LDIF record of ``raw[first:stop]`` (whose first line is physical line ``first_line()``)."""
    data, begin, end, within = _logical_lines(np.frombuffer(memoryview(raw)[first:stop], np.uint8))

    def physical(at: Any) -> Any:  # line numbers within the part as the file's, once the parts before are counted
        return within[at] + (first_line() - 1)

    blank, bad, names, sep, value_at = _split_lines(data, begin, end)
    if len(bad):
        line = data[begin[bad[0]]:end[bad[0]]].tobytes().decode("utf-8", "replace")
        if bad[0] == 0 and first == 0 and line.startswith(" "):
            raise InputError(doc.path, "the file starts with a continuation line (a line beginning with a space "
                             "continues the line before it): its first lines are missing", line=int(physical(0)),
                             fix="export again, or copy the file whole; do not cut it")
        raise InputError(doc.path, f"not an LDIF line: {line[:80]!r}",
                         line=int(physical(bad[0])),
                         fix="export with ldifde or ldapsearch -LLL as shown in README.md (Export files), unedited")
    attr_names = pc.utf8_lower(pc.replace_substring(names.dictionary, "-", ""))
    attr = names.indices.to_numpy(zero_copy_only=False)
    start = ~blank & np.concatenate([[True], blank[:-1]])
    record = np.where(blank, -1, np.cumsum(start) - 1)
    starts = np.flatnonzero(start)
    record, starts = protocol.drop_protocol_records(doc, attr_names, attr, record, starts, value_at)
    n = len(starts)
    changetype = "changetype" in attr_names.to_pylist()
    if not n:
        return _Part(pd.DataFrame(), np.full(0, None, dtype=object), np.zeros(len(_NAMES), bool), changetype)
    reason = np.full(n, None, dtype=object)
    reason[attr_names.to_numpy(zero_copy_only=False)[attr[starts]] != "dn"] = \
        "LDIF record without a dn (a search reference?)"
    norm = {powershell_csv.normalise_name(name): _NAMES.index(field)
            for field, names in _FIELDS.items() for name in names}
    code = pc.index_in(attr_names, value_set=pa.array(list(norm))).fill_null(-1).to_numpy(zero_copy_only=False)
    field = np.array(list(norm.values()) + [-1], dtype=np.int8)[code][attr]
    keep = np.flatnonzero((field >= 0) & (record >= 0))
    field, record, sep = field[keep], record[keep], sep[keep]
    value = _decode_values(value_at(keep), sep, field, pc.take(names, pa.array(keep)), record, reason)
    at = _lines_by_field(field)
    columns = {f: _first_per_record(value, at(_NAMES.index(f)), record, n) if len(at(_NAMES.index(f)))
               else pa.nulls(n, pa.large_string()) for f in _NAMES if f not in _MULTI}
    frame = pd.DataFrame({f: pd.Series(pd.array(col, dtype="str")) for f, col in columns.items()})
    frame["dn"] = frame["dn"].fillna(frame.pop("dn_attr"))
    guid_is_b64 = _first_per_record(pa.array(sep == _B64), at(_NAMES.index("object_guid")), record, n)
    converted = anchors.immutable_id_to_guid_series(frame["object_guid"])
    frame["object_guid"] = frame["object_guid"].mask(
        guid_is_b64.fill_null(False).to_numpy(zero_copy_only=False) & converted.notna().to_numpy(), converted)
    frame["proxy_addresses"] = pd.Series(pd.arrays.ArrowExtensionArray(
        _lists_per_record(value, at(_NAMES.index("proxy_addresses")), record, n)))
    frame["object_class"] = _most_specific(
        _lists_per_record(value, at(_NAMES.index("object_class")), record, n))
    frame["enabled"] = common.enabled_from_uac(frame.pop("user_account_control"))
    frame["is_critical_system_object"] = common.bool_text(frame["is_critical_system_object"])
    frame["is_deleted"] = common.bool_text(frame["is_deleted"])
    frame["hide_from_address_lists"] = common.bool_text(frame["hide_from_address_lists"])
    for f in common.AD_GUID_FIELDS:
        frame[f] = common.guid_text(frame[f])
    frame["source_line"] = physical(starts)
    carried = np.array([len(at(i)) > 0 for i in range(len(_NAMES))])
    return _Part(frame, reason, carried, changetype)


def _logical_lines(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The file's bytes unfolded, and where each line that is not a comment or the ``version:`` line begins and
    ends in them, with the physical line it starts on.

    Line ends may be LF or CRLF; a fold (a line starting with a space continues the one before) is joined by
    cutting the line end and the space out of the buffer: the only copy, and only when the file has folds."""
    size = len(raw)
    newline = np.flatnonzero(raw == ord("\n"))
    begin = np.concatenate([[0], newline + 1])
    end = np.append(newline, size)
    end[:-1] -= raw[np.maximum(newline - 1, 0)] == ord("\r")  # a CR right before the LF ends the line too
    end = np.maximum(end, begin)
    cont = np.zeros(len(begin), dtype=bool)
    cont[1:] = (begin[1:] < size) & (raw[np.minimum(begin[1:], size - 1)] == ord(" "))
    folds = np.flatnonzero(cont)
    data = raw
    shift = np.zeros(len(begin), dtype=np.int64)
    if len(folds):  # cut [end of the line before, the space] out, once per fold: one Arrow take of what is kept
        cut_from, cut_to = end[folds - 1], begin[folds] + 1
        bounds = np.empty(2 * len(folds) + 2, dtype=np.int64)
        bounds[0], bounds[-1], bounds[1:-1:2], bounds[2:-1:2] = 0, size, cut_from, cut_to
        pieces = pa.Array.from_buffers(pa.large_binary(), len(bounds) - 1,
                                       [None, pa.py_buffer(bounds), pa.py_buffer(raw)])
        kept = pc.take(pieces, pa.array(np.arange(0, len(bounds) - 1, 2)))
        offsets = np.frombuffer(kept.buffers()[1], np.int64)
        data = np.frombuffer(kept.buffers()[2], np.uint8)[offsets[0]:offsets[-1]]
        shift[folds] = cut_to - cut_from
        shift = np.cumsum(shift)
    heads = np.flatnonzero(~cont)
    last = np.append(heads[1:] - 1, len(begin) - 1)  # the last physical line of each logical line
    begin, end = begin[heads] - shift[heads], end[last] - shift[last]
    keep = (begin == end) | (data[np.minimum(begin, len(data) - 1)] != ord("#"))
    content = np.flatnonzero(keep & (begin != end))
    if len(content) and re.match(rb"(?i)version:", data[begin[content[0]]:end[content[0]]].tobytes()):
        keep[content[0]] = False
    return data, begin[keep], end[keep], (heads + 1)[keep]


def _split_lines(data: np.ndarray, begin: np.ndarray, end: np.ndarray) -> tuple[
        np.ndarray, np.ndarray, pa.DictionaryArray, np.ndarray, Callable[[np.ndarray], pa.Array]]:
    """Each line cut at its first colon, by byte arithmetic on the text buffer (a regex over 20M lines is slow).

    Gives the blank lines, the lines that are not ``attr[;options]:[:<] value``, the attribute names (options
    dropped) dictionary-encoded, the separator of each line (``_TEXT``, ``_B64``, ``_URL``), and a function that
    takes the values of the given lines, leading spaces stripped.
    """
    n = len(begin)
    blank = begin == end
    last = len(data) - 1

    bounds = np.empty(2 * n, dtype=np.int64)  # the lines and the line ends between them, as strings: no copy
    bounds[0::2], bounds[1::2] = begin, end
    lines = pa.LargeStringArray.from_buffers(max(2 * n - 1, 0), pa.py_buffer(bounds), pa.py_buffer(data))
    found = pc.find_substring(lines, ":").to_numpy(zero_copy_only=False)[0::2]  # stops at a line's first colon
    colon = np.where(found >= 0, begin + found, end)
    after = data[np.minimum(colon + 1, last)]
    sep = np.full(n, _TEXT, dtype=np.int8)
    sep[(colon + 1 < end) & (after == ord(":"))] = _B64
    sep[(colon + 1 < end) & (after == ord("<"))] = _URL
    start = np.minimum(colon + np.where(sep == _TEXT, 1, 2), end)
    space = (start < end) & (data[np.minimum(start, last)] == ord(" "))  # the usual one space, on every line
    start += space
    pending = np.flatnonzero(space)
    while len(pending):  # skip any further spaces after the separator
        pending = pending[(start[pending] < end[pending]) & (data[np.minimum(start[pending], last)] == ord(" "))]
        start[pending] += 1
    # the lines' heads (name and options) and values, each with what lies between it and the next: no copy
    bounds[1::2] = colon  # ``lines`` (a view of ``bounds``) now ends each line at its colon: its heads
    heads = pc.take(lines, pa.array(np.arange(0, 2 * n, 2, dtype=np.int64))).dictionary_encode()
    cuts = np.empty(2 * n, dtype=np.int64)
    cuts[0::2], cuts[1::2] = start, end
    values = pa.LargeStringArray.from_buffers(max(2 * n - 1, 0), pa.py_buffer(cuts), pa.py_buffer(data))
    distinct = heads.dictionary.to_pylist()
    valid = np.array([re.fullmatch(_ATTR_RE, head) is not None for head in distinct], dtype=bool)
    names = list(dict.fromkeys(head.split(";", 1)[0] for head in distinct))  # options dropped
    index = {name: i for i, name in enumerate(names)}
    remap = np.array([index[head.split(";", 1)[0]] for head in distinct], dtype=np.int32)
    codes = heads.indices.to_numpy(zero_copy_only=False)
    bad = np.flatnonzero(~blank & ((colon == end) | ~valid[codes]))
    names = pa.DictionaryArray.from_arrays(pa.array(remap[codes]), pa.array(names, pa.large_string()))
    return blank, bad, names, sep, lambda rows: pc.take(values, pa.array(rows.astype(np.int64) * 2))


def _decode_values(value: pa.Array, sep: np.ndarray, field: np.ndarray, names: pa.Array, record: np.ndarray,
                   reason: np.ndarray) -> pa.Array:
    """Values as text: ``::`` base64 decoded as UTF-8, except the binary anchors which stay base64."""
    binary = np.isin(field, [_NAMES.index(f) for f in _BINARY])
    for i in np.flatnonzero(sep == _URL):
        problem = f"{names[i].as_py()} is given as a URL (:<), which hybridx does not read"
        reason[record[i]] = reason[record[i]] or problem
    texts = np.flatnonzero((sep == _B64) & ~binary)
    consistency_text = np.flatnonzero((sep == _TEXT) & (field == _NAMES.index("consistency_guid")))
    if not (len(texts) or len(consistency_text)):
        return value
    replaced = []
    for i, text in zip(texts, pc.take(value, pa.array(texts, pa.int64())).to_pylist()):
        try:
            replaced.append(base64.b64decode(text, validate=True).decode("utf-8"))
        except (binascii.Error, UnicodeDecodeError):
            reason[record[i]] = reason[record[i]] or f"{names[i].as_py()}:: is not base64 of UTF-8 text"
            replaced.append(None)
    for text in pc.take(value, pa.array(consistency_text, pa.int64())).to_pylist():
        # the attribute's bytes are this text (written by a script): keep them, as base64
        replaced.append(base64.b64encode(text.encode("utf-8")).decode("ascii"))
    mask = np.zeros(len(value), dtype=bool)
    mask[np.concatenate([texts, consistency_text])] = True
    order = np.argsort(np.concatenate([texts, consistency_text]), kind="stable")
    return pc.replace_with_mask(value, pa.array(mask), pa.array([replaced[j] for j in order], pa.large_string()))


def _lines_by_field(field: np.ndarray) -> Callable[[int], np.ndarray]:
    """The lines of each field (``field`` code per line), in file order: one stable sort of the small codes
    (radix, linear) instead of a scan of every line per field."""
    order = np.argsort(field, kind="stable")
    bounds = np.searchsorted(field[order], np.arange(len(_NAMES) + 1))
    return lambda i: order[bounds[i]:bounds[i + 1]]


def _first_per_record(value: pa.Array, lines: np.ndarray, record: np.ndarray, n: int) -> pa.Array:
    """The first value of one attribute (its ``lines``, in file order) in each record, null where it lacks it."""
    recs = record[lines]
    first = np.ones(len(recs), dtype=bool)
    first[1:] = recs[1:] != recs[:-1]  # records are contiguous: a record's first line of the field
    index = np.full(n, -1, dtype=np.int64)
    index[recs[first]] = lines[first]
    return pc.take(value, pa.array(index, mask=index < 0))


def _lists_per_record(value: pa.Array, lines: np.ndarray, record: np.ndarray, n: int) -> pa.Array:
    """Every value of a multi-valued attribute (its ``lines``) per record, in file order."""
    offsets = np.concatenate([[0], np.cumsum(np.bincount(record[lines], minlength=n))]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pc.take(value, pa.array(lines)).cast(pa.string()))


def _most_specific(classes: pa.ListArray) -> pd.Series:
    """One class per record: computer, inetOrgPerson, group, contact or user, else the last one listed."""
    n = len(classes)
    values = classes.flatten()
    code = pc.index_in(lower(values), value_set=pa.array([name.lower() for name in _CLASS_ORDER]))
    code = code.fill_null(-1).to_numpy(zero_copy_only=False)
    parents = pc.list_parent_indices(classes).to_numpy()
    lengths = pc.list_value_length(classes).to_numpy(zero_copy_only=False)
    offsets = classes.offsets.to_numpy()
    last = np.full(n, None, dtype=object)
    nonempty = np.flatnonzero(lengths > 0)
    last[nonempty] = pc.take(values, pa.array(offsets[1:][nonempty] - 1)).to_numpy(zero_copy_only=False)
    result = last
    for k in reversed(range(len(_CLASS_ORDER))):
        has = np.bincount(parents[code == k], minlength=n) > 0
        result = np.where(has, _CLASS_ORDER[k], result)
    return pd.Series(result, dtype="str")
