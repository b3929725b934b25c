"""Microsoft Graph live collection, driven through the real msgraph-sdk against a local Graph-like server."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

import pandas as pd
import pytest
from support.fake_graph import FakeGraph, graph_user
from support.fake_http import PROXY_VARS, Sleeps

from hybridx_nb.core.errors import CollectionError
from hybridx_nb.sources.files.entra_export import read_entra
from hybridx_nb.sources.live.config import GraphConfig, Secret
from hybridx_nb.sources.live.graph_api import (
    SYNC_STATE_SELECT,
    USER_SELECT,
    StaticToken,
    collect_graph,
    graph_credential,
    read_graph_tenant,
)
from hybridx_nb.sources.live.http import RetryPolicy

pytestmark = pytest.mark.slow  # local HTTP servers driven through the real SDKs

TOKEN = "eyJ0eXAiOiJKV1QifQ.fake-graph-access-token.sig"
USERS = "/v1.0/users"


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def read(server: FakeGraph, sleeps: Sleeps, **kwargs: object) -> object:
    options = {"page_size": 100, "retry": RetryPolicy(attempts=3, backoff=0.5, max_wait=30, sleep=sleeps), **kwargs}
    return read_graph_tenant(StaticToken(TOKEN), base_url=server.url + "/v1.0", **options)


def get(url: str, token: str = TOKEN) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def test_users_with_select_and_paging_plus_tenant_facts(sleeps: Sleeps) -> None:
    progress: list[tuple[str, int, int]] = []
    with FakeGraph.sample(TOKEN, 250) as server:
        result = read(server, sleeps, progress=lambda *a: progress.append(a))
    users = result.tables["entra_users"]
    assert len(users) == 250 and users["id"].is_unique
    calls = server.seen(USERS)
    assert len(calls) == 3 and {c.query["$top"] for c in calls} == {"100"}
    assert all(c.query["$select"].split(",") == list(USER_SELECT + SYNC_STATE_SELECT) for c in calls)
    assert all(c.headers["authorization"] == f"Bearer {TOKEN}" for c in server.requests)
    source = {u["id"]: u for u in server.users}
    row = users.iloc[1]
    assert row["immutable_id"] == source[row["id"]]["onPremisesImmutableId"]
    assert list(row["proxy_addresses"]) == source[row["id"]]["proxyAddresses"]
    assert list(row["assigned_licenses"]) == ["05e9a617-0261-4cee-bb44-138d3ef5d965"]
    assert users["on_prem_sync_enabled"].isna().sum() == 125 and users["on_prem_sync_enabled"].sum() == 125
    assert set(result.tables["entra_domains"]["authentication_type"]) == {"Federated", "Managed"}
    assert list(result.tables["entra_role_members"]["role_name"]) == ["Global Administrator"] * 2
    assert server.seen("/v1.0/roleManagement/directory/roleAssignments")[0].query["$expand"] == "roleDefinition"
    tenant = result.tenant
    assert tenant.org_sync_enabled is True and tenant.tenant_id == "aaaabbbb-0000-1111-2222-333344445555"
    assert tenant.feature("blockCloudObjectTakeoverThroughHardMatchEnabled") is True and not tenant.assumed()
    assert result.rejected.empty and sleeps.waits == [] and "skipped" not in result.source
    assert ("entra_users", 250, 3) in progress


def test_fake_answers_like_graph_without_select_and_with_a_bad_top() -> None:
    with FakeGraph.sample(TOKEN, 5) as server:
        status, page = get(server.url + USERS)
        assert status == 200 and "onPremisesImmutableId" not in page["value"][0]
        assert "proxyAddresses" not in page["value"][0] and "userPrincipalName" in page["value"][0]
        status, body = get(server.url + USERS + "?$top=1000")
        assert status == 400 and body["error"]["code"] == "Request_UnsupportedQuery"
        status, body = get(server.url + USERS, token="wrong")
        assert status == 401 and set(body["error"]) == {"code", "message", "innerError"}


@pytest.mark.parametrize(("status", "headers", "wait"), [
    (429, {"Retry-After": "7"}, 7.0), (429, {}, 0.5), (503, {}, 0.5), (503, {"Retry-After": "600"}, 30.0)])
def test_throttling_and_unavailable_pages_are_retried(sleeps: Sleeps, status: int, headers: dict,
                                                      wait: float) -> None:
    with FakeGraph.sample(TOKEN, 250) as server:
        server.fail(USERS, status, page=2, headers=headers)
        result = read(server, sleeps)
    assert len(result.tables["entra_users"]) == 250
    assert sleeps.waits == [wait]  # Retry-After when given (capped by max_wait), else the policy's backoff


def test_page_still_failing_after_retries_is_a_collection_error(sleeps: Sleeps) -> None:
    with FakeGraph.sample(TOKEN, 250) as server:
        server.fail(USERS, 503, page=3, times=None)
        with pytest.raises(CollectionError) as err:
            read(server, sleeps)
    text = str(err.value)
    assert "GET /users page 3 failed after 3 attempts: HTTP 503 serviceNotAvailable: Service unavailable." in text
    assert "request-id" in text and sleeps.waits == [0.5, 1.0]


def test_optional_data_without_permission_is_skipped_and_recorded(sleeps: Sleeps,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    with FakeGraph.sample(TOKEN, 20) as server:
        server.fail("/v1.0/directory/onPremisesSynchronization", 403, times=None)
        server.fail("/v1.0/roleManagement/directory/roleAssignments", 403, times=None)
        result = read(server, sleeps)
    assert "entra_role_members" not in result.tables and len(result.tables["entra_domains"]) == 2
    assert result.tenant.features == {} and result.tenant.org_sync_enabled is True
    assert "role assignments skipped: Microsoft Graph: GET /roleManagement/directory/roleAssignments page 1: " \
           "HTTP 403 Authorization_RequestDenied" in result.source
    assert "(needs OnPremDirectorySynchronization.Read.All)" in result.source
    assert "role assignments skipped" in result.sources["entra_users"]  # what the snapshot manifest keeps
    assert "skipped" in caplog.text and sleeps.waits == []


def test_users_without_permission_or_with_a_wrong_token_fail_clearly(sleeps: Sleeps) -> None:
    with FakeGraph.sample(TOKEN, 20) as server:
        server.fail(USERS, 403, times=None)
        with pytest.raises(CollectionError, match=r"GET /users page 1: HTTP 403 .*needs User\.Read\.All"):
            read(server, sleeps)
        server.faults.clear()
        with pytest.raises(CollectionError, match=r"HTTP 401 InvalidAuthenticationToken.*token was refused") as err:
            read_graph_tenant(StaticToken("not-the-token"), base_url=server.url + "/v1.0")
    assert "not-the-token" not in str(err.value)


def test_beta_object_identifier_is_merged_when_asked(sleeps: Sleeps) -> None:
    users = [graph_user(i, onPremisesObjectIdentifier=f"0000000{i}-1111-2222-3333-444455556666" if i < 2 else None)
             for i in range(5)]
    with FakeGraph(TOKEN, users) as server:
        plain = read(server, sleeps, roles=False, domains=False, organization=False, sync_features=False)
        beta = read(server, sleeps, object_identifier=True)
    assert plain.tables["entra_users"]["on_prem_object_identifier"].isna().all()
    ids = beta.tables["entra_users"]["on_prem_object_identifier"]
    assert list(ids.iloc[:2]) == ["00000000-1111-2222-3333-444455556666", "00000001-1111-2222-3333-444455556666"]
    assert ids.iloc[2:].isna().all() and server.seen("/beta/users")
    assert plain.tenant.tenant_id is None and set(plain.tables) == {"entra_users"}


def test_collect_graph_from_client_config_never_shows_the_token(sleeps: Sleeps, monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("HX_TEST_GRAPH_TOKEN", TOKEN)
    caplog.set_level(logging.DEBUG)
    with FakeGraph.sample(TOKEN, 30) as server:
        cfg = GraphConfig(tenant_id="aaaabbbb-0000-1111-2222-333344445555",
                          access_token=Secret("env:HX_TEST_GRAPH_TOKEN"), base_url=server.url + "/v1.0/")
        result = collect_graph(cfg, retry=RetryPolicy(attempts=2, sleep=sleeps))
        server.fail(USERS, 500, times=None)
        with pytest.raises(CollectionError) as err:
            collect_graph(cfg, retry=RetryPolicy(attempts=2, sleep=sleeps))
    assert len(result.tables["entra_users"]) == 30
    outputs = [result.source, *result.sources.values(), repr(result.tenant), str(err.value), caplog.text,
               *(frame.to_csv() for frame in result.tables.values())]
    assert not any(TOKEN in text for text in outputs)


def test_live_users_equal_the_same_users_read_from_a_graph_json_export(sleeps: Sleeps, tmp_path) -> None:
    with FakeGraph.sample(TOKEN, 120) as server:
        live = read(server, sleeps, roles=False, domains=False, organization=False, sync_features=False)
        pages, url = [], server.url + USERS + "?$select=" + ",".join(USER_SELECT + SYNC_STATE_SELECT) + "&$top=50"
        while url:  # what Invoke-MgGraphRequest in a loop saves
            page = get(url)[1]
            pages.append(page)
            url = page.get("@odata.nextLink")
    export = tmp_path / "entra-users.json"
    export.write_text("\n".join(json.dumps(p) for p in pages), encoding="utf-8")
    pd.testing.assert_frame_equal(live.tables["entra_users"], read_entra(export).tables["entra_users"])


def test_runs_from_code_that_already_has_an_event_loop(sleeps: Sleeps) -> None:
    import asyncio

    async def notebook_cell() -> object:  # Jupyter runs cells inside a loop; asyncio.run would refuse
        return read(server, sleeps, roles=False, domains=False, organization=False, sync_features=False)

    with FakeGraph.sample(TOKEN, 10) as server:
        result = asyncio.run(notebook_cell())
    assert len(result.tables["entra_users"]) == 10


def test_no_token_from_azure_identity_is_a_clear_error(sleeps: Sleeps) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    class Refused:
        def get_token(self, *scopes: str, **kwargs: object) -> object:
            raise ClientAuthenticationError("AADSTS7000215: Invalid client secret provided.\nTrace ID: x")

    with FakeGraph.sample(TOKEN, 5) as server:
        with pytest.raises(CollectionError, match=r"no access token: AADSTS7000215: Invalid client secret provided\.;"):
            read_graph_tenant(Refused(), base_url=server.url + "/v1.0")


def test_credential_factory_builds_azure_identity_credentials_without_showing_secrets(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HX_TEST_GRAPH_SECRET", "client-secret-value-789")
    monkeypatch.setenv("HX_TEST_GRAPH_TOKEN", TOKEN)
    tenant = "aaaabbbb-0000-1111-2222-333344445555"
    secret = graph_credential(GraphConfig(tenant_id=tenant, client_id="11112222-3333-4444-5555-666677778888",
                                          client_secret=Secret("env:HX_TEST_GRAPH_SECRET")))
    static = graph_credential(GraphConfig(tenant_id=tenant, access_token=Secret("env:HX_TEST_GRAPH_TOKEN")))
    assert type(secret).__name__ == "ClientSecretCredential" and "client-secret-value-789" not in repr(secret)
    assert static.get_token("https://graph.microsoft.com/.default").token == TOKEN and TOKEN not in repr(static)
    with pytest.raises(CollectionError, match="no credential"):
        graph_credential(GraphConfig(tenant_id=tenant))


def test_unreachable_graph_is_a_clear_error(sleeps: Sleeps) -> None:
    server = FakeGraph(TOKEN, []).start()
    url = server.url
    server.stop()
    with pytest.raises(CollectionError, match=r"GET /users page 1 failed after 3 attempts: no response \(Connect"):
        read_graph_tenant(StaticToken(TOKEN), base_url=url + "/v1.0",
                          retry=RetryPolicy(attempts=3, backoff=0.5, sleep=sleeps))
    assert sleeps.waits == [0.5, 1.0]


def test_groups_and_contacts_are_collected_when_asked(sleeps: Sleeps) -> None:
    """Okta's Universal Sync makes groups and contacts: read through the SDK, paged, into their optional tables."""
    groups = [{"id": f"0a1b2c3d-0000-4000-8000-{i:012d}", "displayName": f"Group {i}", "mail": None,
               "mailNickname": f"g{i}", "mailEnabled": i % 2 == 0, "securityEnabled": i % 2 == 1, "groupTypes": [],
               "proxyAddresses": [f"SMTP:g{i}@contoso.com"] if i % 2 == 0 else [], "onPremisesSyncEnabled": True}
              for i in range(150)]
    contacts = [{"id": "5f5f5f5f-0000-4000-8000-000000000001", "displayName": "Partner", "mail": "p@example.org",
                 "mailNickname": "p", "proxyAddresses": ["SMTP:p@example.org"], "onPremisesSyncEnabled": True}]
    with FakeGraph.sample(TOKEN, 20) as server:
        server.collections["/v1.0/groups"] = groups
        server.collections["/v1.0/contacts"] = contacts
        plain = read(server, sleeps)
        assert "entra_groups" not in plain.tables  # off unless asked: no new permission by default
        result = read(server, sleeps, groups=True, contacts=True)
        selects = {r.query.get("$select") for r in server.seen("/v1.0/groups")}
    assert len(result.tables["entra_groups"]) == 150 and len(result.tables["entra_contacts"]) == 1
    assert selects == {"id,displayName,mail,mailNickname,mailEnabled,securityEnabled,groupTypes,proxyAddresses,"
                       "onPremisesSyncEnabled"}
    frame = result.tables["entra_groups"]
    assert frame["mail_enabled"].sum() == 75 and frame["on_prem_sync_enabled"].all()
