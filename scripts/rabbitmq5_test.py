#!/usr/bin/env python3
"""The agent against RabbitMQ 4.0 in MQTT 5.0 (run by scripts/rabbitmq5-test.sh, which makes ROOT).

One RabbitMQ node runs inside ROOT (a Debian 13 root) on free loopback ports, with its own port
mapper; the agent (the host's binary, `mqtt.version: auto`) and mosquitto's 5.0 clients run
outside it. Checked: the agent connects in 5.0; every reading arrives, in order, with the JSON
Content Type; a request with a Response Topic and Correlation Data is answered there with them; a
request with a Message Expiry Interval of 2 s queued while the agent is away for 10 s is never
run; a SIGKILL publishes "offline" only after the will delay. A failed check exits 1.

Usage: python3 scripts/rabbitmq5_test.py BINARY ROOT
"""
import json, os, shutil, signal, socket, subprocess, sys, tempfile, time

binary, root = sys.argv[1], sys.argv[2]
failures = []


def check(ok, what):
    print(f"{'ok' if ok else 'FAILED'}: {what}", flush=True)
    if not ok:
        failures.append(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


class Broker:
    """rabbitmq-server inside the root: its files under ROOT/var/tmp/rmq5 (/var/tmp/rmq5 inside)."""

    def __init__(self):
        self.inside = "/var/tmp/rmq5"
        self.dir = root + self.inside
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.amqp, self.dist, self.mqtt, self.epmd = free_port(), free_port(), free_port(), free_port()
        with open(f"{self.dir}/rabbitmq.conf", "w") as f:
            f.write(f"listeners.tcp.default = 127.0.0.1:{self.amqp}\n"
                    f"mqtt.listeners.tcp.default = 127.0.0.1:{self.mqtt}\n"
                    "mqtt.allow_anonymous = true\nloopback_users = none\nlog.file.level = info\n")
        with open(f"{self.dir}/enabled_plugins", "w") as f:
            f.write("[rabbitmq_mqtt].\n")
        with open(f"{self.dir}/.erlang.cookie", "w") as f:
            f.write("edge-agent-rabbitmq5-test")
        os.chmod(f"{self.dir}/.erlang.cookie", 0o400)

    def env(self):
        d = self.inside
        return ["env", "-i", f"HOME={d}", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
                f"ERL_EPMD_PORT={self.epmd}", "ERL_EPMD_ADDRESS=127.0.0.1", "RABBITMQ_NODENAME=rmq5@localhost",
                "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1", f"RABBITMQ_NODE_PORT={self.amqp}", f"RABBITMQ_DIST_PORT={self.dist}",
                f"RABBITMQ_BASE={d}", f"RABBITMQ_MNESIA_BASE={d}/mnesia", f"RABBITMQ_LOG_BASE={d}/log",
                f"RABBITMQ_CONFIG_FILE={d}/rabbitmq.conf", f"RABBITMQ_ENABLED_PLUGINS_FILE={d}/enabled_plugins",
                f"RABBITMQ_PID_FILE={d}/pid",
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}"]

    def start(self):
        subprocess.run(["chroot", root] + self.env() + ["epmd", "-address", "127.0.0.1", "-port", str(self.epmd), "-daemon"],
                       check=True)
        self.process = subprocess.Popen(["chroot", root] + self.env() + ["/usr/lib/rabbitmq/bin/rabbitmq-server"],
                                        stdin=subprocess.DEVNULL, stdout=open(f"{self.dir}/stdout.log", "ab"),
                                        stderr=subprocess.STDOUT, start_new_session=True)
        # rabbitmqctl fails at once (69) while the Erlang VM is not reachable yet: asked again.
        deadline = time.monotonic() + 180
        while True:
            result = self.ctl("await_startup", "--timeout", "180", timeout=200)
            if result.returncode == 0:
                break
            if time.monotonic() > deadline or self.process.poll() is not None:
                sys.exit(f"RabbitMQ 4.0 did not start: {result.stdout}{result.stderr} (logs in {self.dir})")
            time.sleep(1)
        version = self.ctl("version").stdout.strip()
        print(f"RabbitMQ {version} from Debian 13, MQTT on 127.0.0.1:{self.mqtt}", flush=True)

    def ctl(self, *args, timeout=120):
        return subprocess.run(["chroot", root] + self.env() + ["/usr/lib/rabbitmq/bin/rabbitmqctl", "-n", "rmq5@localhost", *args],
                              capture_output=True, text=True, timeout=timeout)

    def stop(self):
        if self.process.poll() is None:
            self.ctl("stop", timeout=60)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        subprocess.run(["chroot", root] + self.env() + ["epmd", "-port", str(self.epmd), "-kill"], capture_output=True)


class Watcher:
    """mosquitto_sub in 5.0 on edge/# and app/#, each message a JSON line with its properties."""

    def __init__(self, port, work):
        self.path = f"{work}/watch.jsonl"
        fmt = '{"t":"%t","ct":"%C","cd":"%D","p":%p,"at":%U}'
        self.process = subprocess.Popen(["mosquitto_sub", "-V", "5", "-p", str(port), "-h", "127.0.0.1", "-q", "1",
                                         "-t", "edge/#", "-t", "app/#", "-F", fmt],
                                        stdout=open(self.path, "w"), stderr=subprocess.DEVNULL)

    def messages(self):
        out = []
        with open(self.path) as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def on(self, topic):
        return [m for m in self.messages() if m["t"] == topic]

    def stop(self):
        self.process.terminate()
        self.process.wait()


def request(port, command, payload, *props):
    args = ["mosquitto_pub", "-V", "5", "-p", str(port), "-h", "127.0.0.1", "-q", "1", "-t", f"edge/r5/cmd/{command}",
            "-m", payload]
    for name, value in props:
        args += ["-D", "publish", name, value]
    subprocess.run(args, check=True)


def main():
    broker = Broker()
    broker.start()
    work = tempfile.mkdtemp(prefix="rabbitmq5-")
    agent = None
    try:
        with open(f"{work}/config.yaml", "w") as f:
            f.write(f"device_id: r5\nboard: simulated\nclock_check: false\nmqtt:\n  brokers: [mqtt://127.0.0.1:{broker.mqtt}]\n"
                    "  version: auto\n  will_delay: 2s\n  reconnect_min: 200ms\n  reconnect_max: 1s\n"
                    f"spool:\n  dir: {work}/spool\nmetrics_interval: 5s\n"
                    "sensors:\n  - {name: air, driver: simulated, interval: 200ms}\n")
        watcher = Watcher(broker.mqtt, work)
        time.sleep(1)

        def start():
            return subprocess.Popen([binary, "run", "--config", f"{work}/config.yaml"], stdout=subprocess.DEVNULL,
                                    stderr=open(f"{work}/agent.log", "a"))

        def log():
            with open(f"{work}/agent.log") as f:
                return f.read()

        agent = start()
        check(wait_for(lambda: "in MQTT 5.0" in log(), 30), "the agent connects in MQTT 5.0 (mqtt.version: auto)")
        check(wait_for(lambda: len(watcher.on("edge/r5/telemetry/air")) >= 20, 30), "readings arrive")
        air = watcher.on("edge/r5/telemetry/air")
        check(all(m["ct"] == "application/json" for m in air), "each with Content Type application/json")
        request(broker.mqtt, "ping", "{}", ("response-topic", "app/r5/replies"), ("correlation-data", "c0ffee"))
        check(wait_for(lambda: watcher.on("app/r5/replies"), 10), "a request with a Response Topic is answered there")
        replies = watcher.on("app/r5/replies")
        check(bool(replies) and replies[0]["cd"] == "c0ffee" and replies[0]["p"].get("ok") is True,
              f"with its Correlation Data: {replies[:1]}")
        # Away for 10 s (a clean stop: the session stays, 7 days by default).
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=20)
        request(broker.mqtt, "read", '{"id":"late","sensor":"air"}', ("message-expiry-interval", "2"))
        request(broker.mqtt, "read", '{"id":"kept","sensor":"air"}')
        time.sleep(10)
        agent = start()
        ids = lambda: [m["p"].get("id") for m in watcher.on("edge/r5/reply/read")]
        check(wait_for(lambda: "kept" in ids(), 20), "a request queued in the session runs when the agent is back")
        time.sleep(2)
        check("late" not in ids(), f"one whose Message Expiry (2 s) passed while away never runs: {ids()}")
        seqs = [m["p"]["seq"] for m in watcher.on("edge/r5/telemetry/air") if isinstance(m["p"], dict)]
        check(sorted(set(seqs)) == list(range(max(seqs) + 1)), f"no reading lost ({len(set(seqs))} of {max(seqs) + 1})")
        # SIGKILL: "offline" after the will delay, not at once.
        wait_for(lambda: watcher.on("edge/r5/status") and watcher.on("edge/r5/status")[-1]["p"]["state"] == "online", 10)
        killed = time.time()
        agent.kill()
        agent.wait()
        check(wait_for(lambda: watcher.on("edge/r5/status")[-1]["p"]["state"] == "offline", 20), "SIGKILL: the will says offline")
        offline = watcher.on("edge/r5/status")[-1]["at"]  # %U: seconds, with microseconds
        check(offline - killed >= 1.8, f"after the will delay of 2 s ({offline - killed:.1f} s)")
        watcher.stop()
    finally:
        if agent and agent.poll() is None:
            agent.kill()
        broker.stop()
        if failures:
            print(f"agent log: {work}/agent.log; broker logs: {broker.dir}/log")
    if failures:
        sys.exit(f"RabbitMQ 4.0 test: {len(failures)} check(s) failed")
    print("RabbitMQ 4.0 test: every check passed")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
