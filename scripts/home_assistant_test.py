"""The agent and a real Home Assistant on one mosquitto, checked through Home Assistant's own APIs.

Run by scripts/home-assistant-test.sh with the Python of Home Assistant's virtual environment
(aiohttp and paho-mqtt come from there). This file is the harness; home_assistant_checks.py holds
the checks, in this order:

1. A config retained by an earlier configuration (a sensor `old`) is cleared by the agent, and
   its entity leaves Home Assistant.
2. Every configured field is an entity with the unit and device class written below (not taken
   from the agent) and the value the agent last published on the sensor's state topic; inputs are
   binary sensors, the counter two sensors, the commandable output a switch, the agent's health
   four diagnostic sensors.
3. Turning the switch on from Home Assistant drives the simulated board's output line: the agent
   replies on its gpio-set reply topic, the wired input (GPIO20 -> GPIO21) follows, and both
   states come back into Home Assistant. Off likewise.
4. SIGKILL: the last will makes every entity unavailable; a restart makes them available again.
5. An outage of the agent's link only (a forwarder the test cuts): readings taken meanwhile are
   backfilled on telemetry, while Home Assistant's state only ever moves forward (the reading's
   `seq`, an attribute of the entity) and ends at the newest reading.
6. Home Assistant's birth message: with every config cleared (its entities gone), `online` on
   homeassistant/status makes the agent announce them all again.
7. A sensor taken out of the file: after a reload (SIGHUP) its entities leave Home Assistant.
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import aiohttp
import paho.mqtt.client as paho

from home_assistant_checks import DEVICE, check, failures, run

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """Every message on the broker, as the test's own subscriber saw it."""

    def __init__(self, port):
        self.lock = threading.Lock()
        self.messages = []
        self.client = paho.Client(client_id="ha-test-recorder")
        self.client.on_message = self.on_message
        self.client.on_connect = lambda c, *_: c.subscribe([("edge/#", 1), ("homeassistant/#", 0)])
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def on_message(self, _client, _userdata, message):
        with self.lock:
            self.messages.append((time.monotonic(), message.topic, message.payload, message.retain))

    def since(self, start, topic):
        with self.lock:
            return [m for m in self.messages if m[0] >= start and m[1] == topic]

    def since_any(self, start):
        with self.lock:
            return [m for m in self.messages if m[0] >= start]

    def json_on(self, topic, start=0.0):
        return [json.loads(m[2]) for m in self.since(start, topic) if m[2]]

    def publish(self, topic, payload, retain=False):
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish()


class Forwarder:
    """The agent's only way to the broker: cut() drops its connections and refuses new ones."""

    def __init__(self, target):
        self.target = target
        self.open = True
        self.writers = set()

    async def start(self):
        self.server = await asyncio.start_server(self.accept, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def accept(self, reader, writer):
        if not self.open:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        self.writers.update([writer, up_writer])

        async def pipe(src, dst):
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut(self):
        self.open = False
        for w in self.writers:
            w.transport.abort()
        self.writers.clear()


class HomeAssistant:
    def __init__(self, work, broker_port):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.config = os.path.join(work, "ha")
        os.makedirs(self.config)
        with open(os.path.join(self.config, "configuration.yaml"), "w") as f:
            f.write(f"homeassistant:\n  name: edge-agent test\n  unit_system: metric\n  time_zone: UTC\n"
                    f"  latitude: 0\n  longitude: 0\n  elevation: 0\n"
                    f"http:\n  server_host: 127.0.0.1\n  server_port: {self.port}\n"
                    f"api:\nconfig:\nonboarding:\nwebsocket_api:\n")
        self.log = open(os.path.join(work, "home-assistant.log"), "w")
        self.process = subprocess.Popen([sys.executable, "-m", "homeassistant", "-c", self.config, "--skip-pip"],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        self.broker_port = broker_port
        self.token = None

    async def start(self, session):
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"Home Assistant exited with {self.process.returncode}; see its log")
            try:
                async with session.get(self.base + "/api/onboarding") as r:
                    if r.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
        else:
            raise SystemExit("Home Assistant did not start within 180 s")
        client_id = self.base + "/"
        async with session.post(self.base + "/api/onboarding/users", json={
                "client_id": client_id, "name": "Test", "username": "test", "password": "edge-agent-test",
                "language": "en"}) as r:
            code = (await r.json())["auth_code"]
        async with session.post(self.base + "/auth/token", data={
                "grant_type": "authorization_code", "code": code, "client_id": client_id}) as r:
            self.token = (await r.json())["access_token"]
        # The MQTT integration, as a user adds it: its config flow, through the API.
        flow = await self.post(session, "/api/config/config_entries/flow", {"handler": "mqtt"})
        while flow.get("type") == "form":
            flow = await self.post(session, f"/api/config/config_entries/flow/{flow['flow_id']}",
                                   {"broker": "127.0.0.1", "port": self.broker_port})
        if flow.get("type") != "create_entry":
            raise SystemExit(f"the MQTT integration was not set up: {flow}")
        print(f"Home Assistant {await self.version(session)} running, MQTT integration set up", flush=True)

    @property
    def headers(self):
        return {"Authorization": f"Bearer {self.token}"}

    async def post(self, session, path, body):
        async with session.post(self.base + path, json=body, headers=self.headers) as r:
            return await r.json()

    async def version(self, session):
        async with session.get(self.base + "/api/config", headers=self.headers) as r:
            return (await r.json())["version"]

    async def states(self, session):
        async with session.get(self.base + "/api/states", headers=self.headers) as r:
            return {s["entity_id"]: s for s in await r.json()}

    async def registry(self, session):
        """unique_id -> entity_id of the MQTT entities, from the entity registry (websocket API)."""
        async with session.ws_connect(self.base + "/api/websocket") as ws:
            await ws.receive_json()
            await ws.send_json({"type": "auth", "access_token": self.token})
            await ws.receive_json()
            await ws.send_json({"id": 1, "type": "config/entity_registry/list"})
            entries = (await ws.receive_json())["result"]
        return {e["unique_id"]: e["entity_id"] for e in entries if e["platform"] == "mqtt"}

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def agent_config(work, port, sensors_extra=""):
    return f"""device_id: {DEVICE}
board: simulated
clock_check: false
mqtt:
  brokers: [mqtt://127.0.0.1:{port}]
  reconnect_min: 200ms
  reconnect_max: 1s
  will_delay: 2s                 # the SIGKILL check waits for the will, 30 s by default under MQTT 5.0
spool:
  dir: {work}/spool
metrics_interval: 2s
backfill:
  rate: 4                        # slow, so that backfill and live readings interleave after the outage
home_assistant:
  discovery: true
sensors:
  - name: air
    driver: bme280
    interval: 1s
  - name: soil
    driver: simulated
    interval: 500ms
{sensors_extra}gpio:
  - name: relay
    line: GPIO20
    direction: output
    commandable: true
  - name: door
    line: GPIO21
    direction: input
  - name: meter
    line: GPIO22
    direction: counter
    interval: 2s
"""


class AgentProcess:
    def __init__(self, binary, work):
        self.binary, self.work = binary, work
        self.log = open(f"{work}/agent.log", "w")
        self.process = None

    def start(self):
        self.process = subprocess.Popen([self.binary, "run", "--config", f"{self.work}/agent.yaml"], stdout=self.log,
                                        stderr=subprocess.STDOUT)

    def reload(self):
        self.process.send_signal(signal.SIGHUP)

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(10)


class Context:
    """What the checks (home_assistant_checks.py) work with."""

    def __init__(self, ha, session, recorder, forwarder, agent):
        self.ha, self.session, self.recorder, self.forwarder, self.agent = ha, session, recorder, forwarder, agent


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--agent", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    work = args.work

    broker_port = free_port()
    with open(f"{work}/mosquitto.conf", "w") as f:
        f.write(f"listener {broker_port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    mosquitto = subprocess.Popen(["mosquitto", "-c", f"{work}/mosquitto.conf"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    recorder = Recorder(broker_port)
    forwarder = Forwarder(broker_port)
    with open(f"{work}/agent.yaml", "w") as f:
        f.write(agent_config(work, await forwarder.start()))
    ha = HomeAssistant(work, broker_port)
    agent = AgentProcess(args.agent, work)
    try:
        async with aiohttp.ClientSession() as session:
            await ha.start(session)
            await run(Context(ha, session, recorder, forwarder, agent))
    finally:
        agent.stop()
        ha.stop()
        recorder.client.loop_stop()
        mosquitto.terminate()
        mosquitto.wait()
        if failures:
            for name in ("agent.log", "home-assistant.log"):
                print(f"--- {name} (last 60 lines)")
                with open(f"{work}/{name}") as f:
                    print("".join(f.readlines()[-60:]))
    print(f"{len(failures)} failure(s)" if failures else "home assistant test: all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
