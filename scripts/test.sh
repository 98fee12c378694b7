#!/usr/bin/env bash
# The whole test suite: installs what is needed, checks the formatting, builds, runs every test
# against real mosquitto brokers the tests start on free loopback ports, and against a real Home
# Assistant from PyPI (scripts/home-assistant-test.sh), a fleet of 60 agents against a 3-node
# RabbitMQ cluster through a node kill and a whole-cluster restart (scripts/fleet-test.sh), the
# agent in MQTT 5.0 against Debian 13's RabbitMQ 4.0 (scripts/rabbitmq5-test.sh), then
# the Linux I2C and GPIO backends against a real kernel under qemu (scripts/hardware-test.sh); the same on Debian 13
# trixie with Debian's Swift 6.0 and libgpiod 2 (scripts/trixie-test.sh); the aarch64 build under
# qemu-user (scripts/build-arm64.sh --check); the Debian packages (scripts/build-deb.sh: trixie
# amd64 and arm64, bookworm amd64, each checked with lintian and for its contents) and the trixie
# amd64 one installed and run under real systemd in a qemu VM (scripts/boot-test.sh); power cuts
# under the spool in a qemu guest whose disk loses what was not synced (scripts/power-cut-test.sh);
# and every fuzz target for a minute from its committed corpus (scripts/fuzz.sh; a crash fails).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
# The code as the toolchain's formatter writes it (.swift-format); `swift format --in-place
# --recursive Sources Tests Benchmarks Package*.swift` fixes what this finds.
swift format lint --strict --recursive --parallel Sources Tests Benchmarks Package.swift Package@swift-6.0.swift
swift build --build-tests
swift test --skip-build 2>&1 | tee .build/test-output.txt
scripts/home-assistant-test.sh .build/debug/edge-agent
scripts/fleet-test.sh .build/debug/edge-agent --agents 60
scripts/rabbitmq5-test.sh .build/debug/edge-agent
scripts/hardware-test.sh
scripts/trixie-test.sh
scripts/build-arm64.sh --check
scripts/build-deb.sh --suite trixie --arch arm64 >/dev/null
scripts/build-deb.sh --suite bookworm --arch amd64 >/dev/null
scripts/boot-test.sh "$(scripts/build-deb.sh --suite trixie --arch amd64)"
scripts/power-cut-test.sh
scripts/fuzz.sh --seconds 60
