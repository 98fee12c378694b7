#!/usr/bin/env bash
# Installs what edge-agent needs, builds it, and runs it on the simulated board against a local
# mosquitto (started here if nothing listens on port 1883). Without a broker it buffers readings to
# its spool and sends them when one appears. Stop it with Ctrl-C: it publishes "offline" and exits.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product edge-agent
if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  echo "starting a local mosquitto on 127.0.0.1:1883 (watch with: mosquitto_sub -t 'edge/#' -v)"
  mosquitto -p 1883 -d 2>/dev/null || mosquitto -c /dev/null -p 1883 -d || echo "no broker: readings go to the spool"
fi
exec .build/release/edge-agent run --config boards/simulated.yaml "$@"
