"""Two findings frames: fixed, regressed, still open, new, gone, anchor changes and readiness rows."""

from __future__ import annotations

import pandas as pd

from hybridx_nb.verify.diff import diff_assessments


def frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["category", "ad_object_guid", "ad_upn", "entra_id", "immutable_id"]).astype(
        "str").assign(ad_dn="CN=x")


def test_statuses_and_anchor_changes():
    old = frame([("anchor_mismatch", "g1", "a@x", "c1", "00u1"), ("hard_match", "g2", "b@x", "c2", "B"),
                 ("new_user", "g3", "c@x", None, None), ("cloud_only", None, None, "c4", None),
                 ("soft_match", "g5", "e@x", "c5", None)])
    new = frame([("hard_match", "G1", "a@x", "c1", "A"), ("anchor_mismatch", "g2", "b@x", "c2", "Z"),
                 ("new_user", "g3", "c@x", None, None), ("hard_match", "g6", "f@x", "c6", "F"),
                 ("match_blocked", "g5", "e@x", "c5", None)])
    old_r = pd.DataFrame({"DISTINGUISHEDNAME": ["CN=a", "CN=b"], "ATTRIBUTE": ["mail"] * 2,
                          "ERROR": ["Format"] * 2, "VALUE": ["x", "y"]})
    new_r = pd.DataFrame({"DISTINGUISHEDNAME": ["CN=b", "CN=c"], "ATTRIBUTE": ["mail"] * 2,
                          "ERROR": ["Format"] * 2, "VALUE": ["y", "z"]})
    d = diff_assessments(old, new, old_r, new_r)
    status = dict(zip(d.identities["ad_upn"].fillna(d.identities["entra_id"]), d.identities["status"]))
    assert status == {"a@x": "fixed", "b@x": "regressed", "c@x": "still_open", "c4": "gone", "f@x": "new",
                      "e@x": "still_open"}
    assert d.counts["anchor_changes"] == 2  # a@x 00u1 -> A, b@x B -> Z (same cloud user)
    assert d.readiness["change"].tolist() == ["added", "fixed"] and d.counts["readiness_fixed"] == 1
    assert "1 fixed, 1 regressed, 2 still open, 1 new, 1 gone, 0 unchanged" in d.summary_lines()[0]
