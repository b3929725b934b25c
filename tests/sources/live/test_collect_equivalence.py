"""Issue 5's proof: ``collect`` against Samba, the fake Okta and the fake Graph gives a snapshot whose assessment
equals the assessment of the same data delivered as export files (AD as Export-Csv and as LDIF)."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pandas as pd
import pytest
from support.equivalence import (
    APP_ID,
    EQ_OU,
    READER,
    READER_PASSWORD,
    TENANT_ID,
    Cloud,
    Person,
    create_directory,
    derive_cloud,
    okta_app,
    plan,
    read_directory,
    remove_directory,
    write_ad_csv,
    write_ad_ldif,
    write_cloud_exports,
)
from support.fake_graph import FakeGraph
from support.fake_http import PROXY_VARS
from support.fake_okta import FakeOkta
from support.samba import SambaDC, samba_dc

from hybridx_nb.app import assess
from hybridx_nb.core.vocabulary import PAIR_CATEGORIES
from hybridx_nb.snapshot.store import Snapshot
from hybridx_nb.sources.live.collect import collect

pytestmark = [pytest.mark.slow, pytest.mark.samba]
__all__ = ["samba_dc"]  # a fixture, imported for pytest

OKTA_TOKEN = "00aEquivalenceSsws-0123456789abcdefXYZ"
GRAPH_TOKEN = "eyJ0eXAiOiJKV1QifQ.equivalence-graph-token.sig"
ENV = {"HX_EQ_LDAP_PW": READER_PASSWORD, "HX_EQ_OKTA_TOKEN": OKTA_TOKEN, "HX_EQ_GRAPH_TOKEN": GRAPH_TOKEN}


@dataclasses.dataclass
class Tenant:
    """The planted people, the AD entries as the DC returns them, the cloud data and the running fakes."""

    people: list[Person]
    entries: list
    cloud: Cloud
    okta: FakeOkta
    graph: FakeGraph
    seconds: float


@pytest.fixture(scope="module")
def tenant(samba_dc: SambaDC) -> Tenant:
    started = time.monotonic()
    people = plan()
    create_directory(samba_dc, people)
    try:
        entries = read_directory(samba_dc)
        by_sam = {raw["sAMAccountName"][0].decode(): raw for _, raw in entries}
        cloud = derive_cloud(people, by_sam)
        okta = FakeOkta(OKTA_TOKEN, cloud.okta_users, [okta_app()], {APP_ID: cloud.app_users}).start()
        graph = FakeGraph(GRAPH_TOKEN, cloud.graph_users, role_assignments=cloud.role_assignments,
                          domains=cloud.domains, organization=cloud.organization, sync=cloud.sync).start()
        try:
            yield Tenant(people, entries, cloud, okta, graph, time.monotonic() - started)
        finally:
            okta.stop()
            graph.stop()
    finally:
        remove_directory(samba_dc)  # the other Samba tests count the domain's users


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true")  # the okta SDK, for the local server
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


def client_toml(path: Path, dc: SambaDC, t: Tenant) -> Path:
    """Samba over validated LDAPS scoped to the OU, the fake Okta and Graph; secrets as env: references."""
    path.write_text(f"""
client = "Equivalence"
[ldap]
urls = ["{dc.url()}"]
base_dn = "{dc.base_dn}"
sync_ous = ["{EQ_OU}"]
user = "{READER}@hybridx.test"
password = "env:HX_EQ_LDAP_PW"
ca_file = "{dc.ca_file}"
tls_name = "{dc.tls_name}"
page_size = 20
[okta]
org_url = "{t.okta.url}"
token = "env:HX_EQ_OKTA_TOKEN"
page_size = 20
[graph]
tenant_id = "{TENANT_ID}"
access_token = "env:HX_EQ_GRAPH_TOKEN"
base_url = "{t.graph.url}/v1.0"
page_size = 20
sync_state = false  # the export files carry no sync state (docs/domain.md §13)
""", encoding="utf-8")
    return path


def by_key(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Rows in a stable order (every column as text, so the sort never compares NaN with values)."""
    frame = frame.reset_index(drop=True)
    return frame.loc[frame[keys].astype("str").fillna("").sort_values(keys, kind="stable").index].reset_index(drop=True)


def _plain(value: object) -> object:
    """A cell as a comparable Python value: lists as lists, every kind of missing as None."""
    if hasattr(value, "__len__") and not isinstance(value, str):
        return [_plain(v) for v in value]
    return None if pd.isna(value) else value


def assert_same_rows(live: pd.DataFrame, export: pd.DataFrame, keys: list[str], what: str) -> None:
    """Equal as sets of rows: every column, NaN equal to NaN; a failure names the first rows that differ."""
    assert list(live.columns) == list(export.columns), what
    a, b = by_key(live, keys), by_key(export, keys)
    assert len(a) == len(b), f"{what}: {len(a)} live rows, {len(b)} from export files"
    differ = [(i, c) for c in a.columns for i in range(len(a)) if _plain(a.at[i, c]) != _plain(b.at[i, c])]
    assert not differ, f"{what} differ, e.g.: " + "; ".join(
        f"row {i} ({a.loc[i, keys].tolist()}) {c}: live {a.at[i, c]!r} vs export {b.at[i, c]!r}" for i, c in differ[:5])
    pd.testing.assert_frame_equal(a, b, obj=what)  # dtypes too


#: table → its key, and the columns that say where a row came from rather than what it holds: the export's line
#: number, the app label (a curl'd app-user page does not carry it; hybridx's combined Okta JSON does).
TABLES = {"ad_users": ["dn"], "entra_users": ["id"], "okta_users": ["id"], "okta_app_users": ["app_id", "user_id"],
          "entra_domains": ["name"], "entra_role_members": ["principal_id", "role_id"]}
PROVENANCE = ["source_line", "app_label"]


def assert_same_snapshot(live: Snapshot, export: Snapshot) -> None:
    """The same canonical rows on both paths, apart from provenance."""
    assert live.rejected.empty and export.rejected.empty
    assert {n: len(f) for n, f in live.tables.items() if len(f)} == \
        {n: len(f) for n, f in export.tables.items() if len(f)}
    for name, keys in TABLES.items():
        drop = PROVENANCE + (["is_critical_system_object"] if name == "ad_users" else [])  # see the test
        assert_same_rows(live[name].drop(columns=drop, errors="ignore"),
                         export[name].drop(columns=drop, errors="ignore"), keys, name)
    # the Okta mode: the API shows "unknown" for this app; a consultant states it in tenant.json (or not)
    assert dataclasses.replace(live.tenant, okta_provisioning_mode=None) == export.tenant


@pytest.mark.parametrize("ad_format", ["csv", "ldif"])
def test_live_collection_assesses_like_export_files(samba_dc: SambaDC, tenant: Tenant, env: None, tmp_path: Path,
                                                    ad_format: str) -> None:
    started = time.monotonic()
    folder = collect(client_toml(tmp_path / "client.toml", samba_dc, tenant), tmp_path / "snapshot", progress=False)
    collected = time.monotonic()
    files = write_cloud_exports(tenant.graph.url, GRAPH_TOKEN, tenant.okta.url, OKTA_TOKEN, tmp_path)
    writer = write_ad_csv if ad_format == "csv" else write_ad_ldif
    files["ad"] = writer(tenant.entries, tmp_path / f"ad.{ad_format}")

    live = assess.run(assess.Params(client="Equivalence", snapshot=str(folder)))
    export = assess.run(assess.Params(client="Equivalence", **{k: str(v) for k, v in files.items()}))
    print(f"tenant {tenant.seconds:.1f} s, collect {collected - started:.1f} s, "
          f"exports + both assessments {time.monotonic() - collected:.1f} s")

    assert_same_snapshot(live.snapshot, export.snapshot)
    assert live.snapshot["ad_users"]["is_critical_system_object"].eq(False).all()
    # PowerShell's CSV shows the column was exported, so an empty field is false; an LDIF entry cannot say
    critical = export.snapshot["ad_users"]["is_critical_system_object"]
    assert critical.eq(False).all() if ad_format == "csv" else critical.isna().all()
    secrets = [v.encode() for v in ENV.values()]
    assert not [p for p in folder.rglob("*") if p.is_file() and any(s in p.read_bytes() for s in secrets)]
    assert_same_rows(live.findings, export.findings, ["ad_dn", "entra_id"], "findings")
    # The one known difference: LDAP reads an unset isCriticalSystemObject as false, an LDIF entry cannot show it,
    # so for an OU without system objects the engine notes the flag as missing there (the findings are equal)
    # Okta's API exports do not carry the provisioning mode the live collector reads from the app: an assumption
    notes = [n for n in export.prediction.assumptions if not n.startswith("Okta provisioning mode")
             and (ad_format == "csv" or not n.startswith("isCriticalSystemObject"))]
    assert (live.prediction.anchor_setting, live.prediction.anchor_reason, live.prediction.assumptions) == \
        (export.prediction.anchor_setting, export.prediction.anchor_reason, notes)
    assert live.counts == export.counts
    assert_same_rows(live.readiness, export.readiness, list(live.readiness.columns), "readiness")
    assert (live.plan.strategy, live.plan.strategy_reason, live.plan.expected) == \
        (export.plan.strategy, export.plan.strategy_reason, export.plan.expected)
    assert_same_rows(live.plan.actions, export.plan.actions, ["entra_id", "ad_dn", "step"], "plan actions")
    check_planted_cases(live.findings, tenant)
    assert len(live.readiness) and len(live.plan.actions)  # the comparisons above compared something


def check_planted_cases(findings: pd.DataFrame, t: Tenant) -> None:
    """Each planted identity got the category docs/domain.md §2 gives it (and, where planted, its kind or block)."""
    assert len(findings) == len(t.people)  # one row per identity: pairs once, the three ambiguous rows apart
    ad = findings.dropna(subset=["ad_dn"]).set_index("ad_dn")
    cloud = findings.dropna(subset=["entra_id"]).set_index("entra_id")
    for p in t.people:
        row = ad.loc[f"CN={p.key},{EQ_OU}"] if p.ad else cloud.loc[t.cloud.entra_ids[p.key]]
        got = (row["category"], row["anchor_kind"] if p.kind else None, row["block_reason"] if p.block else None)
        assert got == (p.category, p.kind, p.block), p.key
        if p.category in PAIR_CATEGORIES:
            assert row["entra_id"] == t.cloud.entra_ids[p.key], p.key
    assert ad.loc[f"CN=cgother,{EQ_OU}", "anchor_source"] == "objectGUID"  # a ConsistencyGuid in scope: express
    # install falls back to objectGUID (docs/domain.md §3)
    assert not cloud.loc[t.cloud.entra_ids["bigend1"], "okta_agrees"]  # Okta holds the right value there
    assert cloud.loc[t.cloud.entra_ids["oktaid0"], "okta_agrees"]
