#!/usr/bin/env python3
"""Compares `edge-agent bench publish` with libmosquitto and Eclipse Paho C on one mosquitto.

QoS 1, 64-byte payloads, window 32, same broker, same run. For each client it prints msg/s (median
of --runs), client CPU seconds per 100k messages (user+sys from rusage), and heap allocations per
message: valgrind's heap summary over two run lengths, so set-up allocations cancel out.
Figures vary with the machine; the ratios against libmosquitto are what to compare.

Usage: python3 Benchmarks/mqtt_clients.py [--count 100000] [--runs 3]
"""
import argparse, os, re, resource, statistics, subprocess, sys, tempfile

from benchlib import OUT, ROOT, free_port, start_mosquitto


def build():
    os.makedirs(OUT, exist_ok=True)
    subprocess.run(["swift", "build", "-c", "release", "--product", "edge-agent"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    # valgrind 3.19 cannot read this toolchain's DWARF; it measures a stripped copy.
    subprocess.run(["strip", "-o", f"{OUT}/edge-agent", f"{ROOT}/.build/release/edge-agent"], check=True)
    src = os.path.join(ROOT, "Benchmarks", "mqtt")
    subprocess.run(["gcc", "-O2", "-o", f"{OUT}/mosquitto_bench", f"{src}/mosquitto_bench.c", "-lmosquitto"], check=True)
    subprocess.run(["gcc", "-O2", "-o", f"{OUT}/paho_bench", f"{src}/paho_bench.c", "-lpaho-mqtt3a", "-lpthread"], check=True)


def start_broker(port, directory):
    return start_mosquitto(directory, f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n", port)


def commands(port, count, v5=False):
    """The clients' commands; with v5, MQTT 5.0's (edge-agent both plain and with the properties the
    agent sends: Content Type, Payload Format Indicator and a Topic Alias)."""
    agent = [f"{OUT}/edge-agent", "bench", "publish", "--host", "127.0.0.1", "--port", str(port),
             "--count", str(count), "--size", "64", "--qos", "1", "--inflight", "32"]
    if v5:
        return {
            "edge-agent 5.0": agent + ["-V", "5"],
            "edge-agent 5.0, the agent's properties": agent + ["-V", "5", "--agent-properties"],
            "libmosquitto 5.0": [f"{OUT}/mosquitto_bench", str(port), str(count), "64", "32", "5"],
        }
    return {
        "edge-agent": agent,
        "libmosquitto": [f"{OUT}/mosquitto_bench", str(port), str(count), "64", "32"],
        "paho-c": [f"{OUT}/paho_bench", str(port), str(count), "64", "32"],
    }


def timed_run(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    rate = float(re.search(r"messages in [\d.]+ s: (\d+) msg/s", out.strip().splitlines()[-1]).group(1))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return rate, cpu


def heap_allocs(cmd):
    r = subprocess.run(["valgrind", "--tool=memcheck", "--leak-check=no"] + cmd, capture_output=True, text=True)
    m = re.search(r"total heap usage: ([\d,]+) allocs", r.stderr)
    if not m:
        raise SystemExit(f"no heap summary from valgrind for {cmd[0]}:\n{r.stderr[-2000:]}")
    return int(m.group(1).replace(",", ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--alloc-counts", default="5000,15000")
    args = ap.parse_args()
    build()
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        broker = start_broker(port, d)
        try:
            results = {}
            for name, cmd in commands(port, args.count).items():
                runs = [timed_run(cmd) for _ in range(args.runs)]
                rate = statistics.median(r[0] for r in runs)
                cpu = statistics.median(r[1] for r in runs) * 100_000 / args.count
                n1, n2 = (int(x) for x in args.alloc_counts.split(","))
                a1 = heap_allocs(commands(port, n1)[name])
                a2 = heap_allocs(commands(port, n2)[name])
                results[name] = (rate, cpu, (a2 - a1) / (n2 - n1))
        finally:
            broker.terminate()
            broker.wait()
    ref = results["libmosquitto"]
    print(f"QoS 1, 64-byte payloads, window 32, {args.count} messages, median of {args.runs} runs, one mosquitto")
    print(f"{'client':<14}{'msg/s':>10}{'x libmosq':>11}{'CPU s/100k':>12}{'x libmosq':>11}{'allocs/msg':>12}")
    for name, (rate, cpu, allocs) in results.items():
        print(f"{name:<14}{rate:>10.0f}{rate / ref[0]:>11.2f}{cpu:>12.3f}{cpu / ref[1]:>11.2f}{allocs:>12.2f}")


if __name__ == "__main__":
    main()
