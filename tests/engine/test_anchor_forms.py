"""Issue 10 §3: ``hybridx anchor`` reads every form a consultant copies (known answers and properties)."""

from __future__ import annotations

import base64
import uuid

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hybridx_nb.app.cli import main
from hybridx_nb.core import anchors
from hybridx_nb.engine import anchor_forms
from hybridx_nb.engine.anchor_forms import AnchorFormError, describe

GUID = "f7cc07d7-7c15-447d-876d-c01b0e5a9e38"
ANCHOR = "1wfM9xV8fUSHbcAbDlqeOA=="  # base64 of uuid.UUID(GUID).bytes_le
OCTETS = "D7 07 CC F7 15 7C 7D 44 87 6D C0 1B 0E 5A 9E 38"

KNOWN = [
    (GUID, "guid_string"),
    (GUID.upper(), "guid_string"),
    ("{" + GUID + "}", "guid_string"),
    (OCTETS, "octets"),                                    # ADUC Attribute Editor
    (OCTETS.lower(), "octets"),
    ("0x" + OCTETS.replace(" ", " 0x"), "octets"),         # ADSI Edit's octet string editor
    ("\\" + OCTETS.replace(" ", "\\"), "ldap_filter"),     # LDAP filter escapes
    ("(objectGUID=\\" + OCTETS.replace(" ", "\\").lower() + ")", "ldap_filter"),
    ("0x" + OCTETS.replace(" ", ""), "binary"),            # SQL / ADSync
    (ANCHOR, "guid_b64"),
    (ANCHOR.rstrip("="), "guid_b64"),                      # unpadded: read, with a warning
]


@pytest.mark.parametrize(("value", "kind"), KNOWN)
def test_every_form_gives_the_same_anchor(value: str, kind: str) -> None:
    forms = describe(value)
    assert (forms.kind, forms.guid, forms.immutable_id) == (kind, GUID, ANCHOR)


def test_unpadded_base64_warns_that_entra_compares_the_exact_string() -> None:
    forms = describe(ANCHOR.rstrip("="))
    assert forms.warning and "exact string" in forms.warning and ANCHOR in forms.warning


def test_32_plain_hex_digits_get_both_readings() -> None:
    forms = describe(GUID.replace("-", ""))
    assert forms.guid == GUID and forms.alternative is not None and "ambiguous" in forms.warning
    assert forms.alternative.hex_octets == " ".join(GUID.replace("-", "")[i:i + 2] for i in range(0, 32, 2))
    assert forms.alternative.immutable_id == base64.b64encode(bytes.fromhex(GUID.replace("-", ""))).decode()


@pytest.mark.parametrize(("value", "kind"), [
    ("123456", "number"), ("20230117", "number"), ("0", "placeholder"), ("00000000", "placeholder"),
    ("N/A", "placeholder"), ("none", "placeholder"), ("00u1a2b3c4d5e6f7g8h9", "okta_user_id"),
    ("alice@contoso.com", "email"),
])
def test_wrong_values_are_named_not_called_hex(value: str, kind: str) -> None:
    assert describe(value).kind == kind
    assert anchor_forms.classify(value) == kind
    assert anchor_forms.classify_series(pd.Series([value], dtype="str"))[0] == kind


@pytest.mark.parametrize("value", ["hello world", "ZZ 07 CC F7", "(objectGUID=\\d7\\07)", "{" + GUID])
def test_unknown_forms_exit_2_with_one_line(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(AnchorFormError):
        describe(value)
    assert main(["anchor", value]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "none of the forms" in err


def test_cli_prints_both_readings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["anchor", GUID.replace("-", "")]) == 0
    out = capsys.readouterr().out
    assert "reading 1 of 2" in out and "reading 2 of 2" in out and ANCHOR in out


raw16 = st.binary(min_size=16, max_size=16)


@settings(max_examples=60)
@given(raw16, st.booleans(), st.booleans())
def test_every_form_of_random_bytes_round_trips(raw: bytes, upper: bool, braces: bool) -> None:
    guid = str(uuid.UUID(bytes_le=raw))
    want = anchors.bytes_to_immutable_id(raw)
    octets = " ".join(f"{b:02x}" for b in raw)
    forms = [
        f"{{{guid}}}" if braces else guid,
        octets.upper() if upper else octets,
        "".join(f"\\{b:02x}" for b in raw),
        "(objectGUID=" + "".join(f"\\{b:02X}" for b in raw) + ")",
        "0x" + raw.hex(),
        want,
        want.rstrip("="),
    ]
    for value in forms:
        got = describe(value)
        assert (got.guid, got.immutable_id) == (guid, want), value


@settings(max_examples=60)
@given(st.integers(min_value=1, max_value=10**12))
def test_numbers_are_numbers_whatever_their_length(n: int) -> None:
    value = str(n)
    assert anchor_forms.classify(value) == "number" and describe(value).kind == "number"
