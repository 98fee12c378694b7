#!/usr/bin/env python3
"""Instructions per QoS 1 publish, counted by callgrind: `edge-agent bench publish`, libmosquitto and
Eclipse Paho C against one mosquitto, in one run.

QoS 1, 64-byte payloads, window 32. Each client runs twice under callgrind, with 5,000 and 15,000
messages; the difference of the two totals over 10,000 is the cost of one publish (connecting,
set-up and tear-down cancel out). Then the same in MQTT 5.0, against libmosquitto's 5.0, with
edge-agent's heap allocations per publish (valgrind's heap summary over the same two lengths). Instruction counts do not depend on the machine's load, unlike
timings. valgrind 3.19 cannot read this toolchain's DWARF 5, so the binaries are stripped first.

Usage: python3 Benchmarks/cpu_publish.py
"""
import os, subprocess, sys, tempfile

from benchlib import OUT, free_port, start_mosquitto
from mqtt_clients import build, commands, heap_allocs


def instructions(cmd, out):
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"] + cmd,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    sys.exit(f"no totals in {out}")


def main():
    build()
    subprocess.run(["strip", "--strip-debug", f"{OUT}/edge-agent"], check=True)
    with tempfile.TemporaryDirectory() as work:
        port = free_port()
        broker = start_mosquitto(work, f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                                 "max_inflight_messages 0\nmax_queued_messages 0\n", port)
        try:
            per = {}
            for name in ("edge-agent", "libmosquitto", "paho-c"):
                low = instructions(commands(port, 5000)[name], f"{work}/{name}.5000")
                high = instructions(commands(port, 15000)[name], f"{work}/{name}.15000")
                per[name] = (high - low) / 10000
            per5, allocs5 = {}, {}
            for name, cmd in commands(port, 5000, v5=True).items():
                tag = name.replace(" ", "_").replace(",", "").replace("'", "")
                low = instructions(cmd, f"{work}/{tag}.5000")
                high = instructions(commands(port, 15000, v5=True)[name], f"{work}/{tag}.15000")
                per5[name] = (high - low) / 10000
                if name.startswith("edge-agent"):
                    allocs5[name] = (heap_allocs(commands(port, 15000, v5=True)[name]) - heap_allocs(cmd)) / 10000
        finally:
            broker.terminate()
            broker.wait()
    print("| client | instructions per QoS 1 publish | vs libmosquitto |")
    print("| --- | ---: | ---: |")
    for name, value in per.items():
        print(f"| {name} | {value:,.0f} | {value / per['libmosquitto']:.2f}x |")
    print()
    print("| client, MQTT 5.0 | instructions per QoS 1 publish | vs libmosquitto 5.0 | heap allocations per publish |")
    print("| --- | ---: | ---: | ---: |")
    for name, value in per5.items():
        allocs = f"{allocs5[name]:.3f}" if name in allocs5 else ""
        print(f"| {name} | {value:,.0f} | {value / per5['libmosquitto 5.0']:.2f}x | {allocs} |")


if __name__ == "__main__":
    main()
