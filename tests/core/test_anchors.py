"""The anchor arithmetic: known answers, round trips, and the wrong forms found in the wild (docs/domain.md §1)."""

from __future__ import annotations

import base64
import uuid

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hybridx_nb.app.cli import main
from hybridx_nb.core import anchors, columns
from hybridx_nb.engine import anchor_forms

# Published by independent authors and re-computed (docs/domain.md §1).
KNOWN = [
    ("3ab39606-c642-489b-84b6-58c038d3ef39", "BpazOkLGm0iEtljAONPvOQ=="),
    ("a15df3dc-4416-414b-8b7d-5fbdcb5743c1", "3PNdoRZES0GLfV+9y1dDwQ=="),
    ("f7cc07d7-7c15-447d-876d-c01b0e5a9e38", "1wfM9xV8fUSHbcAbDlqeOA=="),
]
GUID = "f7cc07d7-7c15-447d-876d-c01b0e5a9e38"
ANCHOR = "1wfM9xV8fUSHbcAbDlqeOA=="

guids = st.uuids().map(str)


@pytest.mark.parametrize("guid,immutable_id", KNOWN)
def test_known_answers_scalar(guid: str, immutable_id: str) -> None:
    assert anchors.guid_to_immutable_id(guid) == immutable_id
    assert anchors.immutable_id_to_guid(immutable_id) == guid
    assert anchors.guid_to_immutable_id("{" + guid.upper() + "}") == immutable_id
    assert anchors.guid_to_immutable_id(guid.replace("-", "")) == immutable_id


@pytest.mark.parametrize("guid,immutable_id", KNOWN)
def test_known_answers_series(guid: str, immutable_id: str) -> None:
    forms = pd.Series([guid, guid.upper(), "{" + guid + "}", f"  {guid} "])
    assert anchors.guid_to_immutable_id_series(forms).tolist() == [immutable_id] * 4
    assert anchors.immutable_id_to_guid_series(pd.Series([immutable_id])).tolist() == [guid]


def test_hex_and_ldap_filter_forms() -> None:
    raw = anchors.guid_to_bytes(GUID)
    assert anchors.bytes_to_hex(raw) == "d7 07 cc f7 15 7c 7d 44 87 6d c0 1b 0e 5a 9e 38"
    assert anchors.bytes_to_ldap_filter(raw).startswith(r"\d7\07\cc\f7\15\7c\7d\44")
    assert anchors.bytes_to_guid(raw) == GUID


@given(guids)
def test_round_trip_scalar(guid: str) -> None:
    raw = anchors.guid_to_bytes(guid)
    assert raw == uuid.UUID(guid).bytes_le
    immutable_id = anchors.bytes_to_immutable_id(raw)
    assert immutable_id == base64.b64encode(uuid.UUID(guid).bytes_le).decode()
    assert len(immutable_id) == 24 and immutable_id.endswith("==")
    assert anchors.immutable_id_to_bytes(immutable_id) == raw
    assert anchors.immutable_id_to_guid(immutable_id) == guid


@settings(max_examples=50)
@given(st.lists(st.one_of(guids, st.text(max_size=40), st.none()), max_size=30))
def test_series_agree_with_scalars(values: list[str | None]) -> None:
    series = pd.Series(values, dtype="str")
    got = anchors.guid_to_immutable_id_series(series)
    for value, result in zip(values, got):
        try:
            expected = anchors.guid_to_immutable_id(value) if value is not None else None
        except anchors.AnchorError:
            expected = None
        assert (result if isinstance(result, str) else None) == expected, value
    back = anchors.immutable_id_to_guid_series(got)
    assert [b for b in back if isinstance(b, str)] == [anchors.normalize_guid_series(pd.Series([v]))[0]
                                                      for v, r in zip(values, got) if isinstance(r, str)]


@settings(max_examples=50)
@given(st.lists(st.one_of(guids, st.none()), max_size=30), st.integers(0, 3))
def test_canonical_columns_are_read_from_the_buffer_and_agree(values: list[str | None], skip: int) -> None:
    series = pd.Series(values, dtype="str").iloc[skip:]  # a slice: its Arrow array starts at an offset
    assert anchors._canonical_bytes_array(series) is not None
    got = anchors.guid_to_immutable_id_series(series)
    assert [g if isinstance(g, str) else None for g in got] == [
        anchors.guid_to_immutable_id(v) if v is not None else None for v in values[skip:]]
    assert anchors._canonical_bytes_array(pd.Series([*values, GUID.upper()], dtype="str")) is None


@settings(max_examples=50)
@given(st.lists(guids, min_size=1, max_size=20))
def test_big_endian_swap_is_an_involution(values: list[str]) -> None:
    series = pd.Series(values, dtype="str")
    right = anchors.guid_to_immutable_id_series(series)
    wrong = anchors.big_endian_immutable_id_series(series)
    assert wrong.tolist() == [base64.b64encode(uuid.UUID(v).bytes).decode() for v in values]
    assert anchors.swap_immutable_id_series(wrong).tolist() == right.tolist()


WRONG_FORMS = [
    (ANCHOR, "guid_b64"),
    (anchors.big_endian_immutable_id(GUID), "big_endian_guid"),
    (base64.b64encode(GUID.encode()).decode(), "guid_text_base64"),
    (GUID, "guid_string"),
    ("{" + GUID.upper() + "}", "guid_string"),
    ("00u1a2b3c4d5e6f7g8h9", "okta_user_id"),
    ("alice.smith@contoso.com", "email"),
    (GUID.replace("-", ""), "hex"),
    ("0xDEADBEEF01", "hex"),
    ("", "empty"),
    ("   ", "empty"),
    (None, "empty"),
    ("E104233", "other"),
    ("YWJj", "other"),  # valid base64 of 3 bytes: not an anchor
]


@pytest.mark.parametrize("value,kind", WRONG_FORMS)
def test_classify_names_each_wrong_form(value: str | None, kind: str) -> None:
    known = {ANCHOR}
    assert anchor_forms.classify(value, known) == kind
    assert anchor_forms.classify_series(pd.Series([value], dtype="str"), pd.Series(sorted(known)))[0] == kind


def test_okta_user_id_is_base64_but_not_16_bytes() -> None:
    okta_id = "00u1a2b3c4d5e6f7g8h9"
    assert len(base64.b64decode(okta_id, validate=True)) == 15  # "decodes" is not enough
    assert anchor_forms.classify(okta_id) == "okta_user_id"
    with pytest.raises(anchors.AnchorError):
        anchors.immutable_id_to_bytes(okta_id)


def test_big_endian_needs_the_known_guids() -> None:
    wrong = anchors.big_endian_immutable_id(GUID)
    assert anchor_forms.classify(wrong) == "guid_b64"  # the shape alone cannot tell byte orders apart
    assert anchor_forms.classify(wrong, {ANCHOR}) == "big_endian_guid"


@settings(max_examples=40)
@given(st.lists(st.one_of(guids.map(anchors.guid_to_immutable_id), guids.map(anchors.big_endian_immutable_id),
                          guids, st.text(max_size=50), st.emails(), st.none()), max_size=25))
def test_classify_series_agrees_with_scalar(values: list[str | None]) -> None:
    known = pd.Series([anchors.guid_to_immutable_id(str(uuid.UUID(int=i))) for i in range(3)])
    got = anchor_forms.classify_series(pd.Series(values, dtype="str"), known).tolist()
    assert got == [anchor_forms.classify(v, set(known)) for v in values]


def test_isin_matches_pandas() -> None:
    values = pd.Series(["a", "b", None, "c"], dtype="str")
    assert columns.isin(values, pd.Series(["c", "a"])).tolist() == [True, False, False, True]
    assert columns.isin(values.iloc[:0], pd.Series(["a"])).tolist() == []


@pytest.mark.parametrize("bad", ["not-a-guid", "f7cc07d7-7c15-447d-876d-c01b0e5a9e3", "{" + GUID, 42])
def test_bad_guid_raises_clear_error(bad: object) -> None:
    with pytest.raises(anchors.AnchorError, match="not a GUID"):
        anchors.guid_to_bytes(bad)  # type: ignore[arg-type]


def test_cli_anchor_prints_every_form(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["anchor", "{F7CC07D7-7C15-447D-876D-C01B0E5A9E38}"]) == 0
    out = capsys.readouterr().out
    for text in (GUID, ANCHOR, "98wH13wVRH2HbcAbDlqeOA==", r"\d7\07\cc\f7", "guid_string"):
        assert text in out
    assert main(["anchor", ANCHOR]) == 0
    assert GUID in capsys.readouterr().out
    assert main(["anchor", "00u1a2b3c4d5e6f7g8h9"]) == 0
    assert "okta_user_id" in capsys.readouterr().out
