#!/usr/bin/env python3
"""Instructions and heap allocations per reading of the whole agent, counted by valgrind: ten
simulated sensors at 10 ms against a local mosquitto, in write-ahead and in spill mode.

Each mode runs twice under callgrind (a short and a long run, stopped with SIGTERM); the difference
of the instruction totals over the difference of the readings taken (the agent's own count, from
its last log line) is the cost of one reading, with start-up and shutdown cancelled out. Under
valgrind the agent takes fewer readings than its schedule asks (it runs about 50 times slower);
the count is of readings taken. The simulated sensor's own arithmetic (three sines per reading,
work a real driver does not do) is the inclusive cost of its `collect`, stated apart; the agent's
figure is the total less that. Allocations per reading come from memcheck's heap summary the same
way. valgrind 3.19 cannot read this toolchain's DWARF 5, so the binary is stripped first.

Both runs last longer than the agent's start-up (it releases its start-up pages at 10 s), so
that one-time work falls in both and cancels out.

Usage: python3 Benchmarks/cpu_reading.py [--short 12] [--long 30]
"""
import argparse, os, re, shutil, signal, subprocess, tempfile, time

from benchlib import OUT, ROOT, free_port, start_mosquitto
from mqtt_clients import build

# With its symbols (valgrind names the functions), without DWARF (which valgrind 3.19 cannot read).
AGENT = f"{OUT}/edge-agent-symbols"


def write_config(d, port, mode):
    sensors = "\n".join(f"  - {{name: s{i}, driver: simulated, interval: 10ms}}" for i in range(10))
    path = f"{d}/{mode}.yaml"
    with open(path, "w") as f:
        f.write(f"device_id: bench\nmqtt:\n  brokers: [mqtt://127.0.0.1:{port}]\nspool:\n  dir: {d}/spool-{mode}\n"
                f"  mode: {mode}\nclock_check: false\nmetrics_interval: 1h\nsensors:\n{sensors}\n")
    return path


def run(tool, config, seconds, out):
    """Runs the agent under valgrind `tool` for `seconds` on an empty spool (a spool left by an
    earlier run would add its recovery scan to this one); returns (readings, valgrind's log)."""
    for spool in [l.split()[1] for l in open(config) if l.strip().startswith("dir:")]:
        shutil.rmtree(spool, ignore_errors=True)
    log = f"{out}.log"
    cmd = ["valgrind", f"--tool={tool}", f"--log-file={log}"]
    if tool == "callgrind":
        cmd.append(f"--callgrind-out-file={out}")
    agent = subprocess.Popen(cmd + [AGENT, "run", "--config", config], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    time.sleep(seconds)
    agent.send_signal(signal.SIGTERM)
    _, err = agent.communicate(timeout=120)
    m = re.search(r"stopped after (\d+) reading", err)
    if not m:
        raise SystemExit(f"no reading count from the agent:\n{err[-2000:]}")
    with open(log) as f:
        return int(m.group(1)), f.read()


def totals(out):
    with open(out) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise SystemExit(f"no totals in {out}")


def inclusive(out, pattern):
    """Instructions inside functions whose (mangled) name matches `pattern`, callees included."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out], capture_output=True,
                          text=True, check=True).stdout
    best = 0
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+) \(", line)
        if m and re.search(pattern, line):
            best = max(best, int(m.group(1).replace(",", "")))
    return best


def allocations(config, seconds, out):
    readings, log = run("memcheck", config, seconds, out)
    m = re.search(r"total heap usage: ([\d,]+) allocs", log)
    if not m:
        raise SystemExit(f"no heap summary from memcheck:\n{log[-2000:]}")
    return readings, int(m.group(1).replace(",", ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--short", type=float, default=12)
    ap.add_argument("--long", type=float, default=30)
    args = ap.parse_args()
    build()
    subprocess.run(["strip", "--strip-debug", "-o", AGENT, f"{ROOT}/.build/release/edge-agent"], check=True)
    rows = []
    with tempfile.TemporaryDirectory(dir="/var/tmp") as d:
        port = free_port()
        broker = start_mosquitto(d, f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n", port)
        try:
            for mode in ("write-ahead", "spill"):
                config = write_config(d, port, mode)
                n1, _ = run("callgrind", config, args.short, f"{d}/{mode}.short")
                n2, _ = run("callgrind", config, args.long, f"{d}/{mode}.long")
                per = (totals(f"{d}/{mode}.long") - totals(f"{d}/{mode}.short")) / (n2 - n1)
                sensor = (inclusive(f"{d}/{mode}.long", "SimulatedSensorDriver.*collect")
                          - inclusive(f"{d}/{mode}.short", "SimulatedSensorDriver.*collect")) / (n2 - n1)
                a1, h1 = allocations(config, args.short, f"{d}/{mode}.mem-short")
                a2, h2 = allocations(config, args.long, f"{d}/{mode}.mem-long")
                rows.append((mode, per, sensor, (h2 - h1) / (a2 - a1), n2 - n1))
        finally:
            broker.terminate()
            broker.wait()
    print("| spool mode | instructions per reading | of which the simulated sensor | agent | allocations per reading |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for mode, per, sensor, allocs, n in rows:
        print(f"| {mode} | {per:,.0f} | {sensor:,.0f} | {per - sensor:,.0f} | {allocs:.3f} |")
    print(f"\n(readings counted: the long run's over the short run's, {', '.join(str(r[4]) for r in rows)})")


if __name__ == "__main__":
    main()
