#!/usr/bin/env bash
# What both `npm run up` and `npm test` need on a fresh machine: npm packages,
# the FerretDB and Mailpit builds, and a running RabbitMQ with its management API (the tests
# make a vhost per run through it). Safe to run again: it only does what is missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

if [ ! -d node_modules/.bin ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm packages…"
  npm ci --no-audit --no-fund
fi

bash infra/ferretdb/build.sh
bash infra/mailpit/build.sh

if [ -z "${AMQP_URL:-}" ] && ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
  command -v rabbitmq-server >/dev/null || { echo "RabbitMQ is not installed and AMQP_URL is not set" >&2; exit 1; }
  echo "starting RabbitMQ…"
  rabbitmq-server -detached
  for _ in $(seq 1 60); do
    (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null && break
    sleep 1
  done
  (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null || { echo "RabbitMQ did not start on 127.0.0.1:5672" >&2; exit 1; }
fi

if [ -z "${AMQP_URL:-}" ] && ! (exec 3<>/dev/tcp/127.0.0.1/15672) 2>/dev/null; then
  echo "enabling RabbitMQ's management API…"
  rabbitmq-plugins enable rabbitmq_management >/dev/null
  for _ in $(seq 1 30); do
    (exec 3<>/dev/tcp/127.0.0.1/15672) 2>/dev/null && break
    sleep 1
  done
fi
