"""Okta, live: users of every status, the Office 365 app instance(s) and their app users with ``immutableId``.

Read through the okta SDK's request executor (it keeps authentication and the HTTP session) as raw JSON: the
SDK's pydantic models reject real-world profiles (empty email, long names, numeric employeeNumber), its
``paginate_all`` stops silently on an error, and its response dict keeps only the last ``Link`` header. So this
module follows every ``rel="next"`` link itself, retries 429 (until ``X-Rate-Limit-Reset``), 5xx and network
errors under a bounded ``RetryPolicy``, and raises ``CollectionError`` naming the endpoint, page, HTTP status and
Okta's errorCode when a page cannot be read: never a silently partial table. The API token reaches the SDK and
nothing else: it is scrubbed from messages and from the SDK's log records (``core.secrets``). Redirects are
refused and answers capped (``guard``).
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from hybridx_nb.core.errors import CollectionError, InputError
from hybridx_nb.core.secrets import ScrubFilter, scrub, server_text
from hybridx_nb.snapshot.store import TenantFacts
from hybridx_nb.sources.common import ReadResult
from hybridx_nb.sources.files.okta_export import read_okta as read_okta_json
from hybridx_nb.sources.live.config import OktaConfig
from hybridx_nb.sources.live.guard import RefusedAnswer, okta_session
from hybridx_nb.sources.live.http import Progress, RetryPolicy, report, run_sync
from hybridx_nb.sources.text import Text

log = logging.getLogger(__name__)

USERS_PAGE = 200  # Okta's maximum for /users
APPS_PAGE = 200
APP_USERS_PAGE = 500  # Okta's maximum for /apps/{id}/users
OFFICE365 = "office365"
REQUEST_TIMEOUT = 300  # seconds per request (the okta SDK's requestTimeout)
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^";,]+)"?')

def collect_okta(cfg: OktaConfig, progress: Progress | None = None, *,
                 retry: RetryPolicy | None = None) -> ReadResult:
    """Read the Okta org of client.toml's ``[okta]`` table (``hybridx collect``); secrets resolved only here."""
    retry = retry or RetryPolicy(attempts=cfg.retries, max_wait=cfg.max_wait)
    private_key = (cfg.private_key.reveal() if cfg.private_key is not None
                   else str(cfg.private_key_file) if cfg.private_key_file is not None else None)
    return read_okta_org(cfg.org_url, token=cfg.token.reveal() if cfg.token is not None else None,
                     client_id=cfg.client_id, private_key=private_key, scopes=cfg.scopes, app_ids=cfg.app_ids,
                     users=cfg.users, app_schema=cfg.app_schema, page_size=cfg.page_size, retry=retry,
                     progress=progress)


def read_okta_org(org_url: str, *, token: str | None = None, client_id: str | None = None,
              private_key: str | None = None, scopes: Sequence[str] = ("okta.users.read", "okta.apps.read"),
              app_ids: Sequence[str] = (), users: bool = True, app_schema: bool = True,
              page_size: int = USERS_PAGE, retry: RetryPolicy = RetryPolicy(),
              progress: Progress | None = None) -> ReadResult:
    """Read ``okta_users`` and ``okta_app_users`` from an Okta org, read-only.

    Authenticates with an SSWS API ``token``, or as an OAuth service app (``client_id`` and ``private_key``: a
    PEM or JWK, or the path of a PEM file). ``app_ids`` names the Office 365 app instance(s); by default every
    app named ``office365`` is read. The result's ``tenant`` carries only ``okta_provisioning_mode``.
    """
    org_url = org_url.strip().rstrip("/")
    parts = urlsplit(org_url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise CollectionError(f"Okta org URL {org_url!r} is not a URL like https://example.okta.com")
    if token:
        auth: dict[str, Any] = {"authorizationMode": "SSWS", "token": token}
    elif client_id and private_key:
        auth = {"authorizationMode": "PrivateKey", "clientId": client_id, "scopes": list(scopes),
                "privateKey": private_key}
    else:
        raise CollectionError(f"Okta {org_url}: no credential: give an API token, or client_id and private_key")
    secrets = [s for s in (token, private_key) if s]
    options = _Options(tuple(app_ids), users, app_schema, min(max(page_size, 1), USERS_PAGE))
    return run_sync(_collect(org_url, auth, secrets, options, retry, progress))


@dataclass(frozen=True)
class _Options:
    app_ids: tuple[str, ...]
    users: bool
    app_schema: bool
    page_size: int


def _client(org_url: str, auth: dict[str, Any], secrets: list[str]) -> Any:
    from okta.client import Client

    sdk_log = logging.getLogger("okta-sdk-python")
    before = list(sdk_log.handlers)
    config = {"orgUrl": org_url, **auth, "rateLimit": {"maxRetries": 0}, "cache": {"enabled": False},
              "requestTimeout": REQUEST_TIMEOUT}
    try:
        client = Client(config)
    except (ValueError, OSError) as exc:
        raise CollectionError(f"Okta {org_url}: the okta SDK refused the configuration: "
                              f"{scrub(str(exc), secrets)}") from None
    finally:  # Client() adds a stderr handler each time; hybridx's own logging decides where records go
        for handler in sdk_log.handlers[len(before):]:
            sdk_log.removeHandler(handler)
    return client


async def _collect(org_url: str, auth: dict[str, Any], secrets: list[str], options: _Options,
                   retry: RetryPolicy, progress: Progress | None) -> ReadResult:
    import okta

    sdk_log = logging.getLogger("okta-sdk-python")
    redact, quiet = ScrubFilter(secrets), logging.NullHandler()  # the SDK logs whole requests and tracebacks
    sdk_log.addFilter(redact)
    sdk_log.addHandler(quiet)  # a handler of its own: Python's last-resort handler would print to stderr
    users: list[dict] = []
    try:
        client = _client(org_url, auth, secrets)
        session, guarded = okta_session()  # no redirects, capped answers (sources.live.guard)
        async with session:
            client.get_request_executor().set_session(guarded)
            api = _Okta(org_url, client.get_request_executor(), secrets, retry, progress)
            if options.users:  # the plain list omits DEPROVISIONED users: they need a filter of their own
                query = f"/api/v1/users?limit={options.page_size}"
                users = await api.all_pages(query, "okta_users")
                users += await api.all_pages(query + "&filter=" + quote('status eq "DEPROVISIONED"'), "okta_users")
            if options.app_ids:
                apps = [await api.get_object(f"/api/v1/apps/{quote(a, safe='')}") for a in options.app_ids]
            else:
                apps = await api.all_pages(f"/api/v1/apps?limit={APPS_PAGE}&filter="
                                           + quote(f'name eq "{OFFICE365}"'), "okta_apps")
            app_users, notes, modes = [], [], []
            for app in apps:
                app_id = quote(str(app.get("id")), safe="")
                schema_doc = (await api.get_object(f"/api/v1/meta/schemas/apps/{app_id}/default", missing_ok=True)
                              if options.app_schema else None)
                key, key_note = immutable_id_key(schema_doc)
                records = await api.all_pages(f"/api/v1/apps/{app_id}/users?limit={APP_USERS_PAGE}",
                                              "okta_app_users")
                mode, mode_note = provisioning_mode(app)
                modes.append(mode)
                app_users += [_app_user(r, app, key) for r in records]
                notes.append(f"app {app.get('label')!r} [{app.get('id')}] ({app.get('name')}, {app.get('status')}): "
                             f"{len(records)} app users; {key_note}; provisioning {mode} ({mode_note})")
    finally:
        sdk_log.removeFilter(redact)
        sdk_log.removeHandler(quiet)
    source = f"Okta {org_url} (API, okta SDK {okta.__version__})"
    doc = {"users": users, "appUsers": app_users, "apps": [{"id": a.get("id"), "label": a.get("label")} for a in apps]}
    name = Path(f"okta-{urlsplit(org_url).netloc}.json")
    try:  # the reader of a saved Okta JSON export: a live snapshot equals an export snapshot of the same org
        result = read_okta_json(name, Text(name, json.dumps(doc), "live"))
    except InputError as exc:
        raise CollectionError(f"{source}: the answers do not fit: {exc.problem}") from None
    tables = {t: f for t, f in result.tables.items() if options.users or t != "okta_users"}
    sources = {"okta_app_users": f"{source}: " + ("; ".join(notes) if notes else "no Office 365 app instance found")}
    if options.users:
        statuses = tables["okta_users"]["status"].value_counts().sort_index()
        sources["okta_users"] = (f"{source}: {len(tables['okta_users'])} users, every status ("
                                 + ", ".join(f"{k} {v}" for k, v in statuses.items()) + ")")
    distinct = sorted(set(modes))
    mode = distinct[0] if len(distinct) == 1 else ("mixed: " + ", ".join(distinct) if distinct else None)
    return ReadResult(tables, result.rejected, source, TenantFacts(okta_provisioning_mode=mode), sources)


def _app_user(record: dict, app: dict, key: str | None) -> dict:
    """An app user tagged with its app, its ImmutableID under the key ``immutableId`` (as the schema names it)."""
    profile = record.get("profile") if isinstance(record.get("profile"), dict) else {}
    if key is None:
        profile = {k: v for k, v in profile.items() if k.lower() != "immutableid"}
    else:
        profile = {**{k: v for k, v in profile.items() if k.lower() != "immutableid"}, "immutableId": profile.get(key)}
    return {**record, "profile": profile, "appId": app.get("id"), "appLabel": app.get("label")}


class _Okta:
    """GET requests through the SDK's request executor: raw JSON, every Link header, bounded retries."""

    def __init__(self, org_url: str, executor: Any, secrets: list[str], retry: RetryPolicy,
                 progress: Progress | None) -> None:
        self.org_url, self.executor, self.secrets, self.retry, self.progress = (org_url, executor, secrets, retry,
                                                                                progress)
        self.origin = urlsplit(org_url)[:2]
        self.counts: dict[str, list[int]] = {}

    async def all_pages(self, path: str, table: str) -> list[dict]:
        """Every record of a paged collection, following ``rel="next"`` until there is none."""
        url: str | None = self.org_url + path
        records: list[dict] = []
        page, seen = 0, set()
        endpoint = path.split("?", 1)[0]
        while url:
            page += 1
            seen.add(url)
            body, headers = await self.get(url, endpoint, page)
            if not isinstance(body, list):
                raise CollectionError(f"Okta {self.org_url}: GET {endpoint} page {page}: expected a JSON array, "
                                      f"got {type(body).__name__}")
            records.extend(body)
            count = self.counts.setdefault(table, [0, 0])
            count[0] += len(body)
            count[1] += 1
            report(self.progress, table, *count)
            url = self._next(headers, endpoint, page)
            if url in seen:
                raise CollectionError(f"Okta {self.org_url}: GET {endpoint} page {page}: the next link repeats an "
                                      "earlier page; stopped to avoid an endless loop")
        return records

    async def get_object(self, path: str, *, missing_ok: bool = False) -> dict:
        endpoint = path.split("?", 1)[0]
        body, _ = await self.get(self.org_url + path, endpoint, 1, missing_ok=missing_ok)
        return body if isinstance(body, dict) else {}

    async def get(self, url: str, endpoint: str, page: int, *, missing_ok: bool = False) -> tuple[Any, Any]:
        """JSON body and headers of one GET, retried on 429, 5xx and network errors."""
        for attempt in range(1, self.retry.attempts + 1):
            request, error = await self.executor.create_request("GET", url, None, {})
            if error is not None:
                raise self._error(endpoint, page, None, None, error, attempt)
            try:
                response, body, error = await self.executor.execute(request)
            except ValueError:  # the SDK parses the body itself (JSONDecodeError, UnicodeDecodeError)
                raise CollectionError(f"Okta {self.org_url}: GET {endpoint} page {page}: the answer is not JSON "
                                      "(check that org_url is the Okta org, not a proxy or a sign-in page)") from None
            if isinstance(error, RefusedAnswer):  # a redirect, an oversized or non-UTF-8 answer: never retried
                raise CollectionError(scrub(f"Okta {self.org_url}: GET {endpoint} page {page}: {error}",
                                            self.secrets))
            status = getattr(response, "status", None)
            if status is not None and 200 <= status < 300:
                await self._pace(response.headers)
                try:
                    return json.loads(body), response.headers
                except (TypeError, ValueError):
                    raise CollectionError(f"Okta {self.org_url}: GET {endpoint} page {page}: HTTP {status} with "
                                          "a body that is not JSON") from None
            if status == 404 and missing_ok:
                return None, response.headers
            if not (status is None or status == 429 or status >= 500) or attempt == self.retry.attempts:
                raise self._error(endpoint, page, status, body, error, attempt)
            hint = _reset_wait(response.headers) if status == 429 else None
            wait = self.retry.delay(attempt, hint)
            log.info("Okta %s page %d: %s, retry %d in %.1f s", endpoint, page, status or error, attempt, wait)
            await self.retry.sleep(wait)
        raise AssertionError("unreachable")

    async def _pace(self, headers: Mapping[str, str]) -> None:
        """When the rate-limit window is used up, wait for its reset before the next request."""
        if headers.get("X-Rate-Limit-Remaining") == "0":
            await self.retry.sleep(self.retry.delay(1, _reset_wait(headers)))

    def _next(self, headers: Any, endpoint: str, page: int) -> str | None:
        values = headers.getall("Link", []) if hasattr(headers, "getall") else [headers.get("Link", "")]
        for value in values:
            for target, rel in _LINK.findall(value or ""):
                if rel.strip().lower() != "next":
                    continue
                if urlsplit(target)[:2] != self.origin:
                    raise CollectionError(f"Okta {self.org_url}: GET {endpoint} page {page}: the next link points "
                                          f"outside the org ({urlsplit(target).netloc}); refusing to send the token")
                return target
        return None

    def _error(self, endpoint: str, page: int, status: int | None, body: str | None, error: Any,
               attempts: int) -> CollectionError:
        what = f"HTTP {status}" if status is not None else f"no response ({type(error).__name__}: {error})"
        try:
            detail = json.loads(body) if body else {}
        except ValueError:
            detail = {}
        if isinstance(detail, dict) and detail.get("errorCode"):
            said = f"{detail['errorCode']} {detail.get('errorSummary', '')}"
            causes = [c.get("errorSummary") for c in detail.get("errorCauses") or [] if isinstance(c, dict)]
            if causes:
                said += " (" + "; ".join(str(c) for c in causes) + ")"
            what += " " + server_text(scrub(said, self.secrets))
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        hint = {401: "check the API token (it may be expired or revoked)",
                403: "the token's admin lacks a permission: a read-only administrator is enough"}.get(status or 0)
        text = f"Okta {self.org_url}: GET {endpoint} page {page} failed{tries}: {what}"
        return CollectionError(scrub(text + (f"; {hint}" if hint else ""), self.secrets))


def _reset_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds until ``X-Rate-Limit-Reset`` (epoch seconds), measured on the server's clock when it sent one."""
    reset = headers.get("X-Rate-Limit-Reset")
    if not reset:
        return None
    try:
        now = email.utils.parsedate_to_datetime(headers["Date"]).timestamp() if headers.get("Date") else time.time()
        return max(float(reset) - now, 0.0)
    except (TypeError, ValueError, IndexError):
        return None


def immutable_id_key(schema_doc: dict | None) -> tuple[str | None, str]:
    """The app-user profile key that holds the ImmutableID, from the app's profile schema, and a note."""
    if not schema_doc:
        return "immutableId", "profile schema unavailable: assumed attribute 'immutableId'"
    definitions = schema_doc.get("definitions") or {}
    keys = [k for part in ("base", "custom") for k in ((definitions.get(part) or {}).get("properties") or {})]
    for found in ([k for k in keys if k == "immutableId"], [k for k in keys if k.lower() == "immutableid"],
                  [k for k in keys if "immutable" in k.lower()]):
        if found:
            return found[0], f"profile schema confirms attribute {found[0]!r}"
    return None, "profile schema has no immutableId attribute: ImmutableIDs not collected"


def provisioning_mode(app: dict) -> tuple[str, str]:
    """The app's provisioning mode where the API shows it (unverified field names), else ``unknown``."""
    settings = (app.get("settings") or {}).get("app") or {}
    for key, value in settings.items():
        if isinstance(value, str) and value and re.search(r"sync|provision", key, re.I):
            return re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_"), f"settings.app.{key}"
    features = app.get("features")
    if isinstance(features, list):
        if not any(str(f).startswith("PUSH_") for f in features):
            return "none", "no PUSH_* feature enabled"
        return "unknown", "features: " + ", ".join(sorted(str(f) for f in features))
    return "unknown", "not shown by the API"
