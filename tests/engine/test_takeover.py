"""The takeover diff: the demo tenant's planted drift found exactly, proxy addresses per value, the manager through
the match, and an attribute an export did not carry never reported as cleared."""

from __future__ import annotations

import pandas as pd
import pytest

from hybridx_nb.demo.tenant import generate
from hybridx_nb.engine import takeover
from hybridx_nb.engine.match import EngineSettings, predict
from hybridx_nb.engine.takeover import takeover_impact
from hybridx_nb.snapshot.coverage import MISSING, Coverage
from hybridx_nb.snapshot.store import build_snapshot


@pytest.fixture(scope="module")
def demo():
    tenant = generate(users=600, seed=11)
    findings = predict(tenant.snapshot, EngineSettings()).findings
    return tenant, findings, takeover_impact(tenant.snapshot, findings)


def test_every_planted_change_is_found(demo) -> None:
    tenant, _, result = demo
    got = result.changes.set_index(["entra_id", "attribute", "status", "cloud_value"])
    truth = tenant.takeover_truth
    assert set(truth["case"]) == {"cloud_alias", "cloud_title", "okta_mail_only", "cloud_mobile", "manager_changed",
                                  "x500_only_in_cloud"}
    for row in truth.itertuples():
        assert (row.entra_id, row.attribute, row.status, row.cloud_value) in got.index, row


def test_bulk_users_without_drift_keep_everything(demo) -> None:
    tenant, _, result = demo
    bulk = tenant.truth.loc[tenant.truth["case"].eq("bulk_hard_match"), "entra_id"]
    drifted = set(tenant.takeover_truth["entra_id"])
    changed = set(result.changes["entra_id"])
    assert not (set(bulk) - drifted) & changed  # only the planted drift changes a bulk user
    lost = result.changes[result.changes["status"].eq("lost")]
    expected_lost = tenant.takeover_truth[tenant.takeover_truth["status"].eq("lost")]
    assert len(lost) == len(expected_lost)
    assert result.users_losing_addresses == expected_lost["entra_id"].nunique()


def test_counts_add_up_per_attribute(demo) -> None:
    _, _, result = demo
    for attribute, counts in result.counts.items():
        if attribute != "proxyAddresses":
            assert sum(counts.values()) == result.pairs, attribute
    assert result.counts["jobTitle"]["overwritten"] == (result.changes["attribute"].eq("jobTitle")).sum()


def _pair_snapshot(ad: dict, cloud: dict, missing: dict | None = None):
    """Two pairs (the second with ``ad``/``cloud`` values); ``missing``: table → columns its export lacked."""
    ad_rows = [{"dn": "CN=Boss,DC=x", "object_guid": "11111111-1111-4111-8111-111111111111", "upn": "boss@x.com",
                "proxy_addresses": ["SMTP:boss@x.com"]},
               {"dn": "CN=Ann,DC=x", "object_guid": "22222222-2222-4222-8222-222222222222", "upn": "ann@x.com",
                **ad}]
    cloud_rows = [{"id": "aaaaaaaa-0000-4000-8000-000000000001", "upn": "boss@x.com",
                   "proxy_addresses": ["SMTP:boss@x.com"]},
                  {"id": "aaaaaaaa-0000-4000-8000-000000000002", "upn": "ann@x.com", **cloud},
                  {"id": "aaaaaaaa-0000-4000-8000-000000000003", "upn": "other@x.com", "proxy_addresses": []}]
    coverage = Coverage({t: {c: MISSING for c in cols} for t, cols in (missing or {}).items()})
    snap = build_snapshot({"ad_users": pd.DataFrame(ad_rows), "entra_users": pd.DataFrame(cloud_rows)},
                          coverage=coverage)
    findings = pd.DataFrame({"category": ["hard_match", "soft_match"],
                             "ad_object_guid": [r["object_guid"] for r in ad_rows],
                             "entra_id": [r["id"] for r in cloud_rows[:2]]})
    return snap, findings


ALL: dict = {}  # every column exported


def test_proxy_addresses_per_value_and_the_primary() -> None:
    snap, findings = _pair_snapshot(
        {"proxy_addresses": ["SMTP:ann@x.com", "smtp:a.new@x.com"], "mail": "ann@x.com"},
        {"proxy_addresses": ["SMTP:Ann.Old@x.com", "smtp:ANN@x.com", "smtp:ann@x.onmicrosoft.com",
                             "X500:/o=ExchangeLabs/cn=Recipients/cn=abc"], "mail": "ann.old@x.com"}, ALL)
    changes = takeover_impact(snap, findings).changes
    ann = changes[changes["entra_upn"].eq("ann@x.com")]
    lost = set(ann.loc[ann["status"].eq("lost"), "cloud_value"])
    assert lost == {"SMTP:Ann.Old@x.com", "X500:/o=ExchangeLabs/cn=Recipients/cn=abc"}  # case-insensitive; MOERA kept
    assert set(ann.loc[ann["status"].eq("added"), "ad_value"]) == {"smtp:a.new@x.com"}
    primary = ann[ann["status"].eq("primary_changed")].iloc[0]
    assert (primary.cloud_value, primary.ad_value) == ("Ann.Old@x.com", "ann@x.com")
    assert ann.loc[ann["attribute"].eq("mail"), "status"].tolist() == ["overwritten"]
    assert changes.iloc[0]["status"] == "lost"  # most urgent first


@pytest.mark.parametrize("block", [None, 1])
def test_lists_of_one_length_are_still_compared_value_by_value(block, monkeypatch) -> None:
    # same addresses in another order and case: nothing changes; one address swapped: one lost, one added;
    # the same when each pair's lists are joined in a block of their own
    if block:
        monkeypatch.setattr(takeover, "_BLOCK", block)
    for cloud, lost, added in ((["smtp:B@x.com", "SMTP:Ann@x.com"], set(), set()),
                               (["SMTP:ann@x.com", "smtp:d@x.com"], {"smtp:d@x.com"}, {"smtp:b@x.com"})):
        snap, findings = _pair_snapshot({"proxy_addresses": ["SMTP:ann@x.com", "smtp:b@x.com"], "mail": "ann@x.com"},
                                        {"proxy_addresses": cloud, "mail": "ann@x.com"}, ALL)
        result = takeover_impact(snap, findings)
        ann = result.changes[result.changes["entra_upn"].eq("ann@x.com")]
        assert set(ann.loc[ann["status"].eq("lost"), "cloud_value"]) == lost
        assert set(ann.loc[ann["status"].eq("added"), "ad_value"]) == added
        assert not ann["status"].eq("primary_changed").any()
        assert result.counts["proxyAddresses"]["same"] == 2 - len(lost) + 1  # the boss's own address is the same


def test_manager_is_compared_through_the_match_and_flags_are_inverted() -> None:
    snap, findings = _pair_snapshot(
        {"manager": "CN=Boss,DC=x", "hide_from_address_lists": True, "title": "Counsel"},
        {"manager_id": "aaaaaaaa-0000-4000-8000-000000000001", "show_in_address_list": True, "job_title": None}, ALL)
    changes = takeover_impact(snap, findings).changes.set_index("attribute")
    assert "manager" not in changes.index  # the AD manager's pair is the cloud manager: same person
    assert changes.loc["showInAddressList", "status"] == "overwritten"  # hidden on-premises: not shown
    assert changes.loc["jobTitle", "status"] == "set"
    snap2, findings2 = _pair_snapshot({"manager": "CN=Boss,DC=x"},
                                      {"manager_id": "aaaaaaaa-0000-4000-8000-000000000003"}, ALL)
    moved = takeover_impact(snap2, findings2).changes.set_index("attribute").loc["manager"]
    assert (moved.status, moved.cloud_value, moved.ad_value) == ("overwritten", "other@x.com", "CN=Boss,DC=x")


def test_an_attribute_not_exported_is_not_compared() -> None:
    snap, findings = _pair_snapshot({}, {"job_title": "Counsel"}, {"ad_users": ["title"]})
    result = takeover_impact(snap, findings)
    assert "jobTitle" in result.not_compared and "AD" in result.not_compared["jobTitle"]
    assert not result.changes["attribute"].eq("jobTitle").any()
    snap, findings = _pair_snapshot({}, {"job_title": "Counsel"}, ALL)  # exported and empty: cleared
    assert takeover_impact(snap, findings).changes.set_index("attribute").loc["jobTitle", "status"] == "cleared"


def test_the_engines_rows_give_the_pairs_the_lookup_gives(demo) -> None:
    from hybridx_nb.engine.takeover import matched_rows
    from hybridx_nb.readiness.exchange import exchange_readiness

    tenant, _, looked_up = demo
    prediction = predict(tenant.snapshot, EngineSettings())
    snap = tenant.snapshot
    by_rows = matched_rows(prediction.findings, snap["ad_users"], snap["entra_users"], prediction.rows)
    by_lookup = matched_rows(prediction.findings, snap["ad_users"], snap["entra_users"])
    assert len(by_rows) > 400
    pd.testing.assert_frame_equal(by_rows, by_lookup)
    pd.testing.assert_frame_equal(takeover_impact(snap, prediction.findings, prediction.rows).changes,
                                  looked_up.changes)
    pd.testing.assert_frame_equal(exchange_readiness(snap, prediction.findings, prediction.rows).findings,
                                  exchange_readiness(snap, prediction.findings).findings)


@pytest.mark.parametrize("block", [1, 2, 1 << 18])
def test_index_in_keys_finds_the_first_key_either_way(block: int) -> None:
    import numpy as np
    import pyarrow as pa

    from hybridx_nb.engine.takeover import index_in_keys

    dns = ["CN=A,DC=x", "CN=B,DC=x", "cn=a,dc=x", "CN=C,DC=x"] + [f"CN=U{i},DC=x" for i in range(16)]
    keys = pd.Series(pd.array(dns, dtype="str"))
    values = pa.array(["cn=a,DC=X", None, "CN=B,DC=x", "CN=Z,DC=x", "cn=a,dc=x", "CN=B,DC=x"], pa.large_string())
    # 4 distinct values for 20 keys: the keys are probed block by block
    assert index_in_keys(values, keys, fold=True, block=block).tolist() == [0, -1, 1, -1, 0, 1]
    assert index_in_keys(values, keys, block=block).tolist() == [-1, -1, 1, -1, 2, 1]  # case counts
    # as many distinct values as keys: the keys are hashed instead, with the same answers
    assert index_in_keys(values, keys.iloc[:4], fold=True, block=block).tolist() == [0, -1, 1, -1, 0, 1]
    assert index_in_keys(values, keys.iloc[:4], block=block).tolist() == [-1, -1, 1, -1, 2, 1]
    assert index_in_keys(pa.array([], pa.large_string()), keys).tolist() == []
    assert np.array_equal(index_in_keys(pa.nulls(3, pa.large_string()), keys, block=block), [-1, -1, -1])


def test_the_engines_primary_addresses_give_what_the_proxy_lists_give(demo) -> None:
    tenant, _, _ = demo
    snap = tenant.snapshot
    prediction = predict(snap, EngineSettings())
    engine = takeover_impact(snap, prediction.findings, prediction.rows)  # ad_mail/entra_mail: the primaries
    own = takeover_impact(snap, prediction.findings.drop(columns=["ad_mail", "entra_mail"]), prediction.rows)
    assert engine.changes["status"].eq("primary_changed").any()
    pd.testing.assert_frame_equal(engine.changes, own.changes)
    assert engine.counts == own.counts


def test_address_lists_compared_a_block_of_pairs_at_a_time_give_the_same_changes(demo, monkeypatch) -> None:
    tenant, _, _ = demo
    snap = tenant.snapshot
    prediction = predict(snap, EngineSettings())
    whole = takeover_impact(snap, prediction.findings, prediction.rows)
    monkeypatch.setattr(takeover, "_BLOCK", 7)  # the demo's pairs in many blocks, the last one short
    blocks = takeover_impact(snap, prediction.findings, prediction.rows)
    assert whole.counts["proxyAddresses"]["lost"] > 0
    pd.testing.assert_frame_equal(whole.changes, blocks.changes)
    assert whole.counts == blocks.counts
