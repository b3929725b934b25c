"""Entra ID, live through Microsoft Graph (msgraph-sdk): users with every property the engine needs, role
holders, domains, the organization's sync flag and the tenant's directory-sync features.

The SDK builds and authenticates every request (``GraphServiceClient`` request builders, the azure-identity
token provider); pages are read as raw JSON and mapped by the same readers as a Graph JSON export
(``entra_export``, ``tenant_export``), so a live snapshot and an export snapshot of the same tenant are equal.
Retries: the SDK's RetryHandler is switched off (its waits add up to a second of jitter and follow any
``Retry-After`` without a cap); every page is retried under a bounded ``RetryPolicy`` instead, and a page that
keeps failing is a ``CollectionError`` naming it. Optional data the app has no permission for (403) is skipped
and said so in the source text. Redirects are refused and answers capped (``guard``); every error text is
scrubbed of credentials (``core.secrets``): a server that echoes the request would otherwise print the token.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hybridx_nb.core.errors import CollectionError, InputError
from hybridx_nb.core.secrets import scrub, server_text
from hybridx_nb.sources.common import ReadResult, concat
from hybridx_nb.sources.files.entra_export import TAKEOVER_SELECT, read_entra
from hybridx_nb.sources.files.entra_groups import read_entra_contacts, read_entra_groups
from hybridx_nb.sources.files.tenant_export import read_tenant
from hybridx_nb.sources.live.config import GraphConfig
from hybridx_nb.sources.live.guard import GuardTransport
from hybridx_nb.sources.live.http import Progress, RetryPolicy, report, run_sync
from hybridx_nb.sources.text import Text

log = logging.getLogger(__name__)

GRAPH_V1 = "https://graph.microsoft.com/v1.0"
#: Every user property the engine reads; onPremises* and proxyAddresses come back only when named.
USER_SELECT = ("id", "userPrincipalName", "mail", "proxyAddresses", "onPremisesImmutableId", "onPremisesSyncEnabled",
               "accountEnabled", "userType", "displayName", "mailNickname", "assignedLicenses", "creationType",
               *TAKEOVER_SELECT)
#: After the first sync (docs/domain.md §13): what the sync did to each user; on by default (``sync_state``).
SYNC_STATE_SELECT = ("onPremisesLastSyncDateTime", "onPremisesProvisioningErrors", "serviceProvisioningErrors")
#: ``$expand`` of /users: the manager's object id (docs/domain.md §14).
USER_EXPAND = ("manager($select=id)",)
MAX_TOP = 999
REQUEST_TIMEOUT = 120.0  # seconds to wait for an answer (connecting: 30)
RETRYABLE = {429, 500, 502, 503, 504}
#: Optional data → (what it is, the least permission that reads it).
OPTIONAL = {
    "roles": ("role assignments", "RoleManagement.Read.Directory"),
    "domains": ("domains", "Domain.Read.All"),
    "organization": ("organization", "Organization.Read.All"),
    "sync_features": ("directory sync features", "OnPremDirectorySynchronization.Read.All"),
    "object_identifier": ("beta onPremisesObjectIdentifier", "User.Read.All"),
    "groups": ("groups", "GroupMember.Read.All or Group.Read.All"),
    "contacts": ("organisational contacts", "OrgContact.Read.All"),
}
#: Groups and contacts (docs/domain.md §11), read with the properties the prediction needs.
GROUP_SELECT = "id,displayName,mail,mailNickname,mailEnabled,securityEnabled,groupTypes,proxyAddresses," \
               "onPremisesSyncEnabled"
CONTACT_SELECT = "id,displayName,mail,mailNickname,proxyAddresses,onPremisesSyncEnabled"


class StaticToken:
    """A credential holding a bearer token obtained elsewhere (``az account get-access-token``, tests)."""

    def __init__(self, token: str, expires_in: float = 3600.0) -> None:
        self._token, self._expires_on = token, int(time.time() + expires_in)

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(self._token, self._expires_on)

    def __repr__(self) -> str:
        return "StaticToken(<hidden>)"


def graph_credential(cfg: GraphConfig) -> Any:
    """The azure-identity credential client.toml's ``[graph]`` asks for; secrets are read here and kept in it."""
    if cfg.access_token is not None:
        return StaticToken(cfg.access_token.reveal())
    from azure.identity import CertificateCredential, ClientSecretCredential

    if cfg.client_secret is not None:
        return ClientSecretCredential(cfg.tenant_id, cfg.client_id, cfg.client_secret.reveal())
    if cfg.certificate_file is not None:
        password = cfg.certificate_password.reveal() if cfg.certificate_password is not None else None
        return CertificateCredential(cfg.tenant_id, cfg.client_id, certificate_path=str(cfg.certificate_file),
                                     password=password)
    raise CollectionError(f"Graph tenant {cfg.tenant_id}: no credential (client_secret, certificate_file or "
                          "access_token) in the configuration")


def collect_graph(cfg: GraphConfig, progress: Progress | None = None, *,
                  retry: RetryPolicy | None = None) -> ReadResult:
    """Read the tenant of client.toml's ``[graph]`` table (``hybridx collect``)."""
    return read_graph_tenant(graph_credential(cfg), base_url=cfg.base_url, roles=cfg.roles, domains=cfg.domains,
                      organization=cfg.organization, sync_features=cfg.sync_features,
                      object_identifier=cfg.object_identifier, sync_state=cfg.sync_state,
                      groups=cfg.groups_contacts, contacts=cfg.groups_contacts, page_size=cfg.page_size,
                      retry=retry or RetryPolicy(attempts=cfg.retries, max_wait=cfg.max_wait), progress=progress)


def read_graph_tenant(credential: Any, *, base_url: str = GRAPH_V1, roles: bool = True, domains: bool = True,
               organization: bool = True, sync_features: bool = True, object_identifier: bool = False,
               sync_state: bool = True, groups: bool = False, contacts: bool = False, page_size: int = MAX_TOP,
               retry: RetryPolicy = RetryPolicy(),
               progress: Progress | None = None) -> ReadResult:
    """Read ``entra_users`` (and, unless switched off, ``entra_role_members``, ``entra_domains`` and the tenant
    facts) from Microsoft Graph, read-only. ``credential``: anything with azure-identity's ``get_token``."""
    base_url = base_url.rstrip("/")
    wanted = {"roles": roles, "domains": domains, "organization": organization, "sync_features": sync_features,
              "object_identifier": object_identifier, "groups": groups, "contacts": contacts}
    select = USER_SELECT + (SYNC_STATE_SELECT if sync_state else ())
    return run_sync(_collect(credential, base_url, [k for k, on in wanted.items() if on],
                             min(max(page_size, 1), MAX_TOP), retry, progress, select))


@dataclass
class _Denied(Exception):
    """HTTP 403 on an endpoint: fatal for users, a skipped part for optional data."""

    text: str


def _client(credential: Any, base_url: str) -> tuple[Any, Any]:
    """A GraphServiceClient for ``base_url`` whose token provider accepts that host (SDK retries off), and its
    httpx client to close."""
    import httpx
    from kiota_http.middleware.options import RetryHandlerOption
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph_core import AzureIdentityAuthenticationProvider, GraphClientFactory
    from msgraph_core.middleware.options import GraphTelemetryHandlerOption

    host = urlsplit(base_url).hostname or ""
    auth = AzureIdentityAuthenticationProvider(credential, allowed_hosts=[host])
    options = {RetryHandlerOption.get_key(): RetryHandlerOption(delay=0, max_retries=0, should_retry=False),
               GraphTelemetryHandlerOption.get_key(): GraphTelemetryHandlerOption()}
    raw = httpx.AsyncClient(timeout=httpx.Timeout(REQUEST_TIMEOUT, connect=30.0))
    # below kiota's middleware (its RedirectHandler follows 3xx): refuse redirects, cap answers; proxies kept
    raw._transport = GuardTransport(raw._transport)
    raw._mounts = {p: GuardTransport(t) if t is not None else None for p, t in raw._mounts.items()}
    http = GraphClientFactory.create_with_default_middleware(client=raw, options=options)
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = base_url
    return GraphServiceClient(request_adapter=adapter), http


async def _collect(credential: Any, base_url: str, optional: list[str], top: int, retry: RetryPolicy,
                   progress: Progress | None, select: tuple[str, ...] = USER_SELECT) -> ReadResult:
    from msgraph._version import VERSION

    source = f"Microsoft Graph {base_url} (msgraph-sdk {VERSION})"
    client, http = _client(credential, base_url)
    with warnings.catch_warnings():  # importing msgraph's builders warns about their own deprecated classes
        warnings.simplefilter("ignore", DeprecationWarning)
        builders = {"roles": client.role_management.directory.role_assignments, "domains": client.domains,
                    "organization": client.organization, "sync_features": client.directory.on_premises_synchronization,
                    "object_identifier": client.users, "groups": client.groups, "contacts": client.contacts}
    api = _Graph(client, base_url, retry, progress)
    parts: dict[str, list[dict]] = {}
    notes: list[str] = []
    try:
        try:
            pages = await api.pages(client.users, "entra_users", raw=True, select=list(select),
                                    expand=list(USER_EXPAND), top=top)
        except _Denied as denied:
            raise CollectionError(f"{denied.text}; the app needs User.Read.All (application permission, admin "
                                  "consent)") from None
        for name in optional:
            query: dict[str, Any] = {"expand": ["roleDefinition"]} if name == "roles" else {}
            if name == "object_identifier":
                query["url"] = f"{_beta(base_url)}/users?$select=id,onPremisesObjectIdentifier&$top={top}"
            elif name in ("groups", "contacts"):
                select = GROUP_SELECT if name == "groups" else CONTACT_SELECT
                query["url"] = f"{base_url}/{name}?$select={select}&$top={top}"
            try:
                found = await api.pages(builders[name], name, **query)
            except _Denied as denied:
                what, permission = OPTIONAL[name]
                notes.append(f"{what} skipped: {denied.text} (needs {permission})")
                log.warning("Graph: %s skipped: %s", what, denied.text)
                continue
            parts[name] = [r for page in found for r in page["value"]]
    finally:
        await http.aclose()
    try:  # the readers of Graph JSON exports: a live snapshot equals an export snapshot of the same tenant
        users_text = _users_doc(pages, parts.pop("object_identifier", None))
        entra = read_entra(Path("graph-users.json"), Text(Path("graph-users.json"), users_text, "live"))
        directory = [reader(Path(f"graph-{name}.json"), Text(Path(f"graph-{name}.json"),
                                                            json.dumps({"value": parts.pop(name)}), "live"))
                     for name, reader in (("groups", read_entra_groups), ("contacts", read_entra_contacts))
                     if name in parts]
        tenant = read_tenant(Path("graph-tenant.json"), Text(Path("graph-tenant.json"), _tenant_doc(parts), "live"))
    except InputError as exc:
        raise CollectionError(f"{source}: the answers do not fit: {exc.problem}") from None
    skipped = "".join(f"; {n}" for n in notes)  # kept with the users, the table every snapshot has
    sources = {"entra_users": f"{source}: {len(entra.tables['entra_users'])} users, "
                              f"$select={','.join(select)}, $expand={','.join(USER_EXPAND)}{skipped}"}
    tables = {**entra.tables, **tenant.tables, **{k: v for d in directory for k, v in d.tables.items()}}
    sources.update({name: f"{source}: {len(frame)} rows" for name, frame in tables.items() if name not in sources})
    text = source + skipped
    return ReadResult(tables, concat([entra.rejected, tenant.rejected, *(d.rejected for d in directory)], "rejected"),
                      text, tenant.tenant, sources)


def _beta(base_url: str) -> str:
    return base_url.rsplit("/", 1)[0] + "/beta"


def _users_doc(pages: list[bytes], identifiers: list[dict] | None) -> str:
    """The users as Graph JSON pages, with the beta onPremisesObjectIdentifier merged in when collected."""
    if identifiers is None:
        return b"\n".join(pages).decode("utf-8")
    by_id = {r.get("id"): r.get("onPremisesObjectIdentifier") for r in identifiers}
    merged = []
    for raw in pages:
        page = json.loads(raw)
        for user in page["value"]:
            user["onPremisesObjectIdentifier"] = by_id.get(user.get("id"))
        merged.append(json.dumps(page, separators=(",", ":")))
    return "\n".join(merged)


def _tenant_doc(parts: dict[str, list[dict]]) -> str:
    """hybridx's tenant JSON (README.md (Export files)) from the optional parts collected."""
    doc: dict[str, Any] = {}
    if "organization" in parts:
        doc["organization"] = parts["organization"][0] if parts["organization"] else {}
    if "sync_features" in parts:
        doc["onPremisesSynchronization"] = parts["sync_features"][0] if parts["sync_features"] else {}
    if parts.get("domains"):  # an empty list is left out: tenant_export cannot read one yet
        doc["domains"] = parts["domains"]
    if parts.get("roles"):
        doc["roleMembers"] = [{"principalId": a.get("principalId"), "roleId": a.get("roleDefinitionId"),
                               "roleName": (a.get("roleDefinition") or {}).get("displayName")} for a in parts["roles"]]
    return json.dumps(doc)


class _Graph:
    """Paged GETs through the SDK's request builders, read as raw JSON, each page under the retry policy."""

    def __init__(self, client: Any, base_url: str, retry: RetryPolicy, progress: Progress | None) -> None:
        self.client, self.base_url, self.retry, self.progress = client, base_url, retry, progress

    async def pages(self, builder: Any, table: str, *, url: str | None = None, raw: bool = False,
                    **query: Any) -> list[Any]:
        """Every page of a collection, following ``@odata.nextLink``: parsed, or as bytes (``raw``)."""
        from kiota_abstractions.base_request_configuration import RequestConfiguration

        endpoint = _endpoint(url or builder.url_template)
        if url is None:
            params = next(getattr(type(builder), n) for n in dir(type(builder)) if n.endswith("GetQueryParameters"))
            config = RequestConfiguration(query_parameters=params(**query)) if query else None
            first: Callable[[], Any] = lambda: builder.to_get_request_information(config)  # noqa: E731
        else:
            first = lambda: builder.with_url(url).to_get_request_information()  # noqa: E731
        pages, objects, request = [], 0, first
        while request is not None:
            body = await self.get(request, endpoint, len(pages) + 1)
            try:
                page = json.loads(body)
            except UnicodeDecodeError:
                raise CollectionError(f"Microsoft Graph: GET {endpoint} page {len(pages) + 1}: the answer is not "
                                      "UTF-8 text (check base_url: a proxy or an error page?)") from None
            except ValueError as exc:
                raise CollectionError(f"Microsoft Graph: GET {endpoint} page {len(pages) + 1}: the answer is not "
                                      f"JSON ({exc})") from None
            if not isinstance(page, dict) or not isinstance(page.get("value"), list):
                raise CollectionError(f"Microsoft Graph: GET {endpoint} page {len(pages) + 1}: no 'value' array")
            pages.append(body if raw else page)
            objects += len(page["value"])
            report(self.progress, table, objects, len(pages))
            next_link = page.get("@odata.nextLink")
            if next_link and urlsplit(next_link)[:2] != urlsplit(self.base_url)[:2]:
                raise CollectionError(f"Microsoft Graph: GET {endpoint} page {len(pages)}: the next link points to "
                                      f"{urlsplit(next_link).netloc}, not {urlsplit(self.base_url).netloc}")
            request = (lambda link=next_link: builder.with_url(link).to_get_request_information()) if next_link \
                else None
        return pages

    async def get(self, request: Callable[[], Any], endpoint: str, page: int) -> bytes:
        """One page's body; 429, 5xx and network errors retried; 403 raised as ``_Denied``."""
        import httpx
        from azure.core.exceptions import ClientAuthenticationError
        from kiota_abstractions.api_error import APIError
        from msgraph.generated.models.o_data_errors.o_data_error import ODataError

        for attempt in range(1, self.retry.attempts + 1):
            hint = None
            try:
                return await self.client.request_adapter.send_primitive_async(request(), "bytes",
                                                                              {"XXX": ODataError})
            except CollectionError as exc:  # refused by GuardTransport (a redirect, an oversized answer)
                raise CollectionError(scrub(f"Microsoft Graph: GET {endpoint} page {page}: {exc}")) from None
            except APIError as exc:
                status = exc.response_status_code
                what = f"HTTP {status} {server_text(_odata_text(exc))}".rstrip()
                if status == 403:
                    raise _Denied(f"Microsoft Graph: GET {endpoint} page {page}: {what}") from None
                if status not in RETRYABLE or attempt == self.retry.attempts:
                    raise self._error(endpoint, page, what, attempt, status) from None
                hint = _retry_after((exc.response_headers or {}).get("retry-after"))
            except httpx.TransportError as exc:
                what = scrub(f"no response ({type(exc).__name__}: {exc})")
                if attempt == self.retry.attempts:
                    raise self._error(endpoint, page, what, attempt, None) from None
            except ClientAuthenticationError as exc:  # azure-identity could not get a token
                first = (str(exc).splitlines() or [""])[0]
                raise CollectionError(scrub(f"Microsoft Graph: no access token: {first}; check tenant_id, "
                                            "client_id and the credential")) from None
            wait = self.retry.delay(attempt, hint)
            log.info("Graph %s page %d: %s, retry %d in %.1f s", endpoint, page, what, attempt, wait)
            await self.retry.sleep(wait)
        raise AssertionError("unreachable")

    @staticmethod
    def _error(endpoint: str, page: int, what: str, attempts: int, status: int | None) -> CollectionError:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        hint = {401: "; the token was refused (expired, or issued for another audience/tenant)",
                400: "; Graph refused the query"}.get(status or 0, "")
        return CollectionError(scrub(f"Microsoft Graph: GET {endpoint} page {page} failed{tries}: {what}{hint}"))


def _endpoint(url_template: str) -> str:
    """``/users`` from ``{+baseurl}/users{?%24top,...}`` or a full URL."""
    path = url_template.replace("{+baseurl}", "").split("{", 1)[0].split("?", 1)[0]
    return urlsplit(path).path if "://" in path else path


def _odata_text(exc: Any) -> str:
    """``code: message (request-id …)`` of a Graph error body, where it has one."""
    error = getattr(exc, "error", None)
    if error is None:
        return ""
    inner = getattr(error, "inner_error", None)
    request_id = getattr(inner, "request_id", None) if inner is not None else None
    return (f"{error.code or ''}: {error.message or ''}".strip(": ")
            + (f" (request-id {request_id})" if request_id else ""))


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        import email.utils

        try:
            return max(email.utils.parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
        except (TypeError, ValueError):
            return None
