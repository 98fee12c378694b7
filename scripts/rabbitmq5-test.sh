#!/usr/bin/env bash
# The agent against RabbitMQ 4.0 speaking MQTT 5.0: Debian 13's rabbitmq-server (4.0; Debian 12's
# 3.10 speaks 3.1.1 only) in a trixie root made with debootstrap (cached in /var/tmp), started by
# scripts/rabbitmq5_test.py on free loopback ports with its own Erlang port mapper, and the agent
# binary given (the host's) against it with mqtt.version: auto.
#
#   scripts/rabbitmq5-test.sh BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
binary=$(realpath "${1:?usage: $0 BINARY}")
root=${RABBITMQ4_ROOT:-/var/tmp/edge-agent-rabbitmq4}
packages=rabbitmq-server
stamp="$root/.edge-agent-packages"
if [ "$(cat "$stamp" 2>/dev/null)" != "$packages" ]; then
  command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
  rm -rf "$root"
  debootstrap --variant=minbase --include="$packages" trixie "$root" http://deb.debian.org/debian >/dev/null
  echo "$packages" > "$stamp"
fi
mounts=()
cleanup() { for ((i=${#mounts[@]}-1; i>=0; i--)); do umount -l "${mounts[$i]}" 2>/dev/null || true; done; }
trap cleanup EXIT
mountpoint -q "$root/proc" || { mount -t proc proc "$root/proc"; mounts+=("$root/proc"); }
mountpoint -q "$root/dev" || { mount --bind /dev "$root/dev"; mounts+=("$root/dev"); }
python3 scripts/rabbitmq5_test.py "$binary" "$root"
