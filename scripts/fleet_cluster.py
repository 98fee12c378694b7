"""A 3-node RabbitMQ cluster from Debian's package, on private loopback ports, and a fleet of agents
against it: the parts scripts/fleet_test.py and Benchmarks/fleet.py share.

Each node is a `rabbitmq-server` with its own directories, ports and node name, joined into one
cluster with `rabbitmqctl join_cluster`; Erlang's port mapper runs on a free port of its own
(ERL_EPMD_PORT), so nothing listens on the usual 4369, 5672 or 1883 and nothing leaves loopback.
The MQTT plugin keeps each agent's session (its command subscription) in a quorum queue
(`mqtt.durable_queue_type = quorum`), so an agent whose node dies finds its session on the others;
every telemetry message is routed by amq.topic into one quorum queue, the sink, read over AMQP.
"""
import json, os, selectors, signal, socket, subprocess, sys, threading, time

RMQ = "/usr/lib/rabbitmq/bin"
SINK = "edge-fleet-sink"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    def __init__(self, base, index, epmd, extra_conf=""):
        self.name = f"fleet{index}@localhost"
        self.dir = f"{base}/node{index}"
        self.amqp, self.dist, self.mqtt = free_port(), free_port(), free_port()
        self.epmd = epmd
        self.home = base
        self.process = None
        os.makedirs(self.dir, exist_ok=True)
        with open(f"{self.dir}/rabbitmq.conf", "w") as f:
            f.write(f"listeners.tcp.default = 127.0.0.1:{self.amqp}\n"
                    f"mqtt.listeners.tcp.default = 127.0.0.1:{self.mqtt}\n"
                    "mqtt.allow_anonymous = true\nloopback_users = none\n"
                    "mqtt.durable_queue_type = quorum\n"
                    "log.file.level = info\n" + extra_conf)

    def env(self):
        env = dict(os.environ)
        env.update({
            "HOME": self.home, "ERL_EPMD_PORT": str(self.epmd), "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODENAME": self.name, "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.amqp), "RABBITMQ_DIST_PORT": str(self.dist),
            "RABBITMQ_BASE": self.dir, "RABBITMQ_MNESIA_BASE": f"{self.dir}/mnesia",
            "RABBITMQ_LOG_BASE": f"{self.dir}/log", "RABBITMQ_CONFIG_FILE": f"{self.dir}/rabbitmq.conf",
            "RABBITMQ_ENABLED_PLUGINS_FILE": f"{self.home}/enabled_plugins",
            "RABBITMQ_PID_FILE": f"{self.dir}/pid",
            # The distribution port on loopback too.
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        })
        return env

    def start(self):
        self.process = subprocess.Popen([f"{RMQ}/rabbitmq-server"], env=self.env(), stdin=subprocess.DEVNULL,
                                        stdout=open(f"{self.dir}/stdout.log", "ab"), stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def ctl(self, *args, timeout=180, check=True):
        return subprocess.run([f"{RMQ}/rabbitmqctl", "-n", self.name, *args], env=self.env(), timeout=timeout,
                              capture_output=True, text=True, check=check)

    def await_startup(self, timeout=180):
        """Until the node has booted; rabbitmqctl fails at once (69) while the VM is not reachable yet."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.ctl("await_startup", "--timeout", str(timeout), timeout=timeout + 10, check=False)
            if result.returncode == 0:
                return
            if time.monotonic() > deadline or (self.process and self.process.poll() is not None):
                raise SystemExit(f"{self.name} did not start: {result.stdout}{result.stderr} (logs in {self.dir})")
            time.sleep(1)

    def kill(self):
        """SIGKILL, as a crash or a pulled plug would: the whole process group (beam and its helpers)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.ctl("stop", timeout=60, check=False)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


class Cluster:
    def __init__(self, base, extra_conf=""):
        self.base = base
        os.makedirs(base, exist_ok=True)
        with open(f"{base}/.erlang.cookie", "w") as f:
            f.write("edge-agent-fleet-test-cookie")
        os.chmod(f"{base}/.erlang.cookie", 0o400)
        with open(f"{base}/enabled_plugins", "w") as f:
            f.write("[rabbitmq_mqtt].\n")
        self.epmd = free_port()
        subprocess.run(["epmd", "-address", "127.0.0.1", "-port", str(self.epmd), "-daemon"], check=True)
        self.nodes = [Node(base, i + 1, self.epmd, extra_conf) for i in range(3)]

    def start(self):
        for node in self.nodes:
            node.start()
        for node in self.nodes:
            node.await_startup()
        for node in self.nodes[1:]:
            node.ctl("stop_app")
            node.ctl("join_cluster", self.nodes[0].name)
            node.ctl("start_app")
        status = self.nodes[0].ctl("cluster_status", "--formatter", "json").stdout
        running = json.loads(status)["running_nodes"]
        if len(running) != 3:
            raise SystemExit(f"cluster: {len(running)} node(s) running: {running}")

    @property
    def broker_urls(self):
        return [f"mqtt://127.0.0.1:{n.mqtt}" for n in self.nodes]

    def restart_all(self):
        """Every node SIGKILLed, then all started again together (each waits for the others)."""
        for node in self.nodes:
            node.kill()
        for node in self.nodes:
            node.start()
        for node in self.nodes:
            node.await_startup(timeout=300)

    def shutdown(self):
        for node in self.nodes:
            node.stop()
        subprocess.run(["epmd", "-port", str(self.epmd), "-kill"], capture_output=True)


class Sink:
    """The quorum queue every telemetry message is routed to, read over AMQP (pika)."""

    def __init__(self, cluster):
        import pika
        self.pika = pika
        self.cluster = cluster
        channel = self.connect()
        channel.queue_declare(SINK, durable=True, arguments={"x-queue-type": "quorum"})
        channel.queue_bind(SINK, "amq.topic", routing_key="edge.*.telemetry.#")
        channel.connection.close()

    def connect(self):
        last = None
        for node in self.cluster.nodes:
            try:
                params = self.pika.ConnectionParameters("127.0.0.1", node.amqp, heartbeat=0,
                                                        blocked_connection_timeout=60)
                return self.pika.BlockingConnection(params).channel()
            except Exception as error:  # a node that is down: the next
                last = error
        raise SystemExit(f"sink: no node takes an AMQP connection: {last}")

    def drain(self, idle=5.0):
        """Every message in the sink as (device, sensor, seq); stops after `idle` seconds with none."""
        readings = []
        channel = self.connect()
        channel.basic_qos(prefetch_count=1000)
        last = time.monotonic()
        for method, _, body in channel.consume(SINK, inactivity_timeout=1.0):
            if method is None:
                if time.monotonic() - last > idle:
                    break
                continue
            last = time.monotonic()
            _, device, _, sensor = method.routing_key.split(".", 3)
            value = json.loads(body)
            for reading in value if isinstance(value, list) else [value]:
                readings.append((device, sensor, reading["seq"]))
            channel.basic_ack(method.delivery_tag, multiple=False)
        channel.cancel()
        channel.connection.close()
        return readings


class Fleet:
    """`count` agents (spread over the cluster), each with one simulated sensor; their log lines
    are stamped with the time they arrive, by one reader thread."""

    def __init__(self, binary, base, brokers, count, interval="500ms", names=None, extra="", ramp=0.0):
        """`ramp`: seconds over which the agents start, as a fleet's boards do (0: all at once)."""
        self.base = base
        self.lines = []  # (monotonic time, agent index, line)
        self.lock = threading.Lock()
        self.agents = []
        self.selector = selectors.DefaultSelector()
        self.running = True
        # Reading from the first start on, so that every line is stamped when it is written.
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()
        names = names or [f"fleet-{i}" for i in range(count)]
        for i, name in enumerate(names):
            if ramp and i:
                time.sleep(ramp / len(names))
            d = f"{base}/agent-{i}"
            os.makedirs(d, exist_ok=True)
            with open(f"{d}/config.yaml", "w") as f:
                f.write(f"device_id: {name}\nmqtt:\n  brokers: [{', '.join(brokers)}]\n  broker_order: spread\n"
                        f"  keep_alive: 10s\n"
                        f"spool:\n  dir: {d}/spool\n  capacity: 1MiB\nclock_check: false\nmetrics_interval: 1h\n"
                        f"sensors:\n  - {{name: t, driver: simulated, interval: {interval}}}\n{extra}")
            process = subprocess.Popen([binary, "run", "--config", f"{d}/config.yaml"], stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            os.set_blocking(process.stderr.fileno(), False)
            self.agents.append({"name": name, "process": process, "partial": b"", "started": time.monotonic()})
            self.selector.register(process.stderr, selectors.EVENT_READ, i)

    def read(self):
        while self.running or self.selector.get_map():
            if not self.selector.get_map():
                time.sleep(0.05)  # before the first agent starts (select with nothing registered)
                continue
            for key, _ in self.selector.select(timeout=0.2):
                agent = self.agents[key.data]
                try:
                    chunk = key.fileobj.read()
                except BlockingIOError:
                    continue
                now = time.monotonic()
                if not chunk:
                    self.selector.unregister(key.fileobj)
                    continue
                text = agent["partial"] + chunk
                *complete, agent["partial"] = text.split(b"\n")
                with self.lock:
                    for line in complete:
                        self.lines.append((now, key.data, line.decode(errors="replace")))
            if not self.running and not self.selector.get_map():
                break

    def events(self, pattern, since=0.0):
        with self.lock:
            return [(t, i, line) for t, i, line in self.lines if t >= since and pattern in line]

    def stop(self):
        """SIGTERM to every agent; returns each one's own count of readings taken."""
        for agent in self.agents:
            agent["process"].send_signal(signal.SIGTERM)
        for agent in self.agents:
            agent["process"].wait(timeout=120)
        self.running = False
        self.reader.join(timeout=30)
        self.write_logs()
        taken = {}
        for t, i, line in self.lines:
            if "stopped after " in line:
                taken[self.agents[i]["name"]] = int(line.split("stopped after ")[1].split()[0])
        return taken

    def write_logs(self):
        """Each agent's lines, stamped, in its directory (`log`), for a failure to be read."""
        start = self.lines[0][0] if self.lines else 0
        for i, agent in enumerate(self.agents):
            with open(f"{self.base}/agent-{i}/log", "w") as f:
                f.writelines(f"{t - start:9.3f} {line}\n" for t, j, line in self.lines if j == i)

    def rss_kib(self):
        total = []
        for agent in self.agents:
            try:
                with open(f"/proc/{agent['process'].pid}/status") as f:
                    total += [int(l.split()[1]) for l in f if l.startswith("VmRSS:")]
            except FileNotFoundError:
                pass
        return total


def cpu_ticks(pids):
    """utime + stime of `pids` in clock ticks (processes gone count 0)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def group_pids(pgid):
    """Every process in process group `pgid` (a node's beam and its helpers)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[2]) == pgid:
                        pids.append(int(entry))
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                pass
    return pids


def cpu_split(cluster, fleet, seconds):
    """Cores used over `seconds` by the agents and by the brokers: which of them bounds the fleet."""
    agents = [a["process"].pid for a in fleet.agents]
    brokers = [pid for node in cluster.nodes if node.process for pid in group_pids(node.process.pid)]
    before = (cpu_ticks(agents), cpu_ticks(brokers), time.monotonic())
    time.sleep(seconds)
    hz = os.sysconf("SC_CLK_TCK")
    elapsed = time.monotonic() - before[2]
    return (round((cpu_ticks(agents) - before[0]) / hz / elapsed, 2), round((cpu_ticks(brokers) - before[1]) / hz / elapsed, 2))


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def pika_available():
    try:
        import pika  # noqa: F401
        return True
    except ImportError:
        return False


if __name__ == "__main__":
    sys.exit("a module: run scripts/fleet-test.sh or Benchmarks/fleet.py")
