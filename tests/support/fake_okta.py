"""A local server that behaves like Okta's documented management API, for driving the real okta SDK.

What it does like Okta: ``Authorization: SSWS <token>`` (401 ``E0000011`` otherwise); cursor paging with
``limit``/``after`` and two ``Link`` headers (``rel="self"`` and ``rel="next"``); ``GET /api/v1/users`` omits
DEPROVISIONED users unless a ``filter``/``search`` on status asks for them; ``X-Rate-Limit-*`` headers on every
answer (a 429 has ``Remaining: 0`` and a reset one second ahead); error bodies with errorCode/errorSummary.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid
from urllib.parse import urlencode

from .fake_http import FakeServer, Response, Seen, json_response

STATUSES = ("STAGED", "PROVISIONED", "ACTIVE", "RECOVERY", "LOCKED_OUT", "PASSWORD_EXPIRED", "SUSPENDED",
            "DEPROVISIONED")
ERRORS = {
    400: ("E0000001", "Api validation failed"),
    401: ("E0000011", "Invalid token provided"),
    403: ("E0000006", "You do not have permission to perform the requested action"),
    404: ("E0000007", "Not found: Resource not found"),
    429: ("E0000047", "API call exceeded rate limit due to too many requests."),
    500: ("E0000009", "Internal Server Error"),
    503: ("E0000010", "Service is in read only mode"),
}
_STATUS_CLAUSE = re.compile(r'status\s+eq\s+"([A-Z_]+)"')


def okta_id(prefix: str, n: int) -> str:
    """An Okta-shaped id: prefix + 17 alphanumerics (``00u…``)."""
    return f"{prefix}{n:07d}abcDEF1234"[:20]


def okta_user(n: int, status: str = "ACTIVE", *, provider: str = "ACTIVE_DIRECTORY", **profile: object) -> dict:
    """A user record as /api/v1/users returns it."""
    uid = okta_id("00u", n)
    login = f"user{n}@example.com"
    base = {"firstName": f"First{n}", "lastName": f"Last{n}", "mobilePhone": None, "secondEmail": None,
            "login": login, "email": login}
    base.update(profile)
    stamp = "2024-01-02T03:04:05.000Z"
    return {
        "id": uid, "status": status, "created": stamp, "activated": stamp, "statusChanged": stamp,
        "lastLogin": None, "lastUpdated": stamp, "passwordChanged": None, "type": {"id": "oty0000000000000000"},
        "profile": base,
        "credentials": {"provider": {"type": provider, "name": "corp.example.com" if provider != "OKTA" else "OKTA"}},
        "_links": {"self": {"href": f"https://example.okta.com/api/v1/users/{uid}"}},
    }


def office365_app(app_id: str, label: str = "Microsoft Office 365", *, status: str = "ACTIVE",
                  features: list[str] | None = None, settings: dict | None = None) -> dict:
    return {
        "id": app_id, "name": "office365", "label": label, "status": status, "signOnMode": "WS_FEDERATION",
        "features": features if features is not None else ["PUSH_NEW_USERS", "PUSH_PROFILE_UPDATES",
                                                           "PUSH_USER_DEACTIVATION", "IMPORT_NEW_USERS"],
        "settings": {"app": {"domain": "example.com", "msftTenant": "example", **(settings or {})}},
    }


def app_user(user: dict, immutable_id: str | None, *, upn: str | None = None, key: str = "immutableId") -> dict:
    """An app user of the Office 365 app as /api/v1/apps/{id}/users returns it."""
    upn = upn or user["profile"]["login"]
    return {
        "id": user["id"], "externalId": str(uuid.uuid5(uuid.NAMESPACE_OID, user["id"])),
        "status": "PROVISIONED", "syncState": "SYNCHRONIZED", "scope": "USER", "created": user["created"],
        "credentials": {"userName": upn},
        "profile": {key: immutable_id, "displayName": f"{user['profile']['firstName']} x", "email": upn},
    }


def app_schema(key: str = "immutableId") -> dict:
    """The app-user profile schema (/api/v1/meta/schemas/apps/{id}/default)."""
    props = {k: {"title": k, "type": "string", "scope": "NONE"} for k in ("displayName", "email", key)}
    return {"id": "https://example.okta.com/meta/schemas/apps/0oa/default", "name": "Office 365 User",
            "type": "object", "definitions": {"base": {"id": "#base", "type": "object", "properties": props},
                                              "custom": {"id": "#custom", "type": "object", "properties": {}}}}


class FakeOkta(FakeServer):
    """Users, apps, app users and app schemas of one org."""

    def __init__(self, token: str, users: list[dict], apps: list[dict] | None = None,
                 app_users: dict[str, list[dict]] | None = None, schemas: dict[str, dict] | None = None) -> None:
        super().__init__()
        self.token = token
        self.users = sorted(users, key=lambda u: u["id"])
        self.apps = apps or []
        self.app_users = {k: sorted(v, key=lambda u: u["id"]) for k, v in (app_users or {}).items()}
        self.schemas = schemas if schemas is not None else {a["id"]: app_schema() for a in self.apps}
        self.remaining = 600
        self.service_app: tuple[str, str] | None = None  # (client id, public key PEM) allowed to get tokens
        self.access_token = "eyJraWQiOiJmYWtlIn0.access-token-" + uuid.uuid4().hex + ".sig"
        #: app id → pushStatus of the Okta User → app mapping of ``immutableId`` (PUSH: applied on every update;
        #: Okta then refuses a per-user write of the attribute, as far as documented: docs/domain.md §9)
        self.mapping_push: dict[str, str] = {}

    def handle(self, request: Seen) -> Response:
        if request.path == "/oauth2/v1/token":
            return self.token_endpoint(request)
        if request.headers.get("authorization") not in (f"SSWS {self.token}", f"Bearer {self.access_token}"):
            return self.error(401)
        path, q = request.path, request.query
        if path == "/api/v1/users":
            clauses = _STATUS_CLAUSE.findall(q.get("filter") or q.get("search") or "")
            wanted = set(clauses) if clauses else set(STATUSES) - {"DEPROVISIONED"}
            return self.page(request, [u for u in self.users if u["status"] in wanted], 200, 200)
        if path == "/api/v1/apps":
            names = re.findall(r'name\s+eq\s+"([^"]+)"', q.get("filter", ""))
            return self.page(request, [a for a in self.apps if not names or a["name"] in names], 20, 200)
        match = re.fullmatch(r"/api/v1/apps/([^/]+)/users/([^/]+)", path)
        if match and match[1] in {a["id"] for a in self.apps}:
            return self.app_user_endpoint(request, match[1], match[2])
        if path == "/api/v1/mappings":
            target = q.get("targetId")
            found = [{"id": f"prm{a[-12:]}", "source": {"id": "oty0000000000000000", "type": "user"},
                      "target": {"id": a, "type": "appuser"}} for a in self.mapping_push if target in (None, a)]
            return self.ok(found)
        match = re.fullmatch(r"/api/v1/mappings/prm(.+)", path)
        if match:
            app = next((a for a in self.mapping_push if a.endswith(match[1])), None)
            if app is None:
                return self.error(404)
            return self.ok({"id": f"prm{match[1]}", "target": {"id": app, "type": "appuser"}, "properties": {
                "immutableId": {"expression": "user.getInternalProperty(\"id\")",
                                "pushStatus": self.mapping_push[app]}}})
        match = re.fullmatch(r"/api/v1/apps/([^/]+)(/users)?", path)
        if match and match[1] in {a["id"] for a in self.apps}:
            if match[2]:
                return self.page(request, self.app_users.get(match[1], []), 50, 500)
            return self.ok(next(a for a in self.apps if a["id"] == match[1]))
        match = re.fullmatch(r"/api/v1/meta/schemas/apps/([^/]+)/default", path)
        if match and match[1] in self.schemas:
            return self.ok(self.schemas[match[1]])
        return self.error(404)

    def app_user_endpoint(self, request: Seen, app_id: str, user_id: str) -> Response:
        """GET one app user; POST a new profile (whole profile sent, as okta-apply does)."""
        members = self.app_users.get(app_id, [])
        member = next((m for m in members if m["id"] == user_id), None)
        if member is None:
            return self.error(404)
        fault = self.take_fault(request.path, 1)
        if fault is not None:
            return fault
        if request.method == "POST":
            body = json.loads(request.body or "{}")
            profile = body.get("profile")
            if not isinstance(profile, dict):
                return self.error(400)
            if self.mapping_push.get(app_id) == "PUSH" and profile.get("immutableId") != \
                    member["profile"].get("immutableId"):
                return self.error(400, "E0000001", "Api validation failed: immutableId: the attribute is mapped "
                                                   "from the Okta user profile and cannot be changed")
            member["profile"] = {**member["profile"], **profile}
            member["lastUpdated"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return self.ok(member)

    def token_endpoint(self, request: Seen) -> Response:
        """OAuth client credentials with a private-key JWT: checked against the registered service app's key."""
        import jwt

        form = request.form
        if self.service_app is None or request.method != "POST" or form.get("grant_type") != "client_credentials":
            return json_response(400, {"error": "invalid_request", "error_description": "bad token request"})
        client_id, public_key = self.service_app
        try:
            claims = jwt.decode(form.get("client_assertion", ""), public_key, algorithms=["RS256"],
                                audience=f"{self.url}/oauth2/v1/token", issuer=client_id)
        except jwt.PyJWTError as exc:
            return json_response(401, {"error": "invalid_client", "error_description": str(exc)})
        if claims.get("sub") != client_id or not set(form.get("scope", "").split()) >= {"okta.users.read"}:
            return json_response(400, {"error": "invalid_scope", "error_description": "scope not granted"})
        return json_response(200, {"token_type": "Bearer", "expires_in": 3600, "access_token": self.access_token,
                                   "scope": form["scope"]})

    def page(self, request: Seen, items: list[dict], default: int, maximum: int) -> Response:
        """One page after the ``after`` cursor (an id), with self and next Link headers."""
        q = request.query
        limit = min(int(q.get("limit", default)), maximum)
        start = 0
        if q.get("after"):
            ids = [i["id"] for i in items]
            start = ids.index(q["after"]) + 1 if q["after"] in ids else len(ids)
        fault = self.take_fault(request.path, start // limit + 1)
        if fault is not None:
            return fault
        chunk = items[start:start + limit]
        own = {k: v for k, v in q.items() if k != "after"}
        links = [("Link", f'<{self.url}{request.path}?{urlencode(q)}>; rel="self"')]
        if start + limit < len(items):
            links.append(("Link", f'<{self.url}{request.path}?{urlencode({**own, "after": chunk[-1]["id"]})}>; '
                                  'rel="next"'))
        return self.ok(chunk, links)

    def ok(self, payload: object, headers: list[tuple[str, str]] | None = None) -> Response:
        self.remaining = self.remaining - 1 if self.remaining > 1 else 600
        return json_response(200, payload, [*(headers or []), *self._rate(self.remaining, 60)])

    def error(self, status: int, code: str | None = None, message: str | None = None) -> Response:
        known_code, summary = ERRORS.get(status, ("E0000009", "Internal Server Error"))
        body = {"errorCode": code or known_code, "errorSummary": message or summary, "errorLink": code or known_code,
                "errorId": "oae" + uuid.uuid4().hex[:19], "errorCauses": []}
        rate = self._rate(0, 1) if status == 429 else self._rate(self.remaining, 60)
        return json_response(status, body, rate)

    @staticmethod
    def _rate(remaining: int, reset_in: int) -> list[tuple[str, str]]:
        now = time.time()
        return [("X-Rate-Limit-Limit", "600"), ("X-Rate-Limit-Remaining", str(remaining)),
                ("X-Rate-Limit-Reset", str(int(now) + reset_in)),
                ("Date", dt.datetime.fromtimestamp(now, dt.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")),
                ("X-Okta-Request-Id", uuid.uuid4().hex)]


def sample_org(token: str, n_users: int = 450) -> FakeOkta:
    """An org with users of every status (over two pages of each query), one Office 365 app, a bad profile."""
    users = [okta_user(i, STATUSES[i % len(STATUSES)]) for i in range(n_users)]
    # fails the SDK's strict UserProfile model: empty email, a 60-character name, a numeric employeeNumber
    users.append(okta_user(n_users, "ACTIVE", email="", firstName="F" * 60, employeeNumber=12345))
    app = office365_app("0oa1office365appAAAA")
    members = [app_user(u, f"ImmutableIdOf{u['id']}==") for u in users if u["status"] != "DEPROVISIONED"]
    return FakeOkta(token, users, [app], {app["id"]: members})
