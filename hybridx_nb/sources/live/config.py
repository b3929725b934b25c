"""client.toml: which live sources to collect for one client, how to reach them, and references to secrets.

A secret is never written in the file. It is a reference, ``env:NAME`` or ``keyring:service/user``, held in a
``Secret`` (``core.secrets``, the one resolver) whose repr shows only the reference, so a config object can be
logged or printed without leaking anything. The value is read by ``Secret.reveal()`` when ``check_secrets`` runs
before any source is read, and again at the moment a collector authenticates. A URL with a password in it is
refused like a literal secret.

Every key is checked: a typo, a wrong type or a missing value is an ``InputError`` naming the file and the key.
The documented example is ``examples/client.toml``; the reference is ``docs/collect.md``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hybridx_nb.core.errors import InputError
from hybridx_nb.core.secrets import SECRET_FIX, Secret, SecretError, is_secret_ref, resolve_secret, url_has_password

__all__ = ["ClientConfig", "GraphConfig", "LdapConfig", "OktaConfig", "Secret", "SecretError", "is_secret_ref",
           "load_config", "resolve_secret"]

DOC = "docs/collect.md"
_SECRET_FIX = SECRET_FIX
_URL_PASSWORD = ("a URL must not carry a password; give user = \"...\" and the password as a reference "
                 "(password = \"env:NAME\")")
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


@dataclass
class LdapConfig:
    """One AD domain (or one set of base DNs) read over LDAP."""

    name: str  # DNS domain, for messages and the ``domain`` column; from the base DN when not given
    urls: list[str]  # tried in order until one answers
    base_dns: list[str] = field(default_factory=list)  # empty: the server's defaultNamingContext
    bind: str = "simple"  # simple (UPN) | ntlm (DOMAIN\user) | kerberos (SASL GSSAPI, current ticket)
    user: str | None = None
    password: Secret | None = None
    tls: str = "auto"  # auto: ldaps:// → LDAPS, ldap:// → StartTLS | ldaps | starttls | none (plain, insecure)
    insecure: bool = False  # TLS without certificate validation (a lab only)
    ca_file: Path | None = None  # PEM of the CA that issued the DC certificates; default: the system's CAs
    tls_name: str | None = None  # name expected on the certificate when the URL uses an IP address or alias
    sync_ous: list[str] = field(default_factory=list)  # OUs in Entra Connect's sync scope: searched instead
    user_filter: str | None = None  # extra LDAP filter ANDed to the user filter
    mail_objects: bool = True  # also read groups and contacts with mail addresses (readiness rules)
    page_size: int = 1000
    timeout: float = 30.0


@dataclass
class OktaConfig:
    """The Okta org: users, the Office 365 app instance(s) and their app users."""

    org_url: str
    token: Secret | None = None  # SSWS API token of a read-only administrator
    client_id: str | None = None  # or an OAuth service app (private key JWT)
    private_key: Secret | None = None  # the PEM (or JWK) of the service app's key, as a reference
    private_key_file: Path | None = None
    scopes: list[str] = field(default_factory=lambda: ["okta.users.read", "okta.apps.read"])
    app_ids: list[str] = field(default_factory=list)  # empty: every Office 365 app instance
    users: bool = True  # all Okta users, DEPROVISIONED included
    app_schema: bool = True  # the app-user profile schema, to confirm the immutableId attribute
    page_size: int = 200
    retries: int = 5  # tries per request on 429, 5xx or a network error
    max_wait: float = 120.0  # seconds, cap on one wait (X-Rate-Limit-Reset included)


@dataclass
class GraphConfig:
    """The Entra tenant through Microsoft Graph (app registration with application permissions)."""

    tenant_id: str
    client_id: str | None = None
    client_secret: Secret | None = None
    certificate_file: Path | None = None  # PEM with the private key
    certificate_password: Secret | None = None
    access_token: Secret | None = None  # a bearer token obtained elsewhere (e.g. az account get-access-token)
    base_url: str = "https://graph.microsoft.com/v1.0"
    roles: bool = True  # directory role holders
    domains: bool = True  # domains and their authentication type
    organization: bool = True  # organization.onPremisesSyncEnabled
    sync_features: bool = True  # /directory/onPremisesSynchronization features
    object_identifier: bool = False  # beta onPremisesObjectIdentifier of each user
    sync_state: bool = True  # onPremisesLastSyncDateTime and the provisioning errors (docs/domain.md §13)
    groups_contacts: bool = False  # groups and organisational contacts (Okta's Universal Sync makes them)
    page_size: int = 999
    retries: int = 5
    max_wait: float = 120.0


@dataclass
class ClientConfig:
    """A parsed client.toml."""

    path: Path
    client: str
    ldap: list[LdapConfig] = field(default_factory=list)
    okta: OktaConfig | None = None
    graph: GraphConfig | None = None

    @property
    def sources(self) -> list[str]:
        return [name for name, on in (("ldap", self.ldap), ("okta", self.okta), ("graph", self.graph)) if on]

    def check_secrets(self) -> None:
        """Fail now, before any source is read, if a referenced secret is not there (values are discarded)."""
        for section in [*self.ldap, self.okta, self.graph]:
            for value in vars(section).values() if section is not None else ():
                if isinstance(value, Secret):
                    value.reveal()


class _Section:
    """One TOML table being read: typed getters that name the file and key in every error."""

    def __init__(self, path: Path, name: str, data: dict[str, Any], allowed: set[str]) -> None:
        self.path, self.name, self.data = path, name, data
        unknown = sorted(set(data) - allowed)
        if unknown:
            self.fail(unknown[0], "unknown key", f"the keys of [{name}] are: {', '.join(sorted(allowed))}")

    def fail(self, key: str, problem: str, fix: str | None = None) -> None:
        raise InputError(self.path, f"[{self.name}] {key}: {problem}", fix=fix or f"see {DOC}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None, required: bool = False) -> Any:
        if key not in self.data:
            if required:
                self.fail(key, "missing")
            return default
        value = self.data[key]
        if isinstance(value, bool) and kind in (int, float):
            self.fail(key, f"expected a number, got {value!r}")
        if kind is float and isinstance(value, int):
            value = float(value)
        if not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            self.fail(key, f"expected {names}, got {type(value).__name__}")
        return value

    def text(self, key: str, default: str | None = None, required: bool = False,
             choices: tuple[str, ...] | None = None) -> str | None:
        value = self.get(key, str, default, required)
        if value is not None and not value.strip():
            self.fail(key, "is empty")
        if choices and value not in choices:
            self.fail(key, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def strings(self, key: str) -> list[str]:
        value = self.get(key, (str, list), [])
        items = [value] if isinstance(value, str) else value
        if not all(isinstance(v, str) and v.strip() for v in items):
            self.fail(key, "expected a string or a list of non-empty strings")
        return list(items)

    def number(self, key: str, default: float, kind: type = int, low: float = 1, high: float | None = None) -> Any:
        value = self.get(key, kind, default)
        if value < low or (high is not None and value > high):
            self.fail(key, f"{value} is out of range ({low}…{high if high is not None else ''})")
        return value

    def secret(self, key: str) -> Secret | None:
        value = self.get(key, str)
        if value is None:
            return None
        if not is_secret_ref(value):  # the message must not echo what may be a secret
            self.fail(key, "is not a secret reference", _SECRET_FIX)
        return Secret(value)

    def file(self, key: str) -> Path | None:
        value = self.text(key)
        if value is None:
            return None
        path = Path(value).expanduser()
        path = path if path.is_absolute() else self.path.parent / path
        if not path.is_file():
            self.fail(key, f"file not found: {path}", "give a path relative to the config file, or absolute")
        return path

    def url(self, key: str, schemes: tuple[str, ...], required: bool = False, default: str | None = None) -> str:
        value = self.text(key, default, required)
        if url_has_password(value):  # refused like a literal secret, without echoing it
            self.fail(key, "contains a password", _URL_PASSWORD)
        parts = urlsplit(value)
        if parts.scheme not in schemes or not parts.hostname:
            self.fail(key, f"{value!r} is not a {' or '.join(s + '://' for s in schemes)} URL")
        if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
            self.fail(key, "plain http is allowed for a local test server only", "use https://")
        return value.rstrip("/")


_LDAP_KEYS = {"name", "urls", "url", "base_dn", "bind", "user", "password", "tls", "insecure", "ca_file",
              "tls_name", "sync_ous", "user_filter", "mail_objects", "page_size", "timeout"}


def _ldap(path: Path, name: str, data: dict[str, Any]) -> LdapConfig:
    s = _Section(path, name, data, _LDAP_KEYS)
    urls = s.strings("urls") + s.strings("url")
    if not urls:
        s.fail("urls", "missing", "give the domain controllers, e.g. urls = [\"ldaps://dc1.corp.example.com\"]")
    for url in urls:
        if url_has_password(url):  # refused like a literal secret, without echoing it
            s.fail("urls", "a URL contains a password", _URL_PASSWORD)
        parts = urlsplit(url)
        if parts.scheme not in ("ldap", "ldaps") or not parts.hostname:
            s.fail("urls", f"{url!r} is not an ldap:// or ldaps:// URL")
    cfg = LdapConfig(
        name="", urls=urls, base_dns=s.strings("base_dn"),
        bind=s.text("bind", "simple", choices=("simple", "ntlm", "kerberos")),
        user=s.text("user"), password=s.secret("password"),
        tls=s.text("tls", "auto", choices=("auto", "ldaps", "starttls", "none")),
        insecure=s.get("insecure", bool, False), ca_file=s.file("ca_file"), tls_name=s.text("tls_name"),
        sync_ous=s.strings("sync_ous"), user_filter=s.text("user_filter"),
        mail_objects=s.get("mail_objects", bool, True),
        page_size=s.number("page_size", 1000, high=1000), timeout=s.number("timeout", 30.0, float, 1, 600))
    if cfg.bind != "kerberos" and not (cfg.user and cfg.password):
        s.fail("user" if not cfg.user else "password", f"missing (bind = {cfg.bind!r} needs user and password)")
    if cfg.bind == "ntlm" and "\\" not in (cfg.user or ""):
        s.fail("user", "NTLM needs DOMAIN\\user (in TOML: user = 'CORP\\svc-hybridx')")
    if cfg.user_filter and not (cfg.user_filter.startswith("(") and cfg.user_filter.endswith(")")):
        s.fail("user_filter", "an LDAP filter in parentheses, e.g. \"(!(employeeType=service))\"")
    first_base = (cfg.sync_ous or cfg.base_dns or [""])[0]
    dcs = re.findall(r"(?i)(?:^|,)\s*DC=([^,]+)", first_base)
    cfg.name = s.text("name") or ".".join(dcs).lower() or urlsplit(urls[0]).hostname or urls[0]
    return cfg


def _okta(path: Path, data: dict[str, Any]) -> OktaConfig:
    s = _Section(path, "okta", data, {"org_url", "token", "client_id", "private_key", "private_key_file", "scopes",
                                      "app_ids", "users", "app_schema", "page_size", "retries", "max_wait"})
    cfg = OktaConfig(
        org_url=s.url("org_url", ("https", "http"), required=True), token=s.secret("token"),
        client_id=s.text("client_id"), private_key=s.secret("private_key"),
        private_key_file=s.file("private_key_file"),
        scopes=s.strings("scopes") or ["okta.users.read", "okta.apps.read"], app_ids=s.strings("app_ids"),
        users=s.get("users", bool, True), app_schema=s.get("app_schema", bool, True),
        page_size=s.number("page_size", 200, high=200), retries=s.number("retries", 5, high=20),
        max_wait=s.number("max_wait", 120.0, float, 0, 3600))
    oauth = cfg.client_id is not None
    if oauth == (cfg.token is not None):
        s.fail("token", "give either token (API token) or client_id with private_key/private_key_file (OAuth)")
    if oauth and (cfg.private_key is None) == (cfg.private_key_file is None):
        s.fail("private_key", "an OAuth service app needs exactly one of private_key or private_key_file")
    return cfg


def _graph(path: Path, data: dict[str, Any]) -> GraphConfig:
    s = _Section(path, "graph", data, {"tenant_id", "client_id", "client_secret", "certificate_file",
                                       "certificate_password", "access_token", "base_url", "roles", "domains",
                                       "organization", "sync_features", "object_identifier", "sync_state",
                                       "groups_contacts", "page_size",
                                       "retries", "max_wait"})
    cfg = GraphConfig(
        tenant_id=s.text("tenant_id", required=True), client_id=s.text("client_id"),
        client_secret=s.secret("client_secret"), certificate_file=s.file("certificate_file"),
        certificate_password=s.secret("certificate_password"), access_token=s.secret("access_token"),
        base_url=s.url("base_url", ("https", "http"), default=GraphConfig.base_url),
        **{k: s.get(k, bool, getattr(GraphConfig, k))
           for k in ("roles", "domains", "organization", "sync_features", "object_identifier", "sync_state",
                     "groups_contacts")},
        page_size=s.number("page_size", 999, high=999), retries=s.number("retries", 5, high=20),
        max_wait=s.number("max_wait", 120.0, float, 0, 3600))
    credentials = [k for k in ("client_secret", "certificate_file", "access_token") if getattr(cfg, k) is not None]
    if len(credentials) != 1:
        s.fail("client_secret", "give exactly one credential: client_secret, certificate_file or access_token")
    if cfg.access_token is None and not cfg.client_id:
        s.fail("client_id", "missing (the app registration's application id)")
    return cfg


def load_config(path: str | Path) -> ClientConfig:
    """Read and check a client.toml; secrets stay references (nothing is resolved here)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(path, f"cannot read the file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text", fix="save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"not valid TOML: {exc}", fix=f"see the example in {DOC}") from None
    top = _Section(path, "top level", data, {"client", "ldap", "okta", "graph"})
    cfg = ClientConfig(path, top.text("client", path.stem))
    ldap = top.get("ldap", dict)
    if ldap is not None:
        domains = ldap.get("domains")
        if domains is None:
            cfg.ldap = [_ldap(path, "ldap", ldap)]
        elif not isinstance(domains, list) or not domains or not all(isinstance(d, dict) for d in domains):
            top.fail("ldap.domains", "expected one or more [[ldap.domains]] tables")
        else:
            common = {k: v for k, v in ldap.items() if k != "domains"}
            cfg.ldap = [_ldap(path, f"ldap.domains #{i}", {**common, **d}) for i, d in enumerate(domains, 1)]
    if (okta := top.get("okta", dict)) is not None:
        cfg.okta = _okta(path, okta)
    if (graph := top.get("graph", dict)) is not None:
        cfg.graph = _graph(path, graph)
    if not cfg.sources:
        raise InputError(path, "no source configured", fix=f"add an [ldap], [okta] or [graph] table (see {DOC})")
    return cfg
