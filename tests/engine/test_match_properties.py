"""Properties of the engine on generated tenants: every row accounted for once, and row order does not matter."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.tenants import (
    DOMAIN,
    ad_user,
    anchor_of,
    consistency_guid_of,
    domain,
    entra_user,
    okta_app_user,
    okta_id,
    okta_user,
    role,
    tenant,
)

from hybridx_nb.core import anchors
from hybridx_nb.core.vocabulary import CATEGORIES
from hybridx_nb.engine.match import EngineSettings, predict
from hybridx_nb.snapshot.store import build_snapshot

NAMES = ["ann", "ben", "cat", "dov", "eva", "fin"]
ADDRESS = st.sampled_from(NAMES[:4] + [None])  # few addresses, so soft matches and collisions are common


def rarely(value: object, common: object) -> st.SearchStrategy:
    return st.sampled_from([common] * 5 + [value])


@st.composite
def ad_rows(draw, name: str) -> dict:
    smtp, upn = draw(ADDRESS), draw(ADDRESS)
    return ad_user(
        name,
        upn=f"{upn}@{DOMAIN}" if upn else None,
        mail=None,
        proxy_addresses=[f"SMTP:{smtp}@{DOMAIN}"] if smtp else [],
        consistency_guid=draw(st.sampled_from([None, consistency_guid_of(name), consistency_guid_of("shared")])),
        is_critical_system_object=draw(rarely(True, False)),
        sam_account_name=draw(st.sampled_from([name] * 8 + [name + "$", "HealthMailbox" + name])),
    )


@st.composite
def cloud_rows(draw, name: str, ad_names: list[str]) -> dict:
    smtp, upn, other = draw(ADDRESS), draw(st.sampled_from(NAMES[:4])), draw(st.sampled_from(ad_names or NAMES))
    immutable_id = draw(st.sampled_from([
        None, None, None, anchor_of(other), anchor_of(other), consistency_guid_of(other), consistency_guid_of("shared"),
        okta_id(name),
        anchors.big_endian_immutable_id(anchors.immutable_id_to_guid(anchor_of(other))), f"{name}@{DOMAIN}", "E42",
    ]))
    return entra_user(name, upn=f"{upn}@{draw(rarely('fed.com', DOMAIN))}",
                      proxy_addresses=[f"SMTP:{smtp}@{DOMAIN}"] if smtp else [], mail=None,
                      immutable_id=immutable_id, user_type=draw(rarely("Guest", "Member")))


@st.composite
def tenants(draw):
    ad_names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=6))
    cloud_names = draw(st.lists(st.sampled_from([n + "c" for n in NAMES]), unique=True, max_size=6))
    ad = [draw(ad_rows(n)) for n in ad_names]
    cloud = [draw(cloud_rows(n, ad_names)) for n in cloud_names]
    roles = [role(n) for n in cloud_names if draw(rarely(True, False))]
    okta = [okta_user(n) for n in cloud_names]
    app = [okta_app_user(n, immutable_id=draw(st.sampled_from([None, okta_id(n)]))) for n in cloud_names]
    features = {"blockSoftMatchEnabled": draw(rarely(True, False)),
                "blockCloudObjectTakeoverThroughHardMatchEnabled": draw(rarely(True, False))}
    snap = tenant(ad, cloud, roles=roles, okta_users=okta, okta_app_users=app, features=features,
                  domains=[domain(DOMAIN), domain("fed.com", federated=True)])
    anchor = draw(st.sampled_from(["auto", "objectGUID", "mS-DS-ConsistencyGuid"]))
    return snap, EngineSettings(anchor=anchor, soft_match_upn=draw(st.sampled_from([None, True, False])))


def _as_set(findings: pd.DataFrame) -> set[tuple]:
    return set(findings.astype(object).where(findings.notna(), None).itertuples(index=False, name=None))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tenants(), st.randoms(use_true_random=False))
def test_rows_are_conserved_and_order_does_not_matter(case, rnd):
    snap, engine = case
    findings = predict(snap, engine).findings  # predict runs check_conservation itself
    assert set(findings["category"]) <= set(CATEGORIES)
    assert len(findings) <= len(snap["ad_users"]) + len(snap["entra_users"])
    pairs = findings["ad_object_guid"].notna() & findings["entra_id"].notna()
    assert findings["ad_object_guid"].notna().sum() == len(snap["ad_users"])
    assert findings["entra_id"].notna().sum() == len(snap["entra_users"])
    assert len(findings) == len(snap["ad_users"]) + len(snap["entra_users"]) - pairs.sum()

    shuffled = build_snapshot({name: frame.sample(frac=1, random_state=rnd.randint(0, 2**31)) for name, frame in
                               snap.tables.items() if name != "rejected"}, snap.tenant)
    assert _as_set(predict(shuffled, engine).findings) == _as_set(findings)
