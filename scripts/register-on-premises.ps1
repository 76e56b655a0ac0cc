<#
.SYNOPSIS
Registers this Windows server with AWS Systems Manager as a hybrid managed node (mi-...), so the
baseline's State Manager associations install and configure the CloudWatch agent on it.

.DESCRIPTION
1. Reads the hybrid activation (ActivationId, ActivationCode, Region) from Secrets Manager with the
   AWS CLI and the credentials of the operator running it (secretsmanager:GetSecretValue and
   kms:Decrypt on the secret's key; HybridActivation.grant_read_activation grants them).
2. Installs SSM Agent if it is missing (AWS's regional package bucket).
3. Registers the server with the activation and restarts SSM Agent.
4. Points the CloudWatch agent at the credentials SSM Agent shares for the node's service role
   (common-config.toml: the LocalSystem profile's shared credentials file, profile default).

The activation tags the node (CloudWatchAgent=on-premises-windows by default); the install and
configure associations target that tag and run within minutes of registration, then daily. The
activation code goes only to the register call; the script never prints it or writes it to disk.

.EXAMPLE
.\register-on-premises.ps1 -SecretId acme/on-premises/windows/activation -Region eu-west-1

.EXAMPLE
.\register-on-premises.ps1 -SecretId acme/on-premises/windows/activation -Region eu-west-1 -DryRun
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [string]$SecretId,

    [Parameter(Mandatory = $true)]
    [string]$Region,

    [string]$ProfileName = '',

    [switch]$DryRun
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$cliArguments = @('--region', $Region)
if ($ProfileName) {
    $cliArguments += @('--profile', $ProfileName)
}

if (-not (Get-Command aws -ErrorAction SilentlyContinue)) {
    throw 'The AWS CLI (aws.exe) is required to read the activation from Secrets Manager.'
}

$secretJson = & aws @cliArguments secretsmanager get-secret-value --secret-id $SecretId --query SecretString --output text
if ($LASTEXITCODE -ne 0) {
    throw "Could not read secret $SecretId in $Region."
}
$activation = $secretJson | ConvertFrom-Json
Remove-Variable secretJson

if ($activation.ActivationId -notmatch '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$') {
    throw 'The secret holds no activation yet (was the stack deployed with the activation on?).'
}
Write-Output "activation $($activation.ActivationId) (expires $($activation.ExpirationDate)) in $Region"

if ($DryRun) {
    Write-Output "dry run: would install SSM Agent if missing and register with activation $($activation.ActivationId)"
    return
}

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw 'Run as Administrator: SSM Agent is installed and registered system-wide.'
}

$agentExe = Join-Path $env:ProgramFiles 'Amazon\SSM\amazon-ssm-agent.exe'
if (-not (Test-Path $agentExe)) {
    $installer = Join-Path $env:TEMP 'AmazonSSMAgentSetup.exe'
    $source = "https://amazon-ssm-$Region.s3.$Region.amazonaws.com/latest/windows_amd64/AmazonSSMAgentSetup.exe"
    Invoke-WebRequest -Uri $source -OutFile $installer -UseBasicParsing
    # The installer registers the node itself when given the activation; nothing is logged by this script.
    $process = Start-Process -FilePath $installer -Wait -PassThru -ArgumentList @(
        '/q',
        '/log', (Join-Path $env:TEMP 'ssm-agent-install.log'),
        "CODE=$($activation.ActivationCode)",
        "ID=$($activation.ActivationId)",
        "REGION=$Region"
    )
    Remove-Item $installer -Force
    if ($process.ExitCode -ne 0) {
        throw "SSM Agent installation failed with exit code $($process.ExitCode)."
    }
}
else {
    Stop-Service AmazonSSMAgent -ErrorAction SilentlyContinue
    # -y: replace an earlier registration of this server (running the script again is safe).
    & $agentExe -register -y -code $activation.ActivationCode -id $activation.ActivationId -region $Region | Out-Null
    if ($LASTEXITCODE -ne 0) {
        throw "Registration failed with exit code $LASTEXITCODE."
    }
    Start-Service AmazonSSMAgent
}
Remove-Variable activation

$configDirectory = Join-Path $env:ProgramData 'Amazon\AmazonCloudWatchAgent'
New-Item -ItemType Directory -Force -Path $configDirectory | Out-Null
$commonConfig = @'
# Written by register-on-premises.ps1: on a hybrid node SSM Agent shares the service role's
# temporary credentials in the LocalSystem profile; the CloudWatch agent reads them here.
[credentials]
  shared_credential_profile = "default"
  shared_credential_file = "C:\\Windows\\System32\\config\\systemprofile\\.aws\\credentials"
'@
Set-Content -Path (Join-Path $configDirectory 'common-config.toml') -Value $commonConfig -Encoding ASCII

Write-Output 'registered; the CloudWatch agent associations reach this server within minutes'
