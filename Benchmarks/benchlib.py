"""What the benchmark scripts share: paths, a free port, and a mosquitto of their own."""
import os, socket, subprocess, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Benchmarks", "out")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_mosquitto(directory, config, port):
    """Writes `config` (plus `user root` when run as root) and starts mosquitto; returns once it
    accepts connections on `port`."""
    path = os.path.join(directory, "mosquitto.conf")
    with open(path, "w") as f:
        f.write(config)
        if os.geteuid() == 0:
            f.write("user root\n")
    broker = subprocess.Popen(["mosquitto", "-c", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return broker
        except OSError:
            time.sleep(0.02)
    raise SystemExit("mosquitto did not start")
