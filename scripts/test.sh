#!/usr/bin/env bash
# The whole test suite: installs what is needed, builds, runs every test against real mosquitto
# brokers the tests start on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
swift test --skip-build 2>&1 | tee .build/test-output.txt
