#!/usr/bin/env bash
# Builds edge-agent and runs its unit tests on Debian 13 "trixie", what Raspberry Pi OS is based on
# today: Debian's own Swift 6.0 (swiftlang, so Package@swift-6.0.swift) and libgpiod 2, in a root
# made with debootstrap (cached in /var/tmp; about a minute to make). Then the qemu hardware test
# (scripts/hardware-test.sh) with the trixie-built release binary, so that libgpiod 2 meets a real
# kernel's gpio-sim.
#
#   scripts/trixie-test.sh [--root-only | --build-only | --no-hardware]
set -euo pipefail
cd "$(dirname "$0")/.."
source=$(pwd)
root=${TRIXIE_ROOT:-/var/tmp/edge-agent-trixie}
packages=swiftlang,libc6-dev,libstdc++-14-dev,pkg-config,git,ca-certificates,libssl-dev,zlib1g-dev,libyaml-dev,libgpiod-dev,libi2c-dev,mosquitto,mosquitto-clients,mosquitto-dev,libmosquitto-dev,openssl,gcc,systemd
stamp="$root/.edge-agent-packages"
if [ "$(cat "$stamp" 2>/dev/null)" != "$packages" ]; then
  command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
  rm -rf "$root"
  debootstrap --variant=minbase --include="$packages" trixie "$root" http://deb.debian.org/debian >/dev/null
  # Swift packages resolve from the same mirror as outside the root (git's url.*.insteadOf).
  git config --system -l 2>/dev/null | grep '^url\.' | while IFS='=' read -r key value; do
    chroot "$root" git config --system --add "$key" "$value"
  done
  echo "$packages" > "$stamp"
fi
[ "${1:-}" = "--root-only" ] && exit 0

mounts=()
cleanup() { for ((i=${#mounts[@]}-1; i>=0; i--)); do umount -l "${mounts[$i]}" 2>/dev/null || true; done; }
trap cleanup EXIT
bind() { mkdir -p "$root$2"; mount --bind "$1" "$root$2"; mounts+=("$root$2"); }
mount -t proc proc "$root/proc"; mounts+=("$root/proc")   # swift finds its runtime through /proc/self/exe
bind /dev /dev
bind "$source" /src
if [ -d /opt/swift-packages ]; then bind /opt/swift-packages /opt/swift-packages; fi

run() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 bash -o pipefail -c "cd /src && $1"; }
run "swift --version 2>&1 | grep -i version"
run "pkg-config --modversion libgpiod | sed 's/^/libgpiod /'"
run "swift build -c release --scratch-path .build-trixie --product edge-agent --static-swift-stdlib 2>&1 | grep -E 'error|warning: unre|Compiling edge|Build' | tail -3"
run ".build-trixie/release/edge-agent check-config --config boards/simulated.yaml >/dev/null && echo 'trixie build: check-config OK'"
[ "${1:-}" = "--build-only" ] && exit 0
run "swift build --scratch-path .build-trixie --build-tests 2>&1 | grep -E 'error|Build' | tail -3"
run "swift test --scratch-path .build-trixie --skip-build > .build-trixie/test-output.txt 2>&1" || { grep -E '✘|error' .build-trixie/test-output.txt | head -40; exit 1; }
grep -E 'Test run|Executed' .build-trixie/test-output.txt | sed 's/^/trixie: /'
if [ "${1:-}" != "--no-hardware" ]; then
  EDGE_AGENT_BINARY=$source/.build-trixie/release/edge-agent EDGE_AGENT_ROOT=$root scripts/hardware-test.sh
fi
