"""The anchor arithmetic: GUID strings, AD byte order and ImmutableIDs (docs/domain.md §1).

AD stores a GUID in Microsoft's mixed-endian layout (the first three fields little-endian, the last eight bytes
as they are: .NET ``Guid.ToByteArray()``, Python ``uuid.UUID(s).bytes_le``). Entra Connect's ImmutableID is
standard base64 of those 16 raw bytes. This module is the only place in hybridx that converts between the
forms; naming a value that is not a proper anchor is the engine's job (``engine/anchor_forms.py``).

Scalar helpers take and return plain ``str``/``bytes``; the ``*_series`` versions work on whole pandas columns
with numpy (a million values in well under a second) and return missing values where the input is not valid.
"""

from __future__ import annotations

import base64
import re
import uuid

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core.columns import arrow_text, as_str

# Byte positions that turn the 16 bytes of a GUID in text (big-endian) order into AD order and back.
# The permutation is its own inverse.
SWAP = np.array([3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15])
_B64_ALPHABET = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", dtype=np.uint8)
_B64_INDEX = np.full(256, 255, dtype=np.uint8)
_B64_INDEX[_B64_ALPHABET] = np.arange(64, dtype=np.uint8)
_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HEX_VALUE = np.zeros(256, dtype=np.uint8)
_HEX_VALUE[_HEX_DIGITS] = np.arange(16, dtype=np.uint8)

GUID_RE = re.compile(r"\{?([0-9a-fA-F]{8})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{12})\}?")
IMMUTABLE_ID_RE = re.compile(r"[A-Za-z0-9+/]{21}[AQgw]==")

class AnchorError(ValueError):
    """A value that cannot be read as a GUID or an ImmutableID."""


# ---------------------------------------------------------------------------------------------------------------
# Scalars
# ---------------------------------------------------------------------------------------------------------------

def parse_guid(text: str) -> uuid.UUID:
    """A GUID string with or without braces and dashes, any case, as a ``uuid.UUID``."""
    m = GUID_RE.fullmatch(text.strip()) if isinstance(text, str) else None
    if not m or text.strip().startswith("{") != text.strip().endswith("}"):
        raise AnchorError(f"not a GUID: {text!r} (expected 8-4-4-4-12 hex digits, e.g. "
                          "f7cc07d7-7c15-447d-876d-c01b0e5a9e38)")
    return uuid.UUID("".join(m.groups()))


def guid_to_bytes(guid: str) -> bytes:
    """The 16 raw bytes AD stores for a GUID string (mixed-endian)."""
    return parse_guid(guid).bytes_le


def bytes_to_guid(raw: bytes) -> str:
    """The GUID string for 16 raw AD bytes."""
    if len(raw) != 16:
        raise AnchorError(f"a GUID has 16 bytes, this value has {len(raw)}")
    return str(uuid.UUID(bytes_le=bytes(raw)))


def bytes_to_immutable_id(raw: bytes) -> str:
    """ImmutableID of raw anchor bytes: standard base64 of the bytes as they are."""
    return base64.b64encode(bytes(raw)).decode("ascii")


def immutable_id_to_bytes(value: str) -> bytes:
    """The raw bytes of an ImmutableID; it must be base64 of exactly 16 bytes."""
    if not isinstance(value, str) or not IMMUTABLE_ID_RE.fullmatch(value.strip()):
        raise AnchorError(f"not an ImmutableID: {value!r} (expected 24 base64 characters ending in '==')")
    return base64.b64decode(value.strip(), validate=True)


def guid_to_immutable_id(guid: str) -> str:
    """ImmutableID for a GUID string: ``base64(uuid.UUID(s).bytes_le)``."""
    return bytes_to_immutable_id(guid_to_bytes(guid))


def immutable_id_to_guid(value: str) -> str:
    """GUID string of the object whose anchor is this ImmutableID."""
    return bytes_to_guid(immutable_id_to_bytes(value))


def big_endian_immutable_id(guid: str) -> str:
    """The wrong form a naive script writes: base64 of the GUID's bytes in text order."""
    return bytes_to_immutable_id(parse_guid(guid).bytes)


def bytes_to_hex(raw: bytes) -> str:
    """Space-separated hex octets, as ADSI Edit shows an octet string."""
    return " ".join(f"{b:02x}" for b in raw)


def bytes_to_ldap_filter(raw: bytes) -> str:
    r"""The escaped form for an LDAP filter: ``(objectGUID=\d7\07\cc\f7…)``."""
    return "".join(f"\\{b:02x}" for b in raw)


# ---------------------------------------------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------------------------------------------

def _b64_encode_rows(raw: np.ndarray) -> np.ndarray:
    """Base64 of each 16-byte row of an (n, 16) uint8 array, as an (n, 24) uint8 array of ASCII."""
    n = raw.shape[0]
    padded = np.zeros((n, 18), dtype=np.uint8)
    padded[:, :16] = raw
    triples = padded.reshape(n, 6, 3)
    b0, b1, b2 = triples[:, :, 0], triples[:, :, 1], triples[:, :, 2]
    out = np.empty((n, 6, 4), dtype=np.uint8)  # byte arithmetic: a quarter of the memory traffic of uint32 words
    out[:, :, 0] = _B64_ALPHABET[b0 >> 2]
    out[:, :, 1] = _B64_ALPHABET[((b0 & 3) << 4) | (b1 >> 4)]
    out[:, :, 2] = _B64_ALPHABET[((b1 & 15) << 2) | (b2 >> 6)]
    out[:, :, 3] = _B64_ALPHABET[b2 & 63]
    out = out.reshape(n, 24)
    out[:, 22:] = ord("=")
    return out


def ascii_rows_to_series(chars: np.ndarray, width: int, valid: np.ndarray, index: pd.Index) -> pd.Series:
    """A str column from an (n, width) array of ASCII rows, missing where ``valid`` is False (zero-copy)."""
    n = len(index)
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    arr = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars)),
                                      pa.py_buffer(np.packbits(valid, bitorder="little")))
    return pd.Series(pd.array(arr, dtype="str"), index=index)


_CANONICAL_GUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


#: Where the 32 hex digits are in a canonical GUID string (not the four hyphens).
_HEX_AT = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def _hex_to_ad_bytes(digits: np.ndarray) -> np.ndarray:
    """(n, 32) ASCII hex digits of GUIDs in text order → (n, 16) bytes in AD order."""
    return ((_HEX_VALUE[digits[:, 0::2]] << 4) | _HEX_VALUE[digits[:, 1::2]])[:, SWAP]


def _canonical_bytes_array(guids: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """``guid_to_bytes_array`` when every present value is a canonical lower-case GUID, as snapshots hold them:
    the digits are read straight from the Arrow data buffer. None when a value is written another way."""
    arr = arrow_text(guids).cast(pa.large_string()).combine_chunks()
    if not len(arr):
        return np.zeros((0, 16), dtype=np.uint8), np.zeros(0, dtype=bool)
    if pc.all(pc.match_substring_regex(arr, _CANONICAL_GUID)).as_py() is False:
        return None
    valid = pc.is_valid(arr).to_numpy(zero_copy_only=False)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8) if arr.buffers()[2] is not None else np.zeros(0, np.uint8)
    digits = data[offsets[0]:offsets[-1]].reshape(-1, 36)[:, _HEX_AT]  # present values: 36 bytes each, end to end
    raw = np.zeros((len(arr), 16), dtype=np.uint8)
    raw[valid] = _hex_to_ad_bytes(digits)
    return raw, valid


def guid_to_bytes_array(guids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(n, 16) uint8 array of AD-order bytes for a column of GUID strings, and a mask of the valid rows."""
    canonical = _canonical_bytes_array(guids)
    if canonical is not None:
        return canonical
    s = as_str(guids)
    stripped = s.str.strip()
    braces_ok = stripped.str.startswith("{") == stripped.str.endswith("}")
    valid = (stripped.str.fullmatch(GUID_RE.pattern) & braces_ok).fillna(False).to_numpy(dtype=bool)
    compact = stripped[valid].str.strip("{}").str.replace("-", "", regex=False).str.lower()
    raw = np.zeros((len(s), 16), dtype=np.uint8)
    if valid.any():  # 32 hex digits each, end to end in the Arrow data buffer: decoded with a lookup table
        arr = pa.chunked_array(compact.array.__arrow_array__()).cast(pa.large_string()).combine_chunks()
        offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
        raw[valid] = _hex_to_ad_bytes(
            np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]].reshape(-1, 32))
    return raw, valid


def guid_to_immutable_id_series(guids: pd.Series) -> pd.Series:
    """ImmutableID of every GUID string in a column; missing where the value is not a GUID."""
    raw, valid = guid_to_bytes_array(guids)
    return ascii_rows_to_series(_b64_encode_rows(raw), 24, valid, guids.index)


def big_endian_immutable_id_series(guids: pd.Series) -> pd.Series:
    """The big-endian wrong form for every GUID string in a column."""
    raw, valid = guid_to_bytes_array(guids)
    return ascii_rows_to_series(_b64_encode_rows(raw[:, SWAP]), 24, valid, guids.index)


def immutable_id_to_bytes_array(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(n, 16) uint8 array of the bytes of each ImmutableID, and a mask of the rows that are base64 of 16 bytes."""
    s = as_str(values).str.strip()
    valid = s.str.fullmatch(IMMUTABLE_ID_RE.pattern).fillna(False).to_numpy(dtype=bool)
    raw = np.zeros((len(s), 16), dtype=np.uint8)
    if valid.any():
        text = "".join(s[valid].tolist()).encode("ascii")
        chars = _B64_INDEX[np.frombuffer(text, dtype=np.uint8).reshape(-1, 24)[:, :22]].astype(np.uint32)
        chars = np.concatenate([chars, np.zeros((len(chars), 2), np.uint32)], axis=1).reshape(-1, 6, 4)
        word = (chars[:, :, 0] << 18) | (chars[:, :, 1] << 12) | (chars[:, :, 2] << 6) | chars[:, :, 3]
        octets = np.stack([(word >> 16) & 255, (word >> 8) & 255, word & 255], axis=2).reshape(-1, 18)
        raw[valid] = octets[:, :16].astype(np.uint8)
    return raw, valid


def _guid_text_rows(raw_ad_order: np.ndarray) -> np.ndarray:
    text_order = raw_ad_order[:, SWAP]
    digits = np.stack([_HEX_DIGITS[text_order >> 4], _HEX_DIGITS[text_order & 15]], axis=2).reshape(-1, 32)
    out = np.full((len(raw_ad_order), 36), ord("-"), dtype=np.uint8)
    for dst, src in ((slice(0, 8), slice(0, 8)), (slice(9, 13), slice(8, 12)), (slice(14, 18), slice(12, 16)),
                     (slice(19, 23), slice(16, 20)), (slice(24, 36), slice(20, 32))):
        out[:, dst] = digits[:, src]
    return out


def immutable_id_to_guid_series(values: pd.Series) -> pd.Series:
    """GUID string of every ImmutableID in a column; missing where the value is not base64 of 16 bytes."""
    raw, valid = immutable_id_to_bytes_array(values)
    return ascii_rows_to_series(_guid_text_rows(raw), 36, valid, values.index)


def swap_immutable_id_series(values: pd.Series) -> pd.Series:
    """Each 16-byte ImmutableID with its first three GUID fields byte-swapped (big-endian ↔ AD order)."""
    raw, valid = immutable_id_to_bytes_array(values)
    return ascii_rows_to_series(_b64_encode_rows(raw[:, SWAP]), 24, valid, values.index)


def normalize_guid_series(guids: pd.Series) -> pd.Series:
    """Canonical lower-case 8-4-4-4-12 form of each GUID string; missing where not a GUID."""
    text = arrow_text(guids)
    if pc.all(pc.match_substring_regex(text, _CANONICAL_GUID)).as_py() is not False:
        return pd.Series(pd.array(text, dtype="str"), index=guids.index)  # already canonical (Graph ids, [guid])
    raw, valid = guid_to_bytes_array(guids)
    return ascii_rows_to_series(_guid_text_rows(raw), 36, valid, guids.index)
