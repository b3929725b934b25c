"""One scope for the engine and the readiness rules: every system object is excluded from matching and gets no
readiness rows, and the two stages name the same objects (docs/domain.md §16)."""

from __future__ import annotations

import pandas as pd
import pytest
from support.tenants import ad_user, entra_user, tenant

from hybridx_nb.engine.match import predict
from hybridx_nb.engine.scope import SYSTEM_ACCOUNTS, system_object_mask, system_object_reason
from hybridx_nb.readiness.context import build_context

SYSTEM = [
    {"dn": "CN=krbtgt,CN=Users,DC=contoso,DC=com", "sam_account_name": "krbtgt"},
    {"dn": "CN=Guest,CN=Users,DC=contoso,DC=com", "sam_account_name": "Guest"},
    {"dn": "CN=DefaultAccount,CN=Users,DC=contoso,DC=com", "sam_account_name": "DefaultAccount"},
    {"dn": "CN=HealthMailbox0f3a,CN=Monitoring,DC=contoso,DC=com", "sam_account_name": "HealthMailbox0f3a"},
    {"dn": "CN=SystemMailbox{1f05a927-0000},CN=Users,DC=contoso,DC=com", "sam_account_name": "SM_1a2b"},
    {"dn": "CN=DiscoverySearchMailbox {D919BA05},CN=Users,DC=contoso,DC=com", "sam_account_name": "SM_3c4d"},
    {"dn": "CN=FederatedEmail.4c1f4d8b,CN=Users,DC=contoso,DC=com", "sam_account_name": "SM_5e6f"},
    {"dn": "CN=Migration.8f3e7716,CN=Users,DC=contoso,DC=com", "sam_account_name": "SM_7a8b"},
    {"dn": "CN=SUPPORT_388945a0,CN=Users,DC=contoso,DC=com", "sam_account_name": "SUPPORT_388945a0"},
    {"dn": "CN=MSOL_0123abcd,CN=Users,DC=contoso,DC=com", "sam_account_name": "MSOL_0123abcd"},
    {"dn": "CN=WS01,OU=Computers,DC=contoso,DC=com", "sam_account_name": "WS01$"},
    {"dn": "CN=Ann\\0ACNF:2a1b3c4d,OU=Staff,DC=contoso,DC=com", "sam_account_name": "ann2"},
    {"dn": "CN=Critical,CN=Users,DC=contoso,DC=com", "sam_account_name": "crit", "is_critical_system_object": True},
    # Before the one list, these were excluded by only one of the two stages:
    {"dn": "CN=AAD_5f1e2d3c4b5a,CN=Users,DC=contoso,DC=com", "sam_account_name": "AAD_5f1e2d3c4b5a"},
    {"dn": "CN=Exchange Online-ApplicationAccount,CN=Users,DC=contoso,DC=com",
     "sam_account_name": "Exchange_Online-ApplicationAccount"},
    {"dn": "CN=SystemMailbox8cc370d3,CN=Users,DC=contoso,DC=com", "sam_account_name": "SM_9c0d"},
    {"dn": "CN=FederatedEmail,CN=Users,DC=contoso,DC=com", "sam_account_name": "SM_0e1f"},
    {"dn": "CN=SVC01$,OU=Service,DC=contoso,DC=com", "sam_account_name": None},
    {"dn": "CN=CAS_{5d2c1b0a},CN=Users,DC=contoso,DC=com", "sam_account_name": "CAS_5d2c1b0a}"},
    {"dn": "CN=Exchange Online-ApplicationAccount,CN=Users,DC=contoso,DC=com", "sam_account_name": "SM_2f3a"},
]
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
    assert list(ctx.users["dn"]) == ["CN=ann,OU=Staff,DC=contoso,DC=com"]
