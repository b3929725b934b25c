"""Pseudonymise people for a report shared beyond the client (``redact=True``).

Names, UPNs, mail addresses, sAMAccountNames and DNs are replaced by aliases derived from a keyed hash
(keyed BLAKE2s), so the same person keeps the same alias everywhere: in the HTML, the XLSX and every table, and
across runs that use the same key. The key comes from an ``env:NAME`` reference (to keep aliases stable between
runs) or is random for the run; it is never written anywhere. Object ids and ImmutableIDs are kept: they identify
nobody without access to the tenant, and the fixes need them.

The aliases are keyed BLAKE2s (hashlib's keyed mode, a MAC like HMAC at a third of its cost), computed once per
distinct value (``redact_columns``; sentences in ``redact_text``), then mapped onto the columns.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core.secrets import resolve_secret
from hybridx_nb.report.redact_columns import FIRST_RDN, value_columns, value_series
from hybridx_nb.report.redact_text import DN, EMAIL, classify, literal_patterns, replace_matches

#: What kind of value each findings column holds; any other text column is treated as ``text`` (sentences), except
#: the columns in ``KEEP`` (enumerations, object ids and tenant-independent names).
FINDINGS_COLUMNS: dict[str, str] = {
    "ad_display_name": "name", "entra_display_name": "name",
    "ad_upn": "email", "ad_mail": "email", "entra_upn": "email", "entra_mail": "email", "okta_login": "email",
    "duplicate_upn": "email", "ad_sam": "local", "ad_dn": "dn",
    "immutable_id": "anchor", "expected_immutable_id": "anchor", "okta_app_immutable_id": "anchor",
}
#: Remediation plan actions.
ACTION_COLUMNS: dict[str, str] = {"entra_upn": "email", "ad_dn": "dn", "temporary_upn": "email",
                                  "current_immutable_id": "anchor", "new_immutable_id": "anchor"}
#: IdFix-style readiness rows (VALUE and UPDATE by their attribute, see ``Redactor.readiness``).
READINESS_COLUMNS: dict[str, str] = {"DISTINGUISHEDNAME": "dn", "COMMONNAME": "name", "conflict_with": "text"}
#: Columns that never hold a directory value: kept as they are.
KEEP = frozenset({
    "category", "entra_id", "ad_object_guid", "anchor_kind", "match_via", "anchor_source", "block_reason",
    "entra_roles", "assigned_licenses", "okta_user_id", "step", "strategy", "OBJECTCLASS", "ATTRIBUTE", "ERROR",
    "PROPOSEDACTION", "ACTION", "rule", "description", "table", "source", "line",
})
_NAME_ATTRIBUTES = {"displayname", "givenname", "sn", "cn", "name", "samaccountname", "mailnickname"}
#: Up to this many AD objects, every sAMAccountName, mailNickname and display name is also looked for inside
#: sentences; above it, those of system objects only (the only sentences that name an object by them).
LITERAL_LIMIT = 20_000

_RDN_RE = re.compile(r"(?:^|(?<=,))\s*([A-Za-z]+)=((?:\\.|[^,\\])*)")
_FIRST_RDN = re.compile(FIRST_RDN, re.DOTALL)
_KEEP_SUFFIXES = (".onmicrosoft.com", ".mail.onmicrosoft.com")
#: Values that identify nobody: a base64 16-byte anchor, a GUID, an Okta user id (what ImmutableIDs should be).
_ANCHOR_RE = r"^(?:[A-Za-z0-9+/]{22}==|\{?[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\}?|00u[A-Za-z0-9]{17})$"
_ANCHOR = re.compile(_ANCHOR_RE)


def key_from_reference(reference: str | None) -> bytes:
    """The alias key: from a reference (``env:NAME`` or ``keyring:service/name``, resolved by
    ``core.secrets``; stable aliases across runs) or random for this run (``None``)."""
    if not reference:
        return secrets.token_bytes(32)
    return resolve_secret(reference, "redact_key").encode("utf-8")


class Redactor:
    """Consistent aliases for one run; ``Redactor.from_reference(params.redact_key)``, then ``learn(snapshot)``."""

    def __init__(self, key: bytes) -> None:
        self._key = key if len(key) <= 32 else hashlib.blake2s(key).digest()  # BLAKE2s takes keys up to 32 bytes
        self._cache: dict[tuple[str, str], str] = {}
        self._literals: dict[str, str] = {}  # casefolded value -> kind, looked for inside sentences
        self._patterns = [f"{DN}|{EMAIL}"]

    @classmethod
    def from_reference(cls, reference: str | None) -> "Redactor":
        return cls(key_from_reference(reference))

    _anchor_pattern = _ANCHOR_RE

    def __repr__(self) -> str:  # never show the key
        return "Redactor(<key hidden>)"

    def learn(self, literals: dict[str, str]) -> "Redactor":
        """Directory values (value -> kind) that sentences may hold bare, outside any DN or address: the
        organisation's name, its domains, system accounts' names."""
        for value, kind in literals.items():
            if value and len(value.strip()) >= 3:
                self._literals[value.strip().casefold()] = kind
        self._patterns = [f"{DN}|{EMAIL}", *literal_patterns(self._literals)]
        self._cache = {k: v for k, v in self._cache.items() if k[0] != "text"}
        return self

    def _digest(self, kind: str, value: str, width: int) -> str:
        return hashlib.blake2s(f"{kind}\0{value}".encode("utf-8"), key=self._key).hexdigest()[:width]

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

    def org(self, value: str) -> str:
        """An organisation's name → ``Organisation 1a2b3c``."""
        return self._cached("org", value, lambda v: f"Organisation {self._digest('org', v.casefold().strip(), 6)}")

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
        def make(v: str) -> str:
            local, at, domain = v.rpartition("@")
            if not at or not local or not domain:
                return self.text(v)
            prefix = ""
            if ":" in local and local.split(":", 1)[0].casefold() in ("smtp", "sip", "x500"):
                prefix, local = local.split(":", 1)
                prefix += ":"
            return f"{prefix}{self.local(local)}@{self.domain(domain)}"
        return self._cached("email", value, make)

    def ou(self, value: str) -> str:
        """An OU's (or any non-person RDN's) value → ``ou-1a2b3c``."""
        return self._cached("ou", value, lambda v: f"ou-{self._digest('ou', v.casefold(), 6)}")

    def dn(self, value: str) -> str:
        """Each RDN value aliased: CN as a name, OU as ``ou-…``, the DC run as one aliased domain (the first RDN
        and the rest apart, as ``redact_columns.dn_series`` does a whole column)."""
        def make(v: str) -> str:
            m = _FIRST_RDN.match(v)
            if not m:
                return self.opaque(v)
            plain = re.sub(r"\\(.)", r"\1", m["val"])
            first = self.name(plain) if m["attr"].upper() == "CN" else self.ou(plain)
            return f"{m['attr']}={first}{self.dn_rest(m['rest'])}"
        return self._cached("dn", value, make)

    def dn_rest(self, rest: str) -> str:
        """The part of a DN after its first RDN (``,OU=Sales,DC=contoso,DC=com``), aliased."""
        def make(v: str) -> str:
            parts = _RDN_RE.findall(v.lstrip(" ,"))
            out: list[str] = []
            dcs = [val.strip() for attr, val in parts if attr.upper() == "DC"]
            for attr, val in parts:
                if attr.upper() != "DC":
                    plain = re.sub(r"\\(.)", r"\1", val)
                    out.append(f"{attr}={self.name(plain) if attr.upper() == 'CN' else self.ou(plain)}")
            if dcs:
                out.extend(f"DC={label}" for label in self.domain(".".join(dcs)).split("."))
            return "".join("," + p for p in out)
        return self._cached("dnrest", rest, make)

    def opaque(self, value: str) -> str:
        """Any single directory value: an address or DN by its form, anything else ``value-1a2b3c4d5e``."""
        v = value.strip()
        if "@" in v:
            return self.email(v)
        if classify(v) == "dn":
            return self.dn(v)
        return self._cached("opaque", value, lambda x: f"value-{self._digest('opaque', x.casefold(), 10)}")

    def anchor(self, value: str) -> str:
        """An ImmutableID: kept when it is an anchor, GUID or Okta id (they identify nobody); any other form
        (an email, a name, an employee number used as ImmutableID) is aliased."""
        return value if _ANCHOR.match(value) else self.opaque(value)

    def _match(self, match: str) -> str:
        """The alias of one piece found inside a sentence (most were aliased already, in a value column)."""
        cache = self._cache
        hit = cache.get(("dn", match)) or cache.get(("email", match))
        if hit is not None:
            return hit
        kind = classify(match)
        if kind == "dn":
            return self.dn(match)
        if kind == "email":
            return self.email(match)
        return getattr(self, self._literals.get(match.strip().casefold(), "opaque"))(match)

    def text(self, value: str) -> str:
        """Free text: every DN, mail address/UPN and known directory word inside it aliased, the rest kept."""
        return self._cached("text", value, lambda v: str(self._sentences(pd.Series([v], dtype="str")).iloc[0]))

    def _sentences(self, values: pd.Series) -> pd.Series:
        return replace_matches(values, self._patterns, self._match)

    def multi(self, value: str, kind: str) -> str:
        """A ``;``-joined list, each item aliased as ``kind``."""
        return ";".join(getattr(self, kind)(item) for item in value.split(";"))

    # Columns and frames --------------------------------------------------------------------------------------
    def series(self, values: pd.Series, kind: str) -> pd.Series:
        """The column with each distinct value aliased once (sentences column-wise); missing values stay
        missing; a list column (proxy addresses) has each item aliased."""
        if isinstance(values.dtype, pd.ArrowDtype) and pa.types.is_list(values.dtype.pyarrow_dtype):
            joined = pd.Series(pd.array(pc.binary_join(pa.array(values.array), ";"), dtype="str"),
                               index=values.index)
            return self.series(joined, kind)
        if kind == "text":
            return self._sentences(values)
        return value_series(self, values, kind)

    def frame(self, frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
        """A copy of ``frame`` with the named columns aliased by kind, and every other text column (except those
        in ``KEEP``) as sentences: a column added later is pseudonymised by default."""
        out = frame.copy()
        kinds: dict[str, str] = {}
        later: dict[str, str] = {}
        for col in out.columns:
            kind = columns.get(col)
            if kind is None and (col in KEEP or not _is_text(out[col])):
                continue
            if _is_list(out[col]) or kind in (None, "text"):
                later[col] = kind or "text"
            else:
                kinds[col] = kind
        for col, values in value_columns(self, out, kinds).items():  # value columns first: sentences reuse them
            out[col] = values
        sentences = [col for col, kind in later.items() if kind == "text" and not _is_list(out[col])]
        if sentences:  # all sentence columns in one pass: each RE2 pattern compiles once, not once per column
            done = self._sentences(pd.concat([out[col].astype("str") for col in sentences], ignore_index=True))
            for i, col in enumerate(sentences):
                out[col] = done.iloc[i * len(out):(i + 1) * len(out)].set_axis(out.index)
        for col, kind in later.items():
            if col not in sentences:
                out[col] = self.series(out[col], kind)
        return out

    def findings(self, frame: pd.DataFrame) -> pd.DataFrame:
        return self.frame(frame, FINDINGS_COLUMNS)

    def actions(self, frame: pd.DataFrame) -> pd.DataFrame:
        return self.frame(frame, ACTION_COLUMNS)

    def readiness(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Readiness rows: VALUE and UPDATE of a name attribute are names; of any other attribute the whole value
        is aliased (an address as an address), since it is a directory value whatever its form."""
        columns = dict(READINESS_COLUMNS, VALUE="opaque", UPDATE="opaque")
        out = self.frame(frame, columns)
        if "ATTRIBUTE" in frame.columns and len(frame):
            is_name = frame["ATTRIBUTE"].astype("str").str.casefold().isin(_NAME_ATTRIBUTES).fillna(False)
            if is_name.any():
                for col in ("VALUE", "UPDATE"):
                    if col in frame.columns:
                        out.loc[is_name, col] = self.series(frame.loc[is_name, col], "name")
        return out

    def texts(self, values: Iterable[str]) -> list[str]:
        """Several sentences in one column-wise pass (each RE2 pattern compiles once)."""
        values = list(values)
        if not values:
            return []
        done = self._sentences(pd.Series(values, dtype="str"))
        return [None if v is None else str(x) for v, x in zip(values, done.astype(object).tolist())]


def _is_list(values: pd.Series) -> bool:
    return isinstance(values.dtype, pd.ArrowDtype) and pa.types.is_list(values.dtype.pyarrow_dtype)


def _is_text(values: pd.Series) -> bool:
    dtype = values.dtype
    if isinstance(dtype, pd.ArrowDtype):
        return pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(dtype.pyarrow_dtype) or \
            pa.types.is_list(dtype.pyarrow_dtype)
    return dtype == "str" or dtype == object


def directory_literals(snapshot: object, system: pd.Series | None = None) -> dict[str, str]:
    """The values sentences may name bare (value -> alias kind): the tenant's name, its domains, ImmutableIDs that
    are neither an anchor nor an address, and the names of AD objects: all of them up to ``LITERAL_LIMIT`` objects, else those of ``system``
    objects (a boolean mask over ``ad_users``)."""
    out: dict[str, str] = {}
    tenant = getattr(snapshot, "tenant", None)
    if tenant is not None and getattr(tenant, "display_name", None):
        out[str(tenant.display_name)] = "org"
    tables = getattr(snapshot, "tables", {})
    domains = tables.get("entra_domains")
    if domains is not None and len(domains):
        for name in domains["name"].dropna().astype("str"):
            out[name] = "domain"
    for name, col in (("entra_users", "immutable_id"), ("okta_app_users", "immutable_id")):
        frame = tables.get(name)
        if frame is not None and col in frame.columns and len(frame):
            values = frame[col].dropna().astype("str")
            odd = values[~values.str.match(_ANCHOR_RE) & ~values.str.contains("@", regex=False)]
            out.update({v: "anchor" for v in odd.unique()})  # a name or number used as ImmutableID: rare
    ad = tables.get("ad_users")
    if ad is not None and len(ad):
        rows = ad if len(ad) <= LITERAL_LIMIT or system is None else ad[system.to_numpy(dtype=bool)]
        for col, kind in (("sam_account_name", "local"), ("mail_nickname", "local"), ("display_name", "name")):
            if col in rows.columns:
                out.update({v: kind for v in rows[col].dropna().astype("str").unique() if v.strip()})
    return out
