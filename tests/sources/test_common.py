"""Column helpers the readers share: GUID attributes, the DNS domain of a DN, rejection reasons."""

from __future__ import annotations

import base64
import uuid

import numpy as np
import pandas as pd

from hybridx_nb.sources.common import add_reason, detect_separator, dns_domain, guid_text, kept

GUID = "d5b80f1b-9d4d-4038-a05f-f5048a5c3614"
AD_BYTES_B64 = base64.b64encode(uuid.UUID(GUID).bytes_le).decode()  # LDIF's ``::`` form of the same GUID


def test_guid_attributes_as_guid_text_or_base64_bytes_blank_is_missing() -> None:
    values = pd.Series(["", "  ", None, GUID.upper(), AD_BYTES_B64, "System.Byte[]", f" {GUID} ", "{" + GUID + "}"],
                       dtype="str")
    assert guid_text(values).fillna("-").tolist() == ["-", "-", "-", GUID, GUID, "-", GUID, GUID]
    assert guid_text(pd.Series([GUID, None, ""], dtype="str")).fillna("-").tolist() == [GUID, "-", "-"]
    assert guid_text(pd.Series(["", None], dtype="str")).isna().all()
    assert guid_text(pd.Series([], dtype="str")).empty


def test_dns_domain_from_the_dc_components_any_case_and_spacing() -> None:
    dns = pd.Series(["CN=a,OU=Staff,DC=Corp,DC=Example", "cn=b, dc=corp , DC=example", "DC=corp,DC=example",
                     "CN=c,OU=DC=odd,DC=fabrikam,DC=com", "CN=no domain", None], dtype="str")
    assert dns_domain(dns).fillna("-").tolist() == ["corp.example", "corp.example", "corp.example",
                                                    "fabrikam.com", "-", "-"]


def test_a_reason_quoting_each_value_is_written_only_for_the_rows_it_applies_to() -> None:
    reason = pd.Series([None, "missing dn", None, None], dtype="str")
    asked: list[list[int]] = []

    def text(rows):
        asked.append(rows.tolist())
        return "bad '" + pd.Series(["a", "b", "c", "d"], dtype="str").iloc[rows] + "'"

    where = np.array([True, True, False, True])
    out = add_reason(reason, where, text)
    assert asked == [[0, 3]]  # not row 1 (it has a reason), not row 2 (where is false)
    assert out.fillna("-").tolist() == ["bad 'a'", "missing dn", "-", "bad 'd'"]
    assert reason.fillna("-").tolist() == ["-", "missing dn", "-", "-"]  # the input is left as it was
    assert add_reason(reason, np.zeros(4, dtype=bool), text) is reason and asked == [[0, 3]]
    assert add_reason(reason, where, "plain").fillna("-").tolist() == ["plain", "missing dn", "-", "plain"]


def test_the_separator_is_the_one_joining_most_values() -> None:
    """Counted over the values' bytes: nulls and empty values count nothing, a slice counts only its own rows, a
    tie or nothing at all gives the first candidate."""
    joined = pd.Series(["SMTP:a@x;smtp:b@x", None, "", "X500:/o=a|b;c"], dtype="str")
    assert detect_separator(joined) == ";"
    assert detect_separator(pd.Series(["a|b|c", "d;e", "f|g"], dtype="str")) == "|"
    piped = pd.Series(["a;b;c;d", "e|f", "g|h"], dtype="str")
    assert detect_separator(piped.iloc[1:]) == "|" and detect_separator(piped) == ";"
    assert detect_separator(pd.Series([], dtype="str")) == ";"
    assert detect_separator(pd.Series([None, "a|b;c"], dtype="str")) == ";"


def test_kept_rows_are_the_frame_itself_when_every_row_stays() -> None:
    frame = pd.DataFrame({"dn": ["a", "b", "c"], "n": [1, 2, 3]})
    assert kept(frame, np.ones(3, dtype=bool)) is frame
    some = kept(frame, np.array([True, False, True]))
    assert some is not frame and some["dn"].tolist() == ["a", "c"] and some.index.tolist() == [0, 2]
    assert kept(frame, np.zeros(3, dtype=bool)).empty
