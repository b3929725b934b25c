"""Column helpers every AD reader shares: GUID attributes and the DNS domain of a DN."""

from __future__ import annotations

import base64
import uuid

import pandas as pd

from hybridx_nb.sources.common import dns_domain, guid_text

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
