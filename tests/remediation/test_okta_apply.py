"""hybridx okta-apply, through the real okta SDK against a local server that behaves like Okta: dry run, apply,
a value that changed since the assessment, rollback, a mapping that pushes on every update, and HTTP 429."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from support.fake_http import PROXY_VARS, Sleeps
from support.fake_okta import FakeOkta, app_user, office365_app, okta_user

from hybridx_nb.app.cli import main
from hybridx_nb.remediation.model import ACTION_COLUMNS, OKTA_ACTION_COLUMNS, Plan
from hybridx_nb.remediation.okta_apply import okta_apply
from hybridx_nb.remediation.scripts import write_scripts
from hybridx_nb.sources.live.config import OktaConfig, Secret
from hybridx_nb.sources.live.http import RetryPolicy

pytestmark = pytest.mark.slow  # a local HTTP server driven through the real SDK

TOKEN = "00aOktaApplyToken-0123456789abcdefXYZ"
APP = "0oa1office365appAAAA"
NEW = ["BpazOkLGm0iEtljAONPvOQ==", "3PNdoRZES0GLfV+9y1dDwQ==", "1wfM9xV8fUSHbcAbDlqeOA=="]


@pytest.fixture(autouse=True)
def okta_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true")
    monkeypatch.setenv("HYBRIDX_TEST_OKTA_TOKEN", TOKEN)
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


def org() -> FakeOkta:
    users = [okta_user(i) for i in range(3)]
    members = [app_user(u, u["id"]) for u in users]  # the Okta user id as immutableId: the field report's case
    return FakeOkta(TOKEN, users, [office365_app(APP)], {APP: members})


def plan_folder(server: FakeOkta, folder: Path) -> Path:
    """A report folder whose Okta side rewrites the three app users (and one user Okta does not know)."""
    rows = [{"action": "SetAppUserImmutableId", "app_id": APP, "okta_user_id": m["id"],
             "entra_id": f"00000000-0000-4000-8000-00000000000{i}", "entra_upn": m["credentials"]["userName"],
             "current_immutable_id": m["profile"]["immutableId"], "new_immutable_id": NEW[i],
             "entra_step": "set_immutable_id_upn_swap", "note": "n"} for i, m in enumerate(server.app_users[APP])]
    rows.append({"action": "Manual", "entra_id": "00000000-0000-4000-8000-000000000009",
                 "entra_upn": "nobody@example.com", "new_immutable_id": NEW[0], "note": "by hand"})
    okta = pd.DataFrame(rows, columns=OKTA_ACTION_COLUMNS).astype("str")
    plan = Plan("prestamp", "t", pd.DataFrame(columns=ACTION_COLUMNS, dtype="str"), [], {}, okta_actions=okta)
    write_scripts(plan, folder)
    return folder


def config(server: FakeOkta, retries: int = 3) -> OktaConfig:
    return OktaConfig(org_url=server.url, token=Secret("env:HYBRIDX_TEST_OKTA_TOKEN"), retries=retries)


def policy(sleeps: Sleeps) -> RetryPolicy:
    return RetryPolicy(attempts=3, backoff=0.5, max_wait=30, sleep=sleeps)


def values(server: FakeOkta) -> list[str]:
    return [m["profile"]["immutableId"] for m in server.app_users[APP]]


def log_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_dry_run_reads_and_changes_nothing(tmp_path: Path) -> None:
    with org() as server:
        before = values(server)
        result = okta_apply(config(server), plan_folder(server, tmp_path), echo=lambda _: None)
        assert values(server) == before
        assert not [r for r in server.requests if r.method == "POST"]
    assert result.counts == {"Manual": 1, "WouldSet": 3}
    assert result.ok
    rows = log_rows(result.log_path)
    assert [r["Outcome"] for r in rows] == ["WouldSet"] * 3 + ["Manual"]
    assert rows[0]["ValueBefore"] == before[0] and rows[0]["ValueAfter"] == NEW[0]


def test_apply_writes_reads_back_and_rollback_restores(tmp_path: Path) -> None:
    with org() as server:
        original = values(server)
        folder = plan_folder(server, tmp_path)
        other = {k: v for k, v in server.app_users[APP][0]["profile"].items() if k != "immutableId"}
        result = okta_apply(config(server), folder, apply=True, echo=lambda _: None)
        assert result.counts == {"Changed": 3, "Manual": 1}
        assert values(server) == NEW
        posts = [r for r in server.requests if r.method == "POST"]
        assert len(posts) == 3 and all(r.headers["authorization"] == f"SSWS {TOKEN}" for r in posts)
        sent = json.loads(posts[0].body)["profile"]
        assert sent["immutableId"] == NEW[0] and {k: sent[k] for k in other} == other  # whole profile kept
        again = okta_apply(config(server), folder, apply=True, echo=lambda _: None)
        assert again.counts == {"Manual": 1, "Unchanged": 3}  # idempotent
        back = okta_apply(config(server), folder, apply=True, rollback=True, echo=lambda _: None)
        assert back.counts == {"Changed": 3, "Manual": 1}
        assert values(server) == original
    assert TOKEN not in result.log_path.read_text("utf-8-sig")


def test_a_value_changed_since_the_assessment_is_skipped(tmp_path: Path) -> None:
    with org() as server:
        folder = plan_folder(server, tmp_path)
        server.app_users[APP][1]["profile"]["immutableId"] = "SomebodyElseChangedIt="
        result = okta_apply(config(server), folder, apply=True, echo=lambda _: None)
        assert values(server)[1] == "SomebodyElseChangedIt="
    assert result.counts == {"Changed": 2, "Manual": 1, "Skipped": 1} and not result.ok
    skipped = [r for r in result.outcomes if r["Outcome"] == "Skipped"][0]
    assert skipped["ValueBefore"] == "SomebodyElseChangedIt=" and "not the one hybridx saw" in skipped["Message"]


def test_rate_limit_is_waited_out_and_retried(tmp_path: Path) -> None:
    sleeps = Sleeps()
    with org() as server:
        folder = plan_folder(server, tmp_path)
        first = server.app_users[APP][0]["id"]
        server.fail(f"/api/v1/apps/{APP}/users/{first}", 429, times=1)
        cfg = config(server)
        from hybridx_nb.remediation import okta_apply as module

        result = module.okta_apply(cfg, folder, apply=True, retry=policy(sleeps), echo=lambda _: None)
        assert values(server) == NEW
    assert result.counts == {"Changed": 3, "Manual": 1}
    assert len(sleeps.waits) == 1 and 0 <= sleeps.waits[0] <= 2  # until X-Rate-Limit-Reset (1 s ahead)


def test_a_mapping_applied_on_every_update_is_reported(tmp_path: Path) -> None:
    with org() as server:
        folder = plan_folder(server, tmp_path)
        server.mapping_push[APP] = "PUSH"
        result = okta_apply(config(server), folder, apply=True, echo=lambda _: None)
    assert result.counts == {"Failed": 3, "Manual": 1}
    assert any("pushStatus PUSH" in w for w in result.warnings)
    assert all("change the mapping instead" in r["Message"] for r in result.outcomes if r["Outcome"] == "Failed")


def test_only_the_users_the_entra_side_changed_and_one_pilot(tmp_path: Path) -> None:
    with org() as server:
        folder = plan_folder(server, tmp_path)
        entra_log = tmp_path / "remediation-log.csv"
        entra_log.write_text("Time,Mode,EntraId,UserPrincipalName,Outcome,ValueBefore,ValueAfter,Message\r\n"
                             "t,apply,00000000-0000-4000-8000-000000000000,u,Changed,a,b,ok\r\n"
                             "t,apply,00000000-0000-4000-8000-000000000001,u,Failed,a,,no\r\n", "utf-8-sig")
        result = okta_apply(config(server), folder, apply=True, entra_log=entra_log, echo=lambda _: None)
        assert result.counts == {"Changed": 1, "Manual": 1, "NotYet": 2}
        pilot = server.app_users[APP][2]["credentials"]["userName"]
        one = okta_apply(config(server), folder, apply=True, user=pilot.upper(), echo=lambda _: None)
        assert one.counts == {"Changed": 1}
        assert values(server) == [NEW[0], server.app_users[APP][1]["id"], NEW[2]]


def test_cli_dry_run_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with org() as server:
        folder = plan_folder(server, tmp_path / "report")
        toml = tmp_path / "client.toml"
        toml.write_text(f'client = "T"\n[okta]\norg_url = "{server.url}"\ntoken = "env:HYBRIDX_TEST_OKTA_TOKEN"\n',
                        "utf-8")
        assert main(["okta-apply", "--config", str(toml), "--plan", str(folder)]) == 0
        out = capsys.readouterr().out
        assert "dry run" in out and "WouldSet: 3" in out and TOKEN not in out
        server.app_users[APP][0]["profile"]["immutableId"] = "changed"
        assert main(["okta-apply", "--config", str(toml), "--plan", str(folder), "--apply"]) == 1
        assert main(["okta-apply", "--config", str(toml), "--plan", str(tmp_path)]) == 2  # no plan file there
        assert "okta-remediation.csv: not found" in capsys.readouterr().err
