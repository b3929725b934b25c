"""The engine on small hand-built tenants: every category, block reason and anchor_kind refinement."""

from __future__ import annotations

import base64
import uuid

import pandas as pd
import pytest
from support.tenants import (
    DOMAIN,
    ad_user,
    anchor_of,
    consistency_guid_of,
    domain,
    entra_id_of,
    entra_user,
    guid_of,
    okta_app_user,
    okta_id,
    okta_user,
    role,
    tenant,
)

from hybridx_nb.core import anchors
from hybridx_nb.core.vocabulary import CATEGORIES
from hybridx_nb.engine.match import COLUMNS, EngineSettings, check_conservation, predict

OBJECT_GUID = EngineSettings(anchor="objectGUID")
CONSISTENCY = EngineSettings(anchor="mS-DS-ConsistencyGuid")


def row(findings: pd.DataFrame, *, ad: str | None = None, cloud: str | None = None) -> dict:
    """The one finding holding ad_user(ad) and/or entra_user(cloud)."""
    mask = pd.Series(True, index=findings.index)
    if ad is not None:
        mask &= findings["ad_object_guid"] == guid_of(ad)
    if cloud is not None:
        mask &= findings["entra_id"] == entra_id_of(cloud)
    hits = findings[mask]
    assert len(hits) == 1, f"expected one finding for ad={ad} cloud={cloud}, got {len(hits)}"
    return {k: (None if v is pd.NA or (isinstance(v, float) and v != v) else v)
            for k, v in hits.iloc[0].to_dict().items()}


def categories(findings: pd.DataFrame) -> dict[str, int]:
    return findings["category"].value_counts().to_dict()


# --- the seed's case and the plain matches --------------------------------------------------------------------

def test_okta_user_id_as_immutable_id_with_same_smtp_is_a_duplicate_named_after_the_okta_user():
    snap = tenant([ad_user("alice")], [entra_user("alice", immutable_id=okta_id("alice"))],
                  okta_users=[okta_user("alice")],
                  okta_app_users=[okta_app_user("alice", immutable_id=okta_id("alice"))])
    f = predict(snap).findings
    r = row(f, ad="alice", cloud="alice")
    assert r["category"] == "anchor_mismatch"
    assert r["match_via"] == "smtp"
    assert r["anchor_kind"] == "okta_user_id"
    assert r["anchor_detail"] == f"Okta user {okta_id('alice')} (alice@{DOMAIN})"
    assert r["expected_immutable_id"] == anchor_of("alice")
    assert r["duplicate_upn"] == "alice####@contoso.onmicrosoft.com"
    assert (r["okta_user_id"], r["okta_login"], r["okta_app_immutable_id"], r["okta_agrees"]) == (
        okta_id("alice"), f"alice@{DOMAIN}", okta_id("alice"), True)
    assert r["reason"].startswith("Okta wrote its own user id as ImmutableID")
    assert anchor_of("alice") in r["reason"] and "duplicate" in r["reason"]
    assert r["action"].startswith(f"Pre-stamp ImmutableID {anchor_of('alice')}")
    assert r["block_reason"] is None


def test_hard_match_and_soft_match():
    snap = tenant([ad_user("bob"), ad_user("carol")],
                  [entra_user("bob", immutable_id=anchor_of("bob")), entra_user("carol")])
    f = predict(snap, OBJECT_GUID).findings
    assert categories(f) == {"hard_match": 1, "soft_match": 1}
    hard, soft = row(f, ad="bob", cloud="bob"), row(f, ad="carol", cloud="carol")
    assert (hard["match_via"], hard["anchor_kind"], hard["anchor_source"]) == ("immutable_id", None, "objectGUID")
    assert (soft["match_via"], soft["anchor_kind"]) == ("smtp", None)
    assert anchor_of("carol") in soft["reason"]


def test_soft_match_uses_the_primary_smtp_entry_case_insensitively_and_falls_back_to_mail():
    snap = tenant(
        [ad_user("dan", proxy_addresses=["smtp:old@contoso.com", "SMTP:Daniel@Contoso.com"], mail="x@contoso.com"),
         ad_user("eve", proxy_addresses=[], mail="EVE.Z@contoso.com", upn="eve.ad@contoso.com")],
        [entra_user("dan", proxy_addresses=["SMTP:daniel@contoso.com"], upn="dan.cloud@contoso.com"),
         entra_user("eve", proxy_addresses=[], mail="eve.z@contoso.com", upn="eve.cloud@contoso.com"),
         entra_user("olga", proxy_addresses=["SMTP:olga@contoso.com", "smtp:old@contoso.com"])])
    f = predict(snap).findings
    assert row(f, ad="dan", cloud="dan")["match_via"] == "smtp"
    assert row(f, ad="dan", cloud="dan")["ad_mail"] == "Daniel@Contoso.com"
    assert row(f, ad="eve", cloud="eve")["category"] == "soft_match"
    assert row(f, cloud="olga")["category"] == "cloud_only"  # a secondary smtp: address does not soft-match


@pytest.mark.parametrize("settings, features, expected", [
    (EngineSettings(), {}, "soft_match"),                                      # tenant default: on
    (EngineSettings(), {"softMatchOnUpnEnabled": False}, None),
    (EngineSettings(soft_match_upn=True), {"softMatchOnUpnEnabled": False}, "soft_match"),
    (EngineSettings(soft_match_upn=False), {}, None),
])
def test_upn_soft_match_only_when_enabled(settings, features, expected):
    snap = tenant([ad_user("fay", mail="fay.ad@contoso.com", proxy_addresses=[])],
                  [entra_user("fay", mail=None, proxy_addresses=[])], features=features)
    f = predict(snap, settings).findings
    if expected:
        r = row(f, ad="fay", cloud="fay")
        assert (r["category"], r["match_via"]) == (expected, "upn")
    else:
        assert categories(f) == {"new_user": 1, "cloud_only": 1}
        assert "or the UPN" not in row(f, ad="fay")["reason"]


# --- anchors ----------------------------------------------------------------------------------------------------

def test_big_endian_form_of_the_same_users_guid():
    big = anchors.big_endian_immutable_id(guid_of("gus"))
    f = predict(tenant([ad_user("gus")], [entra_user("gus", immutable_id=big)])).findings
    r = row(f, ad="gus", cloud="gus")
    assert (r["category"], r["anchor_kind"]) == ("anchor_mismatch", "big_endian_guid")
    assert r["anchor_detail"] == "the big-endian (byte-swapped) form of this user's objectGUID"


def test_big_endian_form_of_another_users_guid_is_an_orphan_naming_that_user():
    big = anchors.big_endian_immutable_id(guid_of("hal"))
    f = predict(tenant([ad_user("hal")], [entra_user("ivy", immutable_id=big)])).findings
    r = row(f, cloud="ivy")
    assert (r["category"], r["anchor_kind"]) == ("orphan_anchor", "big_endian_guid")
    assert "objectGUID of CN=hal,OU=Staff,DC=contoso,DC=com" in r["anchor_detail"]
    assert row(f, ad="hal")["category"] == "new_user"


@pytest.mark.parametrize("value, kind, detail", [
    (guid_of("jon"), "guid_string", "the GUID string of this user's objectGUID"),
    (base64.b64encode(guid_of("jon").encode()).decode(), "guid_text_base64",
     "base64 of the text of this user's objectGUID"),
    (guid_of("jon").replace("-", ""), "hex", "hex text of this user's objectGUID"),
    ("jon@contoso.com", "email", "an email address or UPN"),
    ("E12345", "other", "a value not derived from a GUID"),
    (anchors.guid_to_immutable_id(str(uuid.UUID(int=7))), "unknown_guid", "no AD object has"),
])
def test_anchor_kinds_of_a_mismatch(value, kind, detail):
    f = predict(tenant([ad_user("jon")], [entra_user("jon", immutable_id=value)])).findings
    r = row(f, ad="jon", cloud="jon")
    assert (r["category"], r["anchor_kind"]) == ("anchor_mismatch", kind)
    assert detail in r["anchor_detail"]


def test_okta_user_id_without_okta_data_says_so():
    f = predict(tenant([ad_user("kim")], [entra_user("kim", immutable_id=okta_id("kim"))])).findings
    r = row(f, ad="kim", cloud="kim")
    assert r["anchor_detail"] == f"the Okta user id {okta_id('kim')} (Okta users were not collected)"
    assert r["okta_user_id"] is None and r["okta_agrees"] is None


def test_consistency_guid_setting_uses_the_consistency_guid_when_set():
    cg = consistency_guid_of("lee")
    snap = tenant([ad_user("lee", consistency_guid=cg), ad_user("max")],
                  [entra_user("lee", immutable_id=cg), entra_user("max", immutable_id=anchor_of("max"))])
    f = predict(snap, CONSISTENCY).findings
    lee, max_ = row(f, ad="lee", cloud="lee"), row(f, ad="max", cloud="max")
    assert (lee["category"], lee["anchor_source"], lee["expected_immutable_id"]) == (
        "hard_match", "mS-DS-ConsistencyGuid", cg)
    # no ConsistencyGuid yet: Entra Connect copies objectGUID into it
    assert (max_["category"], max_["anchor_source"]) == ("hard_match", "objectGUID")


def test_objectguid_on_the_cloud_while_the_setting_uses_the_consistency_guid():
    snap = tenant([ad_user("ned", consistency_guid=consistency_guid_of("ned"))],
                  [entra_user("ned", immutable_id=anchor_of("ned"))])
    r = row(predict(snap, CONSISTENCY).findings, ad="ned", cloud="ned")
    assert (r["category"], r["anchor_kind"]) == ("anchor_mismatch", "same_user_other_anchor")
    assert r["anchor_detail"] == "this user's objectGUID, while its anchor is its mS-DS-ConsistencyGuid"
    assert r["action"].startswith("Choose objectGUID as the source anchor")


def test_consistency_guid_on_the_cloud_while_the_setting_uses_objectguid():
    cg = consistency_guid_of("oda")
    snap = tenant([ad_user("oda", consistency_guid=cg)], [entra_user("oda", immutable_id=cg)])
    r = row(predict(snap, OBJECT_GUID).findings, ad="oda", cloud="oda")
    assert (r["category"], r["anchor_kind"]) == ("anchor_mismatch", "same_user_other_anchor")
    assert r["action"].startswith("Choose mS-DS-ConsistencyGuid as the source anchor")
    assert r["expected_immutable_id"] == anchor_of("oda")


def test_auto_uses_the_consistency_guid_when_nobody_has_one():
    snap = tenant([ad_user("pam")], [entra_user("pam", immutable_id=anchor_of("pam"))])
    p = predict(snap)
    assert p.anchor_setting == "mS-DS-ConsistencyGuid"
    assert "no in-scope AD user" in p.anchor_reason
    assert row(p.findings, ad="pam", cloud="pam")["category"] == "hard_match"


def test_auto_falls_back_to_objectguid_when_a_user_already_has_a_consistency_guid():
    cg = consistency_guid_of("quin")
    snap = tenant([ad_user("quin", consistency_guid=cg), ad_user("rae"),
                   ad_user("krbtgt", is_critical_system_object=True, consistency_guid=consistency_guid_of("k"))],
                  [entra_user("quin", immutable_id=cg)])
    p = predict(snap)
    assert p.anchor_setting == "objectGUID"
    assert "1 in-scope AD user(s) already have mS-DS-ConsistencyGuid" in p.anchor_reason  # krbtgt does not count
    assert row(p.findings, ad="quin", cloud="quin")["anchor_kind"] == "same_user_other_anchor"


def test_unknown_anchor_setting_is_refused():
    with pytest.raises(ValueError, match="anchor setting 'sourceAnchor'"):
        predict(tenant(), EngineSettings(anchor="sourceAnchor"))


# --- blocks -------------------------------------------------------------------------------------------------------

def test_hard_match_of_an_admin_role_holder_is_blocked():
    snap = tenant([ad_user("sam")], [entra_user("sam", immutable_id=anchor_of("sam"))],
                  roles=[role("sam"), role("sam", "Exchange Administrator")])
    r = row(predict(snap).findings, ad="sam", cloud="sam")
    assert (r["category"], r["block_reason"], r["match_via"]) == ("match_blocked", "admin_role", "immutable_id")
    assert r["entra_roles"] == "Exchange Administrator;Global Administrator"
    assert "Exchange Administrator, Global Administrator" in r["action"]


def test_takeover_flag_blocks_hard_match():
    snap = tenant([ad_user("tom")], [entra_user("tom", immutable_id=anchor_of("tom"))],
                  features={"blockCloudObjectTakeoverThroughHardMatchEnabled": True})
    r = row(predict(snap).findings, ad="tom", cloud="tom")
    assert (r["category"], r["block_reason"]) == ("match_blocked", "hard_match_takeover_blocked")
    assert "blockCloudObjectTakeoverThroughHardMatchEnabled to false" in r["action"]


def test_on_prem_object_identifier_pointing_elsewhere_blocks_hard_match_but_its_own_guid_does_not():
    snap = tenant([ad_user("uma"), ad_user("vic")],
                  [entra_user("uma", immutable_id=anchor_of("uma"), on_prem_object_identifier=guid_of("other")),
                   entra_user("vic", immutable_id=anchor_of("vic"), on_prem_object_identifier=guid_of("vic").upper())])
    f = predict(snap).findings
    assert row(f, ad="uma", cloud="uma")["block_reason"] == "on_prem_object_identifier"
    assert row(f, ad="vic", cloud="vic")["category"] == "hard_match"


def test_soft_match_blocks_admin_tenant_flag_and_federated_domain():
    snap = tenant([ad_user("wes"), ad_user("xia"), ad_user("yan", domain="fed.com")],
                  [entra_user("wes"), entra_user("xia"), entra_user("yan", domain="fed.com")],
                  roles=[role("wes")], features={"blockSoftMatchEnabled": True},
                  domains=[domain(DOMAIN), domain("fed.com", federated=True)])
    f = predict(snap).findings
    assert row(f, ad="wes", cloud="wes")["block_reason"] == "admin_role;soft_match_blocked"
    assert row(f, ad="xia", cloud="xia")["block_reason"] == "soft_match_blocked"
    yan = row(f, ad="yan", cloud="yan")
    assert (yan["category"], yan["block_reason"], yan["federated"]) == (
        "match_blocked", "soft_match_blocked;federated_domain", True)
    assert "federated domain" in yan["reason"] and "move the UPN to a managed domain" in yan["action"]
    assert "duplicate" not in yan["reason"]


def test_federated_domain_alone_blocks_a_soft_match():
    snap = tenant([ad_user("zoe", domain="fed.com")], [entra_user("zoe", domain="fed.com")],
                  domains=[domain("fed.com", federated=True), domain("contoso.onmicrosoft.com", initial=True)])
    r = row(predict(snap).findings, ad="zoe", cloud="zoe")
    assert (r["category"], r["block_reason"], r["match_via"]) == ("match_blocked", "federated_domain", "smtp")


def test_a_mismatch_is_reported_as_a_duplicate_even_when_a_block_applies():
    snap = tenant([ad_user("abe", domain="fed.com")],
                  [entra_user("abe", domain="fed.com", immutable_id=okta_id("abe"))],
                  roles=[role("abe")], domains=[domain("fed.com", federated=True), domain("x.onmicrosoft.com")])
    r = row(predict(snap).findings, ad="abe", cloud="abe")
    assert (r["category"], r["block_reason"]) == ("anchor_mismatch", None)
    assert r["duplicate_upn"] == "abe####@x.onmicrosoft.com"
    assert "federated domain" in r["action"]


# --- ambiguity ----------------------------------------------------------------------------------------------------

def test_one_anchor_on_two_cloud_users_is_ambiguous():
    snap = tenant([ad_user("bea")], [entra_user("bea", immutable_id=anchor_of("bea")),
                                     entra_user("bea2", immutable_id=anchor_of("bea"), mail=None, proxy_addresses=[])])
    f = predict(snap).findings
    assert categories(f) == {"ambiguous": 3}
    ad_row = row(f, ad="bea")
    assert ad_row["candidates"] == "; ".join(sorted([entra_id_of("bea"), entra_id_of("bea2")]))
    assert "1 AD user(s) and 2 cloud user(s)" in ad_row["reason"]
    cloud_row = row(f, cloud="bea2")
    assert cloud_row["anchor_kind"] == "other_ad_object"
    assert "CN=bea" in cloud_row["candidates"] and entra_id_of("bea") in cloud_row["candidates"]


def test_two_ad_users_with_a_copied_consistency_guid_are_ambiguous():
    cg = consistency_guid_of("cy")
    snap = tenant([ad_user("cy", consistency_guid=cg), ad_user("cy2", consistency_guid=cg, mail="c2@contoso.com",
                                                                proxy_addresses=[])],
                  [entra_user("cy", immutable_id=cg)])
    f = predict(snap, CONSISTENCY).findings
    assert categories(f) == {"ambiguous": 3}
    assert row(f, cloud="cy")["candidates"] == "CN=cy,OU=Staff,DC=contoso,DC=com; CN=cy2,OU=Staff,DC=contoso,DC=com"


def test_two_cloud_users_with_the_same_primary_smtp_are_ambiguous():
    snap = tenant([ad_user("dee")], [entra_user("dee"), entra_user("dee2", mail="dee@contoso.com",
                                                                    proxy_addresses=["SMTP:DEE@contoso.com"])])
    f = predict(snap).findings
    assert categories(f) == {"ambiguous": 3}
    assert "share primary SMTP addresses or UPNs" in row(f, ad="dee")["reason"]


def test_smtp_and_upn_pointing_at_different_cloud_users_is_ambiguous():
    snap = tenant([ad_user("eli", upn="eli.upn@contoso.com")],
                  [entra_user("eli", upn="someone@contoso.com"),
                   entra_user("eli2", upn="eli.upn@contoso.com", mail=None, proxy_addresses=[])])
    f = predict(snap).findings
    assert categories(f) == {"ambiguous": 3}
    # without UPN matching only the SMTP match remains
    f = predict(snap, EngineSettings(soft_match_upn=False)).findings
    assert row(f, ad="eli", cloud="eli")["category"] == "soft_match"


def test_two_ad_users_claiming_one_cloud_user_are_ambiguous():
    snap = tenant([ad_user("flo"), ad_user("flo2", mail="flo@contoso.com", proxy_addresses=[])], [entra_user("flo")])
    f = predict(snap).findings
    assert categories(f) == {"ambiguous": 3}
    assert row(f, ad="flo2")["candidates"] == f"{entra_id_of('flo')}; CN=flo,OU=Staff,DC=contoso,DC=com"


def test_a_hard_match_wins_over_a_competing_soft_match():
    snap = tenant([ad_user("gil"), ad_user("gil2", mail="gil@contoso.com", proxy_addresses=[])],
                  [entra_user("gil", immutable_id=anchor_of("gil"))])
    f = predict(snap).findings
    assert row(f, ad="gil", cloud="gil")["category"] == "hard_match"
    assert row(f, ad="gil2")["category"] == "new_user"


# --- left-overs and exclusions ------------------------------------------------------------------------------------

def test_new_user_cloud_only_and_orphan_anchor():
    orphan = anchors.guid_to_immutable_id(str(uuid.UUID(int=99)))
    f = predict(tenant([ad_user("hugo")], [entra_user("ida"), entra_user("jay", immutable_id=orphan)])).findings
    assert categories(f) == {"new_user": 1, "cloud_only": 1, "orphan_anchor": 1}
    jay = row(f, cloud="jay")
    assert jay["anchor_kind"] == "unknown_guid"
    assert jay["anchor_detail"] == ("a well-formed 16-byte value, but a GUID no AD object has "
                                    "(00000000-0000-0000-0000-000000000063)")
    assert row(f, cloud="ida")["anchor_kind"] is None


@pytest.mark.parametrize("columns, reason", [
    ({"sam_account_name": "PC01$"}, "name ends with $"),
    ({"dn": "CN=kai\\0ACNF:5f1c,OU=Staff,DC=contoso,DC=com"}, "replication conflict"),
    ({"is_critical_system_object": True}, "isCriticalSystemObject"),
    ({"sam_account_name": "krbtgt"}, "well-known system account krbtgt"),
    ({"sam_account_name": "HealthMailbox0c4f2a1"}, "well-known system account HealthMailbox0c4f2a1"),
    ({"sam_account_name": "MSOL_1a2b3c4d5e6f"}, "well-known"),
    ({"sam_account_name": "SM_abc", "dn": "CN=SystemMailbox{1f05a927-3be2-4fb9-aa03-b59fe3b56f4c},CN=Users,DC=c"},
     "well-known"),
    ({"sam_account_name": "SUPPORT_388945a0"}, "well-known"),
])
def test_system_objects_are_excluded_and_orphan_anchors_name_them(columns, reason):
    snap = tenant([ad_user("kai", **columns)], [entra_user("kai", immutable_id=anchor_of("kai"))])
    f = predict(snap).findings
    assert categories(f) == {"excluded": 1, "orphan_anchor": 1}
    assert reason in row(f, ad="kai")["reason"]
    orphan = row(f, cloud="kai")
    assert orphan["anchor_kind"] == "other_ad_object"
    assert "which is excluded from sync as" in orphan["anchor_detail"]


def test_administrator_is_excluded_only_through_its_critical_system_flag():
    f = predict(tenant([ad_user("Administrator"), ad_user("admin2", sam_account_name="Administrator",
                                                          is_critical_system_object=True)])).findings
    assert row(f, ad="Administrator")["category"] == "new_user"
    assert row(f, ad="admin2")["category"] == "excluded"


def test_guests_are_excluded_and_never_matched():
    snap = tenant([ad_user("lou")], [entra_user("lou", user_type="Guest", immutable_id=anchor_of("lou"))])
    f = predict(snap).findings
    assert row(f, cloud="lou")["category"] == "excluded"
    assert row(f, cloud="lou")["reason"].startswith("A guest user")
    assert row(f, ad="lou")["category"] == "new_user"


# --- Okta cross-check, assumptions, conservation ------------------------------------------------------------------

def test_okta_cross_check_links_by_external_id_then_by_user_name():
    snap = tenant([ad_user("mia"), ad_user("noa")],
                  [entra_user("mia", immutable_id=anchor_of("mia")), entra_user("noa", immutable_id=anchor_of("noa"))],
                  okta_users=[okta_user("mia"), okta_user("noa")],
                  okta_app_users=[okta_app_user("mia"),
                                  okta_app_user("noa", external_id=None, user_name="NOA@contoso.com",
                                                immutable_id=okta_id("noa"))])
    f = predict(snap).findings
    mia, noa = row(f, cloud="mia"), row(f, cloud="noa")
    assert (mia["okta_user_id"], mia["okta_agrees"]) == (okta_id("mia"), True)
    assert (noa["okta_user_id"], noa["okta_login"], noa["okta_agrees"]) == (okta_id("noa"), "noa@contoso.com", False)


def test_assumptions_name_what_was_not_collected():
    snap = tenant([ad_user("ola")], [entra_user("ola")], roles=None, domains=None,
                  features={"blockSoftMatchEnabled": False})
    p = predict(snap)
    text = " | ".join(p.assumptions)
    assert "softMatchOnUpnEnabled was not collected" in text and "blockSoftMatchEnabled" not in text
    assert "role holders were not collected" in text and "domains were not collected" in text
    assert row(p.findings, ad="ola", cloud="ola")["federated"] is None


def test_duplicate_upn_without_domains_uses_a_placeholder_and_falls_back_to_mail_nickname():
    snap = tenant([ad_user("pia", upn=None, mail_nickname="pia.n")], [entra_user("pia", immutable_id="E1")],
                  domains=None)
    r = row(predict(snap).findings, ad="pia", cloud="pia")
    assert r["duplicate_upn"] == "pia.n####@<tenant>.onmicrosoft.com"


def test_findings_have_the_contract_columns_even_for_an_empty_tenant():
    f = predict(tenant()).findings
    assert list(f.columns) == list(COLUMNS) and f.empty


def test_every_category_is_a_known_one():
    assert set(predict(tenant([ad_user("q")], [entra_user("r")])).findings["category"]) <= set(CATEGORIES)


def test_check_conservation_names_missing_and_duplicated_rows():
    snap = tenant([ad_user("rob"), ad_user("sue")], [entra_user("rob", immutable_id=anchor_of("rob"))])
    f = predict(snap).findings
    broken = pd.concat([f[f["ad_object_guid"] == guid_of("rob")]] * 2, ignore_index=True)
    with pytest.raises(AssertionError) as err:
        check_conservation(snap, broken)
    text = str(err.value)
    assert f"AD row {guid_of('sue')}: missing" in text
    assert f"AD row {guid_of('rob')}: appears 1 extra time(s)" in text
    assert f"cloud row {entra_id_of('rob')}: appears 1 extra time(s)" in text
