"""Export files as the Windows and LDAP tools write them, for the reader tests and the timing script.

``powershell_csv`` writes PowerShell's Export-Csv dialect (every field quoted, ``""`` for a quote, CRLF);
``synthetic_*`` build large realistic files (``python -m support.export_files DIR N`` from ``tests/``).
"""

from __future__ import annotations

import base64
import json
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

ENCODINGS = {"utf-8": "utf-8", "utf-8-bom": "utf-8-sig", "utf-16-le": "utf-16"}  # Python's utf-16 writes a BOM
AD_HEADERS = ["DistinguishedName", "ObjectGUID", "SamAccountName", "UserPrincipalName", "mail", "DisplayName",
              "GivenName", "Surname", "Enabled", "ObjectClass", "mS-DS-ConsistencyGuid", "proxyAddresses"]


def powershell_csv(headers: Sequence[str], rows: Sequence[Sequence[str]], *, encoding: str = "utf-8",
                   type_line: bool = False, delimiter: str = ",") -> bytes:
    """Bytes of an Export-Csv file (``encoding``: a key of ``ENCODINGS``)."""
    def quote(value: str) -> str:
        return '"' + value.replace('"', '""') + '"'
    lines = ["#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser"] if type_line else []
    lines.append(delimiter.join(quote(h) for h in headers))
    lines.extend(delimiter.join(quote(v) for v in row) for row in rows)
    return ("\r\n".join(lines) + "\r\n").encode(ENCODINGS[encoding])


def fold(line: str, width: int = 76) -> str:
    """An LDIF line folded as ldapsearch does: continuation lines start with one space."""
    if len(line) <= width:
        return line
    parts, rest = [line[:width]], line[width:]
    while rest:
        parts.append(" " + rest[:width - 1])
        rest = rest[width - 1:]
    return "\n".join(parts)


def _people(n: int) -> list[tuple[str, str, str, str]]:
    rng = uuid.UUID(int=12345)
    out = []
    for i in range(n):
        guid = str(uuid.uuid5(rng, str(i)))
        first, last = ("Jürgen", f"Müller{i}") if i % 10 == 0 else ("Ada", f"Lovelace{i}")
        out.append((guid, first, last, f"user{i}"))
    return out


def synthetic_ad_csv(n: int, encoding: str = "utf-16-le") -> bytes:
    """``n`` AD users in Get-ADUser Export-Csv form (UTF-16 LE, the Windows PowerShell 5.1 Unicode default)."""
    rows = []
    for i, (guid, first, last, sam) in enumerate(_people(n)):
        cg = base64.b64encode(uuid.UUID(guid).bytes_le).decode() if i % 3 == 0 else (guid if i % 3 == 1 else "")
        rows.append([f"CN={last}\\, {first},OU=Staff,DC=contoso,DC=com", guid, sam, f"{sam}@contoso.com",
                     f"{sam}@contoso.com", f"{last}, {first}", first, last, "True" if i % 7 else "False", "user", cg,
                     f"SMTP:{sam}@contoso.com;smtp:{sam}@contoso.onmicrosoft.com"])
    return powershell_csv(AD_HEADERS, rows, encoding=encoding, type_line=True)


def synthetic_ldif(n: int) -> str:
    """``n`` AD users as ldapsearch -LLL writes them (folded lines, ``::`` base64 for non-ASCII and binary)."""
    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()
    out = ["version: 1", ""]
    for i, (guid, first, last, sam) in enumerate(_people(n)):
        dn = f"CN={last}\\, {first},OU=Staff,DC=contoso,DC=com"
        rec = [f"dn:: {b64(dn.encode())}" if not dn.isascii() else f"dn: {dn}",
               "objectClass: top", "objectClass: person", "objectClass: organizationalPerson", "objectClass: user",
               f"sn:: {b64(last.encode())}" if not last.isascii() else f"sn: {last}",
               f"givenName:: {b64(first.encode())}" if not first.isascii() else f"givenName: {first}",
               f"userAccountControl: {514 if i % 7 == 0 else 512}",
               f"objectGUID:: {b64(uuid.UUID(guid).bytes_le)}", f"sAMAccountName: {sam}",
               f"userPrincipalName: {sam}@contoso.com", f"mail: {sam}@contoso.com",
               f"proxyAddresses: SMTP:{sam}@contoso.com",
               f"proxyAddresses: smtp:{sam}.with.a.long.alias.for.folding@contoso.mail.onmicrosoft.com"]
        if i % 3 == 0:
            rec.append(f"mS-DS-ConsistencyGuid:: {b64(uuid.UUID(guid).bytes_le)}")
        out.extend(fold(line) for line in rec)
        out.append("")
    return "\n".join(out)


def synthetic_graph_json(n: int, page: int = 999) -> str:
    """``n`` Entra users as Graph /users pages appended one after another."""
    users = []
    for i, (guid, first, last, sam) in enumerate(_people(n)):
        users.append({"id": str(uuid.uuid5(uuid.NAMESPACE_URL, guid)), "userPrincipalName": f"{sam}@contoso.com",
                      "mail": f"{sam}@contoso.com", "proxyAddresses": [f"SMTP:{sam}@contoso.com"],
                      "onPremisesImmutableId": base64.b64encode(uuid.UUID(guid).bytes_le).decode() if i % 4 else None,
                      "onPremisesSyncEnabled": True if i % 4 else None, "accountEnabled": True, "userType": "Member",
                      "displayName": f"{last}, {first}", "mailNickname": sam, "creationType": None,
                      "assignedLicenses": [{"disabledPlans": [], "skuId": "06ebc4ee-1bb5-47dd-8120-11324bc54e06"}]})
    return "\n".join(json.dumps({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
                                 "value": users[i:i + page]}) for i in range(0, n, page)) + "\n"


def main(argv: Sequence[str]) -> None:
    """Write the three synthetic files into ``argv[0]`` with ``argv[1]`` users and time the readers."""
    from hybridx_nb.sources.files import ad_csv, entra_export, ldif

    folder, n = Path(argv[0]), int(argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ad.csv").write_bytes(synthetic_ad_csv(n))
    (folder / "ad.ldif").write_text(synthetic_ldif(n), encoding="utf-8")
    (folder / "entra.json").write_text(synthetic_graph_json(n), encoding="utf-8")
    for name, reader, table in (("ad.csv", ad_csv.read_ad_csv, "ad_users"), ("ad.ldif", ldif.read_ldif, "ad_users"),
                                ("entra.json", entra_export.read_entra, "entra_users")):
        start = time.perf_counter()
        result = reader(folder / name)
        took = time.perf_counter() - start
        size = (folder / name).stat().st_size / 1e6
        print(f"{name:<11} {size:7.1f} MB  {len(result.tables[table]):>8} rows  "
              f"{len(result.rejected):>3} rejected  {took:6.2f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
