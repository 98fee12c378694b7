#!/usr/bin/env bash
# A fleet against a 3-node RabbitMQ cluster from Debian's rabbitmq-server (Debian 12's 3.10: MQTT
# 3.1.1, sessions in quorum queues, a quorum queue as the sink read over AMQP), all on private
# loopback ports: one node SIGKILLed and restarted, the whole cluster SIGKILLed and restarted, two
# boards with one id (scripts/fleet_test.py says what is checked). Prints the figures.
# Usage: scripts/fleet-test.sh BINARY [--agents N]
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:?usage: scripts/fleet-test.sh BINARY [--agents N]}
shift
# pika (RabbitMQ's AMQP client for Python) from PyPI, in a venv kept between runs.
venv=${XDG_CACHE_HOME:-$HOME/.cache}/edge-agent/fleet-venv
if ! "$venv/bin/python" -c "import pika" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q pika==1.4.4
fi
exec "$venv/bin/python" scripts/fleet_test.py "$binary" "$@"
