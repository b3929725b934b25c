"""A local server that behaves like Microsoft Graph v1.0 for the calls hybridx makes, for driving msgraph-sdk.

Like Graph: a bearer token is required (401 ``InvalidAuthenticationToken``); ``/users`` honours ``$select``
(unknown properties are a 400; without ``$select`` the default property set, which leaves out ``onPremises*``
and ``proxyAddresses``) and ``$top`` (1 to 999, default 100), pages end with ``@odata.nextLink`` carrying a
``$skiptoken``; errors come as ``{"error": {"code", "message", "innerError": {...}}}``. Pages are cached as bytes
so that the server keeps up with a client collecting 100k users.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from urllib.parse import urlencode

from .fake_http import FakeServer, Response, Seen, json_response

USER_PROPERTIES = (
    "id", "userPrincipalName", "mail", "proxyAddresses", "onPremisesImmutableId", "onPremisesSyncEnabled",
    "accountEnabled", "userType", "displayName", "mailNickname", "assignedLicenses", "creationType", "givenName",
    "surname", "jobTitle", "businessPhones", "mobilePhone", "officeLocation", "preferredLanguage",
    "onPremisesDistinguishedName", "onPremisesSamAccountName", "onPremisesLastSyncDateTime",
    "onPremisesProvisioningErrors", "serviceProvisioningErrors", "department", "companyName", "streetAddress",
    "city", "state", "postalCode", "usageLocation", "country", "faxNumber", "employeeId", "showInAddressList",
    "onPremisesExtensionAttributes", "assignedPlans", "provisionedPlans")
DEFAULT_SELECT = ("businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation",
                  "preferredLanguage", "surname", "userPrincipalName", "id")
BETA_ONLY = ("onPremisesObjectIdentifier",)
ERRORS = {
    400: ("Request_BadRequest", "Invalid request."),
    401: ("InvalidAuthenticationToken", "Access token is empty."),
    403: ("Authorization_RequestDenied", "Insufficient privileges to complete the operation."),
    404: ("Request_ResourceNotFound", "Resource not found."),
    429: ("TooManyRequests", "Too many requests."),
    500: ("generalException", "General exception while processing."),
    503: ("serviceNotAvailable", "Service unavailable."),
    504: ("UnknownError", "Gateway timeout."),
}
SKU_E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965"


def graph_user(n: int, *, immutable_id: str | None = None, synced: bool | None = None, **extra: object) -> dict:
    """A user with every property Graph can return (the server projects it by ``$select``)."""
    upn = f"user{n}@contoso.com"
    user = {
        "id": str(uuid.UUID(int=n + 1)), "userPrincipalName": upn, "mail": upn,
        "proxyAddresses": [f"SMTP:{upn}", f"smtp:user{n}@contoso.onmicrosoft.com"],
        "onPremisesImmutableId": immutable_id, "onPremisesSyncEnabled": synced, "accountEnabled": True,
        "userType": "Member", "displayName": f"User {n}", "mailNickname": f"user{n}",
        "assignedLicenses": [{"disabledPlans": [], "skuId": SKU_E3}], "creationType": None,
        "givenName": "User", "surname": str(n), "jobTitle": None, "businessPhones": [], "mobilePhone": None,
        "officeLocation": None, "preferredLanguage": "en-US", "onPremisesDistinguishedName": None,
        "onPremisesSamAccountName": None, "onPremisesLastSyncDateTime": None, "onPremisesProvisioningErrors": [],
        "serviceProvisioningErrors": [], "onPremisesObjectIdentifier": None, "department": None,
        "companyName": None, "streetAddress": None, "city": None, "state": None, "postalCode": None,
        "usageLocation": None, "country": None, "faxNumber": None, "employeeId": None, "showInAddressList": None,
        "onPremisesExtensionAttributes": {f"extensionAttribute{i}": None for i in range(1, 16)},
        "assignedPlans": [], "provisionedPlans": [],
    }
    user.update(extra)
    return user


def sample_tenant_data(n_users: int) -> dict:
    """Users plus the tenant objects of a tenant federated with Okta (contoso.com) and provisioned by it."""
    users = [graph_user(i, immutable_id=base64.b64encode(uuid.UUID(int=10**6 + i).bytes_le).decode()
                        if i % 3 else None, synced=True if i % 2 else None) for i in range(n_users)]
    role = {"id": "62e90394-69f5-4237-9190-012177145e10", "displayName": "Global Administrator",
            "templateId": "62e90394-69f5-4237-9190-012177145e10", "isBuiltIn": True}
    assignments = [{"id": f"assignment{i}", "principalId": users[i]["id"], "roleDefinitionId": role["id"],
                    "directoryScopeId": "/", "roleDefinition": role} for i in range(min(2, n_users))]
    domains = [{"id": "contoso.com", "authenticationType": "Federated", "isVerified": True, "isDefault": True,
                "isInitial": False, "isRoot": True, "supportedServices": ["Email"]},
               {"id": "contoso.onmicrosoft.com", "authenticationType": "Managed", "isVerified": True,
                "isDefault": False, "isInitial": True, "isRoot": True, "supportedServices": ["Email"]}]
    organization = {"id": "aaaabbbb-0000-1111-2222-333344445555", "displayName": "Contoso",
                    "onPremisesSyncEnabled": True, "onPremisesLastSyncDateTime": None}
    sync = {"id": organization["id"], "configuration": {"synchronizationInterval": "PT30M"},
            "features": {"softMatchOnUpnEnabled": True, "blockSoftMatchEnabled": False,
                         "blockCloudObjectTakeoverThroughHardMatchEnabled": True, "passwordSyncEnabled": False}}
    return {"users": users, "role_assignments": assignments, "domains": domains, "organization": organization,
            "sync": sync}


class FakeGraph(FakeServer):
    """``/v1.0/users``, ``/beta/users``, role assignments, domains, organization, onPremisesSynchronization."""

    def __init__(self, token: str, users: list[dict], *, role_assignments: list[dict] | None = None,
                 domains: list[dict] | None = None, organization: dict | None = None, sync: dict | None = None,
                 page_size: int = 100) -> None:
        super().__init__()
        self.token = token
        self.users = users
        self.collections = {
            "/v1.0/roleManagement/directory/roleAssignments": role_assignments or [],
            "/v1.0/domains": domains or [],
            "/v1.0/organization": [organization] if organization else [],
            "/v1.0/directory/onPremisesSynchronization": [sync] if sync else [],
        }
        self.page_size = page_size  # for collections without $top
        self._pages: dict[tuple, bytes] = {}

    @classmethod
    def sample(cls, token: str, n_users: int = 250, **kwargs: object) -> FakeGraph:
        return cls(token, **sample_tenant_data(n_users), **kwargs)

    def handle(self, request: Seen) -> Response:
        auth = request.headers.get("authorization", "")
        if auth != f"Bearer {self.token}":
            return self.error(401, message="Access token is empty." if not auth else "Access token validation "
                              "failure. Invalid audience.")
        if request.path in ("/v1.0/users", "/beta/users"):
            return self.users_page(request)
        if request.path in self.collections:
            items = self.collections[request.path]
            if request.path.endswith("roleAssignments") and "roleDefinition" not in request.query.get("$expand", ""):
                items = [{k: v for k, v in a.items() if k != "roleDefinition"} for a in items]
            skip = self._skip(request)
            return self.take_fault(request.path, skip // self.page_size + 1) or self.page(
                request, items[skip:skip + self.page_size], skip + self.page_size < len(items), skip + self.page_size)
        return self.error(404, message=f"Resource not found for the segment '{request.path.rsplit('/', 1)[-1]}'.")

    def users_page(self, request: Seen) -> Response:
        q = request.query
        allowed = USER_PROPERTIES + (BETA_ONLY if request.path.startswith("/beta") else ())
        select = tuple(s.strip() for s in q["$select"].split(",")) if q.get("$select") else DEFAULT_SELECT
        by_lower = {p.lower(): p for p in allowed}
        unknown = [s for s in select if s.lower() not in by_lower]
        if unknown:
            return self.error(400, "Request_BadRequest",
                              f"Could not find a property named '{unknown[0]}' on type 'microsoft.graph.user'.")
        select = tuple(by_lower[s.lower()] for s in select)
        top = q.get("$top", "100")
        if not top.isdigit() or not 1 <= int(top) <= 999:
            return self.error(400, "Request_UnsupportedQuery",
                              f"Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive.")
        top_n, skip = int(top), self._skip(request)
        fault = self.take_fault(request.path, skip // top_n + 1)
        if fault is not None:
            return fault
        expand = q.get("$expand", "")
        if expand and not expand.startswith("manager"):
            return self.error(400, "Request_BadRequest", f"Could not find a navigation property '{expand}'.")
        key = (request.path, select, top_n, skip, expand)
        body = self._pages.get(key)
        if body is None:
            # like Graph, $expand=manager adds the manager object only to users that have one
            chunk = [{**{p: u.get(p) for p in select},
                      **({"manager": {"@odata.type": "#microsoft.graph.user", "id": u["managerId"]}}
                         if expand and u.get("managerId") else {})} for u in self.users[skip:skip + top_n]]
            more = skip + top_n < len(self.users)
            body = self.page(request, chunk, more, skip + top_n, extra={"$select": ",".join(select),
                                                                          "$top": str(top_n),
                                                                          **({"$expand": expand} if expand else {})}
                             ).body
            self._pages[key] = body
        return json_response(200, body, self._ids(), "application/json;odata.metadata=minimal;charset=utf-8")

    def preserialise(self, select: tuple[str, ...], top: int = 999, path: str = "/v1.0/users",
                     expand: str = "manager($select=id)") -> None:
        """Build every page of ``/users`` for this ``$select`` ahead (a benchmark measures the client)."""
        base = {"$select": ",".join(select), "$top": str(top), **({"$expand": expand} if expand else {})}
        for skip in range(0, len(self.users), top):
            self.users_page(Seen("GET", path, {**base, "$skiptoken": self._token(skip)} if skip else base, {}))

    def page(self, request: Seen, items: list[dict], more: bool, next_skip: int,
             extra: dict[str, str] | None = None) -> Response:
        payload: dict[str, object] = {"@odata.context": f"{self.url}/v1.0/$metadata#{request.path.rsplit('/', 1)[-1]}"}
        if more:
            params = {k: v for k, v in request.query.items() if k != "$skiptoken"}
            params.update(extra or {})
            params["$skiptoken"] = self._token(next_skip)
            payload["@odata.nextLink"] = f"{self.url}{request.path}?{urlencode(params, safe='$,')}"
        payload["value"] = items
        return json_response(200, payload, self._ids(), "application/json;odata.metadata=minimal;charset=utf-8")

    def error(self, status: int, code: str | None = None, message: str | None = None) -> Response:
        known_code, known_message = ERRORS.get(status, ("UnknownError", "Unknown error."))
        request_id = str(uuid.uuid4())
        body = {"error": {"code": code or known_code, "message": message or known_message, "innerError": {
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"), "request-id": request_id,
            "client-request-id": request_id}}}
        return json_response(status, body, self._ids(request_id))

    @staticmethod
    def _token(skip: int) -> str:
        return "RFNwdAIAAQAAA" + base64.urlsafe_b64encode(f"skip:{skip}".encode()).decode().rstrip("=")

    @staticmethod
    def _skip(request: Seen) -> int:
        token = request.query.get("$skiptoken")
        if not token:
            return 0
        raw = token.removeprefix("RFNwdAIAAQAAA")
        return int(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode().split(":")[1])

    @staticmethod
    def _ids(request_id: str | None = None) -> list[tuple[str, str]]:
        request_id = request_id or str(uuid.uuid4())
        return [("request-id", request_id), ("client-request-id", request_id)]
