<#
.SYNOPSIS
    Copies cloud values into Active Directory before Entra Connect takes the cloud users over. Dry run unless -Apply.

.DESCRIPTION
    Written by hybridx. This file is fixed code: it holds no user, address or value. It reads its rows from
    ad-backfill.csv next to it (ad-backfill-rollback.csv with -Rollback), so no directory value ever becomes code.

    Operations:
      AddProxyAddress     adds Value to proxyAddresses, unless the user already has it (any letter case) or
                          another AD object holds it (it would be a duplicate Entra Connect rejects).
      SetAttribute        writes Value into Attribute, only while the attribute is still empty (ExpectedCurrent).
      RemoveProxyAddress  (rollback) removes Value from proxyAddresses.
      ClearAttribute      (rollback) empties Attribute, only while it still holds the value the backfill wrote.

    Each user is read again before anything is written; a user whose value changed since the assessment is
    skipped and reported. With -Apply the change is written, read back and verified. Every row gets one line in
    a CSV log; a summary follows at the end. Run it before leaving Entra Connect's staging mode.

.PARAMETER PlanPath
    The rows to apply. Default: ad-backfill.csv next to this script, or ad-backfill-rollback.csv with -Rollback.

.PARAMETER Apply
    Make the changes. Without it the script only reads and reports what it would do.

.PARAMETER Rollback
    Undo a backfill from ad-backfill-rollback.csv, with the same checks.

.PARAMETER Server
    A domain controller to read from and write to (default: the ActiveDirectory module's choice).

.PARAMETER LogPath
    The CSV log to append to. Default: ad-backfill-log-<date>-<time>.csv next to this script.

.EXAMPLE
    ./ad-backfill.ps1
    ./ad-backfill.ps1 -Apply
    ./ad-backfill.ps1 -Rollback -Apply
#>
[CmdletBinding()]
param(
    [string] $PlanPath,
    [switch] $Apply,
    [switch] $Rollback,
    [string] $Server,
    [string] $LogPath
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
Import-Module ActiveDirectory

$Operations = if ($Rollback) { @('RemoveProxyAddress', 'ClearAttribute') } else { @('AddProxyAddress', 'SetAttribute') }
$AttributePattern = '^[A-Za-z][A-Za-z0-9-]{0,63}$'
if (-not $PlanPath) {
    $PlanPath = Join-Path $PSScriptRoot $(if ($Rollback) { 'ad-backfill-rollback.csv' } else { 'ad-backfill.csv' })
}
if (-not $LogPath) {
    $LogPath = Join-Path $PSScriptRoot ('ad-backfill-log-{0}.csv' -f (Get-Date -Format 'yyyyMMdd-HHmmss'))
}
$Mode = if ($Apply) { 'apply' } else { 'dry run' }
if ($Rollback) { $Mode = "rollback, $Mode" }
$ServerArgs = @{}
if ($Server) { $ServerArgs['Server'] = $Server }

if (-not (Test-Path -LiteralPath $PlanPath -PathType Leaf)) {
    throw "The plan file $PlanPath does not exist: put the CSV hybridx wrote next to this script, or pass -PlanPath."
}
$Rows = @(Import-Csv -LiteralPath $PlanPath -Encoding UTF8)
$Required = @('Operation', 'ObjectGuid', 'DistinguishedName', 'Attribute', 'ExpectedCurrent', 'Value')
if ($Rows.Count -gt 0) {
    $Present = @($Rows[0].PSObject.Properties.Name)
    $Missing = @($Required | Where-Object { $Present -notcontains $_ })
    if ($Missing.Count -gt 0) {
        throw "The plan file $PlanPath lacks the column(s) $($Missing -join ', '): use the file hybridx wrote."
    }
}
Write-Host "hybridx AD backfill ($Mode): $($Rows.Count) row(s) from $PlanPath"
if ($Rows.Count -eq 0) {
    Write-Host 'Nothing to do.'
    return
}

$Log = [System.Collections.Generic.List[object]]::new()

function Write-Outcome {
    param([object] $Row, [string] $Outcome, [string] $Before, [string] $After, [string] $Message)
    $Entry = [pscustomobject]@{
        Time              = (Get-Date).ToString('o')
        Mode              = $Mode
        ObjectGuid        = [string] $Row.ObjectGuid
        DistinguishedName = [string] $Row.DistinguishedName
        Operation         = [string] $Row.Operation
        Attribute         = [string] $Row.Attribute
        Value             = [string] $Row.Value
        Outcome           = $Outcome
        ValueBefore       = $Before
        ValueAfter        = $After
        Message           = $Message
    }
    $Log.Add($Entry)
    $Entry | Export-Csv -LiteralPath $LogPath -Append -NoTypeInformation -Encoding UTF8
    Write-Host ('{0,-10} {1}  {2} {3}  {4}' -f $Outcome, $Row.DistinguishedName, $Row.Operation, $Row.Attribute, $Message)
}

function Assert-Apply {
    if (-not $Apply) { throw 'Internal error: a change was attempted without -Apply.' }
}

function Get-Values {
    param([guid] $Guid, [string] $Attribute)
    $User = Get-ADUser -Identity $Guid -Properties $Attribute @ServerArgs
    @($User.$Attribute | Where-Object { $null -ne $_ } | ForEach-Object { [string] $_ })
}

function Test-HeldElsewhere {
    param([guid] $Guid, [string] $Address)
    $Holders = @(Get-ADObject -Filter { proxyAddresses -eq $Address } @ServerArgs | Where-Object { $_.ObjectGUID -ne $Guid })
    $Holders.Count -gt 0
}

foreach ($Row in $Rows) {
    try {
        $Guid = [guid]::Empty
        if (-not [guid]::TryParse([string] $Row.ObjectGuid, [ref] $Guid)) {
            Write-Outcome $Row 'Invalid' '' '' 'ObjectGuid is not a GUID; row ignored.'
            continue
        }
        if ($Operations -notcontains $Row.Operation) {
            Write-Outcome $Row 'Invalid' '' '' 'Unknown Operation for this mode; row ignored.'
            continue
        }
        $Attribute = [string] $Row.Attribute
        if ($Attribute -cnotmatch $AttributePattern) {
            Write-Outcome $Row 'Invalid' '' '' 'Attribute is not an LDAP attribute name; row ignored.'
            continue
        }
        $Value = [string] $Row.Value
        if (-not $Value) {
            Write-Outcome $Row 'Invalid' '' '' 'Value is empty; row ignored.'
            continue
        }
        $Current = @(Get-Values -Guid $Guid -Attribute $Attribute)
        $Before = $Current -join ';'
        $Has = @($Current | Where-Object { $_ -ieq $Value }).Count -gt 0
        # if/elseif rather than switch: inside a switch, continue would not move on to the next row
        $Operation = [string] $Row.Operation
        if ($Operation -eq 'AddProxyAddress') {
            if ($Has) { Write-Outcome $Row 'Unchanged' $Before $Before 'The address is already there.'; continue }
            if (Test-HeldElsewhere -Guid $Guid -Address $Value) {
                Write-Outcome $Row 'Skipped' $Before '' 'Another AD object holds this address: not added; resolve the duplicate first.'
                continue
            }
            if (-not $Apply) { Write-Outcome $Row 'WouldAdd' $Before $Value 'Dry run: add -Apply to change it.'; continue }
            Assert-Apply
            Set-ADUser -Identity $Guid -Add @{ proxyAddresses = $Value } @ServerArgs
        } elseif ($Operation -eq 'RemoveProxyAddress') {
            if (-not $Has) { Write-Outcome $Row 'Unchanged' $Before $Before 'The address is not there.'; continue }
            if (-not $Apply) { Write-Outcome $Row 'WouldRemove' $Before $Value 'Dry run: add -Apply to change it.'; continue }
            Assert-Apply
            $Exact = @($Current | Where-Object { $_ -ieq $Value })[0]
            Set-ADUser -Identity $Guid -Remove @{ proxyAddresses = $Exact } @ServerArgs
        } elseif ($Operation -eq 'SetAttribute') {
            if ($Before -ceq $Value) { Write-Outcome $Row 'Unchanged' $Before $Before 'Already has the value.'; continue }
            if ($Before -cne [string] $Row.ExpectedCurrent) {
                Write-Outcome $Row 'Skipped' $Before '' 'The current value is not the one hybridx saw: not changed; re-run hybridx.'
                continue
            }
            if (-not $Apply) { Write-Outcome $Row 'WouldSet' $Before $Value 'Dry run: add -Apply to change it.'; continue }
            Assert-Apply
            Set-ADUser -Identity $Guid -Replace @{ $Attribute = $Value } @ServerArgs
        } else {
            if (-not $Before) { Write-Outcome $Row 'Unchanged' '' '' 'Already empty.'; continue }
            if ($Before -cne [string] $Row.ExpectedCurrent) {
                Write-Outcome $Row 'Skipped' $Before '' 'The value is not the one the backfill wrote: not cleared.'
                continue
            }
            if (-not $Apply) { Write-Outcome $Row 'WouldClear' $Before '' 'Dry run: add -Apply to change it.'; continue }
            Assert-Apply
            Set-ADUser -Identity $Guid -Clear $Attribute @ServerArgs
        }
        $After = @(Get-Values -Guid $Guid -Attribute $Attribute)
        $AfterText = $After -join ';'
        $Present = @($After | Where-Object { $_ -ieq $Value }).Count -gt 0
        $Verified = switch ($Operation) {
            'AddProxyAddress' { $Present }
            'RemoveProxyAddress' { -not $Present }
            'SetAttribute' { $AfterText -ceq $Value }
            'ClearAttribute' { -not $AfterText }
        }
        if ($Verified) {
            Write-Outcome $Row 'Changed' $Before $AfterText 'Written and verified.'
        } else {
            Write-Outcome $Row 'Failed' $Before $AfterText 'Written, but reading it back shows another value.'
        }
    } catch {
        Write-Outcome $Row 'Failed' '' '' $_.Exception.Message
    }
}

$Counts = $Log | Group-Object Outcome | Sort-Object Name | ForEach-Object { '{0}: {1}' -f $_.Name, $_.Count }
Write-Host ''
Write-Host "Summary ($Mode): $($Counts -join ', ')"
Write-Host "Log: $LogPath"
if (@($Log | Where-Object { $_.Outcome -in @('Failed', 'Skipped', 'Invalid') }).Count -gt 0) { exit 1 }
