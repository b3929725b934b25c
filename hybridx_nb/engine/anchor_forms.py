"""What an ImmutableID value is when it is not the right anchor: the wrong forms of docs/domain.md §1.

``classify`` names a value (an Okta user id, a big-endian GUID, base64 of GUID text, ...); ``describe`` reads
whatever a consultant pastes into ``hybridx anchor`` and gives every form of it. The arithmetic itself lives in
``core/anchors.py``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
import uuid
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hybridx_nb.core.anchors import (
    GUID_RE,
    IMMUTABLE_ID_RE,
    SWAP,
    AnchorError,
    big_endian_immutable_id,
    bytes_to_hex,
    bytes_to_immutable_id,
    bytes_to_ldap_filter,
    guid_to_bytes,
    parse_guid,
    swap_immutable_id_series,
)
from hybridx_nb.core.columns import as_str, isin
from hybridx_nb.core.errors import HybridxError

OKTA_USER_ID_RE = re.compile(r"00u[A-Za-z0-9]{17}")
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
HEX_RE = re.compile(r"(?:0x)?[0-9a-fA-F]+")
_B64_ANY_RE = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
NUMBER_RE = re.compile(r"[0-9]+")
#: Fillers people type where a value is required (lower case), and all-zero numbers.
PLACEHOLDER_RE = re.compile(r"(?i)0+|n/?a|none|null|nil|-+|\?+|tbd|todo|unknown|x+|test|dummy|placeholder|empty")

#: The names ``classify`` gives; the wrong forms of docs/domain.md §1 plus the well-formed anchor.
KINDS = (
    "guid_b64",          # well-formed: base64 of exactly 16 bytes (proves nothing until joined against AD)
    "big_endian_guid",   # base64 of the GUID's bytes in text order (a naive script's byte order)
    "guid_text_base64",  # base64 of the GUID's text, 48 characters (old AADInternals helper)
    "guid_string",       # the GUID string itself used as the ImmutableID
    "okta_user_id",      # 00u + 17 alphanumerics: valid base64 of 15 bytes, not an anchor
    "email",             # an email address or UPN from a changed Okta mapping
    "hex",               # hex text (of a GUID or anything else)
    "number",            # digits only: an employee or person id from a changed Okta mapping
    "placeholder",       # a filler such as 0, 00000000, N/A, none, TBD
    "empty",             # no value
    "other",             # anything else (employeeID and the like)
)


def _b64_decode(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True) if _B64_ANY_RE.fullmatch(value) else None
    except binascii.Error:
        return None


def classify(value: object, known_anchors: set[str] | None = None) -> str:
    """Name what an ImmutableID value is (one of ``KINDS``).

    ``known_anchors`` is the set of correct ImmutableIDs of the AD objects (base64 of their objectGUID bytes);
    with it, a 16-byte value that is a byte-swapped known GUID is recognised as ``big_endian_guid``. Without it,
    every 16-byte base64 value is ``guid_b64``: the shape alone cannot tell the two byte orders apart.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "empty"
    text = str(value).strip()
    if not text:
        return "empty"
    if IMMUTABLE_ID_RE.fullmatch(text):
        if known_anchors and text not in known_anchors:
            swapped = bytes_to_immutable_id(bytes(np.frombuffer(base64.b64decode(text), np.uint8)[SWAP]))
            if swapped in known_anchors:
                return "big_endian_guid"
        return "guid_b64"
    if OKTA_USER_ID_RE.fullmatch(text):
        return "okta_user_id"
    if GUID_RE.fullmatch(text) and "-" in text:
        return "guid_string"
    if len(text) == 48:
        raw = _b64_decode(text)
        if raw is not None and GUID_RE.fullmatch(raw.decode("latin-1")):
            return "guid_text_base64"
    if EMAIL_RE.fullmatch(text):
        return "email"
    if PLACEHOLDER_RE.fullmatch(text):
        return "placeholder"
    if NUMBER_RE.fullmatch(text) and len(text) != 32:
        return "number"
    if HEX_RE.fullmatch(text) and len(text.removeprefix("0x")) >= 8:
        return "hex"
    return "other"


class AnchorFormError(HybridxError):
    """A value ``hybridx anchor`` cannot read as any known form."""


@dataclass(frozen=True)
class AnchorForms:
    """Every form of one anchor value, for ``hybridx anchor``; ``alternative`` is the other reading of an
    ambiguous input (32 plain hex digits), ``warning`` what the consultant must know about the value as given."""

    input: str
    kind: str
    guid: str | None
    immutable_id: str | None
    big_endian_immutable_id: str | None
    hex_octets: str | None
    ldap_filter: str | None
    note: str
    warning: str | None = None
    alternative: AnchorForms | None = None


_FILTER_RE = re.compile(r"\(?\s*(?:objectGUID|mS-DS-ConsistencyGuid)\s*=\s*(.*?)\s*\)?", re.IGNORECASE)
_ESCAPED_RE = re.compile(r"(?:\\[0-9a-fA-F]{2}){16}")
_OCTETS_RE = re.compile(r"(?:0x)?[0-9a-fA-F]{2}(?:[\s,:-]+(?:0x)?[0-9a-fA-F]{2}){15}", re.IGNORECASE)
_BINARY_RE = re.compile(r"0x[0-9a-fA-F]{32}", re.IGNORECASE)
_PLAIN_HEX_RE = re.compile(r"[0-9a-fA-F]{32}")
_UNPADDED_RE = re.compile(r"[A-Za-z0-9+/]{21}[AQgw]")


def _from_bytes(value: str, raw: bytes, kind: str, note: str, warning: str | None = None) -> AnchorForms:
    guid = str(uuid.UUID(bytes_le=raw))
    return AnchorForms(value, kind, guid, bytes_to_immutable_id(raw), big_endian_immutable_id(guid),
                       bytes_to_hex(raw), bytes_to_ldap_filter(raw), note, warning)


def _hex_bytes(text: str) -> bytes:
    return bytes.fromhex(re.sub(r"(?i)0x|[^0-9a-f]", "", text))


def describe(value: str) -> AnchorForms:
    """Interpret a value a consultant pastes and give all its forms (docs/domain.md §8).

    Reads a GUID with or without braces and dashes, an ImmutableID (padded or not), the octets ADUC's Attribute
    Editor or ADSI Edit shows (``74 E5 D2 …``), LDAP filter escapes (``\\74\\E5…``, or a whole
    ``(objectGUID=…)`` filter), SQL/ADSync binary (``0x74E5…``), and names the wrong forms (Okta user id, email,
    number, placeholder). 32 plain hex digits get both readings. Raises ``AnchorFormError`` for anything else.
    """
    text = value.strip()
    inner = _FILTER_RE.fullmatch(text)
    if inner and inner.group(1):
        text = inner.group(1).strip()
    if _ESCAPED_RE.fullmatch(text):
        return _from_bytes(value, _hex_bytes(text), "ldap_filter", "LDAP filter escapes: the 16 bytes as AD "
                           "stores them")
    if _BINARY_RE.fullmatch(text):
        return _from_bytes(value, _hex_bytes(text), "binary", "0x… binary as SQL and ADSync show it: the 16 bytes "
                           "as AD stores them")
    if _OCTETS_RE.fullmatch(text) and not GUID_RE.fullmatch(text):
        return _from_bytes(value, _hex_bytes(text), "octets", "16 octets as ADUC's Attribute Editor and ADSI Edit "
                           "show them, in the order AD stores them")
    if _PLAIN_HEX_RE.fullmatch(text):
        as_guid = _from_bytes(value, uuid.UUID(text).bytes_le, "hex", "read as a GUID string without dashes")
        as_octets = _from_bytes(value, bytes.fromhex(text), "octets", "read as the 16 bytes in AD order (an octet "
                                "string as ADSI Edit shows it, without spaces)")
        return dataclasses.replace(as_guid, warning="32 plain hex digits are ambiguous: a GUID without dashes, or "
                                   "the bytes in AD order; both readings are shown", alternative=as_octets)
    if _UNPADDED_RE.fullmatch(text):
        raw = base64.b64decode(text + "==")
        return _from_bytes(value, raw, "guid_b64", "base64 of 16 bytes without its '==' padding",
                           warning=f"Entra compares the exact string: an ImmutableID written as {text} would not "
                                   f"match {bytes_to_immutable_id(raw)}")
    kind = classify(text)
    if kind == "guid_b64":
        return _from_bytes(value, base64.b64decode(text), kind, "base64 of 16 bytes, read in AD byte order; if the "
                           "ImmutableID was written by a script in the wrong byte order, the object's real GUID is "
                           "the big-endian reading")
    if kind == "guid_string" or GUID_RE.fullmatch(text):
        try:
            raw = guid_to_bytes(str(parse_guid(text)))
        except AnchorError:
            raise AnchorFormError(f"{text[:60]!r} is none of the forms hybridx reads: a GUID needs both braces or "
                                  "none") from None
        return _from_bytes(value, raw, "guid_string", "a GUID string; its ImmutableID is below")
    if kind == "guid_text_base64":
        return _from_bytes(value, guid_to_bytes(base64.b64decode(text).decode("ascii")), kind,
                           "base64 of the GUID's text, not of its bytes: a wrong form; the right ImmutableID is below")
    notes = {"okta_user_id": "an Okta user id (15 bytes if read as base64): not an AD anchor",
             "email": "an email address or UPN: not an AD anchor (a changed Okta mapping)",
             "number": "a number (an employee or person id from a changed Okta mapping): not an AD anchor",
             "placeholder": "a placeholder value: not an AD anchor"}
    if kind in notes:
        return AnchorForms(value, kind, None, None, None, None, None, notes[kind])
    shown = text if len(text) <= 60 else text[:57] + "..."
    raise AnchorFormError(f"{shown!r} is none of the forms hybridx reads: a GUID (braces and dashes optional), an "
                          "ImmutableID (base64 of 16 bytes), 16 hex octets, LDAP filter escapes, 0x… binary, an "
                          "Okta user id, an email address or a number")


def classify_series(values: pd.Series, known_anchors: pd.Series | None = None) -> pd.Series:
    """``classify`` over a column, vectorised (same answers as the scalar, which tests check)."""
    s = as_str(values).str.strip()
    kind = np.full(len(s), "other", dtype=object)
    blank = (s.isna() | (s == "")).to_numpy(dtype=bool)
    b64_16 = s.str.fullmatch(IMMUTABLE_ID_RE.pattern).fillna(False).to_numpy(dtype=bool)
    kind[b64_16] = "guid_b64"
    rest = ~(blank | b64_16)
    if rest.any():
        r = s[rest]
        okta = r.str.fullmatch(OKTA_USER_ID_RE.pattern).fillna(False).to_numpy(dtype=bool)
        guid_string = (r.str.fullmatch(GUID_RE.pattern) & r.str.contains("-", regex=False)).fillna(False)
        text48 = ((r.str.len() == 48) & r.str.fullmatch(_B64_ANY_RE.pattern)).fillna(False).to_numpy(dtype=bool)
        guid_text = np.zeros(len(r), dtype=bool)
        if text48.any():
            decoded = r[text48].map(lambda v: base64.b64decode(v).decode("latin-1"))
            guid_text[text48] = decoded.str.fullmatch(GUID_RE.pattern).fillna(False).to_numpy(dtype=bool)
        email = r.str.fullmatch(EMAIL_RE.pattern).fillna(False).to_numpy(dtype=bool)
        filler = r.str.fullmatch(PLACEHOLDER_RE.pattern).fillna(False).to_numpy(dtype=bool)
        number = (r.str.fullmatch(NUMBER_RE.pattern) & (r.str.len() != 32)).fillna(False).to_numpy(dtype=bool)
        hex_ = (r.str.fullmatch(HEX_RE.pattern) & (r.str.removeprefix("0x").str.len() >= 8)).fillna(False)
        # np.select takes the first true condition: the same precedence as the scalar ``classify``.
        kind[rest] = np.select([okta, guid_string.to_numpy(dtype=bool), guid_text, email, filler, number,
                                hex_.to_numpy(dtype=bool)],
                               ["okta_user_id", "guid_string", "guid_text_base64", "email", "placeholder", "number",
                                "hex"], default="other")
    kind[blank] = "empty"
    if known_anchors is not None and b64_16.any():
        candidates = b64_16 & ~isin(s, known_anchors)
        if candidates.any():
            hit = isin(swap_immutable_id_series(s[candidates]), known_anchors)
            kind[np.flatnonzero(candidates)[hit]] = "big_endian_guid"
    return pd.Series(kind, index=s.index, dtype="str")
