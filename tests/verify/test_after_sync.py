"""After the first sync: outcomes from Graph's users, duplicates by the UPN pattern, the accuracy."""

from __future__ import annotations

import json

import pandas as pd

from hybridx_nb.verify.after_sync import check_sync, error_text, find_duplicates

DOMAIN = "contoso.onmicrosoft.com"


def test_duplicates_need_the_pattern_and_a_matching_name_or_smtp():
    users = pd.DataFrame({"id": ["o1", "d1", "d2", "x"], "upn": ["megan.bowen@contoso.com",
                          "megan.bowen1234@contoso.onmicrosoft.com", "bob5678@contoso.onmicrosoft.com",
                          "room1234@contoso.onmicrosoft.com"], "display_name": ["Megan Bowen", "megan bowen", "Bob",
                          "Room"], "mail": ["megan.bowen@contoso.com", None, None, None]}).astype("str")
    d = find_duplicates(users, DOMAIN)
    assert d[["duplicate_id", "original_id", "matched_on"]].values.tolist() == [["d1", "o1", "display name"]]


def test_error_text_reads_graph_errors_and_keeps_not_collected_missing():
    errs = pd.Series([json.dumps([{"category": "PropertyConflict", "propertyCausingError": "ProxyAddresses",
                                   "value": "smtp:a@x", "occurredDateTime": "2026-01-01T00:00:00Z"}]), "[]", None])
    assert error_text(errs).tolist()[0] == "PropertyConflict ProxyAddresses=smtp:a@x"
    assert error_text(errs)[1:].isna().all()


def test_outcomes_against_predictions():
    before = pd.DataFrame({
        "category": ["hard_match", "anchor_mismatch", "new_user", "match_blocked", "ambiguous"],
        "ad_dn": ["CN=a", "CN=b", "CN=c", "CN=d", "CN=e"], "ad_upn": ["a@x", "b@x", "c@x", "d@x", "e@x"],
        "expected_immutable_id": ["A", "B", "C", "D", "E"], "entra_id": ["ca", "cb", None, "cd", None],
        "entra_upn": ["a@x", "b@x", None, "d@x", None]}).astype("str")
    after = pd.DataFrame({
        "id": ["ca", "cb", "nb", "nc", "cd"], "upn": ["a@x", "b@x", "b1234@contoso.onmicrosoft.com", "c@x", "d@x"],
        "display_name": ["A", "Bee", "Bee", "C", "D"], "mail": ["a@x", "b@x", None, "c@x", "d@x"],
        "immutable_id": ["A", "00u", "B", "C", None], "on_prem_sync_enabled": [True, True, True, True, None],
        "on_prem_last_sync": ["t", None, "t", "t", None],
        "on_prem_provisioning_errors": ["[]", "[]", "[]", "[]", "[]"],
        "service_provisioning_errors": ["[]"] * 5})
    c = check_sync(before, after, DOMAIN)
    observed = dict(zip(c.rows["ad_upn"], c.rows["observed"]))
    assert observed == {"a@x": "took_over", "b@x": "duplicate", "c@x": "created", "d@x": "not_synced",
                        "e@x": "not_synced"}
    assert (c.scored, c.agreed) == (4, 4) and c.summary().startswith("prediction accuracy: 100.0% (4 of 4")
    assert c.rows.set_index("ad_upn").loc["e@x", "agrees"] == "not scored"
