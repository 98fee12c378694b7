#!/usr/bin/env bash
# Installs the Debian packages edge-agent builds, runs and tests with. Idempotent; needs root.
# With --test, also what the hardware test needs: a kernel source to build the small qemu test
# kernel (gpio-sim, i2c-stub), qemu and a static busybox for the guest, and Python's venv for the
# Home Assistant test.
set -euo pipefail
packages=(
  libssl-dev openssl libyaml-dev libgpiod-dev libi2c-dev zlib1g-dev   # linked by edge-agent (zlib: by a test)
  mosquitto mosquitto-clients mosquitto-dev gcc                        # the broker the tests start (and a test plugin)
  libmosquitto-dev libpaho-mqtt-dev valgrind                           # benchmarks against other clients
  gpiod i2c-tools                                                      # hardware tools for users
  systemd                                                              # systemd-analyze rates the unit in the tests
)
if [ "${1:-}" = "--test" ]; then
  packages+=(linux-source-6.1 bc flex bison libelf-dev make cpio xz-utils binutils  # the test kernel
             qemu-system-x86 busybox-static                                         # the guest
             debootstrap qemu-user-static file binutils-aarch64-linux-gnu   # Debian 13 roots; the arm64 binary
             dpkg-dev lintian e2fsprogs                                     # the packages; the boot test's disks
             python3-venv python3-pip                                       # Home Assistant's environment (PyPI)
             rabbitmq-server)                                               # the fleet test's cluster
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The packaged brokers start themselves on some systems (mosquitto on 1883, RabbitMQ on 5672); the
# tests start their own on free ports and leave those alone.
