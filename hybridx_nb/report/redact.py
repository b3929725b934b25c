"""Pseudonymise people for a report shared beyond the client (``redact=True``).

Names, UPNs, mail addresses, sAMAccountNames and DNs are replaced by aliases derived from a keyed hash
(HMAC-SHA256), so the same person keeps the same alias everywhere: in the HTML, the XLSX and every table, and
across runs that use the same key. The key comes from an ``env:NAME`` reference (to keep aliases stable between
runs) or is random for the run; it is never written anywhere. Object ids and ImmutableIDs are kept: they identify
nobody without access to the tenant, and the fixes need them.

Aliases are computed once per distinct value (a tenant has far fewer distinct values than cells), then mapped
onto the columns.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Callable, Iterable

import pandas as pd

from hybridx_nb.core.secrets import resolve_secret

#: What kind of value each findings column holds.
FINDINGS_COLUMNS: dict[str, str] = {
    "ad_display_name": "name", "entra_display_name": "name",
    "ad_upn": "email", "ad_mail": "email", "entra_upn": "email", "entra_mail": "email", "okta_login": "email",
    "duplicate_upn": "email", "ad_sam": "local",
    "ad_dn": "dn", "candidates": "text", "anchor_detail": "text", "reason": "text", "action": "text",
}
#: Remediation plan actions.
ACTION_COLUMNS: dict[str, str] = {"entra_upn": "email", "ad_dn": "dn", "note": "text"}
#: IdFix-style readiness rows (the VALUE of a name attribute is a name; any other value is text).
READINESS_COLUMNS: dict[str, str] = {"DISTINGUISHEDNAME": "dn", "COMMONNAME": "name", "VALUE": "text",
                                     "UPDATE": "text"}
_NAME_ATTRIBUTES = {"displayname", "givenname", "sn", "cn", "samaccountname", "mailnickname"}

_EMAIL_RE = re.compile(r"(?<![\w.+-])([A-Za-z0-9._%+'#-]+)@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})")
_RDN = r"(?:\\.|[^,\\=;()<>\"\n])+"
_DN_RE = re.compile(rf"\b(?:CN|OU|O)={_RDN}(?:,(?:CN|OU|O|L|ST|C)={_RDN})*(?:,DC=[A-Za-z0-9-]+)*"
                    rf"|\bDC=[A-Za-z0-9-]+(?:,DC=[A-Za-z0-9-]+)+", re.IGNORECASE)
_RDN_RE = re.compile(r"(?:^|(?<=,))\s*([A-Za-z]+)=((?:\\.|[^,\\])*)")
_KEEP_SUFFIXES = (".onmicrosoft.com", ".mail.onmicrosoft.com")


def key_from_reference(reference: str | None) -> bytes:
    """The HMAC key: from a reference (``env:NAME`` or ``keyring:service/name``, resolved by
    ``core.secrets``; stable aliases across runs) or random for this run (``None``)."""
    if not reference:
        return secrets.token_bytes(32)
    return resolve_secret(reference, "redact_key").encode("utf-8")


class Redactor:
    """Consistent aliases for one run; ``Redactor.from_reference(params.redact_key)``."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._cache: dict[tuple[str, str], str] = {}

    @classmethod
    def from_reference(cls, reference: str | None) -> "Redactor":
        return cls(key_from_reference(reference))

    def __repr__(self) -> str:  # never show the key
        return "Redactor(<key hidden>)"

    def _digest(self, kind: str, value: str, width: int) -> str:
        return hmac.digest(self._key, f"{kind}\0{value}".encode("utf-8"), "sha256").hex()[:width]

    def _cached(self, kind: str, value: str, make: Callable[[str], str]) -> str:
        hit = self._cache.get((kind, value))
        if hit is None:
            hit = self._cache[(kind, value)] = make(value)
        return hit

    # Scalars -------------------------------------------------------------------------------------------------
    def name(self, value: str) -> str:
        """A person's name → ``Person 1a2b3c4d5e`` (case and spacing ignored, so AD and Entra agree)."""
        return self._cached("name", value,
                            lambda v: f"Person {self._digest('name', ' '.join(v.casefold().split()), 10)}")

    def local(self, value: str) -> str:
        """A mailbox local part or sAMAccountName → ``user-1a2b3c4d5e``."""
        return self._cached("local", value, lambda v: f"user-{self._digest('local', v.casefold(), 10)}")

    def domain(self, value: str) -> str:
        """A DNS domain → ``dom-1a2b3c.example``; ``*.onmicrosoft.com`` keeps its suffix."""
        def make(v: str) -> str:
            low = v.casefold().rstrip(".")
            for suffix in _KEEP_SUFFIXES[::-1]:
                if low.endswith(suffix):
                    return f"dom-{self._digest('domain', low[:-len(suffix)], 6)}{suffix}"
            return f"dom-{self._digest('domain', low, 6)}.example"
        return self._cached("domain", value, make)

    def email(self, value: str) -> str:
        """``alice@contoso.com`` → ``user-…@dom-….example``; a value without ``@`` is treated as text."""
        local, at, domain = value.rpartition("@")
        if not at or not local or not domain:
            return self.text(value)
        prefix = ""
        if ":" in local and local.split(":", 1)[0].casefold() in ("smtp", "sip", "x500"):
            prefix, local = local.split(":", 1)
            prefix += ":"
        return f"{prefix}{self.local(local)}@{self.domain(domain)}"

    def dn(self, value: str) -> str:
        """Each RDN value aliased: CN as a name, OU as ``ou-…``, the DC run as one aliased domain."""
        def make(v: str) -> str:
            parts = _RDN_RE.findall(v)
            if not parts:
                return self.text(v)
            out: list[str] = []
            dcs = [val for attr, val in parts if attr.upper() == "DC"]
            for attr, val in parts:
                kind = attr.upper()
                if kind == "DC":
                    continue
                plain = re.sub(r"\\(.)", r"\1", val)
                alias = (self.name(plain) if kind == "CN"
                         else f"ou-{self._digest('ou', plain.casefold(), 6)}")
                out.append(f"{attr}={alias}")
            if dcs:
                out.extend(f"DC={label}" for label in self.domain(".".join(dcs)).split("."))
            return ",".join(out)
        return self._cached("dn", value, make)

    def text(self, value: str) -> str:
        """Free text: every mail address/UPN and every DN inside it aliased, the rest kept."""
        def make(v: str) -> str:
            v = _DN_RE.sub(lambda m: self.dn(m.group(0)), v)
            return _EMAIL_RE.sub(lambda m: f"{self.local(m.group(1))}@{self.domain(m.group(2))}", v)
        return self._cached("text", value, make)

    def multi(self, value: str, kind: str) -> str:
        """A ``;``-joined list, each item aliased as ``kind``."""
        return ";".join(getattr(self, kind)(item) for item in value.split(";"))

    # Columns and frames --------------------------------------------------------------------------------------
    def series(self, values: pd.Series, kind: str) -> pd.Series:
        """The column with each distinct value aliased once; missing values stay missing."""
        func = getattr(self, kind)
        present = values.dropna()
        if present.empty:
            return values
        uniques = pd.unique(present.astype("str"))
        mapping = {u: func(u) for u in uniques}
        return values.map(mapping).astype(values.dtype if values.dtype == "str" else "str")

    def frame(self, frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
        """A copy of ``frame`` with the named columns aliased (columns it lacks are ignored)."""
        out = frame.copy()
        for col, kind in columns.items():
            if col in out.columns:
                out[col] = self.series(out[col], kind)
        return out

    def findings(self, frame: pd.DataFrame) -> pd.DataFrame:
        return self.frame(frame, FINDINGS_COLUMNS)

    def actions(self, frame: pd.DataFrame) -> pd.DataFrame:
        return self.frame(frame, ACTION_COLUMNS)

    def readiness(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Readiness rows: the value of a name attribute is a name; other values are text."""
        out = self.frame(frame, READINESS_COLUMNS)
        if "ATTRIBUTE" in frame.columns and "VALUE" in frame.columns and len(frame):
            is_name = frame["ATTRIBUTE"].astype("str").str.casefold().isin(_NAME_ATTRIBUTES).fillna(False)
            if is_name.any():
                out.loc[is_name, "VALUE"] = self.series(frame.loc[is_name, "VALUE"], "name")
        return out

    def texts(self, values: Iterable[str]) -> list[str]:
        return [self.text(v) for v in values]
