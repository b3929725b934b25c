"""The three verify commands on the demo tenant, through ``hybridx`` itself: staging export, diff, after-sync.

Assessment folders are written by ``assess.run`` + ``write_outputs`` (the notebook's own calls, without a
kernel); the after-sync state is served by the local Graph-like server and collected through msgraph-sdk.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support.fake_graph import FakeGraph
from support.fake_http import PROXY_VARS

from hybridx_nb.app import assess
from hybridx_nb.app.cli import main
from hybridx_nb.demo import after, staging
from hybridx_nb.demo.tenant import DemoTenant, generate
from hybridx_nb.snapshot.store import Snapshot, build_snapshot, write_snapshot
from hybridx_nb.verify.inputs import read_csv_text

TOKEN = "eyJ0eXAiOiJKV1QifQ.fake-graph-access-token.sig"


@pytest.fixture(scope="module")
def tenant() -> DemoTenant:
    return generate(300)


def assessed(snap: Snapshot, folder: Path) -> Path:
    """An assessment folder (findings.csv, readiness.csv, summary.json, remediation files) of ``snap``."""
    write_snapshot(snap, folder.with_name(folder.name + "-snapshot"))
    params = assess.validate_params({"client": "Contoso (demo)", "snapshot": str(folder.with_name(
        folder.name + "-snapshot")), "out": str(folder)})
    assess.write_outputs(assess.run(params), folder)
    return folder


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str]:
    code = main(list(map(str, argv)))
    return code, capsys.readouterr().out


# ---------------------------------------------------------------------------------------------------------------
# verify-staging
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["xml", "csv"])
def test_an_export_that_matches_the_prediction_is_safe(tenant, tmp_path, capsys, fmt):
    fixed = after.resolve_all(tenant)
    folder = assessed(fixed, tmp_path / "ready")
    pending = staging.simulate_pending(fixed, after.in_scope(tenant))
    export = (staging.write_csexport_xml(pending, tmp_path / "export.xml") if fmt == "xml"
              else staging.write_analyzer_csv(pending, tmp_path / "export.csv"))
    code, out = run(capsys, "verify-staging", "--export", export, "--assessment", folder, "--out", tmp_path / "c")
    assert code == 0 and out.startswith("safe to leave staging: ")
    rows = read_csv_text(tmp_path / "c" / "staging-check.csv")
    assert set(rows["status"]) == {"expected_add", "expected_update"} and len(rows) == len(pending)
    html = (tmp_path / "c" / "staging-check.html").read_text(encoding="utf-8")
    assert "safe to leave staging" in html and "<script>" in html and "http" not in html.split("<body>")[1][:200]


def test_a_planted_add_and_delete_are_named_and_exit_1(tenant, tmp_path, capsys):
    fixed = after.resolve_all(tenant)
    folder = assessed(fixed, tmp_path / "ready")
    pending = staging.simulate_pending(fixed, after.in_scope(tenant))
    victim = pending.index[pending["operation"].eq("update")][7]
    pending.loc[victim, "operation"] = "delete"
    intruder = staging.synthetic_pending(1).assign(upn="intruder@contoso.com", smtp="intruder@contoso.com",
                                                   display_name="<b>Intruder</b>")
    export = staging.write_csexport_xml(pd.concat([pending, intruder], ignore_index=True), tmp_path / "x.xml")
    code, out = run(capsys, "verify-staging", "--export", export, "--assessment", folder, "--out", tmp_path / "c")
    assert code == 1 and out.startswith("NOT safe to leave staging: 1 Delete(s), 1 unexpected Add(s)")
    assert f"delete: {pending.loc[victim, 'upn']}" in out and "unexpected_add: intruder@contoso.com" in out
    rows = read_csv_text(tmp_path / "c" / "staging-check.csv")
    assert rows.loc[rows["status"].ne("expected_update") & rows["status"].ne("expected_add"), "upn"].tolist() == [
        pending.loc[victim, "upn"], "intruder@contoso.com"]
    html = (tmp_path / "c" / "staging-check.html").read_text(encoding="utf-8")
    assert "&lt;b&gt;Intruder&lt;/b&gt;" in html and "<b>Intruder</b>" not in html


def test_the_unfixed_demo_lists_exactly_the_predicted_duplicates(tenant, tmp_path, capsys):
    folder = assessed(tenant.snapshot, tmp_path / "before")
    pending = staging.simulate_pending(tenant.snapshot, after.in_scope(tenant))
    export = staging.write_csexport_xml(pending, tmp_path / "x.xml")
    code, out = run(capsys, "verify-staging", "--export", export, "--assessment", folder, "--out", tmp_path / "c")
    rows = read_csv_text(tmp_path / "c" / "staging-check.csv")
    truth = tenant.truth
    assert code == 1 and "12 duplicate(s)" in out.splitlines()[0]
    assert set(rows.loc[rows["status"].eq("duplicate"), "ad_dn"]) == set(
        truth.loc[truth["category"].eq("anchor_mismatch"), "ad_dn"])
    assert set(rows.loc[rows["status"].eq("blocked"), "ad_dn"]) == set(
        truth.loc[truth["category"].eq("match_blocked"), "ad_dn"])


def test_bad_export_is_one_clear_line(tenant, tmp_path, capsys):
    folder = assessed(tenant.snapshot, tmp_path / "before")
    (tmp_path / "x.xml").write_text("<cs-objects><cs-object cs-dn='a'>", encoding="utf-8")
    code = main(["verify-staging", "--export", str(tmp_path / "x.xml"), "--assessment", str(folder),
                 "--out", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert code == 2 and "x.xml, line 1: not well-formed XML" in err and "Traceback" not in err


# ---------------------------------------------------------------------------------------------------------------
# diff
# ---------------------------------------------------------------------------------------------------------------

def test_diff_after_applying_half_of_the_fixes_lists_exactly_those_as_fixed(tenant, tmp_path, capsys):
    before = assessed(tenant.snapshot, tmp_path / "before")
    plan = read_csv_text(before / "remediation.csv")  # what remediation.ps1 -Apply writes, row by row
    fixes = plan[plan["Action"].str.startswith("SetImmutableId")].rename(columns={
        "EntraId": "entra_id", "NewImmutableId": "new_immutable_id", "Category": "category"})
    half = fixes.iloc[::2]
    later = assessed(after.apply_anchor_fixes(tenant.snapshot, half[["entra_id", "new_immutable_id"]]),
                     tmp_path / "after")
    code, out = run(capsys, "diff", before, later, "--out", tmp_path / "d")
    rows = read_csv_text(tmp_path / "d" / "diff.csv")
    fixed = rows[rows["status"].eq("fixed")]
    assert code == 0 and sorted(fixed["entra_id"]) == sorted(half["entra_id"].str.lower())
    assert (fixed["after"] == "hard_match").all() and (fixed["anchor_changed"] == "yes").all()
    assert set(rows.loc[rows["status"].eq("still_open") & rows["before"].eq("anchor_mismatch"), "entra_id"]) == \
        set(fixes.loc[~fixes.index.isin(half.index) & fixes["category"].eq("anchor_mismatch"), "entra_id"].str.lower())
    assert f"{len(half)} fixed, 0 regressed" in out
    for upn in fixed["ad_upn"]:
        assert f"fixed: {upn} (" in out


# ---------------------------------------------------------------------------------------------------------------
# verify-sync, the after-state collected through msgraph-sdk from the local Graph-like server
# ---------------------------------------------------------------------------------------------------------------

def _graph_users(users: pd.DataFrame) -> list[dict]:
    def val(v: object) -> object:
        if v is None or (not isinstance(v, (list, np.ndarray)) and pd.isna(v)):
            return None
        return bool(v) if isinstance(v, np.bool_) else v

    out = []
    for r in users.itertuples(index=False):
        out.append({
            "id": r.id, "userPrincipalName": r.upn, "mail": val(r.mail), "proxyAddresses": list(r.proxy_addresses),
            "onPremisesImmutableId": val(r.immutable_id), "onPremisesSyncEnabled": val(r.on_prem_sync_enabled),
            "accountEnabled": val(r.account_enabled), "userType": val(r.user_type),
            "displayName": val(r.display_name), "mailNickname": val(r.mail_nickname),
            "assignedLicenses": [{"disabledPlans": [], "skuId": s} for s in r.assigned_licenses],
            "creationType": val(r.creation_type), "onPremisesLastSyncDateTime": val(r.on_prem_last_sync),
            "onPremisesProvisioningErrors": json.loads(r.on_prem_provisioning_errors or "[]"),
            "serviceProvisioningErrors": json.loads(r.service_provisioning_errors or "[]")})
    return out


def _collected(snap: Snapshot, tenant: DemoTenant, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from hybridx_nb.sources.live.graph_api import StaticToken, read_graph_tenant

    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    domains = [{"id": d.name, "authenticationType": d.authentication_type, "isVerified": True,
                "isDefault": bool(d.is_default), "isInitial": bool(d.is_initial)}
               for d in snap["entra_domains"].itertuples()]
    with FakeGraph(TOKEN, _graph_users(snap["entra_users"]), domains=domains) as server:
        live = read_graph_tenant(StaticToken(TOKEN), base_url=server.url + "/v1.0", roles=False, organization=False,
                                 sync_features=False)
        select = server.seen("/v1.0/users")[0].query["$select"]
    assert "onPremisesProvisioningErrors" in select and "serviceProvisioningErrors" in select
    tables = {"ad_users": tenant.snapshot["ad_users"], **live.tables}
    return write_snapshot(build_snapshot(tables, tenant.snapshot.tenant), folder)


@pytest.mark.slow
def test_verify_sync_is_100_percent_when_the_sync_follows_the_prediction_and_names_each_disagreement(
        tenant, tmp_path, capsys, monkeypatch):
    before = assessed(tenant.snapshot, tmp_path / "before")
    follows = _collected(after.simulate_first_sync(tenant), tenant, tmp_path / "after-1", monkeypatch)
    code, out = run(capsys, "verify-sync", "--before", before, "--after", follows, "--out", tmp_path / "v1")
    assert code == 0 and out.startswith("prediction accuracy: 100.0% (")
    assert "duplicates found in Graph: 12" in out

    truth = tenant.truth.set_index("case")
    planted = {truth.loc["soft_match_smtp", "ad_dn"]: "duplicate",       # predicted a takeover
               truth.loc["okta_user_id_1", "ad_dn"]: "took_over",        # predicted a duplicate
               truth.loc["new_user_upn_space", "ad_dn"]: "not_synced"}   # predicted new
    differs = _collected(after.simulate_first_sync(tenant, planted), tenant, tmp_path / "after-2", monkeypatch)
    code, out = run(capsys, "verify-sync", "--before", before, "--after", differs, "--out", tmp_path / "v2")
    scored = int(out.split(" of ")[1].split()[0].replace(",", ""))
    assert code == 1 and out.startswith(f"prediction accuracy: {100 * (scored - 3) / scored:.1f}%")
    named = [line for line in out.splitlines() if line.startswith("  ")]
    assert len(named) == 3
    text = "\n".join(named)
    assert "megan.bowen@contoso.com: predicted anchor_mismatch (expected duplicate), observed took_over" in text
    assert "anna maria.schulz@contoso.com: predicted new_user (expected created), observed not_synced" in text
    assert ("henrietta.mueller@fabrikam.com: predicted soft_match (expected took_over), observed duplicate" in text
            and "PropertyConflict UserPrincipalName=henrietta.mueller@fabrikam.com" in text)


# ---------------------------------------------------------------------------------------------------------------
# assess --previous, the report section, and the batch trend
# ---------------------------------------------------------------------------------------------------------------

def test_assess_previous_names_who_does_not_hard_match_yet(tenant, tmp_path):
    from hybridx_nb.report.since import since_section

    before = assessed(tenant.snapshot, tmp_path / "before")
    fixed = after.resolve_all(tenant)
    write_snapshot(fixed, tmp_path / "snap")
    params = assess.validate_params({"client": "Contoso", "snapshot": str(tmp_path / "snap"),
                                     "previous": str(before), "out": str(tmp_path / "again")})
    a = assess.run(params)
    files = assess.write_outputs(a, tmp_path / "again")
    assert a.since.counts["fixed"] > 0 and a.since.counts["regressed"] == 0
    assert json.loads(files["summary.json"].read_text())["since_previous"]["fixed"] == a.since.counts["fixed"]
    html = since_section(a).data
    left = a.findings[a.findings["ad_dn"].notna() & ~a.findings["category"].isin(["hard_match", "excluded"])]
    assert f"do not hard-match yet <span class=\"hx-n\">({len(left):,})" in html
    assert set(left["category"]) == {"new_user"} and all(u in html for u in left["ad_upn"].head(5)
                                                         .str.replace("&", "&amp;"))
    assert "Megan Bowen" in html and "Megan Bowen" not in since_section(a, redacted=True).data
    with pytest.raises(Exception, match="previous must be an earlier assessment folder"):
        assess.validate_params({"snapshot": str(tmp_path / "snap"), "previous": str(tmp_path)})


def test_batch_trend_and_previous_copy(tmp_path):
    from hybridx_nb.app.batch import ClientOutcome, ClientSpec, _previous_run, _trend
    from hybridx_nb.core.folders import write_marker

    folder = tmp_path / "contoso"
    folder.mkdir()
    (folder / "findings.csv").write_text("category\r\nhard_match\r\n", encoding="utf-8")
    (folder / "summary.json").write_text(json.dumps({"counts": {"hard_match": 5, "anchor_mismatch": 12}}))
    work = tmp_path / "work"
    work.mkdir()
    spec = ClientSpec("Contoso", "contoso", {"client": "Contoso"})
    assert _previous_run(spec, folder, work) == (spec.params, None)  # not marked as hybridx's report: no earlier run
    write_marker(folder, "report")
    params, previous = _previous_run(spec, folder, work)
    assert previous == {"hard_match": 5, "anchor_mismatch": 12}
    assert (Path(params["previous"]) / "findings.csv").read_text(encoding="utf-8").startswith("category")
    now = ClientOutcome("Contoso", "contoso", True, counts={"hard_match": 11, "anchor_mismatch": 6},
                        previous=previous)
    assert _trend(now) == "Match 5 → 11 · Duplicated 12 → 6"
    assert _trend(ClientOutcome("X", "x", True, counts={"hard_match": 1})) == "first run"


@pytest.mark.slow
def test_the_notebook_renders_since_the_last_assessment(tenant, tmp_path, capsys):
    before = assessed(tenant.snapshot, tmp_path / "before")
    write_snapshot(after.resolve_all(tenant), tmp_path / "snap")
    code, _ = run(capsys, "assess", "--client", "Contoso", "--snapshot", tmp_path / "snap", "--previous", before,
                  "--out", tmp_path / "again", "--quiet")
    html = (tmp_path / "again" / "assessment.html").read_text(encoding="utf-8")
    assert code == 0 and "Since the last assessment" in html and "do not hard-match yet" in html
    assert "Megan Bowen" in html and (tmp_path / "again" / "since-last.csv").is_file()
