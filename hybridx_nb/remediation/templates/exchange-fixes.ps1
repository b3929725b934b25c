<#
.SYNOPSIS
    Applies the reviewed Hybrid Exchange fixes of a hybridx plan in one shell. Dry run unless -Apply.

.DESCRIPTION
    Written by hybridx. This file is fixed code: it holds no user, GUID or address. It reads exchange-plan.csv
    next to it (exchange-rollback.csv with -Rollback) and runs the rows whose Shell matches -Shell:

      -Shell OnPremises      in the Exchange Management Shell: EnableRemoteMailbox, SetExchangeGuid, AddX500
                             (rollback: DisableRemoteMailbox, SetExchangeGuid, RemoveX500)
      -Shell ExchangeOnline  after Connect-ExchangeOnline: ClearPreviousMailboxInfo, only for rows whose
                             Approved column says yes (it deletes the cloud mailbox for good)

    Each recipient is read again first; a row whose state is no longer the one hybridx saw is skipped and
    reported. ReviewLicence rows are reported for a person to act on. Every row gets one line in a CSV log.

.PARAMETER Shell
    OnPremises or ExchangeOnline: which rows to run.

.PARAMETER PlanPath
    Default: exchange-plan.csv next to this script, or exchange-rollback.csv with -Rollback.

.PARAMETER Apply
    Make the changes. Without it the script only reads and reports what it would do.

.PARAMETER Rollback
    Undo from exchange-rollback.csv (on-premises rows only; clearing a cloud mailbox cannot be undone).

.PARAMETER LogPath
    The CSV log to append to. Default: exchange-fixes-log-<date>-<time>.csv next to this script.

.EXAMPLE
    ./exchange-fixes.ps1 -Shell OnPremises
    ./exchange-fixes.ps1 -Shell OnPremises -Apply
    ./exchange-fixes.ps1 -Shell ExchangeOnline -Apply
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [ValidateSet('OnPremises', 'ExchangeOnline')]
    [string] $Shell,
    [string] $PlanPath,
    [switch] $Apply,
    [switch] $Rollback,
    [string] $LogPath
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$GuidPattern = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
if (-not $PlanPath) {
    $PlanPath = Join-Path $PSScriptRoot $(if ($Rollback) { 'exchange-rollback.csv' } else { 'exchange-plan.csv' })
}
if (-not $LogPath) {
    $LogPath = Join-Path $PSScriptRoot ('exchange-fixes-log-{0}.csv' -f (Get-Date -Format 'yyyyMMdd-HHmmss'))
}
$Mode = if ($Apply) { 'apply' } else { 'dry run' }
if ($Rollback) { $Mode = "rollback, $Mode" }

if (-not (Test-Path -LiteralPath $PlanPath -PathType Leaf)) {
    throw "The plan file $PlanPath does not exist: put the CSV hybridx wrote next to this script, or pass -PlanPath."
}
$AllRows = @(Import-Csv -LiteralPath $PlanPath -Encoding UTF8)
$Required = @('Shell', 'Action', 'Identity', 'UserPrincipalName', 'ExpectedCurrent', 'NewValue', 'RoutingAddress', 'Approved')
if ($AllRows.Count -gt 0) {
    $Present = @($AllRows[0].PSObject.Properties.Name)
    $Missing = @($Required | Where-Object { $Present -notcontains $_ })
    if ($Missing.Count -gt 0) {
        throw "The plan file $PlanPath lacks the column(s) $($Missing -join ', '): use the file hybridx wrote."
    }
}
$Rows = @($AllRows | Where-Object { $_.Shell -eq $Shell -or ($_.Shell -eq 'Graph' -and $Shell -eq 'ExchangeOnline') })
Write-Host "hybridx Exchange fixes ($Shell, $Mode): $($Rows.Count) of $($AllRows.Count) row(s) from $PlanPath"
if ($Rows.Count -eq 0) {
    Write-Host 'Nothing to do in this shell.'
    return
}

$Log = [System.Collections.Generic.List[object]]::new()

function Write-Outcome {
    param([object] $Row, [string] $Outcome, [string] $Before, [string] $After, [string] $Message)
    $Entry = [pscustomobject]@{
        Time              = (Get-Date).ToString('o')
        Mode              = $Mode
        Shell             = $Shell
        Action            = [string] $Row.Action
        Identity          = [string] $Row.Identity
        UserPrincipalName = [string] $Row.UserPrincipalName
        Outcome           = $Outcome
        ValueBefore       = $Before
        ValueAfter        = $After
        Message           = $Message
    }
    $Log.Add($Entry)
    $Entry | Export-Csv -LiteralPath $LogPath -Append -NoTypeInformation -Encoding UTF8
    Write-Host ('{0,-10} {1} {2}  {3}' -f $Outcome, $Row.Action, $Row.UserPrincipalName, $Message)
}

function Assert-Apply {
    if (-not $Apply) { throw 'Internal error: a change was attempted without -Apply.' }
}

function Get-Addresses {
    param([string] $Identity)
    @((Get-Recipient -Identity $Identity).EmailAddresses | ForEach-Object { [string] $_ })
}

foreach ($Row in $Rows) {
    try {
        $Identity = [string] $Row.Identity
        $Action = [string] $Row.Action
        $New = [string] $Row.NewValue
        if ($Identity -notmatch $GuidPattern) {
            Write-Outcome $Row 'Invalid' '' '' 'Identity is not an object GUID; row ignored.'
            continue
        }
        if ($Action -eq 'ReviewLicence') {
            Write-Outcome $Row 'Manual' '' '' ([string] $Row.Note)
            continue
        }
        if ($Action -eq 'EnableRemoteMailbox') {
            $Kind = [string] (Get-User -Identity $Identity).RecipientTypeDetails
            if ($Kind -ne 'User') {
                Write-Outcome $Row 'Skipped' $Kind '' 'The user is an Exchange recipient already: not changed; re-run hybridx.'
                continue
            }
            if ($New -notmatch $GuidPattern -or -not $Row.RoutingAddress) {
                Write-Outcome $Row 'Invalid' '' '' 'NewValue (the cloud ExchangeGuid) or RoutingAddress is missing; row ignored.'
                continue
            }
            if (-not $Apply) {
                Write-Outcome $Row 'WouldSet' $Kind $New "Dry run: would enable the remote mailbox ($($Row.RoutingAddress)) and set its ExchangeGuid."
                continue
            }
            Assert-Apply
            Enable-RemoteMailbox -Identity $Identity -RemoteRoutingAddress ([string] $Row.RoutingAddress) | Out-Null
            Set-RemoteMailbox -Identity $Identity -ExchangeGuid $New
            $After = [string] (Get-RemoteMailbox -Identity $Identity).ExchangeGuid
            if ($After -eq $New) { Write-Outcome $Row 'Changed' $Kind $After 'Remote mailbox enabled, ExchangeGuid verified.' }
            else { Write-Outcome $Row 'Failed' $Kind $After 'Enabled, but the ExchangeGuid read back differs.' }
            continue
        }
        if ($Action -eq 'DisableRemoteMailbox') {
            if (-not $Apply) { Write-Outcome $Row 'WouldSet' '' '' 'Dry run: would mail-disable the remote mailbox.'; continue }
            Assert-Apply
            Disable-RemoteMailbox -Identity $Identity -Confirm:$false
            Write-Outcome $Row 'Changed' '' '' 'Remote mailbox disabled (the cloud mailbox is not touched).'
            continue
        }
        if ($Action -eq 'SetExchangeGuid') {
            $Current = [string] (Get-RemoteMailbox -Identity $Identity).ExchangeGuid
            if ($Current -eq $New) { Write-Outcome $Row 'Unchanged' $Current $Current 'Already has the target value.'; continue }
            $Expected = [string] $Row.ExpectedCurrent
            if (-not $Expected) { $Expected = '00000000-0000-0000-0000-000000000000' }
            if ($Current -ne $Expected) {
                Write-Outcome $Row 'Skipped' $Current '' 'The ExchangeGuid is not the one hybridx saw: not changed; re-run hybridx.'
                continue
            }
            if ($New -notmatch $GuidPattern) { Write-Outcome $Row 'Invalid' $Current '' 'NewValue is not a GUID; row ignored.'; continue }
            if (-not $Apply) { Write-Outcome $Row 'WouldSet' $Current $New 'Dry run: add -Apply to change it.'; continue }
            Assert-Apply
            Set-RemoteMailbox -Identity $Identity -ExchangeGuid $New
            $After = [string] (Get-RemoteMailbox -Identity $Identity).ExchangeGuid
            if ($After -eq $New) { Write-Outcome $Row 'Changed' $Current $After 'Set and verified.' }
            else { Write-Outcome $Row 'Failed' $Current $After 'Written, but reading it back shows another value.' }
            continue
        }
        if ($Action -eq 'AddX500' -or $Action -eq 'RemoveX500') {
            if ($New -notlike 'X500:/*') { Write-Outcome $Row 'Invalid' '' '' 'NewValue is not an X500 address; row ignored.'; continue }
            $Before = @(Get-Addresses -Identity $Identity)
            $Has = @($Before | Where-Object { $_ -ieq $New }).Count -gt 0
            $Adding = $Action -eq 'AddX500'
            if ($Has -eq $Adding) { Write-Outcome $Row 'Unchanged' '' '' 'Nothing to do: the address is as wanted.'; continue }
            if (-not $Apply) { Write-Outcome $Row 'WouldSet' '' $New 'Dry run: add -Apply to change it.'; continue }
            Assert-Apply
            $Change = if ($Adding) { @{ Add = $New } } else { @{ Remove = $New } }
            $Kind = [string] (Get-Recipient -Identity $Identity).RecipientTypeDetails
            if ($Kind -like 'Remote*') { Set-RemoteMailbox -Identity $Identity -EmailAddresses $Change }
            elseif ($Kind -like '*Mailbox') { Set-Mailbox -Identity $Identity -EmailAddresses $Change }
            else { Set-MailUser -Identity $Identity -EmailAddresses $Change }
            $After = @(Get-Addresses -Identity $Identity)
            $Now = @($After | Where-Object { $_ -ieq $New }).Count -gt 0
            if ($Now -eq $Adding) { Write-Outcome $Row 'Changed' '' $New 'Written and verified.' }
            else { Write-Outcome $Row 'Failed' '' '' 'Written, but reading it back shows otherwise.' }
            continue
        }
        if ($Action -eq 'ClearPreviousMailboxInfo') {
            if ([string] $Row.Approved -ne 'yes') {
                Write-Outcome $Row 'Skipped' '' '' 'Not approved: write yes in Approved once the way out is decided (it deletes the cloud mailbox).'
                continue
            }
            $Kind = [string] (Get-User -Identity $Identity).RecipientTypeDetails
            if ($Kind -ne 'MailUser') {
                Write-Outcome $Row 'Skipped' $Kind '' 'The cloud user still has a mailbox: remove its Exchange Online licence first.'
                continue
            }
            if (-not $Apply) { Write-Outcome $Row 'WouldSet' $Kind '' 'Dry run: would clear the previous mailbox for good.'; continue }
            Assert-Apply
            Set-User -Identity $Identity -PermanentlyClearPreviousMailboxInfo -Confirm:$false
            Write-Outcome $Row 'Changed' $Kind '' 'Previous mailbox information cleared (irreversible).'
            continue
        }
        Write-Outcome $Row 'Invalid' '' '' 'Unknown Action; row ignored.'
    } catch {
        Write-Outcome $Row 'Failed' '' '' $_.Exception.Message
    }
}

$Counts = $Log | Group-Object Outcome | Sort-Object Name | ForEach-Object { '{0}: {1}' -f $_.Name, $_.Count }
Write-Host ''
Write-Host "Summary ($Shell, $Mode): $($Counts -join ', ')"
Write-Host "Log: $LogPath"
if (@($Log | Where-Object { $_.Outcome -in @('Failed', 'Skipped', 'Invalid') }).Count -gt 0) { exit 1 }
