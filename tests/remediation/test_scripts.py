"""The generated files: CSVs exact to the byte, and the PowerShell script's safety properties read from its text."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
from support.powershell import syntax_errors

from hybridx_nb.remediation.model import ACTION_COLUMNS, Plan
from hybridx_nb.remediation.scripts import script_text, write_scripts

HOSTILE_UPN = "$(Remove-Item C:\\)@fabrikam.com"
HOSTILE_DN = '"; Remove-Item -Recurse C:\\ #,OU=Staff,DC=contoso,DC=com'
OBRIEN = "o'brien@contoso.com"


def action(**kw) -> dict:
    return {c: kw.get(c, np.nan) for c in ACTION_COLUMNS}


def hostile_plan(*extra: dict) -> Plan:
    rows = [
        action(entra_id="1b4e28ba-2fa1-11d2-883f-0016d3cca427", entra_upn=OBRIEN,
               ad_dn="CN=O'Brien\\, Pat,OU=Staff,DC=contoso,DC=com", category="anchor_mismatch",
               strategy="prestamp", step="set_immutable_id", current_immutable_id="00u1a2b3c4d5e6f7g8h9",
               new_immutable_id="BpazOkLGm0iEtljAONPvOQ==", note='=1+2 "quoted"', roles="Helpdesk Administrator"),
        action(entra_id="2c5f39cb-3fb2-42e3-994f-1127e4ddb538", entra_upn=HOSTILE_UPN, ad_dn=HOSTILE_DN,
               category="match_blocked", strategy="prestamp", step="set_immutable_id_upn_swap",
               new_immutable_id="3PNdoRZES0GLfV+9y1dDwQ==", temporary_upn="x@contoso.onmicrosoft.com",
               note="-@+"),
        action(entra_id="3d6a4adc-40c3-4f04-aa50-2238f5eec649", entra_upn="admin@contoso.com",
               category="match_blocked", strategy="role_removal", step="remove_roles", roles="Global Administrator"),
        *extra,
    ]
    actions = pd.DataFrame(rows, columns=ACTION_COLUMNS).astype("str")
    return Plan("prestamp", "test", actions, [], {}, tenant_id=TENANT)


TENANT = "4f1c2b7e-8d3a-4e59-9b1f-2c6d8e0a7b35"


def test_remediation_csv_is_exact_to_the_byte(tmp_path: Path) -> None:
    paths = write_scripts(hostile_plan(), tmp_path)
    assert sorted(paths) == ["remediation.csv", "remediation.ps1", "rollback.csv"]
    expected = (
        "\ufeffAction,EntraId,UserPrincipalName,ExpectedCurrentImmutableId,NewImmutableId,TemporaryUpn,Category,"
        "AdDistinguishedName,Note,Roles,TenantId\r\n"
        "SetImmutableId,1b4e28ba-2fa1-11d2-883f-0016d3cca427,o'brien@contoso.com,00u1a2b3c4d5e6f7g8h9,"
        "BpazOkLGm0iEtljAONPvOQ==,,anchor_mismatch,\"CN=O'Brien\\, Pat,OU=Staff,DC=contoso,DC=com\","
        "\"=1+2 \"\"quoted\"\"\",Helpdesk Administrator,4f1c2b7e-8d3a-4e59-9b1f-2c6d8e0a7b35\r\n"
        "SetImmutableIdWithUpnSwap,2c5f39cb-3fb2-42e3-994f-1127e4ddb538,$(Remove-Item C:\\)@fabrikam.com,,"
        "3PNdoRZES0GLfV+9y1dDwQ==,x@contoso.onmicrosoft.com,match_blocked,"
        "\"\"\"; Remove-Item -Recurse C:\\ #,OU=Staff,DC=contoso,DC=com\",-@+,,4f1c2b7e-8d3a-4e59-9b1f-2c6d8e0a7b35\r\n"
    ).encode("utf-8")
    assert paths["remediation.csv"].read_bytes() == expected


def test_rollback_csv_is_exact_to_the_byte(tmp_path: Path) -> None:
    paths = write_scripts(hostile_plan(), tmp_path)
    expected = (
        "\ufeffAction,EntraId,UserPrincipalName,PlannedImmutableId,OriginalImmutableId,TemporaryUpn,Roles,"
        "TenantId\r\n"
        "SetImmutableId,1b4e28ba-2fa1-11d2-883f-0016d3cca427,o'brien@contoso.com,BpazOkLGm0iEtljAONPvOQ==,"
        "00u1a2b3c4d5e6f7g8h9,,Helpdesk Administrator,4f1c2b7e-8d3a-4e59-9b1f-2c6d8e0a7b35\r\n"
        "SetImmutableIdWithUpnSwap,2c5f39cb-3fb2-42e3-994f-1127e4ddb538,$(Remove-Item C:\\)@fabrikam.com,"
        "3PNdoRZES0GLfV+9y1dDwQ==,,x@contoso.onmicrosoft.com,,4f1c2b7e-8d3a-4e59-9b1f-2c6d8e0a7b35\r\n"
    ).encode("utf-8")
    assert paths["rollback.csv"].read_bytes() == expected


def test_csv_values_read_back_unchanged(tmp_path: Path) -> None:
    """What Import-Csv will see: every value exactly as planned, formula-like ones not defused."""
    plan = hostile_plan()
    paths = write_scripts(plan, tmp_path)
    text = paths["remediation.csv"].read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    writes = plan.actions[plan.actions["step"].str.startswith("set_immutable_id")]
    assert [r["UserPrincipalName"] for r in rows] == writes["entra_upn"].tolist()
    assert [r["AdDistinguishedName"] for r in rows] == writes["ad_dn"].tolist()
    assert [r["Note"] for r in rows] == ['=1+2 "quoted"', "-@+"]


def test_recreate_csv_only_for_hard_deletes(tmp_path: Path) -> None:
    plan = hostile_plan(action(entra_id="4e7b5bed-51d4-4015-8b61-3349061fd75a", entra_upn="pat@contoso.com",
                               ad_dn="CN=Pat,DC=contoso,DC=com", category="anchor_mismatch",
                               strategy="hard_delete_recreate", step="hard_delete",
                               licenses="6fd2c87f-b296-42f0-b197-1e91e994b900;c7df2760-2c81-4ef7-b578-5b5392b571df",
                               roles="Helpdesk Administrator"))
    paths = write_scripts(plan, tmp_path)
    assert paths["recreate.csv"].read_bytes() == (
        "\ufeffEntraId,UserPrincipalName,AdDistinguishedName,SkuIds,Roles\r\n"
        "4e7b5bed-51d4-4015-8b61-3349061fd75a,pat@contoso.com,\"CN=Pat,DC=contoso,DC=com\","
        "6fd2c87f-b296-42f0-b197-1e91e994b900;c7df2760-2c81-4ef7-b578-5b5392b571df,Helpdesk Administrator\r\n"
    ).encode("utf-8")


def test_an_empty_plan_still_writes_the_headers(tmp_path: Path) -> None:
    empty = Plan("prestamp", "", pd.DataFrame(columns=ACTION_COLUMNS, dtype="str"), [], {})
    paths = write_scripts(empty, tmp_path / "out")
    assert paths["remediation.csv"].read_bytes().count(b"\r\n") == 1
    assert paths["rollback.csv"].read_bytes().startswith(b"\xef\xbb\xbfAction,EntraId,")


# --- the script ------------------------------------------------------------------------------------------------

SCRIPT = script_text().decode("utf-8")


def strip_comments_and_strings(text: str) -> str:
    """The script with comments removed and string contents blanked (quotes kept), for structure checks."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("<#", i):
            i = text.index("#>", i) + 2
        elif text[i] == "#":
            i = text.find("\n", i) if "\n" in text[i:] else n
        elif text[i] == "'":
            j = i + 1
            while not (text[j] == "'" and text[j + 1:j + 2] != "'"):
                j += 2 if text[j:j + 2] == "''" else 1
            out.append("''")
            i = j + 1
        elif text[i] == '"':
            j = i + 1
            while text[j] != '"' or text[j - 1] == "`":
                j += 1
            out.append('""')
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


CODE = strip_comments_and_strings(SCRIPT)


def test_script_delimiters_balance() -> None:
    assert "@'" not in SCRIPT and '@"' not in SCRIPT  # no here-strings: the tokenizer above does not read them
    pairs, stack = {")": "(", "}": "{", "]": "["}, []
    for line_no, line in enumerate(CODE.splitlines(), 1):
        for ch in line:
            if ch in "({[":
                stack.append((ch, line_no))
            elif ch in pairs:
                assert stack and stack[-1][0] == pairs[ch], f"unbalanced {ch!r} on code line {line_no}"
                stack.pop()
    assert not stack, f"unclosed {stack}"


def test_every_parameter_is_declared_documented_and_typed() -> None:
    param_block = re.search(r"param\((.*?)\n\)", SCRIPT, re.S).group(1)
    declared = dict((name, kind) for kind, name in re.findall(r"\[(\w+)\]\s*\$(\w+)", param_block))
    assert declared == {"PlanPath": "string", "Apply": "switch", "Rollback": "switch", "LogPath": "string",
                        "User": "string", "TenantId": "string"}
    assert set(re.findall(r"^\.PARAMETER (\w+)$", SCRIPT, re.M)) == set(declared)


def test_every_variable_used_is_assigned_or_declared() -> None:
    """Set-StrictMode catches this at run time; this catches it before anyone runs the script."""
    code = re.sub(r"<#.*?#>", "", SCRIPT, flags=re.S)
    code = "\n".join(line.split(" #")[0] if not line.lstrip().startswith("#") else "" for line in code.splitlines())
    used = {v.lower() for v in re.findall(r"\$(\w+)", code)}
    assigned = {v.lower() for v in re.findall(r"\$(\w+)\s*=[^=]", code)}
    params = {v.lower() for block in re.findall(r"param\((.*?)\)\s*\n", code, re.S) for v in
              re.findall(r"\$(\w+)", block)}
    loops = {v.lower() for v in re.findall(r"foreach \(\$(\w+) in", code)}
    automatic = {"true", "false", "null", "_", "psscriptroot", "erroractionpreference"}
    assert used - assigned - params - loops - automatic == set()


def test_script_is_strict_and_stops_on_errors_with_a_per_user_catch() -> None:
    assert "Set-StrictMode -Version Latest" in CODE
    assert "$ErrorActionPreference = ''" in CODE and "$ErrorActionPreference = 'Stop'" in SCRIPT
    loop = CODE[CODE.index("foreach ($Row in $Rows)"):]
    assert loop.index("try {") < loop.index("} catch {")
    assert "Write-Outcome $Row ''" in loop[loop.index("} catch {"):]


def test_every_change_is_guarded_by_apply() -> None:
    """Dry run by default: a change happens only in functions that assert -Apply, called only past the check."""
    changing = [m.start() for m in re.finditer(
        r"Update-MgUser|Invoke-MgGraphRequest(?! -Method GET)|Remove-Mg|New-Mg|Set-Mg", CODE)]
    reads = re.findall(r"Invoke-MgGraphRequest -Method (\w+)", CODE)
    assert "GET" in reads and set(reads) <= {"GET", "PATCH"}
    assert changing
    functions = [(m.group(1), m.start(), CODE.index("\n}\n", m.start())) for m in
                 re.finditer(r"^function ([\w-]+) \{", CODE, re.M)]
    for pos in changing:
        name, start, end = next(f for f in functions if f[1] < pos < f[2])
        body = CODE[start:pos]
        assert "Assert-Apply" in body, f"{name} changes something without Assert-Apply"
    assert re.search(r"function Assert-Apply \{\s*if \(-not \$Apply\) \{ throw", CODE)
    loop = CODE[CODE.index("foreach ($Row in $Rows)"):]
    guard = loop.index("if (-not $Apply) {")
    assert "continue" in loop[guard:loop.index("}", guard)]
    for call in ("Set-ImmutableIdWithUpnSwap -Id", "Set-ImmutableId -Id"):
        assert loop.index(call) > guard
    assert re.search(r"\[switch\]\s*\$Apply", SCRIPT) and "$Apply = " not in CODE  # never defaulted to on


def test_current_value_is_checked_case_sensitively_before_any_change() -> None:
    loop = CODE[CODE.index("foreach ($Row in $Rows)"):]
    read = loop.index("$State = Get-UserState -Id $Id")
    check = loop.index("if ($Current -cne $Expected) {")
    skipped = loop.index("Write-Outcome $Row ''", check)
    assert read < check < skipped < loop.index("if (-not $Apply) {") < loop.index("Set-ImmutableId -Id")
    assert loop[skipped:].startswith("Write-Outcome $Row '' $Current")
    assert "'Skipped'" in SCRIPT[SCRIPT.index("if ($Current -cne $Expected)"):][:120]
    assert "(Get-UserState -Id $Id).OnPremisesImmutableId" in loop  # re-read after the change
    assert not re.search(r"-(eq|ne) \$(New|Expected|Current)\b", CODE)  # base64 is case-sensitive


def test_script_connects_with_the_least_scopes() -> None:
    scopes = set(re.findall(r"'([\w-]+\.[\w.]+)'", SCRIPT)) - {"remediation.csv", "rollback.csv"}
    assert scopes == {"User.Read.All", "User.ReadWrite.All", "User-PasswordProfile.ReadWrite.All",
                      "RoleManagement.Read.Directory"}
    assert "Directory.ReadWrite.All" not in SCRIPT and "Directory.AccessAsUser.All" not in SCRIPT
    # the password scope only with -Apply and UPN swaps; the role scope only when a row names roles
    assert "if ($Apply -and $HasSwaps) { $Scopes += 'User-PasswordProfile.ReadWrite.All' }" in SCRIPT
    assert "if ($HasRoles) { $Scopes += 'RoleManagement.Read.Directory' }" in SCRIPT
    assert "Connect-MgGraph -TenantId $PlanTenant -Scopes $Scopes -NoWelcome" in SCRIPT


def test_script_requires_powershell_7_and_the_graph_modules() -> None:
    lines = SCRIPT.splitlines()
    assert lines[0] == "#Requires -Version 7.0"
    assert lines[1] == "#Requires -Modules Microsoft.Graph.Authentication, Microsoft.Graph.Users"


def test_script_refuses_another_tenant() -> None:
    code = CODE[CODE.index("$PlanTenants"):CODE.index("function Write-Outcome")]
    assert "$PlanTenants.Count -gt 1" in code and "if (-not $PlanTenant) {" in code
    guard = SCRIPT.index("if (-not $Context -or $Context.TenantId -ne $PlanTenant) {")
    assert "refusing to run" in SCRIPT[guard:guard + 200] and "throw" in SCRIPT[guard:guard + 200]
    assert guard < SCRIPT.index("foreach ($Row in $Rows)")  # before any user is read


def test_a_failed_swap_keeps_both_errors() -> None:
    body = SCRIPT[SCRIPT.index("function Set-ImmutableIdWithUpnSwap"):SCRIPT.index("foreach ($Row in $Rows)")]
    assert "finally" not in body  # a finally block would replace the inner error with the restore error
    assert "$Inner = $_.Exception.Message" in body
    assert "Setting the ImmutableID failed ($Inner), and the UPN was left at the temporary value" in body
    assert "if ($Inner) { throw $Inner }" in body


def test_role_holders_are_checked_and_skipped_before_a_write() -> None:
    loop = CODE[CODE.index("foreach ($Row in $Rows)"):]
    check = loop.index("(Get-RoleAssignmentCount -Id $Id) -gt 0")
    assert check < loop.index("if (-not $Apply) {") < loop.index("Set-ImmutableId -Id")
    assert "Still holds a directory role" in SCRIPT


def test_no_directory_value_reaches_the_script(tmp_path: Path) -> None:
    paths = write_scripts(hostile_plan(), tmp_path)
    written = paths["remediation.ps1"].read_bytes()
    assert written == script_text()
    text = written.decode("utf-8")
    for value in (OBRIEN, HOSTILE_UPN, HOSTILE_DN, "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "BpazOkLGm0iEtljAONPvOQ==",
                  "00u1a2b3c4d5e6f7g8h9", "contoso", "fabrikam", "Remove-Item"):
        assert value not in text
        assert value in (paths["remediation.csv"].read_text("utf-8-sig") + paths["rollback.csv"].read_text("utf-8-sig"))
    assert "Invoke-Expression" not in text and not re.search(r"\biex\b", text)
    assert "Import-Csv -LiteralPath $PlanPath" in text


def test_script_parses_with_a_powershell_grammar() -> None:
    assert syntax_errors(script_text()) == []


def test_the_grammar_check_catches_a_broken_script() -> None:
    text = script_text()
    broken = text[:text.rindex(b"}")]  # the last closing brace gone
    assert syntax_errors(broken)


def test_script_is_ascii() -> None:
    """Windows PowerShell 5.1 reads a BOM-less script in the ANSI code page: keep it ASCII so it reads the same."""
    script_text().decode("ascii")


def _demo_plan() -> Plan:
    from hybridx_nb.app.assess import Params, run
    from hybridx_nb.demo.tenant import generate

    return run(Params(client="demo"), generate(users=300, seed=7).snapshot).plan


def test_generated_scripts_parse_for_the_demo_and_for_hostile_plans(tmp_path: Path) -> None:
    """Every script hybridx writes, for the demo tenant and for plans full of hostile values, parses cleanly."""
    for name, plan in (("demo", _demo_plan()), ("hostile", hostile_plan())):
        paths = write_scripts(plan, tmp_path / name)
        scripts = [p for p in paths.values() if p.suffix == ".ps1"]
        assert scripts
        for script in scripts:
            assert syntax_errors(script.read_bytes()) == [], (name, script.name)


def test_demo_plan_has_an_okta_side_for_every_federated_anchor_write(tmp_path: Path) -> None:
    plan = _demo_plan()
    paths = write_scripts(plan, tmp_path)
    entra = list(csv.DictReader(io.StringIO(paths["remediation.csv"].read_text("utf-8-sig"), newline="")))
    okta = list(csv.DictReader(io.StringIO(paths["okta-remediation.csv"].read_text("utf-8-sig"), newline="")))
    swaps = {r["EntraId"]: r["NewImmutableId"] for r in entra if r["Action"] == "SetImmutableIdWithUpnSwap"}
    assert swaps and {r["EntraId"]: r["NewImmutableId"] for r in okta} == swaps
    assert {r["TenantId"] for r in entra} == {"4f1c2b7e-8d3a-4e59-9b1f-2c6d8e0a7b35"}
    set_rows = [r for r in okta if r["Action"] == "SetAppUserImmutableId"]
    assert set_rows and all(r["AppId"].startswith("0oa") and r["OktaUserId"].startswith("00u") for r in set_rows)
    rollback = list(csv.DictReader(io.StringIO(paths["okta-rollback.csv"].read_text("utf-8-sig"), newline="")))
    assert [r["OriginalImmutableId"] for r in rollback] == [r["ExpectedCurrentImmutableId"] for r in okta]


def test_dry_run_reports_a_swap_row_without_temporary_upn_as_invalid() -> None:
    """pwsh is not available: the grammar tree shows that the per-row loop refuses a swap row with an empty
    TemporaryUpn as Invalid *before* the dry-run branch (``if (-not $Apply)``), so a dry run reports what -Apply
    would refuse instead of 'WouldSet'."""
    from support.powershell import parse

    text = script_text()
    tree = parse(text)
    found: list[tuple[int, bytes]] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "if_statement":
            found.append((node.start_byte, text[node.start_byte:node.end_byte]))
        stack.extend(node.children)
    loop = text.index(b"foreach ($Row in $Rows)")
    in_loop = sorted((start, body) for start, body in found if start > loop)
    swap_check = [start for start, body in in_loop
                  if b"TemporaryUpn" in body.split(b"{", 1)[0] and b"'Invalid'" in body and b"continue" in body
                  and b"SetImmutableIdWithUpnSwap" in body.split(b"{", 1)[0]]
    dry_run = [start for start, body in in_loop if body.startswith(b"if (-not $Apply)")]
    assert swap_check and dry_run and swap_check[0] < dry_run[0]
    assert syntax_errors(text) == []
