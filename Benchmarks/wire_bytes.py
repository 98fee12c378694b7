#!/usr/bin/env python3
"""Bytes on the wire per reading: TCP payload both ways between the agent and its broker (TLS on),
for MQTT 3.1.1, 5.0 (with topic aliases) and 5.0 with `mqtt.linger: 60s`.

One simulated sensor every 10 s, for --minutes (default 10), the three agents at once, each
through a counting TCP proxy to one mosquitto with a TLS listener (certificates made at run time)
and 5.0's defaults (topic aliases up to 10). Counted from the first CONNACK on, so the TLS
handshake (reported apart) does not weigh on a short run; keep alive 30 s, metrics off (an hour),
clock check off (an unsynchronised clock adds a field to every reading). Readings are counted by a
subscriber on a plain listener.

Usage: python3 Benchmarks/wire_bytes.py [--minutes 10]
"""
import argparse, json, os, socket, subprocess, sys, tempfile, threading, time

from benchlib import OUT, ROOT, free_port, start_mosquitto


class CountingProxy:
    """Forwards one listening port to the broker's, counting the bytes each way."""

    def __init__(self, target):
        self.target = target
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.up = self.down = 0
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.sock.accept()
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self.pipe, args=(client, upstream, "up"), daemon=True).start()
            threading.Thread(target=self.pipe, args=(upstream, client, "down"), daemon=True).start()

    def pipe(self, src, dst, direction):
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                return
            with self.lock:
                if direction == "up":
                    self.up += len(data)
                else:
                    self.down += len(data)
            try:
                dst.sendall(data)
            except OSError:
                return

    def counts(self):
        with self.lock:
            return self.up, self.down


def certificates(work):
    def ssl(*args):
        subprocess.run(["openssl", *args], cwd=work, check=True, capture_output=True)
    ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key",
        "-out", "ca.pem", "-days", "2", "-subj", "/CN=wire-bytes CA")
    ssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "server.key",
        "-out", "server.csr", "-subj", "/CN=localhost")
    with open(f"{work}/ext", "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem",
        "-days", "2", "-extfile", "ext")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    args = ap.parse_args()
    subprocess.run(["swift", "build", "-c", "release", "--product", "edge-agent"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    binary = f"{ROOT}/.build/release/edge-agent"
    variants = {"3.1.1": "  version: 3.1.1\n", "5.0, topic aliases": "  version: 5\n",
                "5.0, linger 60s": "  version: 5\n  linger: 60s\n"}
    with tempfile.TemporaryDirectory() as work:
        certificates(work)
        tls, plain = free_port(), free_port()
        broker = start_mosquitto(work, f"listener {tls} 127.0.0.1\ncafile {work}/ca.pem\ncertfile {work}/server.pem\n"
                                 f"keyfile {work}/server.key\nallow_anonymous true\nlistener {plain} 127.0.0.1\n"
                                 "allow_anonymous true\npersistence false\n", plain)
        time.sleep(0.5)
        sub = subprocess.Popen(["mosquitto_sub", "-p", str(plain), "-h", "127.0.0.1", "-t", "edge/#", "-v"],
                               stdout=open(f"{work}/sub.log", "w"))
        agents, proxies = {}, {}
        for k, (name, extra) in enumerate(variants.items()):
            proxy = CountingProxy(tls)
            proxies[name] = proxy
            d = f"{work}/agent{k}"
            os.makedirs(d)
            with open(f"{d}/config.yaml", "w") as f:
                f.write(f"device_id: wire{k}\nclock_check: false\nmetrics_interval: 1h\nmqtt:\n"
                        f"  brokers: [mqtts://localhost:{proxy.port}]\n{extra}"
                        f"  tls: {{ca_file: {work}/ca.pem}}\nspool:\n  dir: {d}/spool\n"
                        "sensors:\n  - {name: air, driver: simulated, interval: 10s}\n")
            agents[name] = subprocess.Popen([binary, "run", "--config", f"{d}/config.yaml"], stdout=subprocess.DEVNULL,
                                            stderr=open(f"{d}/agent.log", "w"))
        # The handshake: until each has connected (its log says so), then counting starts.
        start = {}
        deadline = time.monotonic() + 30
        while len(start) < len(agents) and time.monotonic() < deadline:
            for k, name in enumerate(agents):
                if name not in start and "connected to" in open(f"{work}/agent{k}/agent.log").read():
                    time.sleep(0.5)  # CONNACK, SUBSCRIBE/SUBACK and the status: counted as set-up
                    start[name] = proxies[name].counts()
            time.sleep(0.1)
        time.sleep(args.minutes * 60)
        end = {name: proxies[name].counts() for name in agents}
        for p in agents.values():
            p.terminate()
            p.wait()
        sub.terminate()
        broker.terminate()
        readings = {}
        with open(f"{work}/sub.log") as f:
            for line in f:
                topic, _, payload = line.partition(" ")
                if not topic.endswith("/telemetry/air"):
                    continue
                device = topic.split("/")[1]
                value = json.loads(payload)
                readings.setdefault(device, set()).update(r["seq"] for r in (value if isinstance(value, list) else [value]))
    print(f"| {args.minutes:g} minutes, one reading every 10 s, TLS 1.3 | set-up bytes (handshake, CONNECT, SUBSCRIBE) | "
          "bytes up / down after it | readings | bytes per reading | vs 3.1.1 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    base = None
    for k, name in enumerate(agents):
        up0, down0 = start[name]
        up, down = end[name]
        n = len(readings.get(f"wire{k}", ()))
        per = (up - up0 + down - down0) / max(n, 1)
        base = base or per
        print(f"| {name} | {up0 + down0:,} | {up - up0:,} / {down - down0:,} | {n} | {per:,.0f} | {per / base:.0%} |")


if __name__ == "__main__":
    main()
