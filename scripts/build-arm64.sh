#!/usr/bin/env bash
# Cross-compiles the aarch64 (Raspberry Pi 3, 4, 5, Zero 2 W on 64-bit Raspberry Pi OS) release
# binary on an x86-64 machine with Debian 13's own Swift 6.0: the amd64 trixie root that
# scripts/trixie-test.sh makes runs the compiler, and an arm64 trixie root, whose packages are only
# fetched and unpacked (no emulation), is the SDK: headers, libraries and the aarch64 Swift runtime,
# linked statically. Then, with --check, runs the binary under qemu-user: check-config, scan-i2c on
# a bus that is not there, and a simulated run that must publish to a local mosquitto.
#
#   scripts/build-arm64.sh [--check]     -> .build-arm64/edge-agent-aarch64 (stripped)
set -euo pipefail
cd "$(dirname "$0")/.."
source=$(pwd)
root=${TRIXIE_ROOT:-/var/tmp/edge-agent-trixie}
sdk=${TRIXIE_ARM64_ROOT:-/var/tmp/edge-agent-trixie-arm64}
scripts/trixie-test.sh --root-only

packages=swiftlang,libc6-dev,libstdc++-14-dev,libssl-dev,zlib1g-dev,libyaml-dev,libgpiod-dev,libi2c-dev
stamp="$sdk/.edge-agent-packages"
if [ "$(cat "$stamp" 2>/dev/null)" != "$packages" ]; then
  rm -rf "$sdk"
  # --foreign only fetches and unpacks the base; every package it fetched is unpacked as it is.
  debootstrap --foreign --arch=arm64 --variant=minbase --include="$packages" trixie "$sdk" http://deb.debian.org/debian >/dev/null
  for deb in "$sdk"/var/cache/apt/archives/*.deb; do dpkg -x "$deb" "$sdk"; done
  echo "$packages" > "$stamp"
fi

mounts=()
cleanup() { for ((i=${#mounts[@]}-1; i>=0; i--)); do umount -l "${mounts[$i]}" 2>/dev/null || true; done; }
trap cleanup EXIT
bind() { mkdir -p "$root$2"; mount --bind "$1" "$root$2"; mounts+=("$root$2"); }
mount -t proc proc "$root/proc"; mounts+=("$root/proc")
bind /dev /dev
bind "$source" /src
bind "$sdk" /sdk
if [ -d /opt/swift-packages ]; then bind /opt/swift-packages /opt/swift-packages; fi

triple=aarch64-unknown-linux-gnu
chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  PKG_CONFIG_SYSROOT_DIR=/sdk PKG_CONFIG_LIBDIR=/sdk/usr/lib/aarch64-linux-gnu/pkgconfig:/sdk/usr/share/pkgconfig \
  bash -o pipefail -c "cd /src && swift build -c release --scratch-path .build-arm64 --product edge-agent --static-swift-stdlib \
    --triple $triple --sdk /sdk -Xswiftc -resource-dir -Xswiftc /sdk/usr/libexec/swift/lib/swift_static -Xswiftc -sdk -Xswiftc /sdk 2>&1 | grep -E 'error|warning: unre|Build' | tail -5"
binary=$source/.build-arm64/$triple/release/edge-agent
[ -x "$binary" ]
stripped=$source/.build-arm64/edge-agent-aarch64
command -v aarch64-linux-gnu-strip >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq binutils-aarch64-linux-gnu >/dev/null
aarch64-linux-gnu-strip -o "$stripped" "$binary"
echo "arm64 binary: $(file -b "$stripped" | cut -d, -f1-2), $(( $(stat -c %s "$stripped") / 1024 )) KiB stripped"
[ "${1:-}" = "--check" ] || exit 0

# Under qemu-user, with the arm64 root's libraries.
command -v qemu-aarch64-static >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static
run() { qemu-aarch64-static -L "$sdk" "$stripped" "$@"; }
run check-config --config boards/simulated.yaml | head -1
if out=$(run scan-i2c --bus 37 2>&1); then echo "scan-i2c on a missing bus succeeded: $out"; exit 1; fi
echo "$out" | grep -q "i2c-37" || { echo "scan-i2c: unexpected output: $out"; exit 1; }
echo "arm64 scan-i2c without the bus: $out"
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" > "$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" >/dev/null 2>&1 & broker=$!
sed -e "s|mqtt://localhost:1883|mqtt://127.0.0.1:$port|" -e "s|dir: .*spool.*|dir: $work/spool|" boards/simulated.yaml > "$work/config.yaml"
sleep 0.5
timeout 20 mosquitto_sub -p "$port" -t 'edge/+/telemetry/#' -C 1 -W 20 > "$work/received" & sub=$!
qemu-aarch64-static -L "$sdk" "$stripped" run --config "$work/config.yaml" 2>"$work/agent.log" & agent=$!
status=0
wait $sub || status=$?
kill $agent $broker 2>/dev/null || true
wait $agent 2>/dev/null || true
if [ $status -ne 0 ] || ! grep -q '"seq"' "$work/received"; then
  echo "arm64 run: no telemetry arrived"; cat "$work/agent.log"; exit 1
fi
echo "arm64 run under qemu-user: telemetry received: $(cat "$work/received")"
rm -rf "$work"
