"""The checks of scripts/home_assistant_test.py (which says what each one is for), against the
harness's Context: ha (Home Assistant's APIs), session, recorder (every broker message),
forwarder (the agent's cuttable link) and agent (the process)."""

import asyncio
import json
import time

DEVICE = "pi-kitchen"
NODE = DEVICE  # only [a-zA-Z0-9_-]: the node id is the device id as it is
# What Home Assistant must show for each field: written out here, not read from the agent.
EXPECTED = {
    "air_temperature_c": ("sensor", "°C", "temperature"),
    "air_humidity_pct": ("sensor", "%", "humidity"),
    "air_pressure_hpa": ("sensor", "hPa", "atmospheric_pressure"),
    "soil_temperature_c": ("sensor", "°C", "temperature"),
    "soil_humidity_pct": ("sensor", "%", "humidity"),
    "soil_pressure_hpa": ("sensor", "hPa", "atmospheric_pressure"),
    "meter_count": ("sensor", None, None),
    "meter_frequency": ("sensor", "Hz", "frequency"),
    "door": ("binary_sensor", None, None),
    "relay": ("switch", None, None),
    "agent_backlog": ("sensor", None, None),
    "agent_dropped": ("sensor", None, None),
    "agent_reconnects": ("sensor", None, None),
    "agent_uptime_s": ("sensor", "s", "duration"),
}
# Entity -> (state topic's name, JSON key) for those whose value the test compares.
FIELD_OF = {
    "air_temperature_c": ("air", "temperature_c"), "air_humidity_pct": ("air", "humidity_pct"),
    "air_pressure_hpa": ("air", "pressure_hpa"), "soil_temperature_c": ("soil", "temperature_c"),
    "soil_humidity_pct": ("soil", "humidity_pct"), "soil_pressure_hpa": ("soil", "pressure_hpa"),
    "meter_count": ("meter", "count"), "meter_frequency": ("meter", "frequency_hz"),
}
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)
    return ok


async def wait_for(what, predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await predicate()
        if result:
            check(True, what)
            return result
        await asyncio.sleep(0.25)
    check(False, f"{what} (waited {timeout} s)")
    return None


def unique(obj):
    return f"edge-agent_{NODE}_{obj}"


def state_topic(name):
    return f"edge/{DEVICE}/state/{name}"


class StateWatcher:
    """Every state change of one entity, from Home Assistant's websocket API."""

    def __init__(self, ctx, entity_id):
        self.ctx, self.entity_id, self.changes = ctx, entity_id, []

    async def __aenter__(self):
        self.ws = await self.ctx.session.ws_connect(self.ctx.ha.base + "/api/websocket")
        await self.ws.receive_json()
        await self.ws.send_json({"type": "auth", "access_token": self.ctx.ha.token})
        await self.ws.receive_json()
        await self.ws.send_json({"id": 1, "type": "subscribe_events", "event_type": "state_changed"})
        await self.ws.receive_json()
        self.task = asyncio.create_task(self.collect())
        return self

    async def collect(self):
        async for message in self.ws:
            data = message.json()
            event = data.get("event", {}).get("data", {})
            if event.get("entity_id") == self.entity_id and event.get("new_state"):
                self.changes.append(event["new_state"])

    async def __aexit__(self, *_):
        self.task.cancel()
        await self.ws.close()


async def entities(ctx):
    """Our entity ids by object, once Home Assistant has every one."""
    registry = await ctx.ha.registry(ctx.session)
    found = {obj: registry.get(unique(obj)) for obj in EXPECTED}
    return found if all(found.values()) else None


async def run(ctx):
    recorder, ha, session = ctx.recorder, ctx.ha, ctx.session
    # 1. An earlier configuration's entity, retained before the agent starts; the agent clears it.
    old_topic = f"homeassistant/sensor/{NODE}/old_temperature_c/config"
    recorder.publish(old_topic, json.dumps({
        "name": "old temperature", "unique_id": unique("old_temperature_c"), "state_topic": state_topic("old"),
        "unit_of_measurement": "°C", "device_class": "temperature",
        "device": {"identifiers": [f"edge-agent_{NODE}"], "name": DEVICE}}), retain=True)

    async def registry_has(uid, present=True):
        return (uid in await ha.registry(session)) == present

    await wait_for("the earlier configuration's entity exists", lambda: registry_has(unique("old_temperature_c")))
    ctx.agent.start()
    ids = await wait_for("every configured field, line and health figure is an entity", lambda: entities(ctx), 60)
    if not ids:
        return
    await wait_for("the entity of a sensor no longer configured is removed",
                   lambda: registry_has(unique("old_temperature_c"), present=False))
    check(any(m[1] == old_topic and not m[2] for m in recorder.since(0, old_topic)),
          "its config was cleared with an empty retained message")

    # 2. Units, classes and values.
    async def values_match():
        states = await ha.states(session)
        for obj, (name, key) in FIELD_OF.items():
            state = states.get(ids[obj], {})
            published = recorder.json_on(state_topic(name))
            if not published or state.get("state") in (None, "unknown", "unavailable"):
                return None
            seq = state["attributes"].get("seq")
            # The reading Home Assistant shows is the one with its seq (sensors) or the newest (the counter).
            match = [p for p in published if p.get("seq") == seq] if seq is not None else published[-1:]
            if not match or abs(float(state["state"]) - float(match[-1][key])) > 1e-9:
                return None
        return states

    states = await wait_for("every field's state is the value the agent published on its state topic", values_match)
    if states:
        for obj, (component, unit, device_class) in EXPECTED.items():
            attributes = states[ids[obj]]["attributes"]
            check(ids[obj].startswith(component + ".") and attributes.get("unit_of_measurement") == unit
                  and attributes.get("device_class") == device_class,
                  f"{ids[obj]}: a {component} in {unit} of class {device_class}")
        check(states[ids["air_temperature_c"]]["state"] == "25.08", "the BME280 chip model's 25.08 °C shows as 25.08")
        check(states[ids["relay"]]["state"] == "off" and states[ids["door"]]["state"] == "off",
              "the switch and the binary sensor start at the lines' level, off")

    # 3. The switch, from Home Assistant to the line and back.
    for service, value in (("turn_on", True), ("turn_off", False)):
        start = time.monotonic()
        await ha.post(session, f"/api/services/switch/{service}", {"entity_id": ids["relay"]})
        want = "on" if value else "off"

        async def came_back():
            states = await ha.states(session)
            replies = recorder.json_on(f"edge/{DEVICE}/reply/gpio-set", start)
            return (states[ids["relay"]]["state"] == want and states[ids["door"]]["state"] == want
                    and any(r.get("ok") and r["result"]["value"] == value for r in replies))

        await wait_for(f"switch.{service}: the agent replies, the relay and the wired door are {want} in Home Assistant",
                       came_back)

    # 4. SIGKILL: the last will; a restart.
    ours = list(ids.values())

    async def availability(available):
        states = await ha.states(session)
        return all((states[e]["state"] != "unavailable") == available for e in ours)

    ctx.agent.kill()
    await wait_for("SIGKILL: every entity becomes unavailable (the last will)", lambda: availability(False))
    ctx.agent.start()
    await wait_for("restarted: every entity is available again", lambda: availability(True))

    # 5. An outage of the agent's link: backfill on telemetry, Home Assistant only moves forward.
    soil = ids["soil_temperature_c"]
    async with StateWatcher(ctx, soil) as watcher:
        await asyncio.sleep(1.5)
        cut_at = time.monotonic()
        before = recorder.json_on(state_topic("soil"))[-1]["seq"]
        ctx.forwarder.cut()
        await asyncio.sleep(5)
        ctx.forwarder.open = True
        restored = time.monotonic()

        async def backfilled():
            # From the last reading Home Assistant had before the cut to the newest, every one.
            seqs = sorted({r["seq"] for r in recorder.json_on(f"edge/{DEVICE}/telemetry/soil") if r["seq"] >= before})
            return len(seqs) > 10 and seqs[-1] - before + 1 == len(seqs)

        await wait_for("the readings of the outage arrive on telemetry, none missing", backfilled)
        late = [r["seq"] for r in recorder.json_on(f"edge/{DEVICE}/telemetry/soil", restored)]
        first_live = min((s["seq"] for s in recorder.json_on(state_topic("soil"), restored)), default=None)
        check(first_live is not None and any(seq < first_live for seq in late),
              f"telemetry carried backfilled readings after the outage ({len(late)} messages)")

        async def newest():
            published = recorder.json_on(state_topic("soil"))
            states = await ha.states(session)
            return states[soil]["attributes"].get("seq") == published[-1]["seq"]

        await wait_for("Home Assistant's state is the newest reading", newest)
        await asyncio.sleep(2)  # a few live readings more
    seqs = [c["attributes"]["seq"] for c in watcher.changes if "seq" in c.get("attributes", {})]
    check(sum(seq > before for seq in seqs) >= 4 and all(a <= b for a, b in zip(seqs, seqs[1:])),
          f"Home Assistant's state never went back to an older reading ({len(seqs)} changes)")

    # 6. Home Assistant restarts: its birth message has every entity announced again.
    configs = {m[1] for m in recorder.since_any(0) if m[1].startswith("homeassistant/") and m[1].endswith("/config")
               and m[1] != old_topic and m[2]}
    for topic in configs:
        recorder.publish(topic, b"", retain=True)

    async def gone():
        registry = await ha.registry(session)
        return not any(unique(obj) in registry for obj in EXPECTED)

    await wait_for(f"with its {len(configs)} configs cleared, the entities are gone", gone)
    recorder.publish("homeassistant/status", "online")
    await wait_for("after Home Assistant's birth message every entity is back", lambda: entities(ctx), 30)

    # 7. A sensor leaves the configuration: after a reload its entities leave Home Assistant.
    path = f"{ctx.agent.work}/agent.yaml"
    with open(path) as f:
        text = f.read()
    soil = "  - name: soil\n    driver: simulated\n    interval: 500ms\n"
    check(soil in text, "the configuration has the soil sensor to take out")
    with open(path, "w") as f:
        f.write(text.replace(soil, ""))
    ctx.agent.reload()

    async def soil_gone():
        registry = await ha.registry(session)
        left = [obj for obj in EXPECTED if unique(obj) in registry]
        return not any(obj.startswith("soil_") for obj in left) and len(left) == len(EXPECTED) - 3

    await wait_for("soil taken out of the file and reloaded: its three entities are removed, the rest stay", soil_gone)
