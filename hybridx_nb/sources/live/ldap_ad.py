"""Active Directory over LDAP (ldap3): users, and the groups and contacts that carry mail addresses.

Read-only: the connection is opened with ldap3's ``read_only`` flag and only searches are sent. A normal domain
user can read every attribute used here.

TLS is on and validated by default: ``ldaps://`` URLs use LDAPS, ``ldap://`` URLs StartTLS, with
``ssl.CERT_REQUIRED`` against ``ca_file`` (or the system's CAs). ldap3's ``Tls()`` validates nothing unless told,
so this is set explicitly. Plain LDAP (``tls = "none"``) and unvalidated TLS (``insecure = true``) are explicit
opt-outs that log a warning.

objectGUID and mS-DS-ConsistencyGuid are read from ``raw_attributes`` (the bytes on the wire), never from
ldap3's formatted strings: objectGUID becomes the canonical GUID string, mS-DS-ConsistencyGuid base64 of its
bytes, whatever they hold. Attributes the forest's schema lacks (``mailNickname``/``targetAddress`` without the
Exchange schema) are left empty and named in the table's source text, which the manifest keeps.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pandas as pd
from ldap3 import KERBEROS, NTLM, SASL, SIMPLE, SUBTREE, Connection, Server, Tls
from ldap3.core import exceptions as lx

from hybridx_nb.core import anchors
from hybridx_nb.core.errors import CollectionError, HybridxError
from hybridx_nb.core.secrets import scrub, server_text
from hybridx_nb.snapshot import schema
from hybridx_nb.snapshot.coverage import MISSING, Coverage
from hybridx_nb.sources.common import (
    AD_FIELDS,
    AD_GUID_FIELDS,
    AD_TEXT_FIELDS,
    ReadResult,
    bool_text,
    concat,
    dns_domain,
    enabled_from_uac,
    kept,
    lists_from_python,
)
from hybridx_nb.sources.live.config import LdapConfig
from hybridx_nb.sources.live.http import Progress, report

log = logging.getLogger(__name__)

USER_FILTER = "(&(objectCategory=person)(objectClass=user))"
MAIL_FILTER = "(&(|(objectClass=group)(objectClass=contact))(|(proxyAddresses=*)(mail=*)))"
#: LDAP attribute → canonical column, for the attributes read as text.
TEXT_ATTRS = {
    "distinguishedName": "dn", "sAMAccountName": "sam_account_name", "userPrincipalName": "upn", "mail": "mail",
    "displayName": "display_name", "givenName": "given_name", "sn": "surname", "mailNickname": "mail_nickname",
    "targetAddress": "target_address", "userAccountControl": "uac",
    "isCriticalSystemObject": "is_critical_system_object",
    # flowed by the default sync rules (docs/domain.md §14) and on-premises Exchange's (§15)
    **{AD_FIELDS[f][0]: f for f in AD_TEXT_FIELDS if f not in (
        "sam_account_name", "upn", "mail", "display_name", "given_name", "surname", "mail_nickname",
        "target_address")},
    "msExchHideFromAddressLists": "hide_from_address_lists",
}
#: Binary attributes that hold a GUID → canonical column.
GUID_ATTRS = {AD_FIELDS[f][0]: f for f in AD_GUID_FIELDS}
#: Absent from some schemas (the Exchange schema's attributes, mS-DS-ConsistencyGuid before 2016): asked for only
#: when the schema has them.
OPTIONAL_ATTRS = tuple(dict.fromkeys(("mS-DS-ConsistencyGuid", "mailNickname", "targetAddress",
                                      *(a for a in TEXT_ATTRS if a.startswith(("msExch", "extensionAttribute"))),
                                      "homeMDB", "legacyExchangeDN", *GUID_ATTRS)))
USER_ATTRS = [*TEXT_ATTRS, "objectGUID", "mS-DS-ConsistencyGuid", "proxyAddresses", "objectClass", *GUID_ATTRS]
MAIL_ATTRS = ["distinguishedName", "objectGUID", "mail", "proxyAddresses", "displayName", "objectClass"]


def collect_ad(cfg: LdapConfig | list[LdapConfig], progress: Progress | None = None) -> ReadResult:
    """Read every configured domain; a ``CollectionError`` (nothing returned) if any of them fails."""
    domains = cfg if isinstance(cfg, list) else [cfg]
    users, mail, rejected, texts, lacking = [], [], [], [], set()
    counts = {"ad_users": [0, 0], "ad_mail_objects": [0, 0]}
    for domain in domains:
        started = time.monotonic()
        with _connect(domain) as conn:
            reader = _Reader(domain, conn, progress, counts)
            missing = reader.missing_attributes()
            u, rej = reader.users()
            m = reader.mail_objects() if domain.mail_objects else schema.empty("ad_mail_objects")
        users.append(u)
        lacking.update(reader.not_asked())
        rejected.append(rej)
        mail.append(m)
        text = f"LDAP {reader.url} ({'; '.join(reader.bases)})"
        if missing:
            text += f"; schema lacks {', '.join(missing)} (left empty)"
        texts.append(text)
        log.info("%s: %d users, %d mail objects in %.1f s", domain.name, len(u), len(m), time.monotonic() - started)
    ad_users, rej = _dedupe(concat(users, "ad_users"), concat(rejected, "rejected"))
    source = " + ".join(texts)
    tables = {"ad_users": ad_users}
    if any(d.mail_objects for d in domains):
        tables["ad_mail_objects"] = concat(mail, "ad_mail_objects").drop_duplicates("object_guid",
                                                                                    ignore_index=True)
    # the attributes a domain's schema lacks were not asked for: missing, not empty (docs/domain.md §14)
    missing = {c: MISSING for c in sorted(lacking)}
    return ReadResult(tables, rej, source, sources={name: source for name in tables},
                      coverage=Coverage({"ad_users": missing}, {"ad_users": source}))


# ---------------------------------------------------------------------------------------------------------------
# Connecting: TLS, bind, failover across the configured URLs
# ---------------------------------------------------------------------------------------------------------------

def _tls_mode(cfg: LdapConfig, url: str) -> str:
    scheme = urlsplit(url).scheme
    if cfg.tls == "auto":
        return "ldaps" if scheme == "ldaps" else "starttls"
    return cfg.tls


def _server(cfg: LdapConfig, url: str) -> tuple[Server, str]:
    mode = _tls_mode(cfg, url)
    parts = urlsplit(url)
    if mode == "none":
        log.warning("INSECURE: %s uses plain LDAP (tls = \"none\"): the bind and every attribute cross the "
                    "network unencrypted. Use ldaps:// or StartTLS outside a lab.", url)
        tls = None
    else:
        if cfg.insecure:
            log.warning("INSECURE: %s: the server's TLS certificate is NOT validated (insecure = true): anyone "
                        "on the path can impersonate the domain controller. Set ca_file instead.", url)
        tls = Tls(validate=ssl.CERT_NONE if cfg.insecure else ssl.CERT_REQUIRED,
                  ca_certs_file=str(cfg.ca_file) if cfg.ca_file else None,
                  valid_names=[cfg.tls_name] if cfg.tls_name else None, sni=cfg.tls_name or parts.hostname)
    port = parts.port or (636 if mode == "ldaps" else 389)
    server = Server(parts.hostname, port=port, use_ssl=mode == "ldaps", tls=tls, get_info=None,
                    connect_timeout=cfg.timeout)
    return server, mode


def _connection(cfg: LdapConfig, server: Server) -> Connection:
    common = dict(read_only=True, receive_timeout=int(cfg.timeout), raise_exceptions=False, auto_referrals=False)
    if cfg.bind == "kerberos":
        try:
            import gssapi  # noqa: F401  (ldap3 needs it for SASL GSSAPI)
        except ImportError:
            raise CollectionError(f"Active Directory {cfg.name}: bind = \"kerberos\" needs the gssapi package "
                                  "(pip install gssapi, with the system's Kerberos libraries) and a ticket from "
                                  "kinit; or use bind = \"simple\" with a UPN") from None
        return Connection(server, authentication=SASL, sasl_mechanism=KERBEROS, **common)
    password = cfg.password.reveal() if cfg.password else None
    if cfg.bind == "ntlm":
        return Connection(server, user=cfg.user, password=password, authentication=NTLM, **common)
    return Connection(server, user=cfg.user, password=password, authentication=SIMPLE, **common)


def _explain(exc: Exception, cfg: LdapConfig, url: str) -> str:
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        detail = text[text.find("certificate verify failed"):].split(")")[0] if "verify failed" in text else text
        return (f"the server's TLS certificate could not be validated ({detail}); set ca_file to the PEM of the "
                "CA that issued the domain controllers' certificates"
                + (f" (now {cfg.ca_file})" if cfg.ca_file else ""))
    if isinstance(exc, lx.LDAPCertificateError) or "doesn't match any name" in text:
        return ("the certificate was issued for another name than the one connected to; connect by the name on "
                "the certificate, or set tls_name to it")
    if cfg.bind == "ntlm" and isinstance(exc, lx.LDAPSessionTerminatedByServerError):
        return ("the server closed the connection at the NTLM bind: it does not accept NTLM (Sicily) binds, "
                "which Windows domain controllers do and Samba does not; use bind = \"simple\" with a UPN")
    if isinstance(exc, lx.LDAPSocketOpenError):
        return f"cannot connect ({text}); check the URL, the port (636 LDAPS, 389 LDAP) and the firewall"
    return f"{type(exc).__name__}: {text}"


class _Session:
    """An open, bound connection (a context manager that unbinds)."""

    def __init__(self, conn: Connection, url: str) -> None:
        self.conn, self.url = conn, url

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.conn.unbind()
        except lx.LDAPException:
            pass


def _connect(cfg: LdapConfig) -> _Session:
    failures = []
    for url in cfg.urls:
        try:
            server, mode = _server(cfg, url)
            conn = _connection(cfg, server)
            conn.open()
            if mode == "starttls" and not conn.start_tls():
                raise lx.LDAPStartTLSError(f"StartTLS refused: {conn.result.get('description')}")
            if not conn.bind():
                result = conn.result or {}
                problem = result.get("description") or "refused"
                hint = {"invalidCredentials": "check user and the secret it refers to"
                        + (f" ({cfg.password.ref})" if cfg.password else ""),
                        "strongerAuthRequired": "the server requires TLS or signing for this bind"}.get(problem, "")
                raise CollectionError(scrub(f"Active Directory {cfg.name} ({url}): bind as "
                                            f"{cfg.user or 'Kerberos ticket'} failed: {problem}"
                                            + (f"; {hint}" if hint else "")))
            log.info("bound to %s as %s (%s, %s)", url, cfg.user or "Kerberos ticket", cfg.bind, mode)
            return _Session(conn, url)
        except HybridxError:
            raise
        except (lx.LDAPException, OSError, ssl.SSLError) as exc:
            log.info("%s: %s", url, scrub(exc))
            failures.append(f"{url}: {_explain(exc, cfg, url)}")
    raise CollectionError(scrub(f"Active Directory {cfg.name}: no domain controller could be used:\n  "
                                + "\n  ".join(failures)))


# ---------------------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------------------

class _Reader:
    def __init__(self, cfg: LdapConfig, session: _Session, progress: Progress | None,
                 counts: dict[str, list[int]]) -> None:
        self.cfg, self.conn, self.url, self.progress, self.counts = cfg, session.conn, session.url, progress, counts
        self.root = self._root_dse()
        self.bases = cfg.sync_ous or cfg.base_dns or [self.root.get("defaultNamingContext", "")]
        self.page_size = min(cfg.page_size, 1000)  # AD's MaxPageSize
        self.skip: set[str] = set()

    def _fail(self, what: str) -> CollectionError:
        result = self.conn.result or {}
        # the server's diagnostic message may echo what it was sent: scrubbed (core.secrets)
        return CollectionError(f"Active Directory {self.cfg.name} ({self.url}): {what}: "
                               + server_text(f"{result.get('description')} {result.get('message') or ''}"))

    def _root_dse(self) -> dict[str, str]:
        attrs = ["defaultNamingContext", "schemaNamingContext", "dnsHostName"]
        if not self.conn.search("", "(objectClass=*)", "BASE", attributes=attrs):
            raise self._fail("reading the rootDSE failed")
        raw = self.conn.response[0].get("raw_attributes", {})
        return {k: raw[k][0].decode() for k in attrs if raw.get(k)}

    def missing_attributes(self) -> list[str]:
        """Optional attributes the schema lacks; they are then not requested."""
        schema_nc = self.root.get("schemaNamingContext")
        if not schema_nc:
            return []
        wanted = "".join(f"(lDAPDisplayName={a})" for a in OPTIONAL_ATTRS)
        if not self.conn.search(schema_nc, f"(|{wanted})", "LEVEL", attributes=["lDAPDisplayName"]) \
                and (self.conn.result or {}).get("description") != "success":
            raise self._fail("reading the schema failed")
        found = {e["raw_attributes"]["lDAPDisplayName"][0].decode().lower()
                 for e in self.conn.response if e.get("type") == "searchResEntry"}
        self.skip = {a for a in OPTIONAL_ATTRS if a.lower() not in found}
        if self.skip:
            log.info("%s: the schema has no %s (no Exchange schema?)", self.cfg.name, ", ".join(sorted(self.skip)))
        return sorted(self.skip)

    def not_asked(self) -> list[str]:
        """The canonical columns of the attributes this domain's schema lacks: not asked for, so not exported
        (docs/domain.md §14)."""
        names = {**TEXT_ATTRS, **GUID_ATTRS, "mS-DS-ConsistencyGuid": "consistency_guid"}
        return [names[a] for a in USER_ATTRS if a in self.skip and a in names]

    def _search(self, table: str, ldap_filter: str, attributes: list[str]) -> Iterator[dict[str, list[bytes]]]:
        attributes = [a for a in attributes if a not in self.skip]
        tally = self.counts[table]  # [objects, pages] so far, over all bases and domains
        for base in self.bases:
            log.debug("searching %s under %s: %s", table, base, ldap_filter)
            entries = self.conn.extend.standard.paged_search(base, ldap_filter, SUBTREE, attributes=attributes,
                                                             paged_size=self.page_size, generator=True)
            n = 0
            try:
                for entry in entries:
                    if entry.get("type") != "searchResEntry":
                        continue  # continuation references into other domains: configure those domains
                    n += 1
                    tally[0] += 1
                    if n % self.page_size == 0:
                        tally[1] += 1
                        report(self.progress, table, *tally)
                    yield entry["raw_attributes"]
            except lx.LDAPException as exc:
                raise CollectionError(scrub(f"Active Directory {self.cfg.name} ({self.url}): the search under "
                                            f"{base} failed after {n} objects: {exc}")) from None
            # ldap3 ends a paged search quietly on an error result: the last page's result says how it ended
            result = self.conn.result or {}
            if result.get("description") not in ("success", None):
                raise self._fail(f"the search under {base} ended after {n} objects")
            if n == 0 or n % self.page_size:
                tally[1] += 1  # the last, partly filled page
            report(self.progress, table, *tally)
            log.debug("%s under %s: %d objects", table, base, n)

    def users(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        ldap_filter = USER_FILTER if not self.cfg.user_filter else f"(&{USER_FILTER}{self.cfg.user_filter})"
        rows = _columns(self._search("ad_users", ldap_filter, USER_ATTRS), USER_ATTRS)
        frame = _frame(rows, self.cfg.name)
        frame["enabled"] = enabled_from_uac(frame.pop("uac"))
        frame["is_critical_system_object"] = frame["is_critical_system_object"].str.upper().eq("TRUE").astype(
            "boolean")  # absent means false
        frame["consistency_guid"] = pd.Series(
            [anchors.bytes_to_immutable_id(v) if v else None for v in rows["mS-DS-ConsistencyGuid"]], dtype="str")
        frame["hide_from_address_lists"] = bool_text(frame["hide_from_address_lists"])
        for attr, col in GUID_ATTRS.items():
            frame[col] = pd.Series([anchors.bytes_to_guid(v) if v and len(v) == 16 else None for v in rows[attr]],
                                   dtype="str")
        bad = frame["object_guid"].isna().to_numpy()
        rejected = schema.rejected_rows("ad_users", f"LDAP {self.url}", frame["guid_problem"][bad],
                                        key=frame["dn"][bad]) if bad.any() else schema.empty("rejected")
        return schema.conform("ad_users", kept(frame, ~bad)), rejected

    def mail_objects(self) -> pd.DataFrame:
        rows = _columns(self._search("ad_mail_objects", MAIL_FILTER, MAIL_ATTRS), MAIL_ATTRS)
        frame = _frame(rows, self.cfg.name)
        return schema.conform("ad_mail_objects", frame[frame["object_guid"].notna()])


def _columns(entries: Iterator[dict[str, list[bytes]]], attributes: list[str]) -> dict[str, list]:
    """Column lists from raw entries: the first value of single-valued attributes, all values of lists."""
    multi = ("proxyAddresses", "objectClass")
    cols: dict[str, list] = {a: [] for a in attributes}
    for raw in entries:
        for a in attributes:
            values = raw.get(a)
            cols[a].append(values if a in multi else (values[0] if values else None))
    return cols


def _text(values: list[bytes | None]) -> pd.Series:
    return pd.Series([v.decode("utf-8", "replace") if v is not None else None for v in values], dtype="str")


def _frame(rows: dict[str, list], domain: str) -> pd.DataFrame:
    """Common columns of users and mail objects; ``object_guid`` missing (with ``guid_problem``) if not 16 bytes."""
    frame = pd.DataFrame({col: _text(rows[attr]) for attr, col in TEXT_ATTRS.items() if attr in rows})
    guids = rows["objectGUID"]
    frame["object_guid"] = pd.Series([anchors.bytes_to_guid(g) if g and len(g) == 16 else None for g in guids],
                                     dtype="str")
    frame["guid_problem"] = pd.Series(["missing objectGUID" if not g else f"objectGUID has {len(g)} bytes, not 16"
                                       for g in guids], dtype="str")
    frame["proxy_addresses"] = lists_from_python([[p.decode("utf-8", "replace") for p in v] if v else []
                                                  for v in rows["proxyAddresses"]])
    classes = [v[-1].decode().lower() if v else None for v in rows["objectClass"]]
    frame["object_class"] = pd.Series(classes, dtype="str").replace({"inetorgperson": "inetOrgPerson"})
    frame["domain"] = dns_domain(frame["dn"]).fillna(domain)
    return frame


def _dedupe(users: pd.DataFrame, rejected: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per objectGUID: overlapping search bases return an object twice (dropped silently); the same
    GUID under two DNs is not possible in one forest and is rejected."""
    users = users.drop_duplicates(["object_guid", "dn"], ignore_index=True)
    dup = users["object_guid"].duplicated(keep="first").to_numpy()
    if not dup.any():
        return users, rejected
    first = users.drop_duplicates("object_guid").set_index("object_guid")["dn"]
    reason = "duplicate objectGUID (also " + users["object_guid"][dup].map(first) + ")"
    extra = schema.rejected_rows("ad_users", "LDAP", reason, key=users["dn"][dup])
    return users[~dup].reset_index(drop=True), concat([rejected, extra], "rejected")
