"""What every export reader shares: decoding bytes, sniffing the format, PowerShell's CSV, header synonyms,
placeholder detection and the ``ReadResult`` every reader returns.

Windows tools write many encodings (UTF-8 with or without BOM, UTF-16 LE from ``-Encoding Unicode``), headers in
any case, and type names where data should be (``System.Byte[]``). All of that is handled here once, so that the
per-format readers only map fields.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gc
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import chain, repeat
from pathlib import Path

import msgspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from hybridx_nb.core.errors import InputError
from hybridx_nb.snapshot import schema
from hybridx_nb.snapshot.store import TenantFacts
from hybridx_nb.sources.files import json_columns

EXPORTS_DOC = "README.md, section Export files"
REENCODE_FIX = ("re-export as UTF-8: Windows PowerShell 5.1 `Export-Csv ... -Encoding UTF8` (or `-Encoding Unicode` "
                "for UTF-16), PowerShell 7 writes UTF-8 by default; for JSON `Set-Content -Encoding UTF8`")

#: Type names PowerShell writes instead of the data when an array or object reaches Export-Csv unconverted.
PLACEHOLDER_RE = re.compile(
    r"(?:System\.(?:Byte|String|Object|Guid|Int32|Int64)\[\]"
    r"|System\.Collections\.[\w.`]+(?:\[[^\]]*\])?"
    r"|System\.Management\.Automation\.PS\w+(?:\[\])?"
    r"|Microsoft\.ActiveDirectory\.Management\.\w+"
    r"|Microsoft\.Graph\.PowerShell\.Models\.[\w.]+(?:\[\])?)")

B64_RE = r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)"


@dataclass
class ReadResult:
    """What a reader gives back: canonical frames, rows set aside, and provenance for the manifest."""

    tables: dict[str, pd.DataFrame]
    rejected: pd.DataFrame
    source: str
    tenant: TenantFacts | None = None
    sources: dict[str, str] = field(default_factory=dict)  # per table, when it differs from ``source``


@dataclass
class Text:
    """A decoded export file: its text, the encoding found, and its path for messages."""

    path: Path
    text: str
    encoding: str
    data: bytes | None = None  # ``text`` as UTF-8, when the file held exactly that (spares encoding it again)

    @property
    def name(self) -> str:
        return self.path.name

    def utf8(self) -> bytes:
        """The text as UTF-8 bytes."""
        return self.data if self.data is not None else self.text.encode("utf-8")


# ---------------------------------------------------------------------------------------------------------------
# Bytes → text, and which format
# ---------------------------------------------------------------------------------------------------------------

def read_text(path: str | Path) -> Text:
    """Decode a file written by a Windows or Unix tool; refuse an empty file or bytes that are not UTF-8/16."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read the file ({exc.strerror or exc})") from None
    return decode_bytes(path, data)


def decode_bytes(path: Path, data: bytes) -> Text:
    """The text of ``data``: BOM first, then UTF-16 without BOM (NUL bytes), then strict UTF-8."""
    boms = ((codecs.BOM_UTF8, "utf-8-sig", "UTF-8 with BOM"), (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE"),
            (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE"))
    codec, label, body = "utf-8", "UTF-8", data
    for bom, name, text_label in boms:
        if data.startswith(bom):
            codec, label, body = name, text_label, data[len(bom):]
            break
    else:
        head = data[:4096]
        if len(head) >= 4 and head.count(0) * 3 > len(head):  # UTF-16 text of ASCII has every other byte NUL
            little = head[1::2].count(0) > head[0::2].count(0)
            codec, label = ("utf-16-le", "UTF-16 LE, no BOM") if little else ("utf-16-be", "UTF-16 BE, no BOM")
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        raise InputError(path, f"the file is not {label} text (byte 0x{body[exc.start]:02x} at offset "
                         f"{exc.start} cannot be decoded; an ANSI code page such as Windows-1252?)",
                         line=line, fix=REENCODE_FIX) from None
    if not text or text.isspace():  # text.strip() would copy the whole file
        raise InputError(path, "the file is empty", fix=f"re-run the export (see {EXPORTS_DOC})")
    if "\r" in text:
        return Text(path, text.replace("\r\n", "\n").replace("\r", "\n"), label)
    return Text(path, text, label, data=body if codec.startswith("utf-8") else None)


_LDIF_LINE = re.compile(r"(?i)(?:version|dn)::? ?")


def sniff(text: str) -> str:
    """``json``, ``ldif`` or ``csv``, from the content (the extension is not trusted)."""
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        return "json"
    for line in stripped.split("\n", 50)[:50]:
        if line.startswith("#TYPE ") or line.startswith("#TYPE\t"):
            return "csv"
        if not line.strip() or line.startswith("#"):
            continue
        return "ldif" if _LDIF_LINE.match(line) else "csv"
    return "csv"


# ---------------------------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------------------------

def load_json_documents(doc: Text) -> list[object]:
    """Every JSON value in the file: one, or several written one after another (pages appended by a loop)."""
    with gc_paused():
        fast = _fast_values(doc.text, doc.data)
        if fast is not None:
            return fast
        decoder = json.JSONDecoder()
        text, pos, values = doc.text, 0, []
        while True:
            while pos < len(text) and text[pos] in " \t\n\r,\ufeff":  # a BOM per appended page, too
                pos += 1
            if pos >= len(text):
                return values
            try:
                value, pos = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                raise InputError(doc.path, f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno,
                                 fix="re-run the export; the file may be truncated or edited by hand") from None
            values.append(value)


def _fast_values(text: str, raw: bytes | None = None) -> list[object] | None:
    """The values in ``text`` read by msgspec (C, several times faster), or None when only the standard library
    can tell (NaN, 1e400, invalid JSON: the standard library's error names the line)."""
    data = memoryview(raw if raw is not None else text.encode("utf-8"))
    values: list[object] = []
    try:
        pos = json_columns.skip_separators(data, 0)
        while pos < len(data):
            end = json_columns.value_end(data, pos)
            values.append(msgspec.json.decode(data[pos:end]))
            pos = json_columns.skip_separators(data, end)
    except json_columns.FAILED:
        return None
    return values


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC: decoding creates millions of acyclic objects, and its passes would double the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# ---------------------------------------------------------------------------------------------------------------
# PowerShell's CSV
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Csv:
    """A CSV export as string columns (``""`` for empty), with the physical line each row starts on."""

    frame: pd.DataFrame
    lines: np.ndarray
    headers: list[str]
    type_line: bool  # Windows PowerShell's ``#TYPE ...`` first line


def read_powershell_csv(doc: Text) -> Csv:
    """Parse an ``Export-Csv`` file: optional ``#TYPE`` line, any delimiter of ``, ; TAB``, quoted newlines."""
    text = doc.text
    type_line = text.startswith("#TYPE")
    if type_line:
        text = text.split("\n", 1)[1] if "\n" in text else ""
    first_offset = int(type_line)
    header_text = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=lambda d: len(next(csv.reader([header_text], delimiter=d))))
    headers = next(csv.reader([header_text], delimiter=delimiter)) if header_text.strip() else []
    if not headers or not any(h.strip() for h in headers):
        raise InputError(doc.path, "no header line", line=1 + first_offset,
                         fix=f"export with Export-Csv, which writes the column names first (see {EXPORTS_DOC})")
    blank = [i + 1 for i, h in enumerate(headers) if not h.strip()]
    if blank or len(set(headers)) != len(headers):
        dup = sorted({h for h in headers if headers.count(h) > 1})
        raise InputError(doc.path, f"the header has empty or repeated column names ({blank or dup})",
                         line=1 + first_offset, fix="export each property once, with a name")
    data = text.encode("utf-8") if type_line else doc.utf8()
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(block_size=1 << 26),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in headers},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowInvalid as exc:
        raise InputError(doc.path, f"not a well-formed CSV file ({exc})",
                         fix="re-run the export; do not edit the file in Excel") from None
    frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow", na_value=np.nan)}.get)
    lines = _record_lines(data) + first_offset
    if len(lines) != len(frame) + 1:
        raise InputError(doc.path, f"found {len(lines) - 1} records but parsed {len(frame)} rows",
                         fix="re-run the export; the file may be truncated")
    return Csv(frame, lines[1:], headers, type_line)


def _record_lines(data: bytes) -> np.ndarray:
    """1-based physical line on which each non-empty CSV record starts (newlines inside quotes do not count)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    quotes = np.flatnonzero(buf == 34)
    outside = np.searchsorted(quotes, newlines) % 2 == 0  # an even number of quotes before it: a record ends
    ends = np.append(newlines[outside], len(buf))
    starts = np.insert(ends[:-1] + 1, 0, 0)
    nonempty = ends > starts
    line_of = np.searchsorted(newlines, starts[nonempty]) + 1
    return line_of.astype(np.int64)


def normalise_name(name: str) -> str:
    """Header or attribute name for matching: lower case without ``-``, ``_``, spaces or quotes."""
    return re.sub(r"[\s_\-'\".]", "", name).lower()


def match_columns(path: Path, headers: Iterable[str], synonyms: Mapping[str, tuple[str, ...]],
                  required: Iterable[str], *, fix: str) -> dict[str, str]:
    """Canonical field → header found, matched case-insensitively through ``synonyms``."""
    by_norm = {normalise_name(h): h for h in headers}
    found = {}
    for canonical, names in synonyms.items():
        for name in names:
            if normalise_name(name) in by_norm:
                found[canonical] = by_norm[normalise_name(name)]
                break
    missing = [c for c in required if c not in found]
    if missing:
        wanted = "; ".join(f"{synonyms[c][0]} (or {', '.join(synonyms[c][1:])})" if len(synonyms[c]) > 1
                           else synonyms[c][0] for c in missing)
        raise InputError(path, f"required column(s) missing: {wanted}; the header has: {', '.join(headers)}",
                         line=None, fix=fix)
    return found


def check_placeholders(path: Path, frame: pd.DataFrame, lines: np.ndarray, columns: Iterable[str],
                       fixes: Mapping[str, str]) -> None:
    """Refuse a column holding a PowerShell type name (``System.Byte[]``...): the export lost that data."""
    for col in columns:
        values = frame[col]
        maybe = values.str.startswith("System.") | values.str.startswith("Microsoft.")
        if not maybe.any():
            continue
        hits = values[maybe].str.fullmatch(PLACEHOLDER_RE.pattern)
        if hits.any():
            pos = np.flatnonzero(maybe.to_numpy())[np.flatnonzero(hits.to_numpy())[0]]
            raise InputError(path, f"holds the PowerShell type name {values.iloc[pos]!r} instead of the data: "
                             "Export-Csv wrote the object's type because the export command did not convert it",
                             line=int(lines[pos]), column=col, fix=fixes.get(col, fixes.get("*")))


# ---------------------------------------------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------------------------------------------

def column(frame: pd.DataFrame, found: Mapping[str, str], name: str) -> pd.Series:
    """The source column mapped to ``name``, or an all-missing str column."""
    if name in found:
        return frame[found[name]]
    return pd.Series(np.full(len(frame), np.nan, dtype=object), index=frame.index, dtype="str")


def blank(values: pd.Series) -> np.ndarray:
    """Mask of missing or whitespace-only values."""
    return (values.isna() | (values.str.strip() == "")).to_numpy(dtype=bool)


def detect_separator(values: pd.Series, candidates: str = ";|") -> str:
    """The separator a multi-valued column was joined with: the candidate that occurs most (default first)."""
    counts = {c: int(values.str.count(re.escape(c)).sum()) for c in candidates}
    return max(candidates, key=lambda c: counts[c])


def split_list(values: pd.Series, separator: str) -> pd.Series:
    """A joined multi-valued str column as an Arrow list column; items trimmed, empty items dropped."""
    arr = pa.chunked_array([pa.array(values.to_numpy(dtype=object, na_value=None), type=pa.large_string())])
    arr = arr.combine_chunks()
    parts = pc.split_pattern(arr.fill_null(""), separator)
    return _filtered_lists(parts, len(values), values.index)


def _filtered_lists(parts: pa.Array, n: int, index: pd.Index) -> pd.Series:
    flat = pc.utf8_trim_whitespace(pc.list_flatten(parts))
    parents = pc.list_parent_indices(parts).to_numpy()
    keep = pc.not_equal(flat, "").fill_null(False).to_numpy(zero_copy_only=False)
    counts = np.bincount(parents[keep], minlength=n)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), flat.filter(pa.array(keep)).cast(pa.string()))
    return pd.Series(pd.arrays.ArrowExtensionArray(lists), index=index)


def lists_from_python(values: list[object] | pa.Array, index: pd.Index | None = None) -> pd.Series:
    """An Arrow list column from Python (or Arrow) lists (``None``/non-lists → ``[]``), items trimmed, empties
    dropped."""
    try:
        parts = (values.cast(pa.list_(pa.large_string())) if isinstance(values, pa.Array)
                 else pa.array(values, type=pa.list_(pa.large_string())))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        cleaned = [[str(x) for x in v if x is not None] if isinstance(v, list) else None for v in values]
        parts = pa.array(cleaned, type=pa.list_(pa.large_string()))
    return _filtered_lists(parts, len(values), index if index is not None else pd.RangeIndex(len(values)))


def consistency_guid(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """mS-DS-ConsistencyGuid as base64 of its bytes: a GUID string is converted (AD byte order), base64 kept.

    Returns the column and a mask of the values that are neither (to be rejected).
    """
    from hybridx_nb.core import anchors

    text = values.str.strip()
    is_guid = text.str.fullmatch(anchors.GUID_RE.pattern).fillna(False).to_numpy(dtype=bool)
    is_b64 = text.str.fullmatch(B64_RE).fillna(False).to_numpy(dtype=bool) & ~is_guid
    out = text.where(is_b64)
    if is_guid.any():
        out[is_guid] = anchors.guid_to_immutable_id_series(text[is_guid])
    bad = ~(is_guid | is_b64 | blank(values))
    return out, bad


def frame_of(records: list[dict], fields: Mapping[str, tuple[str, ...]]) -> dict[str, list[object]]:
    """Columns from JSON records: ``fields`` maps a column to its key path (``("profile", "login")``).

    Each key path is walked once for all records (a shared prefix such as ``profile`` once for all its fields).
    """
    walked: dict[tuple[str, ...], list[object]] = {}
    for keys in sorted({tuple(k[:i]) for k in fields.values() for i in range(1, len(k) + 1)}, key=len):
        if len(keys) == 1:
            walked[keys] = list(map(dict.get, records, repeat(keys[0])))
        else:
            key = keys[-1]
            walked[keys] = [v.get(key) if isinstance(v, dict) else None for v in walked[keys[:-1]]]
    return {name: walked[tuple(keys)] for name, keys in fields.items()}


def text_column(values: list[object], index: pd.Index | None = None) -> pd.Series:
    """A str column from JSON scalars (bools as ``true``/``false``, other non-strings as their JSON text)."""
    try:
        arr = pa.array(values, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        arr = _json_text(values)
    return pd.Series(pd.array(arr, dtype="str"), index=index)


def _json_text(values: list[object]) -> pa.Array:
    with contextlib.suppress(pa.ArrowInvalid, pa.ArrowTypeError):
        inferred = pa.array(values)
        if pa.types.is_boolean(inferred.type) or pa.types.is_null(inferred.type):  # the usual case: a flag
            return inferred.cast(pa.string())
    return pa.array([v if v is None or isinstance(v, str) else "true" if v is True else "false" if v is False
                     else json.dumps(v) for v in values], type=pa.string())


def rejected(table: str, source: str, mask: np.ndarray, reason: str | pd.Series, *, line: pd.Series | None,
             key: pd.Series) -> pd.DataFrame:
    """Rejected rows for the rows of ``mask`` (``reason``, ``line`` and ``key`` aligned with the mask)."""
    if not mask.any():
        return schema.empty("rejected")
    return schema.rejected_rows(table, source, reason[mask] if isinstance(reason, pd.Series) else reason,
                                line=line[mask] if line is not None else None, key=key[mask], n=int(mask.sum()))


def concat(frames: list[pd.DataFrame], table: str) -> pd.DataFrame:
    """Concatenate canonical frames of one table (an empty list gives the empty frame)."""
    frames = [f for f in frames if len(f)]
    return schema.conform(table, pd.concat(frames, ignore_index=True)) if frames else schema.empty(table)


def all_bad(path: Path, what: str, rejected_frame: pd.DataFrame, total: int) -> InputError:
    """The error when every row of a file was rejected: a file like that is the wrong file, not bad rows."""
    sample = rejected_frame.head(3)
    reasons = "; ".join(f"line {r.line}: {r.reason}" if pd.notna(r.line) else str(r.reason)
                        for r in sample.itertuples())
    return InputError(path, f"none of the {total} {what} could be read ({reasons})",
                      fix=f"check that this is the right file and re-run the export as in {EXPORTS_DOC}")


# ---------------------------------------------------------------------------------------------------------------
# AD objects (CSV and LDIF)
# ---------------------------------------------------------------------------------------------------------------

#: Canonical AD field → names it goes by in exports and LDAP (first = the name the docs use).
AD_FIELDS: dict[str, tuple[str, ...]] = {
    "dn": ("DistinguishedName", "dn"),
    "object_guid": ("ObjectGUID", "GUID"),
    "consistency_guid": ("mS-DS-ConsistencyGuid", "ConsistencyGuid", "msDSConsistencyGuid"),
    "sam_account_name": ("SamAccountName", "sAMAccountName"),
    "upn": ("UserPrincipalName", "UPN"),
    "mail": ("mail", "EmailAddress"),
    "proxy_addresses": ("proxyAddresses",),
    "display_name": ("DisplayName",),
    "given_name": ("GivenName",),
    "surname": ("Surname", "sn"),
    "mail_nickname": ("mailNickname",),
    "target_address": ("targetAddress",),
    "enabled": ("Enabled",),
    "user_account_control": ("userAccountControl",),
    "object_class": ("ObjectClass",),
    "is_critical_system_object": ("isCriticalSystemObject",),
}
USER_CLASSES = ("user", "inetorgperson")
MAIL_CLASSES = ("group", "contact")


def enabled_from_uac(values: pd.Series) -> pd.Series:
    """``enabled`` from userAccountControl: bit 2 (ACCOUNTDISABLE) clear."""
    uac = pd.to_numeric(values, errors="coerce").astype("Int64")
    return ((uac & 2) == 0).astype("boolean")


def bool_text(values: pd.Series) -> pd.Series:
    """True/False text (any case) as a nullable boolean; anything else is missing."""
    text = pa.chunked_array(values.astype("str").str.strip().str.lower().array.__arrow_array__())
    code = pc.index_in(text, value_set=pa.array(["true", "1", "false", "0"])).fill_null(-1).to_numpy()
    return pd.Series(pd.arrays.BooleanArray(code < 2, code < 0), index=values.index)


def dns_domain(dn: pd.Series) -> pd.Series:
    """The DNS domain of each DN from its ``DC=`` components (``CN=a,DC=corp,DC=example`` → ``corp.example``)."""
    arr = pa.array(dn.to_numpy(dtype=object, na_value=None), type=pa.string())
    tail = pc.struct_field(pc.extract_regex(arr, r"(?i)(?:^|,)\s*(?P<tail>DC=.*)$"), [0])
    domain = pc.utf8_lower(pc.utf8_trim(pc.replace_substring_regex(tail, r"(?i)\s*,?\s*DC=", "."), "."))
    return pd.Series(pd.array(domain, dtype="str"), index=dn.index)


def finish_ad_objects(path: Path, source: str, frame: pd.DataFrame, reason: pd.Series) -> ReadResult:
    """Route AD rows to ``ad_users``, ``ad_mail_objects`` or ``rejected``.

    ``frame`` has canonical column names (``object_guid`` as found, ``consistency_guid`` already base64,
    ``source_line``); ``reason`` holds a rejection reason the format reader found, or NaN.
    """
    from hybridx_nb.core import anchors

    total = len(frame)
    raw_guid = frame["object_guid"]
    frame["object_guid"] = anchors.normalize_guid_series(raw_guid)
    reason = reason.copy()
    for cond, text in (
        (blank(frame["dn"]), "missing distinguishedName"),
        (blank(raw_guid), "missing objectGUID"),
        (frame["object_guid"].isna().to_numpy(), "objectGUID '" + raw_guid.str.slice(0, 60) + "' is not a GUID"),
    ):
        reason = reason.mask(reason.isna() & cond, text)
    klass = frame["object_class"].fillna("user").str.lower()
    other = ~klass.isin(USER_CLASSES + MAIL_CLASSES).to_numpy()
    reason = reason.mask(reason.isna() & other, "not a user object (" + frame["object_class"] + ")")
    line, key = frame["source_line"], frame["dn"].fillna(raw_guid)
    ok = reason.isna().to_numpy()
    users = ok & klass.isin(USER_CLASSES).to_numpy()
    dup = duplicated([frame["object_guid"]], users & frame["object_guid"].notna().to_numpy())
    if dup.any():
        first_line = frame[users].groupby("object_guid")["source_line"].first()
        reason = reason.mask(pd.Series(dup, index=frame.index),
                             "duplicate objectGUID (first on line "
                             + frame["object_guid"].map(first_line).astype("Int64").astype("str") + ")")
        users &= ~dup
    frame["domain"] = dns_domain(frame["dn"])
    user_frame = schema.conform("ad_users", frame[users])
    mail = ok & klass.isin(MAIL_CLASSES).to_numpy()
    mail_frame = schema.conform("ad_mail_objects", frame[mail].assign(object_class=klass[mail]))
    rej = rejected("ad_users", source, ~(users | mail), reason, line=line, key=key)
    if total and not (users.any() or mail.any()):
        raise all_bad(path, "AD objects", rej, total)
    tables = {"ad_users": user_frame}
    if mail.any():
        tables["ad_mail_objects"] = mail_frame
    return ReadResult(tables, rej, source)


# ---------------------------------------------------------------------------------------------------------------
# JSON records
# ---------------------------------------------------------------------------------------------------------------

def json_records(documents: list[object], page_key: str = "value") -> list[object]:
    """The records of every page: ``{"value": [...]}`` pages, arrays of pages, plain arrays, one after another."""
    records: list[object] = []
    for value in documents:
        if isinstance(value, dict) and isinstance(value.get(page_key), list):
            records.extend(value[page_key])
        elif isinstance(value, list):
            if all(isinstance(item, dict) and page_key not in item for item in value):  # a plain array
                records.extend(value)
                continue
            for item in value:
                if isinstance(item, dict) and isinstance(item.get(page_key), list) and "id" not in item:
                    records.extend(item[page_key])
                elif isinstance(item, list):  # pages as arrays inside an array (Invoke-RestMethod -FollowRelLink)
                    records.extend(item)
                else:
                    records.append(item)
        else:
            records.append(value)
    return records


def key_finder(records: list[dict]) -> dict[str, str]:
    """Lower-case key → the key as spelled in the file (Graph writes camelCase, ConvertTo-Json PascalCase)."""
    keys = set(chain.from_iterable(records))
    return {k.lower(): k for k in sorted(keys, reverse=True)}


def objects_only(path: Path, table: str, source: str, records: list[object]) -> tuple[list[dict], np.ndarray,
                                                                                      pd.DataFrame]:
    """The dict records, their 1-based record numbers, and rejected rows for anything else in the array."""
    is_obj = np.fromiter((isinstance(r, dict) for r in records), dtype=bool, count=len(records))
    numbers = np.flatnonzero(is_obj) + 1
    rej = schema.empty("rejected")
    if not is_obj.all():
        bad = np.flatnonzero(~is_obj)
        rej = schema.rejected_rows(table, source, "not a JSON object", n=len(bad),
                                   key=pd.Series([f"record {i + 1}" for i in bad], dtype="str"))
    return [r for r in records if isinstance(r, dict)], numbers, rej


def duplicated(columns: list[pd.Series], among: np.ndarray) -> np.ndarray:
    """Rows of ``among`` whose values (all ``columns`` together; missing counts as a value) came before."""
    codes = np.zeros(len(among), np.int64)
    for col in columns:
        c, uniques = pd.factorize(col, use_na_sentinel=False)
        codes = codes * (len(uniques) + 1) + c
    rows = np.flatnonzero(among)
    _, first = np.unique(codes[rows], return_index=True)
    dup = among.copy()
    dup[rows[first]] = False
    return dup


def reject_incomplete(frame: pd.DataFrame, required: Mapping[str, str], unique: tuple[str, ...],
                      reason: pd.Series | None = None) -> pd.Series:
    """Reasons for rows missing a required value (column → name in the file) or repeating the unique key."""
    reason = reason if reason is not None else pd.Series(np.nan, index=frame.index, dtype="str")
    for col, name in required.items():
        reason = reason.mask(reason.isna() & blank(frame[col]), f"missing {name}")
    ok = reason.isna().to_numpy()
    dup = pd.Series(ok & duplicated([frame[c] for c in unique], ok), index=frame.index)
    return reason.mask(dup, "duplicate " + "/".join(required.get(c, c) for c in unique)
                       + " (kept the first)")
