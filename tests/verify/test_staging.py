"""The staging check's rules on small hand-made frames: join by anchor / UPN / SMTP, each status, the verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hybridx_nb.verify.staging import check_staging

A1, A2, A3, A4, WRONG = ("BpazOkLGm0iEtljAONPvOQ==", "3PNdoRZES0GLfV+9y1dDwQ==", "1wfM9xV8fUSHbcAbDlqeOA==",
                         "x7Qw2ZbB9Ua5bX0lZq3Jjg==", "00u1a2b3c4d5e6f7g8h9")


def findings() -> pd.DataFrame:
    rows = [
        ("hard_match", "CN=Ada", "ada@contoso.com", "ada@contoso.com", A1, "c1", "ada@contoso.com", A1),
        ("anchor_mismatch", "CN=Bob", "bob@contoso.com", "bob@contoso.com", A2, "c2", "bob@contoso.com", WRONG),
        ("new_user", "CN=Cy", "cy@contoso.com", "cy@contoso.com", A3, None, None, None),
        ("soft_match", "CN=Di", "di@contoso.com", "di@contoso.com", A4, "c4", "di@contoso.com", None),
        ("cloud_only", None, None, None, None, "c5", "info@contoso.com", None),
    ]
    cols = ["category", "ad_dn", "ad_upn", "ad_mail", "expected_immutable_id", "entra_id", "entra_upn",
            "immutable_id"]
    f = pd.DataFrame(rows, columns=cols).astype("str")
    return f.assign(entra_mail=f["entra_upn"], ad_display_name="x")


def pending(*rows: tuple) -> pd.DataFrame:
    p = pd.DataFrame(rows, columns=["operation", "source_anchor", "upn"]).astype("str")
    return p.assign(object_type="user", smtp=p["upn"], display_name=np.nan, cs_dn="CN={" + p["source_anchor"] + "}",
                    record=np.arange(1, len(p) + 1))


def test_as_predicted_is_safe():
    c = check_staging(pending(("update", A1, "ada@contoso.com"), ("add", A3, "cy@contoso.com"),
                              ("add", A4, "di@contoso.com"), ("add", A2, "bob@contoso.com")), findings())
    assert c.counts["duplicate"] == 1  # Bob: a cloud user with another ImmutableID holds his UPN
    dup = c.rows[c.rows["status"].eq("duplicate")].iloc[0]
    assert dup["cloud_id"] == "c2" and dup["cloud_immutable_id"] == WRONG and "(predicted)" in dup["reason"]
    ok = check_staging(pending(("update", A1, "ada@contoso.com"), ("add", A3, "cy@contoso.com"),
                               ("add", A4, "di@contoso.com")), findings()[lambda f: f["ad_dn"] != "CN=Bob"])
    assert ok.safe and ok.verdict.startswith("safe to leave staging: 2 Adds and 1 Updates")


def test_each_unexpected_thing_has_its_status():
    c = check_staging(pending(("delete", A1, "ada@contoso.com"), ("add", "AAAAAAAAAAAAAAAAAAAAAA==", "eve@x.com"),
                              ("update", A3, "cy@contoso.com")), findings())
    status = dict(zip(c.rows["upn"], c.rows["status"]))
    assert status["ada@contoso.com"] == "delete" and status["eve@x.com"] == "unexpected_add"
    assert status["cy@contoso.com"] == "unexpected_update"  # predicted new, but already joined
    assert status["di@contoso.com"] == status["bob@contoso.com"] == "missing"  # predicted, not in the export
    assert not c.safe and c.verdict.startswith("NOT safe to leave staging: 1 Delete(s), 1 unexpected Add(s), "
                                               "1 unexpected Update(s), 2 predicted export(s) missing")


def test_join_falls_back_to_upn_then_smtp_and_names_an_anchor_mismatch_of_the_setting():
    c = check_staging(pending(("add", "OTHERANCHOROTHERANCHOR==", "DI@contoso.com")), findings())
    row = c.rows[c.rows["upn"].eq("DI@contoso.com")].iloc[0]
    assert row["matched_by"] == "userPrincipalName" and row["status"] == "unexpected_add"
    assert "source anchor setting differs" in row["reason"]
