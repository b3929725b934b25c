"""Hybrid Exchange readiness: every Exchange state of the demo tenant detected as its ground truth says, and an AD
export without the Exchange attributes leaves the on-premises state unknown instead of guessing."""

from __future__ import annotations

import pandas as pd
import pytest

from hybridx_nb.demo.tenant import generate
from hybridx_nb.engine.match import EngineSettings, predict
from hybridx_nb.readiness.exchange import exchange_readiness
from hybridx_nb.snapshot.coverage import MISSING, Coverage
from hybridx_nb.snapshot.store import build_snapshot


@pytest.fixture(scope="module")
def demo():
    tenant = generate(users=600, seed=5)
    return tenant, predict(tenant.snapshot, EngineSettings()).findings


def test_each_state_gets_exactly_its_findings(demo) -> None:
    tenant, findings = demo
    result = exchange_readiness(tenant.snapshot, findings)
    truth = tenant.exchange_truth
    assert set(truth["state"]) == {"remote_ok", "onprem", "none", "both", "cloud_no_remote", "guid_mismatch",
                                   "licence_only", "x500_missing"}
    expected = {(e, f) for e, fs in zip(truth["entra_id"], truth["expected"]) for f in fs.split(";") if f}
    assert set(zip(result.findings["entra_id"], result.findings["finding"])) == expected
    states = result.states.merge(truth, on="entra_id")
    want = {"remote_ok": ("remote_mailbox", "mailbox"), "onprem": ("mailbox", "none"), "none": ("none", "none"),
            "both": ("mailbox", "mailbox"), "cloud_no_remote": ("none", "mailbox"),
            "licence_only": ("mailbox", "licensed")}
    for state, (onprem, cloud) in want.items():
        rows = states[states["state"].eq(state)]
        assert (rows["onprem_state"] == onprem).all() and (rows["cloud_state"] == cloud).all(), state


def test_fix_values_come_from_the_exports(demo) -> None:
    tenant, findings = demo
    result = exchange_readiness(tenant.snapshot, findings).findings.merge(tenant.exchange_truth, on="entra_id")
    mismatch = result[result["finding"].eq("exchange_guid_mismatch")]
    assert len(mismatch) and (mismatch["cloud_exchange_guid_x"] == mismatch["cloud_exchange_guid_y"]).all()
    assert (mismatch["ad_exchange_guid"] != mismatch["cloud_exchange_guid_x"]).all()
    x500 = result[result["finding"].eq("x500_missing")]
    assert (x500["cloud_legacy_dn_x"] == x500["cloud_legacy_dn_y"]).all()
    remote = result[result["finding"].eq("no_remote_mailbox")]
    assert remote["routing_address"].str.endswith("@contoso.mail.onmicrosoft.com").all()
    assert all(len(e) > 80 for e in result["explanation"])


def test_without_exchange_attributes_the_state_is_unknown(demo) -> None:
    tenant, findings = demo
    snap = tenant.snapshot
    lacking = ("recipient_type_details", "home_mdb", "remote_recipient_type", "exchange_guid")
    tables = {n: f for n, f in snap.tables.items() if n not in ("rejected", "exo_mailboxes")}
    bare = build_snapshot(tables, snap.tenant, coverage=Coverage({"ad_users": {c: MISSING for c in lacking}}))
    result = exchange_readiness(bare, findings)
    assert (result.states["onprem_state"] == "unknown").all()
    assert not result.findings["finding"].isin(["mailbox_both_sides", "no_remote_mailbox", "x500_missing"]).any()
    assert any("no on-premises Exchange attributes" in n for n in result.notes)
    assert any("provisionedPlans" in n for n in result.notes)
    assert isinstance(result.summary()["states"], dict) and pd.notna(result.states["cloud_state"]).all()
