"""Redaction: consistent keyed aliases across columns and frames, nothing personal left, the key never shown."""

from __future__ import annotations

import pandas as pd
import pytest
from support.report_frames import findings_frame

from hybridx_nb.core.errors import HybridxError
from hybridx_nb.report.redact import Redactor, key_from_reference


def _all_text(frame: pd.DataFrame) -> str:
    return "\n".join(frame.astype(object).fillna("").astype(str).to_numpy().ravel())


def test_same_person_same_alias_across_columns_and_frames() -> None:
    r = Redactor(b"k" * 32)
    f = r.findings(findings_frame())
    assert (f["ad_upn"] == f["entra_upn"]).all()
    assert (f["ad_display_name"] == f["entra_display_name"]).all()  # case differs in the input
    actions = r.actions(pd.DataFrame({"entra_upn": ["hard_match.0@contoso.com"], "ad_dn": [
        "CN=User hard_match 0,OU=Staff,DC=contoso,DC=com"], "note": ["mail hard_match.0@contoso.com"]}))
    assert actions.loc[0, "entra_upn"] == f.loc[0, "entra_upn"]
    assert actions.loc[0, "ad_dn"] == f.loc[0, "ad_dn"]
    assert f.loc[0, "entra_upn"] in actions.loc[0, "note"]


def test_nothing_personal_is_left() -> None:
    f = Redactor(b"k" * 32).findings(findings_frame())
    text = _all_text(f).lower()
    for word in ("contoso", "user hard_match", "hard_match.0@", "cn=user"):
        assert word not in text
    assert f["category"].tolist() == findings_frame()["category"].tolist()
    assert f["entra_id"].equals(findings_frame()["entra_id"])  # ids are kept: the fixes need them


def test_missing_values_stay_missing() -> None:
    frame = pd.DataFrame({"ad_upn": pd.Series(["a@x.com", None], dtype="str")})
    out = Redactor(b"k").frame(frame, {"ad_upn": "email"})
    assert out["ad_upn"].isna().tolist() == [False, True]


def test_dn_parts_and_domains_are_consistent() -> None:
    r = Redactor(b"k")
    dn = r.dn("CN=Smith\\, Alice,OU=Sales,DC=contoso,DC=com")
    assert dn.startswith(f"CN={r.name('Smith, Alice')},OU=ou-")
    assert dn.endswith(",".join(f"DC={p}" for p in r.domain("contoso.com").split(".")))
    assert r.email("alice@contoso.onmicrosoft.com").endswith(".onmicrosoft.com")
    assert r.email("SMTP:alice@contoso.com").startswith("SMTP:user-")
    assert r.email("Alice@Contoso.com") == r.email("alice@contoso.com")


def test_readiness_values_of_name_attributes_become_names() -> None:
    r = Redactor(b"k")
    frame = pd.DataFrame({"DISTINGUISHEDNAME": ["CN=A B,DC=x,DC=com"] * 2, "COMMONNAME": ["A B"] * 2,
                          "ATTRIBUTE": ["displayName", "mail"], "VALUE": ["A B", "a b@x.com"]}).astype("str")
    out = r.readiness(frame)
    assert out.loc[0, "VALUE"] == r.name("A B")
    assert "x.com" not in out.loc[1, "VALUE"]


def test_env_key_gives_stable_aliases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HX_TEST_REDACT_KEY", "s3cr3t-value")
    a = Redactor.from_reference("env:HX_TEST_REDACT_KEY")
    b = Redactor.from_reference("env:HX_TEST_REDACT_KEY")
    assert a.email("x@y.com") == b.email("x@y.com")
    assert Redactor.from_reference(None).email("x@y.com") != a.email("x@y.com")
    assert "s3cr3t" not in repr(a)


def test_bad_key_references(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HX_TEST_MISSING", raising=False)
    with pytest.raises(HybridxError, match="HX_TEST_MISSING"):
        key_from_reference("env:HX_TEST_MISSING")
    with pytest.raises(HybridxError, match="reference"):
        key_from_reference("the-key-itself")
