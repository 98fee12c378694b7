#!/usr/bin/env python3
"""The agent's footprint: stripped static binary size, RSS after an hour-equivalent of 10 simulated
sensors at 1 Hz (36,000 readings, run at 100 Hz per sensor to take 36 s) over TLS, CPU time per
reading, startup to first publish, and heap allocations per reading (valgrind over two run lengths).

Usage: python3 Benchmarks/footprint.py [--readings 36000]
"""
import argparse, os, re, subprocess, tempfile, time

from benchlib import OUT, ROOT, free_port, start_mosquitto


def sh(*cmd, cwd=None):
    subprocess.run(cmd, check=True, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def certificates(d):
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    sh("openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=bench CA", cwd=d)
    sh("openssl", "req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost", cwd=d)
    with open(f"{d}/ext", "w") as f:
        f.write("subjectAltName=DNS:localhost\n")
    sh("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
       "-out", "server.crt", "-days", "2", "-extfile", "ext", cwd=d)


def start_broker(d, port, plain_port):
    return start_mosquitto(d, f"per_listener_settings false\nallow_anonymous true\npersistence false\n"
                              f"listener {plain_port} 127.0.0.1\n"
                              f"listener {port} 127.0.0.1\ncafile {d}/ca.crt\ncertfile {d}/server.crt\nkeyfile {d}/server.key\n", port)


def write_config(d, port, interval, name, tls=True):
    sensors = "\n".join(f"  - {{name: s{i}, driver: simulated, interval: {interval}}}" for i in range(10))
    path = f"{d}/{name}.yaml"
    broker = f"[mqtts://localhost:{port}]\n  tls: {{ca_file: {d}/ca.crt}}" if tls else f"[mqtt://127.0.0.1:{port}]"
    with open(path, "w") as f:
        f.write(f"""device_id: bench
mqtt:
  brokers: {broker}
spool:
  dir: {d}/spool-{name}
  capacity: 64MiB
clock_check: false
sensors:
{sensors}
""")
    return path


def proc_status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return fields


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def readings_from(log):
    m = re.search(r"stopped after (\d+) reading", log)
    return int(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--readings", type=int, default=36_000)
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    sh("swift", "build", "-c", "release", "--static-swift-stdlib", "--product", "edge-agent", "--scratch-path", ".build-static", cwd=ROOT)
    binary = f"{OUT}/edge-agent-static"
    sh("strip", "-o", binary, f"{ROOT}/.build-static/release/edge-agent")
    size = os.path.getsize(binary)

    with tempfile.TemporaryDirectory() as d:
        certificates(d)
        port = free_port()
        plain_port = free_port()
        broker = start_broker(d, port, plain_port)
        try:
            # Startup to first publish, seen by a subscriber that is already connected.
            sub = subprocess.Popen(["mosquitto_sub", "-h", "localhost", "-p", str(port), "--cafile", f"{d}/ca.crt",
                                    "-t", "edge/bench/telemetry/#", "-C", "1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            start = time.monotonic()
            agent = subprocess.Popen([binary, "run", "--config", write_config(d, port, "1s", "startup")],
                                     stderr=subprocess.DEVNULL)
            sub.wait(timeout=10)
            startup_ms = (time.monotonic() - start) * 1000
            agent.terminate(); agent.wait()

            # An hour of 10 sensors at 1 Hz, compressed: 100 Hz per sensor.
            seconds = args.readings / 1000
            log = f"{d}/hour.log"
            with open(log, "w") as err:
                agent = subprocess.Popen([binary, "run", "--config", write_config(d, port, "10ms", "hour")], stderr=err)
                time.sleep(seconds)
                status = proc_status(agent.pid)
                cpu = cpu_seconds(agent.pid)
                agent.terminate(); agent.wait()
            readings = readings_from(open(log).read()) or args.readings

            # Allocations per reading: valgrind over two run lengths, the difference divided by the
            # difference in readings, so start-up and shutdown cancel out.
            per_reading = {}
            for tls, p in ((False, plain_port), (True, port)):
                counts = []
                for run_seconds in (4, 10):
                    vlog = f"{d}/valgrind-{tls}-{run_seconds}.log"
                    with open(vlog, "w") as err:
                        agent = subprocess.Popen(["valgrind", "--tool=memcheck", "--leak-check=no", binary, "run", "--config",
                                                  write_config(d, p, "10ms", f"valgrind-{tls}-{run_seconds}", tls)], stderr=err)
                        time.sleep(run_seconds)
                        agent.terminate(); agent.wait()
                    text = open(vlog).read()
                    allocs = int(re.search(r"total heap usage: ([\d,]+) allocs", text).group(1).replace(",", ""))
                    counts.append((readings_from(text), allocs))
                (r1, a1), (r2, a2) = counts
                per_reading[tls] = ((a2 - a1) / (r2 - r1), a1, r1, a2, r2)
        finally:
            broker.terminate(); broker.wait()

    print(f"stripped static binary:           {size / 1e6:.1f} MB")
    print(f"startup to first publish (TLS):   {startup_ms:.0f} ms (agent start to a subscriber receiving it)")
    print(f"after {readings} readings (10 sensors, TLS): VmRSS {status['VmRSS']} (anonymous {status['RssAnon']}, "
          f"file-backed {status['RssFile']}), peak VmHWM {status['VmHWM']}")
    print(f"CPU per reading:                  {cpu / readings * 1e6:.1f} us ({cpu:.2f} s for {readings})")
    for tls, label in ((False, "plain TCP"), (True, "TLS")):
        value, a1, r1, a2, r2 = per_reading[tls]
        print(f"heap allocations per reading, {label}: {value:.3f} ({a1} allocs for {r1} readings, {a2} for {r2})")


if __name__ == "__main__":
    main()
