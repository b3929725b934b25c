"""One scope for the engine and the readiness rules: every system object is excluded from matching and gets no
readiness rows, and the two stages name the same objects (docs/domain.md §16)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.system_objects import SYSTEM
from support.tenants import ad_user, entra_user, tenant

from hybridx_nb.app.assess import matched_pairs
from hybridx_nb.engine import scope
from hybridx_nb.engine.match import predict
from hybridx_nb.engine.scope import SYSTEM_ACCOUNTS, system_object_mask, system_object_reason
from hybridx_nb.readiness.context import build_context
from hybridx_nb.readiness.rules import run_rules

IN_SCOPE = {"dn": "CN=Guesthouse,OU=Staff,DC=contoso,DC=com", "sam_account_name": "guesthouse",
            "is_critical_system_object": False}
#: Real people whose names only start like a system account stay in scope.
LOOKALIKES = ["guesthouse", "support_desk", "krbtgt2", "casey"]


def test_every_system_object_has_a_reason_and_a_user_does_not():
    frame = pd.DataFrame(SYSTEM + [IN_SCOPE]).astype({"dn": "str", "sam_account_name": "str"})
    reasons = system_object_reason(frame)
    assert reasons.iloc[:-1].notna().all(), reasons[reasons.isna()]
    assert pd.isna(reasons.iloc[-1])
    assert list(system_object_mask(frame)) == [True] * len(SYSTEM) + [False]


#: Pieces of DNs and names around every marker the cases look for, in both letter cases.
_PIECES = ["CN=", "cn=", "OU=Staff,", ",", "\\,", "\\0ADEL:", "\\0adel:", "\nDEL:", "\\0ACNF:", "\\0acnf:",
           "\nCNF:", "CN=Deleted Objects,", " cn=deleted objects ,", "$", "krbtgt", "KRBTGT", "Guest", "msol_",
           "HealthMailbox", "support_388945a0", "x", "ann", "=", " "]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from(_PIECES), max_size=6).map("".join),
                          st.one_of(st.none(), st.lists(st.sampled_from(_PIECES), max_size=3).map("".join)),
                          st.sampled_from([None, False, True]), st.sampled_from([None, False, True])),
                min_size=1, max_size=20))
def test_the_mask_is_exactly_where_a_reason_is_named(rows):
    """The mask's two combined expressions say what the reason's six cases say, each on its own, object for
    object; the reason is named exactly there."""
    frame = pd.DataFrame(rows, columns=["dn", "sam_account_name", "is_critical_system_object", "is_deleted"]).astype(
        {"dn": "str", "sam_account_name": "str", "is_critical_system_object": "boolean", "is_deleted": "boolean"})
    cases = np.logical_or.reduce(scope._masks(frame)[0])
    assert list(system_object_mask(frame)) == list(cases) == list(system_object_reason(frame).notna())


def test_lookalike_names_stay_in_scope():
    frame = pd.DataFrame({"dn": [f"CN={n},OU=Staff,DC=contoso,DC=com" for n in LOOKALIKES],
                          "sam_account_name": LOOKALIKES}).astype("str")
    assert not system_object_mask(frame).any()


def test_a_well_known_account_is_named_with_its_kind():
    frame = pd.DataFrame([SYSTEM[9]]).astype("str")
    assert system_object_reason(frame).item() == ("the well-known system account MSOL_0123abcd (Entra Connect's AD DS "
                                                  "connector account)")


def test_every_listed_account_kind_is_exercised():
    names = " ".join(str(s.get("sam_account_name")) + " " + s["dn"] for s in SYSTEM).lower()
    for key in SYSTEM_ACCOUNTS:
        assert key.rstrip("…") in names, key


@pytest.mark.parametrize("obj", SYSTEM, ids=lambda o: o["dn"].split(",")[0])
def test_engine_and_readiness_agree(obj):
    kw = {"sam_account_name": obj["sam_account_name"], "is_critical_system_object":
          obj.get("is_critical_system_object", False)}
    snap = tenant([ad_user("x", dn=obj["dn"], **kw), ad_user("ann")], [entra_user("ann")])
    findings = predict(snap).findings.set_index("ad_dn")
    assert findings.loc[obj["dn"], "category"] == "excluded"
    assert findings.loc["CN=ann,OU=Staff,DC=contoso,DC=com", "category"] != "excluded"
    ctx = build_context(snap)
    assert list(ctx.users["dn"].iloc[ctx.checked_rows]) == ["CN=ann,OU=Staff,DC=contoso,DC=com"]


def test_a_system_objects_values_are_neither_checked_nor_compared():
    # krbtgt holds ann's UPN and address, a blank display name, a bad character and 301 proxy addresses: none of
    # it is reported, and ann's values are no duplicates; the same values on a user are reported
    many = [f"smtp:k{i}@contoso.com" for i in range(301)]
    odd = {"upn": "ann@contoso.com", "mail": "ann@contoso.com", "display_name": " ", "mail_nickname": "k rbtgt",
           "proxy_addresses": ["SMTP:ann@contoso.com", *many]}
    for dn, reported in (("CN=krbtgt,CN=Users,DC=contoso,DC=com", False), ("CN=bob,OU=Staff,DC=contoso,DC=com", True)):
        snap = tenant([ad_user("x", dn=dn, sam_account_name=dn[3:].split(",")[0], **odd), ad_user("ann")],
                      [entra_user("ann")])
        rows = run_rules(snap, pairs=matched_pairs(predict(snap).findings))
        assert rows["DISTINGUISHEDNAME"].eq(dn).any() == reported
        assert rows["rule"].isin(["upn_duplicate", "proxy_duplicate"]).any() == reported
        if reported:
            assert {"displayname_blank", "proxy_large_object", "upn_duplicate"} <= set(rows["rule"])
