#!/usr/bin/env python3
"""Faults of the field, measured: the broker in its own network namespace behind a veth pair, the
agent (ten simulated sensors at 20 ms) on the host side, and a persistent-session consumer inside
the broker's namespace (on its loopback, so link faults do not touch it) recording every
(sensor, seq, ts) with its arrival time. Each trial runs a fresh agent, spool and consumer.

Trials: link flaps, a half-open link (every packet dropped, no RST), a lossy link (20 % of packets
dropped each way), broker kills, agent kills, a full disk, a corrupt spool, a deleted `sequences`
file, and a broker packet limit the agent was not told about. Per trial it prints: readings taken,
received, lost, delivered twice, (sensor, seq) pairs reused for another reading, what the agent
counted as dropped or parked, the recovery time (from the end of the fault until a reading taken
after it arrives) and whether the retained status says online at the end.

"Taken" counts every seq the agent used: what arrived, plus what a killed agent's spool held
(`edge-agent spool dump` between the kill and the restart). Numbers a restart skips (the reserved
block after a crash, the clock after a lost `sequences` file) are not readings and are not counted.

Needs root, `ip`, `nft` (nftables), mosquitto and mosquitto_sub. Every address is in
10.203.7.0/24, which gets an `unreachable` route, so a downed link never sends traffic out of the
default route. Usage: python3 Benchmarks/chaos.py [--agent PATH] [--only TRIAL ...]
"""
import argparse, json, os, signal, subprocess, tempfile, time

from benchlib import ROOT

NS, HOST_IF, NS_IF = "ea-chaos", "eac-h", "eac-b"
HOST_IP, BROKER_IP, RANGE = "10.203.7.1", "10.203.7.2", "10.203.7.0/24"
SENSORS = [f"s{i}" for i in range(10)]


def sh(*args, check=True):
    return subprocess.run(args, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True).stdout


def ns(*args, check=True):
    return sh("ip", "netns", "exec", NS, *args, check=check)


class Network:
    def up(self):
        self.down()
        sh("ip", "netns", "add", NS)
        sh("ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", NS_IF)
        sh("ip", "link", "set", NS_IF, "netns", NS)
        sh("ip", "addr", "add", HOST_IP + "/30", "dev", HOST_IF)
        ns("ip", "addr", "add", BROKER_IP + "/30", "dev", NS_IF)
        sh("ip", "link", "set", HOST_IF, "up")
        ns("ip", "link", "set", NS_IF, "up")
        ns("ip", "link", "set", "lo", "up")
        sh("ip", "route", "add", "unreachable", RANGE)
        ns("nft", "add", "table", "inet", "chaos")
        for hook in ("input", "output"):
            ns("nft", "add", "chain", "inet", "chaos", hook, "{ type filter hook %s priority 0; }" % hook)

    def down(self):
        sh("ip", "route", "del", "unreachable", RANGE, check=False)
        sh("ip", "link", "del", HOST_IF, check=False)
        sh("ip", "netns", "del", NS, check=False)

    def link(self, up):
        sh("ip", "link", "set", HOST_IF, "up" if up else "down")

    def drop(self, percent):
        """Drops `percent` % of the packets on the veth, both ways (100: a blackhole); 0 clears."""
        ns("nft", "flush", "table", "inet", "chaos")
        if percent == 0:
            return
        for hook, direction in (("input", "iifname"), ("output", "oifname")):
            rule = f"{direction} {NS_IF} drop" if percent >= 100 else f"{direction} {NS_IF} numgen random mod 100 < {percent} drop"
            ns("nft", "add", "rule", "inet", "chaos", hook, *rule.split())


class Broker:
    def __init__(self, work):
        self.work, self.process, self.limit = work, None, None

    def start(self, limit=None):
        self.limit = limit
        with open(f"{self.work}/mosquitto.conf", "w") as f:
            f.write(f"listener 1883 {BROKER_IP}\nlistener 1883 127.0.0.1\nallow_anonymous true\nuser root\n"
                    f"persistence true\npersistence_location {self.work}/\nautosave_interval 1\n"
                    "max_queued_messages 1000000\nmax_inflight_messages 0\n"
                    + (f"max_packet_size {limit}\n" if limit else ""))
        self.process = subprocess.Popen(["ip", "netns", "exec", NS, "mosquitto", "-c", f"{self.work}/mosquitto.conf"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait()


class Consumer:
    def __init__(self, work, name):
        self.path = f"{work}/received-{name}.txt"
        self.process = subprocess.Popen(
            ["ip", "netns", "exec", NS, "mosquitto_sub", "-h", "127.0.0.1", "-i", f"chaos-{name}-{os.getpid()}", "-c", "-q", "1",
             "-t", "edge/chaos/#", "-F", "%U %t %p"], stdout=open(self.path, "w"), stderr=subprocess.DEVNULL)
        time.sleep(0.5)

    def stop(self):
        self.process.terminate()
        self.process.wait()

    def lines(self):
        with open(self.path, errors="replace") as f:
            for line in f:
                parts = line.rstrip("\n").split(" ", 2)
                if len(parts) == 3:
                    yield float(parts[0]), parts[1], parts[2]


class Agent:
    def __init__(self, binary, work, spool):
        self.binary, self.work, self.spool, self.process, self.logs = binary, work, spool, None, 0
        with open(f"{work}/agent.yaml", "w") as f:
            f.write(f"""device_id: chaos
mqtt:
  brokers: [mqtt://{BROKER_IP}:1883]
  keep_alive: 5s
  reconnect_min: 200ms
  reconnect_max: 2s
spool:
  dir: {spool}
  capacity: 16MiB
backfill: {{rate: 1000, batch: 500}}
metrics_interval: 1s
clock_check: false
sensors:
""" + "".join(f"  - {{name: {s}, driver: simulated, interval: 20ms}}\n" for s in SENSORS))

    def start(self):
        self.logs += 1
        self.process = subprocess.Popen([self.binary, "run", "--config", f"{self.work}/agent.yaml"],
                                        stdout=subprocess.DEVNULL, stderr=open(f"{self.work}/agent-{self.logs}.log", "w"))

    def stop(self, sig=signal.SIGTERM):
        self.process.send_signal(sig)
        self.process.wait()

    def stored(self):
        """The highest seq per sensor in the spool (after a kill, before the restart)."""
        best = {}
        for line in sh(self.binary, "spool", "dump", "--dir", self.spool, check=False).splitlines():
            parts = line.split(" ", 3)
            if len(parts) == 4 and parts[2].startswith("telemetry/"):
                name = parts[2][len("telemetry/"):]
                try:
                    best[name] = max(best.get(name, -1), json.loads(parts[3])["seq"])
                except (ValueError, KeyError):
                    pass
        return best


class Context:
    def __init__(self, net, broker, agent, spool):
        self.net, self.broker, self.agent, self.spool = net, broker, agent, spool
        self.restarts = []      # (time, highest seq per sensor in the spool) at each agent kill
        self.fault_end = None
        self.stopped_at = None

    def killed(self):
        self.agent.stop(signal.SIGKILL)
        self.restarts.append((time.time(), self.agent.stored()))


def link_flaps(c):
    for _ in range(5):
        c.net.link(False); time.sleep(2); c.net.link(True); time.sleep(3)


def half_open(c):
    c.net.drop(100); time.sleep(20); c.net.drop(0)


def lossy_link(c):
    c.net.drop(20); time.sleep(20); c.net.drop(0)


def broker_kills(c):
    for _ in range(3):
        c.broker.kill(); time.sleep(2); c.broker.start(); time.sleep(3)


def agent_kills(c):
    for _ in range(3):
        c.killed(); time.sleep(1); c.agent.start(); time.sleep(3)


def full_disk(c):
    c.net.link(False)
    fd = os.open(c.spool + "/filler", os.O_WRONLY | os.O_CREAT, 0o600)
    for size in (4096, 1):   # to the last byte
        try:
            while True:
                os.write(fd, b"\0" * size)
        except OSError:
            pass
    os.close(fd)
    time.sleep(8); c.net.link(True); time.sleep(4)
    os.unlink(c.spool + "/filler")


def corrupt_spool(c):
    c.net.link(False); time.sleep(5); c.killed()
    segment = sorted(n for n in os.listdir(c.spool) if n.endswith(".seg"))[-1]
    with open(f"{c.spool}/{segment}", "r+b") as f:
        size = f.seek(0, 2)
        f.seek(size // 2); f.write(b"\xff" * 64)   # bit rot in the middle of the backlog
    c.net.link(True); c.agent.start()


def deleted_sequences(c):
    c.killed()
    for name in ("sequences", "sequences.backup"):
        os.unlink(f"{c.spool}/{name}")
    c.agent.start(); time.sleep(3)


def packet_limit(c):
    c.net.link(False); time.sleep(5); c.net.link(True)


TRIALS = {"link flaps": link_flaps, "half-open link": half_open, "lossy link": lossy_link,
          "broker kills": broker_kills, "agent kills": agent_kills, "full disk": full_disk,
          "corrupt spool": corrupt_spool, "deleted sequences": deleted_sequences, "packet limit": packet_limit}


def analyse(consumer, c):
    readings = {s: {} for s in SENSORS}
    twice = reused = 0
    metrics, statuses = {}, []
    for at, topic, payload in consumer.lines():
        kind = topic.split("/")[2] if topic.count("/") >= 2 else ""
        if kind == "telemetry":
            items = json.loads(payload)
            for r in items if isinstance(items, list) else [items]:
                seen = readings[topic.rsplit("/", 1)[1]]
                if r["seq"] not in seen:
                    seen[r["seq"]] = (r["ts"], at)
                elif seen[r["seq"]][0] == r["ts"]:
                    twice += 1
                else:
                    reused += 1
        elif kind == "metrics":
            metrics = json.loads(payload)
        elif kind == "status":
            statuses.append((at, json.loads(payload).get("state")))
    lost = received = 0
    for sensor, seen in readings.items():
        received += len(seen)
        previous = -1
        for seq in sorted(seen):
            if seq > previous + 1:
                # Across a kill, only the numbers the killed agent had used are readings.
                gap_from = readings[sensor][previous][0] / 1000 if previous >= 0 else 0
                kills = [(t, stored) for t, stored in c.restarts if gap_from <= t <= seen[seq][0] / 1000]
                if kills:
                    t, stored = kills[0]
                    used = max([s for s, (ts, _) in seen.items() if ts / 1000 < t] + [stored.get(sensor, -1)])
                    lost += max(0, min(seq, used + 1) - (previous + 1))
                else:
                    lost += seq - previous - 1
            previous = seq
    after = [at for seen in readings.values() for ts, at in seen.values() if ts / 1000 > c.fault_end]
    recovery = min(after) - c.fault_end if after else None
    parked_readings = 0
    if os.path.exists(c.spool + "/parked"):
        for line in open(c.spool + "/parked"):
            payload = json.loads(line)["payload"]
            parked_readings += len(payload) if isinstance(payload, list) else 1
    return {"taken": received + lost, "received": received, "lost": lost, "twice": twice, "reused": reused,
            "dropped": metrics.get("dropped", 0), "corrupt": metrics.get("corrupt_records", 0), "parked": parked_readings,
            "recovery": recovery, "status": next((state for at, state in reversed(statuses) if at < c.stopped_at), None)}


def run(name, fault, binary, net, base):
    work = tempfile.mkdtemp(prefix="chaos-", dir=base)
    spool = f"{work}/spool"
    os.makedirs(spool)
    if name == "full disk":
        sh("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", spool)
    net.link(True); net.drop(0)
    broker = Broker(work)
    broker.start(limit=2000 if name == "packet limit" else None)
    consumer = Consumer(work, name.replace(" ", "-"))
    agent = Agent(binary, work, spool)
    c = Context(net, broker, agent, spool)
    try:
        agent.start(); time.sleep(3)
        fault(c)
        c.fault_end = time.time()
        deadline = time.time() + 90
        while time.time() < deadline:   # until the backlog has drained
            time.sleep(1)
            last = [p for _, t, p in consumer.lines() if t == "edge/chaos/metrics"]
            if last and json.loads(last[-1]).get("backlog") == 0 and time.time() > c.fault_end + 3:
                break
        time.sleep(2)
        c.stopped_at = time.time()
        agent.stop()
        time.sleep(1)
        return analyse(consumer, c)
    finally:
        if agent.process and agent.process.poll() is None:
            agent.stop(signal.SIGKILL)
        consumer.stop(); broker.stop()
        if name == "full disk":
            sh("umount", "-l", spool, check=False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--agent", default=os.path.join(ROOT, ".build/debug/edge-agent"))
    parser.add_argument("--only", nargs="*", default=list(TRIALS))
    args = parser.parse_args()
    net = Network()
    net.up()
    base = tempfile.mkdtemp(prefix="edge-agent-chaos-")
    print(f"| trial | taken | received | lost | accounted for | delivered twice | seq reused | recovery | status |")
    print(f"| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |")
    try:
        for name in args.only:
            r = run(name, TRIALS[name], args.agent, net, base)
            accounted = ", ".join(f"{r[k]} {k}" for k in ("dropped", "corrupt", "parked") if r[k]) or "-"
            recovery = f"{r['recovery']:.1f} s" if r["recovery"] is not None else "never"
            print(f"| {name} | {r['taken']} | {r['received']} | {r['lost']} | {accounted} | {r['twice']} | {r['reused']} | {recovery} | {r['status']} |", flush=True)
    finally:
        net.down()


if __name__ == "__main__":
    main()
