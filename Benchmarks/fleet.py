#!/usr/bin/env python3
"""A large fleet against the 3-node RabbitMQ cluster of scripts/fleet-test.sh: the same phases and
checks (a node SIGKILLed and restarted, the whole cluster SIGKILLed and restarted, two boards with
one id; 0 lost by (device, sensor, seq), failover p95 at most 5 s, reconnects after the cluster
restart, when they started and when the brokers answered them), with the release binary, the
agents starting over a minute as a fleet's boards boot, and the cores the agents and the brokers
used in the steady phase, to say which of them bounds the fleet on this machine.

Usage: python3 Benchmarks/fleet.py [--agents 1000] [--interval 5s] [--ramp 60]
"""
import argparse, os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--interval", default="5s")
    ap.add_argument("--ramp", default="60")
    args = ap.parse_args()
    subprocess.run(["swift", "build", "-c", "release", "--product", "edge-agent"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    # One agent per process, as on a board: every one needs its descriptors (socket, spool, log).
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 65536)), hard))
    return subprocess.run([f"{ROOT}/scripts/fleet-test.sh", f"{ROOT}/.build/release/edge-agent", "--agents",
                           str(args.agents), "--interval", args.interval, "--ramp", args.ramp, "--json", f"{ROOT}/Benchmarks/fleet.json"],
                          cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
