#!/usr/bin/env python3
"""What each spool mode costs the SD card: bytes the agent writes to disk per reading
(/proc/<pid>/io write_bytes, which counts what reaches the block layer, cursor and sequence files
included) with ten simulated sensors at 100 Hz against a local mosquitto that keeps up, for
write-ahead and spill, each with the default durability (interval, 1 s).

The spool directory must be on a real block device (not tmpfs) for write_bytes to count: it goes
under /var/tmp.

Usage: python3 Benchmarks/spool_modes.py [--seconds 20]
"""
import argparse, os, re, subprocess, tempfile, time

from benchlib import OUT, ROOT, free_port, start_mosquitto


def write_config(d, port, mode):
    sensors = "\n".join(f"  - {{name: s{i}, driver: simulated, interval: 10ms}}" for i in range(10))
    path = f"{d}/{mode}.yaml"
    with open(path, "w") as f:
        f.write(f"""device_id: bench
mqtt:
  brokers: [mqtt://127.0.0.1:{port}]
spool:
  dir: {d}/spool-{mode}
  mode: {mode}
clock_check: false
sensors:
{sensors}
""")
    return path


def write_bytes(pid):
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    subprocess.run(["swift", "build", "-c", "release", "--static-swift-stdlib", "--product", "edge-agent",
                    "--scratch-path", ".build-static"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    binary = f"{ROOT}/.build-static/release/edge-agent"
    with tempfile.TemporaryDirectory(dir="/var/tmp") as d:
        port = free_port()
        broker = start_mosquitto(d, f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n", port)
        try:
            print(f"{'mode':<12} {'readings':>9} {'bytes to disk':>14} {'per reading':>12}")
            for mode in ("write-ahead", "spill"):
                with open(f"{d}/{mode}.log", "w") as err:
                    agent = subprocess.Popen([binary, "run", "--config", write_config(d, port, mode)], stderr=err)
                    time.sleep(2)  # past start-up: the readings before the first connect are spooled in both modes
                    start = write_bytes(agent.pid)
                    time.sleep(args.seconds)
                    written = write_bytes(agent.pid) - start
                    agent.terminate(); agent.wait()
                log = open(f"{d}/{mode}.log").read()
                total = int(re.search(r"stopped after (\d+) reading", log).group(1))
                readings = total * args.seconds / (args.seconds + 2)  # those taken while measuring, near enough
                print(f"{mode:<12} {readings:>9.0f} {written:>14} {written / readings:>12.1f}")
        finally:
            broker.terminate(); broker.wait()


if __name__ == "__main__":
    main()
