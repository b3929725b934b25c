"""Objects the sync never touches: deleted objects, system accounts, conflict objects and computers
(docs/domain.md §16).

One list, used by the engine (such objects are ``excluded``, never matched or created) and by the readiness rules
(no readiness rows for them), so that the two stages cannot disagree about who is in scope.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Well-known accounts by sAMAccountName or common name (lower case): the whole name, or a prefix (``…``).
SYSTEM_ACCOUNTS: dict[str, str] = {
    "krbtgt": "the Kerberos key distribution account",
    "guest": "the built-in Guest account",
    "defaultaccount": "the built-in DefaultAccount",
    "healthmailbox…": "an Exchange health mailbox",
    "systemmailbox…": "an Exchange system mailbox",
    "discoverysearchmailbox…": "Exchange's discovery search mailbox",
    "federatedemail…": "Exchange's federated e-mail account",
    "migration.…": "Exchange's migration mailbox",
    "support_388945a0": "the built-in help-and-support account",
    "cas_{…": "an Exchange client access mailbox",
    "exchange online-applicationaccount…": "Exchange hybrid's application account",
    "exchange_online-applicationaccount…": "Exchange hybrid's application account",
    "msol_…": "Entra Connect's AD DS connector account",
    "aad_…": "Entra Connect's ADSync service account",
}


def _re(key: str) -> str:
    return key.rstrip("…").replace(".", r"\.").replace("{", r"\{")


_NAMES = "|".join(_re(k) for k in SYSTEM_ACCOUNTS if not k.endswith("…"))
_PREFIXES = "|".join(_re(k) for k in SYSTEM_ACCOUNTS if k.endswith("…"))
_NAME_RE = rf"(?i)^(?:{_NAMES})$|^(?:{_PREFIXES})"
#: The DN's first RDN value (escapes such as ``\,`` allowed).
_CN_RE = rf"(?i)^[^=]*=(?:(?:{_NAMES})(?:,|$)|(?:{_PREFIXES}))"
_CONFLICT_RE = r"\\0ACNF:|\nCNF:"
#: A deleted object's DN: ``\0ADEL:<guid>`` in its RDN (LDAP escapes the line feed; some tools write it raw), or
#: any object under a ``CN=Deleted Objects`` container (docs/domain.md §16).
_DELETED_RE = r"(?i)\\0ADEL:|\nDEL:|(?:^|,)\s*CN=Deleted Objects\s*,"
_DOLLAR_CN_RE = r"^[^=]*=(?:[^,\\]|\\.)*\$(?:,|$)"


def _scoped(pattern: str) -> str:
    """A pattern whose leading ``(?i)`` applies to itself only, to be joined with others by ``|``."""
    return f"(?i:{pattern[4:]})" if pattern.startswith("(?i)") else f"(?:{pattern})"


#: Every case of ``_masks`` that reads the DN, or the sAMAccountName, as one regular expression each: a mask of
#: system objects is one pass over each column, not six.
_ANY_DN_RE = "|".join(_scoped(p) for p in (_DELETED_RE, _CONFLICT_RE, _DOLLAR_CN_RE, _CN_RE))
_ANY_SAM_RE = "|".join(_scoped(p) for p in (r"\$$", _NAME_RE))


def _arrow(values: pd.Series) -> pa.Array:
    return pa.array(values.astype("str"), type=pa.large_string(), from_pandas=True)


def _has(values: pd.Series, pattern: str) -> np.ndarray:
    return pc.match_substring_regex(_arrow(values), pattern).fill_null(False).to_numpy(zero_copy_only=False)


def _masks(frame: pd.DataFrame) -> tuple[list[np.ndarray], pd.Series, np.ndarray]:
    """The masks of ``system_object_reason``'s cases (deleted, conflict, ``$``, critical, well-known name), in order, with
    the sAMAccountName column and where the sAMAccountName is the well-known name."""
    dn = frame["dn"]
    sam = frame["sam_account_name"] if "sam_account_name" in frame else pd.Series(pd.NA, index=frame.index,
                                                                                  dtype="str")
    critical = (frame["is_critical_system_object"].fillna(False).to_numpy(dtype=bool)
                if "is_critical_system_object" in frame else np.zeros(len(frame), dtype=bool))
    by_sam = _has(sam, _NAME_RE)
    cases = [deleted_object_mask(frame), _has(dn, _CONFLICT_RE), _has(sam, r"\$$") | _has(dn, _DOLLAR_CN_RE), critical,
             by_sam | _has(dn, _CN_RE)]
    return cases, sam, by_sam


_TEXTS = ("a deleted object (tombstone or recycle bin): Entra Connect never synchronises deleted objects",
          "a replication conflict object (\\0ACNF: in its DN)",
          "a computer or managed service account (name ends with $)",
          "a critical system object (isCriticalSystemObject)")
_NAMED = len(_TEXTS)  # the last case: a well-known account, named in its sentence


def system_object_reason(frame: pd.DataFrame) -> pd.Series:
    """Per AD object (users, groups, contacts: any frame with ``dn``, optionally ``sam_account_name`` and
    ``is_critical_system_object``), why the sync leaves it out, or missing when it is in scope.

    The cases are told apart, and the names of well-known accounts read, only for the (few) objects that are one
    (``system_object_mask``): a per-value regular expression over a million DNs would cost seconds."""
    code = np.full(len(frame), -1, dtype=np.int32)
    system = np.flatnonzero(system_object_mask(frame))
    texts = list(_TEXTS)
    if len(system):
        cases, sam, by_sam = _masks(frame.iloc[system])
        found = np.full(len(system), -1, dtype=np.int32)
        for i in reversed(range(len(cases))):  # the first case that applies wins
            found[cases[i]] = i
        named = np.flatnonzero(found == _NAMED)
        if len(named):
            dn = frame["dn"].iloc[system[named]]
            name = sam.iloc[named].where(by_sam[named], dn.str.extract(r"^[^=]*=((?:[^,\\]|\\.)*)", expand=False))
            texts += ("the well-known system account " + name.fillna("") + " (" + _kind(name).fillna("")
                      + ")").tolist()
            found[named] = _NAMED + np.arange(len(named))
        code[system] = found
    valid = code >= 0
    arr = pa.DictionaryArray.from_arrays(pa.array(np.where(valid, code, 0), mask=~valid),
                                         pa.array(texts, pa.large_string())).cast(pa.large_string())
    return pd.Series(pd.array(arr, dtype="str"), index=frame.index)


def deleted_object_mask(frame: pd.DataFrame) -> np.ndarray:
    """Objects that are deleted: the DN shows a tombstone or the Deleted Objects container, or isDeleted is TRUE."""
    deleted = _has(frame["dn"], _DELETED_RE)
    if "is_deleted" in frame:
        deleted |= frame["is_deleted"].fillna(False).to_numpy(dtype=bool)
    return deleted


def _kind(name: pd.Series) -> pd.Series:
    """What kind of system account a well-known name is (the value of ``SYSTEM_ACCOUNTS``)."""
    low = name.str.lower()
    out = pd.Series(pd.NA, index=name.index, dtype="str")
    for key, text in reversed(SYSTEM_ACCOUNTS.items()):
        hit = (low.str.startswith(key[:-1]) if key.endswith("…") else low == key).fillna(False)
        out = out.mask(hit.to_numpy(dtype=bool), text)
    return out


def system_object_mask(frame: pd.DataFrame) -> np.ndarray:
    """Where ``system_object_reason`` names a reason (without telling which: two regular expressions, not six)."""
    out = _has(frame["dn"], _ANY_DN_RE)
    if "sam_account_name" in frame:
        out |= _has(frame["sam_account_name"], _ANY_SAM_RE)
    for flag in ("is_critical_system_object", "is_deleted"):
        if flag in frame:
            out |= frame[flag].fillna(False).to_numpy(dtype=bool)
    return out
