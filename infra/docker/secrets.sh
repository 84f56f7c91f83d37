#!/usr/bin/env bash
# Makes, once, the secrets compose.yaml hands to the containers (as files under /run/secrets,
# read through the services' <NAME>_FILE settings): the Ed25519 key pair that signs access
# tokens, the service token tunnel boxes present, and RabbitMQ's password, both as the broker's
# config and as the services' AMQP URL. Files that exist are kept: safe to run again.
#
#   bash infra/docker/secrets.sh [DIR]      (default: .local/secrets, which git ignores)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="${1:-$root/.local/secrets}"

command -v openssl >/dev/null || { echo "secrets.sh needs openssl" >&2; exit 1; }
mkdir -p "$dir"
# The folder keeps the files from other users here; each file is readable by all, because compose
# mounts it as it is and each container reads it as its own user (node, rabbitmq).
chmod 0700 "$dir"
umask 022

if [ ! -s "$dir/jwt_private_key.pem" ]; then
  openssl genpkey -algorithm ed25519 -out "$dir/jwt_private_key.pem"
  rm -f "$dir/jwt_public_key.pem"
fi
[ -s "$dir/jwt_public_key.pem" ] || openssl pkey -in "$dir/jwt_private_key.pem" -pubout -out "$dir/jwt_public_key.pem"
[ -s "$dir/service_token" ] || openssl rand -hex 32 >"$dir/service_token"

# The broker takes its user from the config only when its data volume is new: a new password
# for an existing broker needs rabbitmqctl change_password as well.
if [ ! -s "$dir/rabbitmq.conf" ] || [ ! -s "$dir/amqp_url" ]; then
  password="$(openssl rand -hex 24)"
  printf 'default_user = tmuxme\ndefault_pass = %s\n' "$password" >"$dir/rabbitmq.conf"
  printf 'amqp://tmuxme:%s@rabbitmq:5672\n' "$password" >"$dir/amqp_url"
fi

# openssl writes private keys 0600 whatever the umask.
chmod 0644 "$dir"/*
echo "secrets in $dir: $(cd "$dir" && echo *)"
