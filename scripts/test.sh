#!/usr/bin/env bash
# The whole test suite: installs what is needed, builds, runs every test against real mosquitto
# brokers the tests start on free loopback ports, then the Linux I2C and GPIO backends against a
# real kernel under qemu (scripts/hardware-test.sh); the same on Debian 13 trixie with Debian's
# Swift 6.0 and libgpiod 2 (scripts/trixie-test.sh); the aarch64 build under qemu-user
# (scripts/build-arm64.sh --check); and every fuzz target for a minute from its committed corpus
# (scripts/fuzz.sh; a crash fails the run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
swift build --build-tests
swift test --skip-build 2>&1 | tee .build/test-output.txt
scripts/hardware-test.sh
scripts/trixie-test.sh
scripts/build-arm64.sh --check
scripts/fuzz.sh --seconds 60
