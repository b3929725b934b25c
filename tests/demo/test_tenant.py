"""The demo tenant: deterministic, every finding category planted, ground truth consistent with its own data,
real export files that read back to the same snapshot, and (when the engine is there) the engine agrees."""

from __future__ import annotations

import base64
import csv
import json
import time
from pathlib import Path

import pandas as pd
import pytest

from hybridx_nb.core import anchors
from hybridx_nb.demo import tenant as demo
from hybridx_nb.engine import anchor_forms

CATEGORIES = ("hard_match", "soft_match", "anchor_mismatch", "match_blocked", "ambiguous", "new_user",
              "orphan_anchor", "cloud_only", "excluded")


@pytest.fixture(scope="module")
def tenant() -> demo.DemoTenant:
    return demo.generate()


@pytest.fixture(scope="module")
def files(tenant: demo.DemoTenant, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return demo.write_exports(tenant, tmp_path_factory.mktemp("demo"), ad_format="both")


def _case(tenant: demo.DemoTenant, case: str) -> pd.Series:
    return tenant.truth.set_index("case").loc[case]


def _ad(tenant: demo.DemoTenant, case: str) -> pd.Series:
    ad = tenant.snapshot["ad_users"]
    return ad[ad["dn"] == _case(tenant, case)["ad_dn"]].iloc[0]


def _cloud(tenant: demo.DemoTenant, case: str) -> pd.Series:
    cloud = tenant.snapshot["entra_users"]
    return cloud[cloud["id"] == _case(tenant, case)["entra_id"]].iloc[0]


def test_same_seed_same_frames_and_bytes(tenant: demo.DemoTenant, files: dict[str, Path], tmp_path: Path) -> None:
    again = demo.generate(seed=7)
    for name, frame in tenant.snapshot.tables.items():
        pd.testing.assert_frame_equal(frame, again.snapshot[name], obj=name)
    pd.testing.assert_frame_equal(tenant.truth, again.truth)
    for key, path in demo.write_exports(again, tmp_path, ad_format="both").items():
        assert path.read_bytes() == files[key].read_bytes(), key
    other = demo.generate(seed=8)
    assert not other.snapshot["ad_users"]["object_guid"].equals(tenant.snapshot["ad_users"]["object_guid"])


def test_every_category_is_planted(tenant: demo.DemoTenant) -> None:
    counts = tenant.truth["category"].value_counts()
    assert set(counts.index) == set(CATEGORIES)
    assert 0.8 < counts["hard_match"] / len(tenant.snapshot["ad_users"]) < 0.9
    kinds = set(tenant.truth.loc[tenant.truth["category"] == "anchor_mismatch", "anchor_kind"])
    assert kinds >= {"okta_user_id", "big_endian_guid", "guid_text_base64", "guid_string", "email", "hex", "other",
                     "other_ad_object", "unknown_guid"}
    blocks = set(tenant.truth["block_reason"].dropna())
    assert blocks == {"admin_role", "federated_domain"}


def test_truth_covers_every_object_once(tenant: demo.DemoTenant) -> None:
    truth, snap = tenant.truth, tenant.snapshot
    assert truth["ad_dn"].dropna().is_unique and truth["entra_id"].dropna().is_unique
    assert sorted(truth["ad_dn"].dropna()) == sorted(snap["ad_users"]["dn"])
    assert sorted(truth["entra_id"].dropna()) == sorted(snap["entra_users"]["id"])
    for table, key in (("ad_users", "object_guid"), ("ad_users", "sam_account_name"), ("entra_users", "upn"),
                       ("okta_users", "id")):
        assert snap[table][key].dropna().is_unique, (table, key)


def test_exactly_three_okta_user_id_anchors(tenant: demo.DemoTenant) -> None:
    cloud, okta = tenant.snapshot["entra_users"], tenant.snapshot["okta_users"]
    kinds = anchor_forms.classify_series(cloud["immutable_id"])
    planted = cloud[(kinds == "okta_user_id").to_numpy()]
    assert len(planted) == 3
    assert (tenant.truth["anchor_kind"] == "okta_user_id").sum() == 3
    # each is the user's own Okta id, and the user's SMTP address matches an AD user
    owners = okta.set_index("id").loc[planted["immutable_id"]]
    assert list(owners["login"]) == list(planted["upn"])
    assert set(planted["mail"]) <= set(tenant.snapshot["ad_users"]["mail"])


def test_wrong_forms_are_what_truth_says(tenant: demo.DemoTenant) -> None:
    ad = tenant.snapshot["ad_users"]
    known = anchors.guid_to_immutable_id_series(ad["object_guid"])
    for case, kind in (("big_endian_guid", "big_endian_guid"), ("guid_text_base64", "guid_text_base64"),
                       ("guid_string", "guid_string"), ("email", "email"), ("hex", "hex"),
                       ("other_employee_id", "other"), ("unknown_guid", "guid_b64")):
        value = _cloud(tenant, case)["immutable_id"]
        assert anchor_forms.classify(value, set(known)) == kind, case
    assert _cloud(tenant, "unknown_guid")["immutable_id"] not in set(known)
    assert _cloud(tenant, "other_ad_object")["immutable_id"] == anchors.guid_to_immutable_id(
        _ad(tenant, "excluded_conflict_object")["object_guid"])
    christie = _ad(tenant, "same_user_other_anchor")
    assert _cloud(tenant, "same_user_other_anchor")["immutable_id"] == christie["consistency_guid"]
    hard = tenant.truth["category"] == "hard_match"
    hard_ad = ad.set_index("dn").loc[tenant.truth.loc[hard, "ad_dn"]]
    hard_cloud = tenant.snapshot["entra_users"].set_index("id").loc[tenant.truth.loc[hard, "entra_id"]]
    assert list(anchors.guid_to_immutable_id_series(hard_ad["object_guid"])) == list(hard_cloud["immutable_id"])


def test_consistency_guid_in_use_with_one_ascii_text(tenant: demo.DemoTenant) -> None:
    values = tenant.snapshot["ad_users"]["consistency_guid"].dropna()
    assert 3 <= len(values) <= 10
    raw = [base64.b64decode(v) for v in values]
    ascii_text = [r for r in raw if all(0x20 <= b < 0x7F for b in r)]
    assert len(ascii_text) == 1 and len(ascii_text[0]) == 16
    assert tenant.anchor_setting == "objectGUID" and "ConsistencyGuid" in tenant.anchor_reason


def test_readiness_problems_and_escaping_names(tenant: demo.DemoTenant) -> None:
    ad = tenant.snapshot["ad_users"]
    assert ad["upn"].str.endswith(".local").sum() == 1
    assert ad["upn"].str.contains(" ", regex=False).sum() == 1
    assert ad["upn"].str.contains("ü", regex=False).sum() == 1
    assert (ad["mail_nickname"].str.len() > 64).sum() == 1
    proxies = ad["proxy_addresses"].explode().dropna().str.lower()
    assert proxies.duplicated().sum() == 1
    people = ad[ad["object_class"] == "user"]
    assert people["display_name"].isna().sum() >= 1
    names = set(tenant.snapshot["entra_users"]["display_name"]) | set(ad["display_name"].dropna())
    assert {"Sean O'Brien", "Zoë Ünal", "<img src=x onerror=alert(1)>"} <= names
    listed = tenant.truth[tenant.truth["case"].isin(["escape_apostrophe", "escape_hostile_display_name",
                                                      "unknown_guid"])]
    assert "hard_match" not in set(listed["category"])  # so that the report shows them
    assert tenant.snapshot["entra_users"]["upn"].str.contains("#EXT#", regex=False).sum() == 1
    assert ad["dn"].str.contains(r"\0ACNF:", regex=False).sum() == 1


def test_okta_app_users_agree_but_one(tenant: demo.DemoTenant) -> None:
    app, cloud = tenant.snapshot["okta_app_users"], tenant.snapshot["entra_users"]
    joined = app.merge(cloud[["id", "immutable_id"]], left_on="external_id", right_on="id", suffixes=("", "_cloud"))
    assert len(joined) == len(app)
    differs = joined[joined["immutable_id"] != joined["immutable_id_cloud"]]
    assert list(differs["external_id"]) == [_case(tenant, "okta_app_disagrees")["entra_id"]]
    assert set(app["user_id"]) <= set(tenant.snapshot["okta_users"]["id"])


def test_okta_provisioned_cloud_users_have_okta_users(tenant: demo.DemoTenant) -> None:
    cloud, okta = tenant.snapshot["entra_users"], tenant.snapshot["okta_users"]
    synced = cloud[cloud["on_prem_sync_enabled"].fillna(False).to_numpy(dtype=bool)]
    assert set(synced["upn"]) <= set(okta["login"])
    leavers = okta[okta["status"] == "DEPROVISIONED"]
    assert len(leavers) >= 1 and not set(leavers["id"]) & set(tenant.snapshot["okta_app_users"]["user_id"])


def test_export_file_formats(tenant: demo.DemoTenant, files: dict[str, Path]) -> None:
    raw = files["ad"].read_bytes()
    assert raw.startswith(b'\xef\xbb\xbf"DistinguishedName","ObjectGUID",') and raw.endswith(b"\r\n")
    assert raw.count(b"\r\n") == len(tenant.snapshot["ad_users"]) + 1 and b"\n" not in raw.replace(b"\r\n", b"")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    from hybridx_nb.demo.export_writers import AD_CSV_HEADERS
    assert all(len(r) == len(AD_CSV_HEADERS) for r in rows) and len(AD_CSV_HEADERS) == 14 + 39
    assert all(line.startswith('"') and line.endswith('"') for line in raw.decode("utf-8-sig").split("\r\n")[:-1])
    miriam = next(r for r in rows if r[3] == "miriam.graham@contoso.com")
    assert base64.b64decode(anchors.guid_to_immutable_id(miriam[6])) == miriam[1][:16].encode()

    ldif = files["ad_ldif"].read_bytes().decode("ascii")
    assert max(len(line) for line in ldif.split("\r\n")) <= 78
    assert ldif.count("\r\ndn") + 1 == len(tenant.snapshot["ad_users"]) and "objectGUID:: " in ldif
    assert "dn:: " in ldif and "displayName:: " in ldif  # Zoë Ünal and the '<img …' name are base64
    unfolded = ldif.replace("\r\n ", "")
    cns = [base64.b64decode(line[5:]).decode() for line in unfolded.split("\r\n") if line.startswith("cn:: ")]
    assert any("\nCNF:" in cn for cn in cns)  # the conflict object's RDN holds a real line feed

    pages = [json.loads(line) for line in files["entra"].read_text(encoding="utf-8").splitlines()]
    assert sum(len(p["value"]) for p in pages) == len(tenant.snapshot["entra_users"])
    assert all("@odata.context" in p for p in pages) and "@odata.nextLink" not in pages[-1]
    user = pages[0]["value"][0]
    assert set(user) >= {"id", "userPrincipalName", "onPremisesImmutableId", "assignedLicenses", "proxyAddresses"}

    okta = json.loads(files["okta"].read_text(encoding="utf-8"))
    assert okta[0]["id"].startswith("00u") and len(okta[0]["id"]) == 20 and "provider" in okta[0]["credentials"]
    app = json.loads(files["okta_app_users"].read_text(encoding="utf-8"))
    assert app[0]["_links"]["app"]["href"].endswith("/api/v1/apps/" + tenant.okta_app_id)
    assert "immutableId" in app[0]["profile"]
    doc = json.loads(files["tenant"].read_text(encoding="utf-8"))
    assert doc["okta"]["provisioningMode"] == "user_sync"
    assert [d["authenticationType"] for d in doc["domains"]] == ["Federated", "Managed", "Managed"]


def test_entra_pages_of_999(tmp_path: Path) -> None:
    big = demo.generate(2_100)
    path = demo.write_exports(big, tmp_path)["entra"]
    pages = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [len(p["value"]) for p in pages][:2] == [999, 999]
    assert sum(len(p["value"]) for p in pages) == len(big.snapshot["entra_users"])


def test_chunked_writing_gives_the_same_bytes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from hybridx_nb.demo import render
    big = demo.generate(2_100)
    whole = demo.write_exports(big, tmp_path / "whole", ad_format="both")
    monkeypatch.setattr(render, "CHUNK", 999)
    chunked = demo.write_exports(big, tmp_path / "chunked", ad_format="both")
    for key, path in whole.items():
        assert chunked[key].read_bytes() == path.read_bytes(), key


@pytest.mark.parametrize("ad_format", ["csv", "ldif"])
def test_exports_read_back_to_the_snapshot(tenant: demo.DemoTenant, tmp_path: Path, ad_format: str) -> None:
    exports = pytest.importorskip("hybridx_nb.sources.files.exports")
    paths = demo.write_exports(tenant, tmp_path, ad_format=ad_format)
    snap = exports.read_exports(paths["ad"], paths["entra"], paths["okta"], paths["okta_app_users"],
                                paths["tenant"], exo=paths["exo"])
    assert len(snap.rejected) == 0
    assert snap.tenant == tenant.snapshot.tenant
    for name, frame in tenant.snapshot.tables.items():
        got = snap[name]
        if name in ("ad_users", "exo_mailboxes"):
            frame, got = frame.drop(columns="source_line"), got.drop(columns="source_line")
            if ad_format == "ldif" and name == "ad_users":  # an LDIF entry lists only the attributes it has
                got["is_critical_system_object"] = got["is_critical_system_object"].fillna(False)
        pd.testing.assert_frame_equal(got, frame, obj=name)


@pytest.mark.parametrize("users", [300, 10_000])
def test_engine_agrees_with_truth(users: int) -> None:
    match = pytest.importorskip("hybridx_nb.engine.match")
    tenant = demo.generate(users)
    prediction = match.predict(tenant.snapshot, match.EngineSettings())
    assert prediction.anchor_setting == tenant.anchor_setting
    findings, truth = prediction.findings, tenant.truth
    by_dn = findings.dropna(subset=["ad_dn"]).set_index("ad_dn")
    by_id = findings.dropna(subset=["entra_id"]).set_index("entra_id")

    def got(column: str) -> pd.Series:
        return truth["ad_dn"].map(by_dn[column]).fillna(truth["entra_id"].map(by_id[column]))

    compared = truth.assign(got_category=got("category"), got_kind=got("anchor_kind"), got_via=got("match_via"),
                            got_block=got("block_reason"), got_entra_id=truth["ad_dn"].map(by_dn["entra_id"]))
    wrong = compared[compared["category"] != compared["got_category"]]
    assert wrong.empty, wrong[["case", "category", "got_category"]].to_string()
    mismatch = compared[compared["category"] == "anchor_mismatch"]
    assert (mismatch["anchor_kind"] == mismatch["got_kind"]).all(), mismatch[["case", "got_kind"]].to_string()
    via = compared.dropna(subset=["match_via"])
    assert (via["match_via"] == via["got_via"]).all(), via[["case", "match_via", "got_via"]].to_string()
    blocked = compared.dropna(subset=["block_reason"])
    assert (blocked["block_reason"] == blocked["got_block"]).all()
    pairs = compared.dropna(subset=["ad_dn", "entra_id"])
    assert (pairs["entra_id"] == pairs["got_entra_id"]).all()


def test_readiness_rules_find_the_planted_problems(tenant: demo.DemoTenant) -> None:
    rules = pytest.importorskip("hybridx_nb.readiness.rules")
    found = rules.run_rules(tenant.snapshot)
    planted = tenant.truth.dropna(subset=["readiness"])
    flagged = set(zip(found["DISTINGUISHEDNAME"], found["ERROR"]))
    assert set(zip(planted["ad_dn"], planted["readiness"])) <= flagged
    assert set(found["DISTINGUISHEDNAME"]) == set(planted["ad_dn"])


def test_scales_to_ten_thousand(tmp_path: Path) -> None:
    start = time.perf_counter()
    big = demo.generate(10_000, seed=3)
    paths = demo.write_exports(big, tmp_path, ad_format="both")
    elapsed = time.perf_counter() - start
    snap = big.snapshot
    assert len(snap["ad_users"]) == 10_000 and len(snap["entra_users"]) > 9_500
    assert (anchor_forms.classify_series(snap["entra_users"]["immutable_id"]) == "okta_user_id").sum() == 3
    assert snap["ad_users"]["upn"].dropna().is_unique and snap["ad_users"]["dn"].is_unique
    assert (snap["ad_users"]["sam_account_name"].str.len() <= 20).all()
    assert all(p.stat().st_size > 0 for p in paths.values())
    print(f"10k users generated and written in {elapsed:.2f} s")


def test_too_few_users_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 100"):
        demo.generate(50)
