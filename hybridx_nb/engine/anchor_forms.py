"""What an ImmutableID value is when it is not the right anchor: the wrong forms of docs/domain.md §1.

``classify`` names a value (an Okta user id, a big-endian GUID, base64 of GUID text, ...); ``describe`` reads
whatever a consultant pastes into ``hybridx anchor`` and gives every form of it. The arithmetic itself lives in
``core/anchors.py``.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hybridx_nb.core.anchors import (
    GUID_RE,
    IMMUTABLE_ID_RE,
    SWAP,
    big_endian_immutable_id,
    bytes_to_hex,
    bytes_to_immutable_id,
    bytes_to_ldap_filter,
    guid_to_bytes,
    immutable_id_to_guid,
    parse_guid,
    swap_immutable_id_series,
)
from hybridx_nb.core.columns import as_str, isin

OKTA_USER_ID_RE = re.compile(r"00u[A-Za-z0-9]{17}")
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
HEX_RE = re.compile(r"(?:0x)?[0-9a-fA-F]+")
_B64_ANY_RE = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")

#: The names ``classify`` gives; the wrong forms of docs/domain.md §1 plus the well-formed anchor.
KINDS = (
    "guid_b64",          # well-formed: base64 of exactly 16 bytes (proves nothing until joined against AD)
    "big_endian_guid",   # base64 of the GUID's bytes in text order (a naive script's byte order)
    "guid_text_base64",  # base64 of the GUID's text, 48 characters (old AADInternals helper)
    "guid_string",       # the GUID string itself used as the ImmutableID
    "okta_user_id",      # 00u + 17 alphanumerics: valid base64 of 15 bytes, not an anchor
    "email",             # an email address or UPN from a changed Okta mapping
    "hex",               # hex text (of a GUID or anything else)
    "empty",             # no value
    "other",             # anything else (employeeID and the like)
)


def _b64_decode(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True) if _B64_ANY_RE.fullmatch(value) else None
    except binascii.Error:
        return None


def classify(value: object, known_anchors: "set[str] | None" = None) -> str:
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
    if HEX_RE.fullmatch(text) and len(text.removeprefix("0x")) >= 8:
        return "hex"
    return "other"


@dataclass(frozen=True)
class AnchorForms:
    """Every form of one anchor value, for ``hybridx anchor``."""

    input: str
    kind: str
    guid: str | None
    immutable_id: str | None
    big_endian_immutable_id: str | None
    hex_octets: str | None
    ldap_filter: str | None
    note: str


def describe(value: str) -> AnchorForms:
    """Interpret a value a consultant pastes (GUID, ImmutableID, or a wrong form) and give all its forms."""
    text = value.strip()
    kind = classify(text)
    guid: str | None = None
    note = ""
    if kind == "guid_b64":
        guid = immutable_id_to_guid(text)
        note = ("base64 of 16 bytes, read in AD byte order; if the ImmutableID was written by a script in the "
                "wrong byte order, the object's real GUID is the big-endian reading")
    elif kind in ("guid_string", "hex") and GUID_RE.fullmatch(text):
        guid = str(parse_guid(text))
        note = "a GUID string; its ImmutableID is below" if kind == "guid_string" else "32 hex digits read as a GUID"
    elif kind == "guid_text_base64":
        guid = str(parse_guid(base64.b64decode(text).decode("ascii")))
        note = "base64 of the GUID's text, not of its bytes: a wrong form; the right ImmutableID is below"
    elif kind == "okta_user_id":
        note = "an Okta user id (15 bytes if read as base64): not an AD anchor"
    elif kind == "email":
        note = "an email address or UPN: not an AD anchor (a changed Okta mapping)"
    else:
        note = "not a GUID or an ImmutableID"
    if guid is None:
        return AnchorForms(value, kind, None, None, None, None, None, note)
    raw = guid_to_bytes(guid)
    return AnchorForms(value, kind, guid, bytes_to_immutable_id(raw), big_endian_immutable_id(guid),
                       bytes_to_hex(raw), bytes_to_ldap_filter(raw), note)


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
        hex_ = (r.str.fullmatch(HEX_RE.pattern) & (r.str.removeprefix("0x").str.len() >= 8)).fillna(False)
        # np.select takes the first true condition: the same precedence as the scalar ``classify``.
        kind[rest] = np.select([okta, guid_string.to_numpy(dtype=bool), guid_text, email, hex_.to_numpy(dtype=bool)],
                               ["okta_user_id", "guid_string", "guid_text_base64", "email", "hex"], default="other")
    kind[blank] = "empty"
    if known_anchors is not None and b64_16.any():
        candidates = b64_16 & ~isin(s, known_anchors)
        if candidates.any():
            hit = isin(swap_immutable_id_series(s[candidates]), known_anchors)
            kind[np.flatnonzero(candidates)[hit]] = "big_endian_guid"
    return pd.Series(kind, index=s.index, dtype="str")
