"""Okta live collection, driven through the real okta SDK against a local server that behaves like Okta."""

from __future__ import annotations

import logging

import pytest
from support.fake_http import PROXY_VARS, Sleeps
from support.fake_okta import STATUSES, FakeOkta, app_schema, office365_app, okta_user, sample_org

from hybridx_nb.core.errors import CollectionError
from hybridx_nb.sources.live.config import OktaConfig, Secret
from hybridx_nb.sources.live.http import RetryPolicy
from hybridx_nb.sources.live.okta_api import collect_okta, immutable_id_key, provisioning_mode, read_okta_org, scrub

pytestmark = pytest.mark.slow  # local HTTP servers driven through the real SDKs

TOKEN = "00aTestSswsToken-0123456789abcdefXYZ"


@pytest.fixture(autouse=True)
def okta_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain http allowed for the SDK, and no proxy (the SDK honours HTTP(S)_PROXY and ignores NO_PROXY)."""
    monkeypatch.setenv("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true")
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def policy(sleeps: Sleeps, attempts: int = 3) -> RetryPolicy:
    return RetryPolicy(attempts=attempts, backoff=0.5, max_wait=30, sleep=sleeps)


def test_collects_every_status_app_users_and_follows_both_link_headers(sleeps: Sleeps) -> None:
    progress: list[tuple[str, int, int]] = []
    with sample_org(TOKEN) as server:
        result = read_okta_org(server.url, token=TOKEN, retry=policy(sleeps), progress=lambda *a: progress.append(a))
    users, app_users = result.tables["okta_users"], result.tables["okta_app_users"]
    assert len(users) == len(server.users) and users["id"].is_unique
    assert set(users["status"]) == set(STATUSES)
    assert (users["status"] == "DEPROVISIONED").sum() == sum(u["status"] == "DEPROVISIONED" for u in server.users)
    assert len(app_users) == len(server.app_users["0oa1office365appAAAA"])
    first = app_users.iloc[0]
    assert first["immutable_id"] == f"ImmutableIdOf{first['user_id']}=="
    assert first["user_name"] and first["app_label"] == "Microsoft Office 365" and first["sync_state"] == "SYNCHRONIZED"
    # paging: the users query spans pages reached through the second (rel="next") Link header
    assert len([r for r in server.seen("/api/v1/users") if "after" in r.query]) >= 1
    assert {r.query.get("limit") for r in server.seen("/api/v1/apps/0oa1office365appAAAA/users")} == {"500"}
    assert result.rejected.empty and sleeps.waits == []
    assert result.tenant.okta_provisioning_mode == "unknown"
    assert "immutableId" in result.sources["okta_app_users"] and "DEPROVISIONED" in result.sources["okta_users"]
    assert progress[-1][0] == "okta_app_users" and any(p[0] == "okta_users" and p[2] > 1 for p in progress)


def test_profile_the_strict_sdk_model_rejects_is_still_collected(sleeps: Sleeps) -> None:
    from okta.models import User
    from pydantic import ValidationError

    with sample_org(TOKEN, n_users=20) as server:
        bad = server.users[-1] if server.users[-1]["profile"]["email"] == "" else \
            next(u for u in server.users if u["profile"]["email"] == "")
        with pytest.raises(ValidationError):
            User.from_dict(bad)  # the trap is real for this SDK version
        result = read_okta_org(server.url, token=TOKEN, retry=policy(sleeps))
    row = result.tables["okta_users"].set_index("id").loc[bad["id"]]
    assert row["first_name"] == "F" * 60 and row["login"] == bad["profile"]["login"]
    assert row.isna()["email"]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_one_failure_then_success_is_retried(sleeps: Sleeps, status: int) -> None:
    with sample_org(TOKEN) as server:
        server.fail("/api/v1/users", status, page=2)
        result = read_okta_org(server.url, token=TOKEN, retry=policy(sleeps))
    assert len(result.tables["okta_users"]) == len(server.users)
    assert len(sleeps.waits) == 1
    if status == 429:  # waited for X-Rate-Limit-Reset (one second ahead on the server's clock), not the backoff
        assert 0 < sleeps.waits[0] <= 2.0
    else:
        assert sleeps.waits == [0.5]


def test_persistent_500_mid_way_fails_with_a_clear_message(sleeps: Sleeps) -> None:
    with sample_org(TOKEN) as server:
        server.fail("/api/v1/users", 500, page=2, times=None)
        with pytest.raises(CollectionError) as err:
            read_okta_org(server.url, token=TOKEN, retry=policy(sleeps))
        url = server.url
    text = str(err.value)
    for part in ("GET /api/v1/users", "page 2", "after 3 attempts", "HTTP 500",
                 "E0000009", "Internal Server Error", url):
        assert part in text
    assert sleeps.waits == [0.5, 1.0]


def test_wrong_token_is_a_clear_error_without_the_token(sleeps: Sleeps) -> None:
    with sample_org(TOKEN, n_users=5) as server:
        with pytest.raises(CollectionError) as err:
            read_okta_org(server.url, token="00aWrongToken", retry=policy(sleeps))
    assert "HTTP 401 E0000011 Invalid token provided" in str(err.value)
    assert "00aWrongToken" not in str(err.value) and sleeps.waits == []


def test_token_appears_in_no_output_log_or_error(sleeps: Sleeps, caplog: pytest.LogCaptureFixture,
                                                 tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a consultant's okta.yaml switching the SDK's debug log on: it logs whole requests, headers included
    (tmp_path / "okta.yaml").write_text("okta:\n  client:\n    logging:\n      enabled: true\n      logLevel: 10\n")
    monkeypatch.setattr("okta.config.config_setter._LOCAL_YAML_PATH", str(tmp_path / "okta.yaml"))
    caplog.set_level(logging.DEBUG)
    with sample_org(TOKEN, n_users=30) as server:
        server.fail("/api/v1/users", 500, page=1, times=None)
        with pytest.raises(CollectionError) as err:
            read_okta_org(server.url, token=TOKEN, retry=policy(sleeps))
        server.faults.clear()
        result = read_okta_org(server.url, token=TOKEN, retry=policy(sleeps))
    assert any(r.name == "okta-sdk-python" and "Request:" in r.getMessage() for r in caplog.records)
    assert "[redacted]" in caplog.text and TOKEN not in caplog.text
    assert TOKEN not in str(err.value)
    outputs = [result.source, *result.sources.values(), repr(result.tenant),
               *(frame.to_csv() for frame in result.tables.values()), result.rejected.to_csv()]
    assert not any(TOKEN in text for text in outputs)
    assert all(r.headers["authorization"] == f"SSWS {TOKEN}" for r in server.requests)


def test_named_app_schema_key_and_provisioning_mode(sleeps: Sleeps) -> None:
    users = [okta_user(i) for i in range(3)]
    app = office365_app("0oaSecondInstance000", "O365 EU", settings={"provisioningType": "UNIVERSAL_SYNC"})
    members = [{"id": u["id"], "externalId": None, "status": "PROVISIONED", "syncState": "SYNCHRONIZED",
                "scope": "GROUP", "credentials": {"userName": u["profile"]["login"]},
                "profile": {"immutableID": 12345}} for u in users]
    server = FakeOkta(TOKEN, users, [app], {app["id"]: members}, {app["id"]: app_schema("immutableID")})
    with server:
        result = read_okta_org(server.url + "/", token=TOKEN, app_ids=[app["id"]], retry=policy(sleeps))
    app_users = result.tables["okta_app_users"]
    assert list(app_users["immutable_id"]) == ["12345"] * 3 and set(app_users["scope"]) == {"GROUP"}
    assert result.tenant.okta_provisioning_mode == "universal_sync"
    assert "'immutableID'" in result.sources["okta_app_users"]


def test_schema_and_mode_helpers() -> None:
    assert immutable_id_key(None)[0] == "immutableId"
    assert immutable_id_key({"definitions": {"base": {"properties": {"email": {}}}}})[0] is None
    assert provisioning_mode(office365_app("x", features=["IMPORT_NEW_USERS"]))[0] == "none"
    assert provisioning_mode({"settings": {}})[0] == "unknown"


def test_unreachable_org_is_a_clear_error(sleeps: Sleeps) -> None:
    server = FakeOkta(TOKEN, []).start()
    url = server.url
    server.stop()
    with pytest.raises(CollectionError, match=r"GET /api/v1/users page 1 failed after 3 attempts: no response"):
        read_okta_org(url, token=TOKEN, retry=policy(sleeps))


def test_collect_okta_from_client_config(sleeps: Sleeps, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HX_TEST_OKTA_TOKEN", TOKEN)
    seen: list[tuple[str, int, int]] = []
    with sample_org(TOKEN, n_users=12) as server:
        cfg = OktaConfig(org_url=server.url, token=Secret("env:HX_TEST_OKTA_TOKEN"), app_schema=False)
        result = collect_okta(cfg, lambda *a: seen.append(a), retry=policy(sleeps))
    assert len(result.tables["okta_users"]) == 13 and seen
    assert "assumed attribute 'immutableId'" in result.sources["okta_app_users"]
    assert not server.seen("/api/v1/meta/schemas/apps/0oa1office365appAAAA/default")


def test_scrub_removes_secrets_authorization_values_and_jwts() -> None:
    text = "headers {'Authorization': 'SSWS abc.def', 'x': 'Bearer eyJa.eyJb.sig'} form eyJhbGc.eyJzdWI.c2ln key PEM"
    out = scrub(text, ["PEM"])
    assert "abc.def" not in out and "eyJ" not in out and "PEM" not in out and "SSWS [redacted]" in out


def test_oauth_service_app_with_a_private_key(sleeps: Sleeps, tmp_path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    (tmp_path / "okta-key.pem").write_text(pem)
    with sample_org(TOKEN, n_users=10) as server:
        server.service_app = ("0oaServiceApp0000000", public)
        cfg = OktaConfig(org_url=server.url, client_id="0oaServiceApp0000000",
                         private_key_file=tmp_path / "okta-key.pem")
        result = collect_okta(cfg, retry=policy(sleeps))
        token_calls = server.seen("/oauth2/v1/token")
        api_calls = [r for r in server.requests if r.path.startswith("/api/")]
    assert len(result.tables["okta_users"]) == 11 and len(token_calls) == 1
    assert all(r.headers["authorization"] == f"Bearer {server.access_token}" for r in api_calls)
    assert "okta.apps.read" in token_calls[0].form["scope"]
