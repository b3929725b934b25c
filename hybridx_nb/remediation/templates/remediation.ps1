#Requires -Version 7.0
#Requires -Modules Microsoft.Graph.Authentication, Microsoft.Graph.Users
<#
.SYNOPSIS
    Sets, or restores, the onPremisesImmutableId of Entra ID users from a hybridx plan. Dry run unless -Apply.

.DESCRIPTION
    Written by hybridx. This file is fixed code: it holds no user name, object id or ImmutableID. It reads the
    plan from remediation.csv next to it (rollback.csv with -Rollback), so no directory value ever becomes code.

    For each row the script reads the user from Microsoft Graph and checks that the current ImmutableID is still
    the value hybridx saw. A user whose value has changed since, or who is still shown as synced from
    on-premises, is skipped and reported. Only with -Apply does it write the new value; it then reads the user
    again and verifies. Every user gets one line in a CSV log; a summary follows at the end.

    Rows with the Action SetImmutableIdWithUpnSwap are users whose UPN is in a federated domain: the script moves
    the UPN to TemporaryUpn (in a managed domain, with a random password nobody sees), sets the ImmutableID and
    moves the UPN back, also when setting the ImmutableID failed. Moving a UPN out of a federated domain sets a
    password, so for those rows the script also asks for User-PasswordProfile.ReadWrite.All; the signed-in
    admin needs a role that may reset those users' passwords.

    The plan names its tenant (TenantId column): the script refuses to run when Microsoft Graph is connected to
    another tenant. Users who still hold a directory role are skipped: Entra matches no role holder, so their
    roles must be removed first (the runbook says when).

.PARAMETER PlanPath
    The plan to read. Default: remediation.csv next to this script, or rollback.csv with -Rollback.

.PARAMETER Apply
    Make the changes. Without it the script only reads and reports what it would do.

.PARAMETER Rollback
    Restore the original ImmutableIDs from rollback.csv, with the same checks.

.PARAMETER LogPath
    The CSV log to append to. Default: remediation-log-<date>-<time>.csv next to this script.

.PARAMETER User
    Only the plan row(s) of this UserPrincipalName (a pilot user first, then everyone).

.PARAMETER TenantId
    The tenant to work in, for a plan that does not name one; it must match the plan's TenantId otherwise.

.EXAMPLE
    ./remediation.ps1
    ./remediation.ps1 -Apply -User pilot.user@example.org
    ./remediation.ps1 -Apply
    ./remediation.ps1 -Rollback -Apply
#>
[CmdletBinding()]
param(
    [string] $PlanPath,
    [switch] $Apply,
    [switch] $Rollback,
    [string] $LogPath,
    [string] $User,
    [string] $TenantId
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$ImmutableIdPattern = '^[A-Za-z0-9+/]{21}[AQgw]==$'
$Actions = @('SetImmutableId', 'SetImmutableIdWithUpnSwap')
$GraphRoot = 'https://graph.microsoft.com/v1.0' 
$UserProperties = @('Id', 'UserPrincipalName', 'OnPremisesImmutableId', 'OnPremisesSyncEnabled')

if ($Rollback) {
    $PlanName = 'rollback.csv'; $CurrentColumn = 'PlannedImmutableId'; $NewColumn = 'OriginalImmutableId'
} else {
    $PlanName = 'remediation.csv'; $CurrentColumn = 'ExpectedCurrentImmutableId'; $NewColumn = 'NewImmutableId'
}
if (-not $PlanPath) { $PlanPath = Join-Path $PSScriptRoot $PlanName }
if (-not $LogPath) {
    $LogPath = Join-Path $PSScriptRoot ('remediation-log-{0}.csv' -f (Get-Date -Format 'yyyyMMdd-HHmmss'))
}
$Mode = if ($Apply) { 'apply' } else { 'dry run' }
if ($Rollback) { $Mode = "rollback, $Mode" }

if (-not (Test-Path -LiteralPath $PlanPath -PathType Leaf)) {
    throw "The plan file $PlanPath does not exist: put the CSV hybridx wrote next to this script, or pass -PlanPath."
}
$Rows = @(Import-Csv -LiteralPath $PlanPath -Encoding UTF8)
$Required = @('Action', 'EntraId', 'UserPrincipalName', $CurrentColumn, $NewColumn, 'TemporaryUpn', 'Roles', 'TenantId')
if ($Rows.Count -gt 0) {
    $Present = @($Rows[0].PSObject.Properties.Name)
    $Missing = @($Required | Where-Object { $Present -notcontains $_ })
    if ($Missing.Count -gt 0) {
        throw "The plan file $PlanPath lacks the column(s) $($Missing -join ', '): use the file hybridx wrote."
    }
}
if ($User) {
    $Rows = @($Rows | Where-Object { [string] $_.UserPrincipalName -eq $User })
}
Write-Host "hybridx remediation ($Mode): $($Rows.Count) user(s) from $PlanPath"
if ($Rows.Count -eq 0) {
    Write-Host 'Nothing to do.'
    return
}

# The tenant: the plan names it; with many clients, the wrong tenant is the realistic mistake.
$PlanTenants = @($Rows | ForEach-Object { [string] $_.TenantId } | Where-Object { $_ } | Sort-Object -Unique)
if ($PlanTenants.Count -gt 1) {
    throw "The plan file $PlanPath names more than one tenant ($($PlanTenants -join ', ')): use the file hybridx wrote."
}
$PlanTenant = if ($PlanTenants.Count -eq 1) { $PlanTenants[0] } else { $TenantId }
if (-not $PlanTenant) {
    throw 'The plan does not name its tenant (no tenant facts were collected): pass -TenantId <tenant id>.'
}
if ($TenantId -and $TenantId -ne $PlanTenant) {
    throw "-TenantId $TenantId is not the tenant of this plan ($PlanTenant): refusing to run."
}

# Least privilege: reading needs User.Read.All; writing onPremisesImmutableId (and a UPN) needs User.ReadWrite.All;
# moving a UPN out of a federated domain sets a password (User-PasswordProfile.ReadWrite.All); checking that a
# user holds no directory role needs RoleManagement.Read.Directory. Each is asked for only when a row needs it.
$Scopes = @(if ($Apply) { 'User.ReadWrite.All' } else { 'User.Read.All' })
$HasSwaps = @($Rows | Where-Object { $_.Action -ceq 'SetImmutableIdWithUpnSwap' }).Count -gt 0
$HasRoles = @($Rows | Where-Object { [string] $_.Roles }).Count -gt 0
if ($Apply -and $HasSwaps) { $Scopes += 'User-PasswordProfile.ReadWrite.All' }
if ($HasRoles) { $Scopes += 'RoleManagement.Read.Directory' }
$Context = Get-MgContext
$Granted = if ($Context) { @($Context.Scopes) } else { @() }
$Lacking = @($Scopes | Where-Object { $Granted -notcontains $_ -and -not ($_ -eq 'User.Read.All' -and $Granted -contains 'User.ReadWrite.All') })
if (-not $Context -or $Lacking.Count -gt 0 -or $Context.TenantId -ne $PlanTenant) {
    if ($Context -and $Context.TenantId -ne $PlanTenant) {
        Write-Host "Connected to tenant $($Context.TenantId), not $($PlanTenant): connecting to the plan's tenant."
    }
    Connect-MgGraph -TenantId $PlanTenant -Scopes $Scopes -NoWelcome
    $Context = Get-MgContext
}
if (-not $Context -or $Context.TenantId -ne $PlanTenant) {
    throw "Microsoft Graph is connected to tenant $($Context.TenantId), but this plan is for $($PlanTenant): refusing to run."
}

$Log = [System.Collections.Generic.List[object]]::new()

function Write-Outcome {
    param([object] $Row, [string] $Outcome, [string] $Before, [string] $After, [string] $Message)
    $Entry = [pscustomobject]@{
        Time              = (Get-Date).ToString('o')
        Mode              = $Mode
        EntraId           = [string] $Row.EntraId
        UserPrincipalName = [string] $Row.UserPrincipalName
        Outcome           = $Outcome
        ValueBefore       = $Before
        ValueAfter        = $After
        Message           = $Message
    }
    $Log.Add($Entry)
    $Entry | Export-Csv -LiteralPath $LogPath -Append -NoTypeInformation -Encoding UTF8
    Write-Host ('{0,-10} {1}  {2}' -f $Outcome, $Row.UserPrincipalName, $Message)
}

function Assert-Apply {
    if (-not $Apply) { throw 'Internal error: a change was attempted without -Apply.' }
}

function Get-UserState {
    param([string] $Id)
    Get-MgUser -UserId $Id -Property $UserProperties
}

function Get-RoleAssignmentCount {
    # Reads only: the user's directory role assignments (an admin role holder is never matched by Entra Connect).
    param([string] $Id)
    $Uri = "$GraphRoot/roleManagement/directory/roleAssignments?`$filter=principalId eq '$Id'"
    @((Invoke-MgGraphRequest -Method GET -Uri $Uri).value).Count
}

function New-RandomPassword {
    $Bytes = [byte[]]::new(24)
    [System.Security.Cryptography.RandomNumberGenerator]::Create().GetBytes($Bytes)
    'Hx1!' + [Convert]::ToBase64String($Bytes)
}

function Set-ImmutableId {
    param([string] $Id, [string] $Value)
    Assert-Apply
    if ($Value) {
        Update-MgUser -UserId $Id -OnPremisesImmutableId $Value
    } else {
        # Restoring "no value": Update-MgUser would send an empty string, so send JSON null.
        Invoke-MgGraphRequest -Method PATCH -Uri "https://graph.microsoft.com/v1.0/users/$Id" `
            -Body '{"onPremisesImmutableId":null}' -ContentType 'application/json'
    }
}

function Set-ImmutableIdWithUpnSwap {
    param([string] $Id, [string] $Upn, [string] $TemporaryUpn, [string] $Value)
    Assert-Apply
    if (-not $TemporaryUpn) { throw 'TemporaryUpn is empty: fill it in the plan (a UPN in a managed domain).' }
    $Moved = $false
    $Inner = $null
    try {
        $PasswordProfile = @{ Password = (New-RandomPassword); ForceChangePasswordNextSignIn = $false }
        Update-MgUser -UserId $Id -UserPrincipalName $TemporaryUpn -PasswordProfile $PasswordProfile
        $Moved = $true
        Set-ImmutableId -Id $Id -Value $Value
    } catch {
        $Inner = $_.Exception.Message
    }
    if ($Moved) {
        try {
            Update-MgUser -UserId $Id -UserPrincipalName $Upn
        } catch {
            $Restore = $_.Exception.Message
            if ($Inner) {
                throw "Setting the ImmutableID failed ($Inner), and the UPN was left at the temporary value; move it back by hand: $Restore"
            }
            throw "The ImmutableID was set, but the UPN was left at the temporary value; move it back by hand: $Restore"
        }
    }
    if ($Inner) { throw $Inner }
}

foreach ($Row in $Rows) {
    try {
        $Id = [string] $Row.EntraId
        $Expected = [string] $Row.$CurrentColumn
        $New = [string] $Row.$NewColumn
        $Guid = [guid]::Empty
        if (-not [guid]::TryParse($Id, [ref] $Guid)) {
            Write-Outcome $Row 'Invalid' '' '' 'EntraId is not an object id (GUID); row ignored.'
            continue
        }
        if ($Actions -notcontains $Row.Action) {
            Write-Outcome $Row 'Invalid' '' '' 'Unknown Action; row ignored.'
            continue
        }
        if (-not $Rollback -and $New -cnotmatch $ImmutableIdPattern) {
            Write-Outcome $Row 'Invalid' '' '' 'NewImmutableId is not a 24-character base64 anchor; row ignored.'
            continue
        }
        if ($Row.Action -ceq 'SetImmutableIdWithUpnSwap' -and -not ([string] $Row.TemporaryUpn).Trim()) {
            # checked here, before the dry-run branch, so the dry run reports what -Apply would refuse
            Write-Outcome $Row 'Invalid' '' '' 'TemporaryUpn is empty: a UPN swap needs a temporary UPN in a managed domain; row ignored.'
            continue
        }
        $State = Get-UserState -Id $Id
        $Current = [string] $State.OnPremisesImmutableId
        if ($Current -ceq $New) {
            Write-Outcome $Row 'Unchanged' $Current $Current 'Already has the target value.'
            continue
        }
        if ($Current -cne $Expected) {
            Write-Outcome $Row 'Skipped' $Current '' 'The current value is not the one hybridx saw: not changed; re-run hybridx.'
            continue
        }
        if ($State.OnPremisesSyncEnabled -eq $true) {
            Write-Outcome $Row 'Skipped' $Current '' 'Still shown as synced from on-premises: Graph refuses the change until directory sync is off.'
            continue
        }
        if ($HasRoles -and (Get-RoleAssignmentCount -Id $Id) -gt 0) {
            Write-Outcome $Row 'Skipped' $Current '' 'Still holds a directory role: remove the roles first (Entra matches no role holder), then run again.'
            continue
        }
        if (-not $Apply) {
            Write-Outcome $Row 'WouldSet' $Current $New 'Dry run: add -Apply to change it.'
            continue
        }
        if ($Row.Action -ceq 'SetImmutableIdWithUpnSwap') {
            Set-ImmutableIdWithUpnSwap -Id $Id -Upn $State.UserPrincipalName -TemporaryUpn $Row.TemporaryUpn -Value $New
        } else {
            Set-ImmutableId -Id $Id -Value $New
        }
        $After = [string] (Get-UserState -Id $Id).OnPremisesImmutableId
        if ($After -ceq $New) {
            Write-Outcome $Row 'Changed' $Current $After 'Set and verified.'
        } else {
            Write-Outcome $Row 'Failed' $Current $After 'Written, but reading it back shows another value.'
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
