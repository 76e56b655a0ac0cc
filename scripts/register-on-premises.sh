#!/usr/bin/env bash
# Register this Linux server with AWS Systems Manager as a hybrid managed node (mi-...), so the
# baseline's State Manager associations install and configure the CloudWatch agent on it.
#
#   sudo ./register-on-premises.sh --secret-id <prefix>/on-premises/linux/activation --region <home-region>
#
# What it does:
#   1. reads the hybrid activation (ActivationId, ActivationCode, Region) from Secrets Manager with
#      the AWS CLI and the credentials of the operator running it (secretsmanager:GetSecretValue and
#      kms:Decrypt on the secret's key; HybridActivation.grant_read_activation grants them);
#   2. installs SSM Agent if it is missing (dnf/yum or apt: the distribution's package, or AWS's
#      regional package bucket);
#   3. registers the server with the activation and starts SSM Agent;
#   4. points the CloudWatch agent at the credentials SSM Agent shares for the node's service role
#      (common-config.toml: shared credentials file of root, profile default), the agent's first
#      credential source; the agent package, installed later by the association, keeps that file.
# The activation tags the node (CloudWatchAgent=on-premises-linux by default); the install and
# configure associations target that tag and run within minutes of registration, then daily.
#
# The activation code goes only to `amazon-ssm-agent -register` (the way AWS documents it; it is
# in the process list while that call runs); this script never prints it or writes it to disk.
#
# Options:
#   --secret-id ID     secret name or ARN (required)
#   --region REGION    region of the secret and the activation (required)
#   --profile NAME     AWS CLI profile of the operator (optional)
#   --dry-run          check the secret and print what would be done, without installing or registering
set -euo pipefail

secret_id=""
region=""
profile=()
dry_run=false

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e 's/^# \{0,1\}//' -e '/^set -euo/d'
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --secret-id) secret_id="${2:?--secret-id needs a value}"; shift 2 ;;
    --region) region="${2:?--region needs a value}"; shift 2 ;;
    --profile) profile=(--profile "${2:?--profile needs a value}"); shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [[ -z "$secret_id" || -z "$region" ]]; then
  echo "--secret-id and --region are required (see --help)" >&2
  exit 2
fi
if [[ "$dry_run" != true && "$(id -u)" -ne 0 ]]; then
  echo "run as root (sudo): SSM Agent is installed and registered system-wide" >&2
  exit 1
fi
for tool in aws python3; do
  command -v "$tool" > /dev/null || { echo "$tool is required" >&2; exit 1; }
done

# Read the secret into variables only; python3 parses the JSON (jq may be absent).
secret_json="$(aws "${profile[@]}" --region "$region" secretsmanager get-secret-value \
  --secret-id "$secret_id" --query SecretString --output text)"
activation_id="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["ActivationId"])' <<< "$secret_json")"
activation_code="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["ActivationCode"])' <<< "$secret_json")"
expires="$(python3 -c 'import json,sys; print(json.load(sys.stdin).get("ExpirationDate", "unknown"))' <<< "$secret_json")"
unset secret_json

if [[ ! "$activation_id" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]; then
  echo "the secret holds no activation yet (was the stack deployed with the activation on?)" >&2
  exit 1
fi
echo "activation $activation_id (expires $expires) in $region"

if [[ "$dry_run" == true ]]; then
  echo "dry run: would install SSM Agent if missing and register with activation $activation_id"
  exit 0
fi

install_ssm_agent() {
  if command -v amazon-ssm-agent > /dev/null; then
    return
  fi
  local arch
  case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64) arch=arm64 ;;
    *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;;
  esac
  local base="https://s3.${region}.amazonaws.com/amazon-ssm-${region}/latest"
  if command -v dnf > /dev/null || command -v yum > /dev/null; then
    local installer
    installer="$(command -v dnf || command -v yum)"
    "$installer" install -y "${base}/linux_${arch}/amazon-ssm-agent.rpm"
  elif command -v apt-get > /dev/null; then
    local package
    package="$(mktemp --suffix=.deb)"
    curl --fail --silent --show-error --location "${base}/debian_${arch}/amazon-ssm-agent.deb" --output "$package"
    dpkg -i "$package"
    rm -f "$package"
  else
    echo "no dnf, yum or apt-get: install SSM Agent by hand, then run this again" >&2
    exit 1
  fi
}

write_agent_common_config() {
  local directory=/opt/aws/amazon-cloudwatch-agent/etc
  mkdir -p "$directory"
  cat > "$directory/common-config.toml" << 'TOML'
# Written by register-on-premises.sh: on a hybrid node SSM Agent shares the service role's
# temporary credentials in root's shared credentials file; the CloudWatch agent reads them here.
[credentials]
  shared_credential_profile = "default"
  shared_credential_file = "/root/.aws/credentials"
TOML
}

install_ssm_agent
write_agent_common_config
systemctl stop amazon-ssm-agent || true
# -y: replace an earlier registration of this server (re-running the script is safe).
amazon-ssm-agent -register -y -code "$activation_code" -id "$activation_id" -region "$region"
unset activation_code
systemctl enable --now amazon-ssm-agent
echo "registered; the CloudWatch agent associations reach this server within minutes"
