#!/bin/sh
# Runs inside the boot test's VM (scripts/boot-test.sh), as root, under systemd, from the second
# disk mounted at /mnt/payload. Writes one "== ..." line per check to the second serial port
# (/dev/ttyS1), which the host compares with what it expects; the details go to the console.
set -u
payload=/mnt/payload
say() { echo "== $*" > /dev/ttyS1; echo "== $*"; }
# wait_for SECONDS COMMAND...: until the command succeeds, at most SECONDS.
wait_for() {
    limit=$(( $(date +%s) + $1 )); shift
    until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -lt "$limit" ] || return 1; sleep 0.2; done
}
yes_no() { if "$@" >/dev/null 2>&1; then echo yes; else echo no; fi; }
main_pid() { systemctl show -P MainPID edge-agent; }
field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p"; }   # a number field of a one-line JSON object
exec 2>&1

# Devices first, as on a board: a BME280 on i2c-stub and a gpio-sim chip labelled edge-test
# (scripts/guest-devices.sh, as in the hardware test).
lines=$(sh $payload/guest-devices.sh $payload/i2c-stub.ko)
echo pull-up > $lines/sim_gpio3/pull

# Everything the agent publishes, kept by a persistent subscriber across broker restarts.
mosquitto_sub -h 127.0.0.1 -c -i boot-test -q 1 -v -t 'edge/#' > /tmp/received &

# The README's install section, word for word; "editor" is where the user writes the file.
write_config() {
    mkdir -p /etc/edge-agent/boards
    cat > /etc/edge-agent/boards/qemu.board.yaml <<'EOF'
model: qemu gpio-sim test board
gpio_chip: edge-test
gpio_lines: 8
i2c_bus: 0
lines: {GPIO3: 3, GPIO5: 5}
EOF
    cat > /etc/edge-agent/config.yaml <<'EOF'
device_id: vm
board: qemu
clock_check: false
mqtt:
  brokers: [mqtt://127.0.0.1:1883]
spool:
  dir: /var/lib/edge-agent/spool
sensors:
  - {name: air, driver: bme280, address: 0x76, interval: 1s}
gpio:
  - {name: door, line: GPIO3, direction: input, edge: both, bias: pull-up}
  - {name: relay, line: GPIO5, direction: output, initial: true, safe_state: false, commandable: true}
EOF
}
ok=ok
while IFS= read -r line; do
    command=${line%%#*}
    command=$(echo "$command" | sed -e 's/_arm64\.deb/_amd64.deb/' -e 's/ *$//')
    echo "# $command"
    case "$command" in
        editor*) write_config ;;
        apt\ install*)
            (cd $payload && sh -c "$command") || ok="failed: $command"
            say "installed: $(systemctl is-enabled edge-agent), $(systemctl is-active edge-agent | sed 's/inactive/inactive until configured/')"
            say "status says why: $(systemctl status edge-agent --no-pager -l -n 20 | grep -o 'device_id: .*' | head -1)" ;;
        systemctl\ status*) sh -c "$command --no-pager" > /tmp/status || true; cat /tmp/status ;;
        *) sh -c "$command" || ok="failed: $command" ;;
    esac
done < $payload/install-commands
say "README install commands: $ok"
t0=$(date +%s)

wait_for 20 sh -c 'systemctl is-active edge-agent && systemctl status edge-agent --no-pager | grep -q "Status: \"connected"'
state=$(systemctl show -P SubState edge-agent)
status=$(systemctl status edge-agent --no-pager | grep -o 'Status: "connected' | cut -c10-)
say "active ($state) through Type=$(systemctl show -P Type edge-agent), STATUS: $status"
pid=$(main_pid)
say "runs as $(ps -o user:20= -p "$pid") in groups $(ps -o supgrp:40= -p "$pid" | tr , '\n' | sort | tr '\n' ' ' | sed 's/ $//')"
say "/dev/i2c-0 group $(stat -c %G /dev/i2c-0), /dev/gpiochip0 group $(stat -c %G /dev/gpiochip0)"
wait_for 10 grep -q '^edge/vm/telemetry/air ' /tmp/received
reading=$(grep '^edge/vm/telemetry/air ' /tmp/received | head -1)
say "telemetry air: temperature_c $(echo "$reading" | field temperature_c), humidity_pct $(echo "$reading" | field humidity_pct), pressure_hpa $(echo "$reading" | field pressure_hpa)"
say "retained status: $(mosquitto_sub -h 127.0.0.1 -t edge/vm/status -C 1 -W 5 | field state | tr -d '"')"
say "relay output after start: $(cat $lines/sim_gpio5/value)"
echo pull-down > $lines/sim_gpio3/pull
say "door event over gpio-sim: $(wait_for 5 grep -q '^edge/vm/events/door .*"state":false' /tmp/received && echo ok || echo missing)"
mosquitto_pub -h 127.0.0.1 -q 1 -t edge/vm/cmd/gpio-set -m '{"id":1,"line":"relay","value":false}'
wait_for 5 grep -q '^edge/vm/reply/gpio-set ' /tmp/received
say "gpio-set from the control topic: relay $(cat $lines/sim_gpio5/value), reply $(grep '^edge/vm/reply/gpio-set ' /tmp/received | grep -q '"ok":true' && echo ok || echo missing)"
sleep 2
say "journal warnings in normal running: $(journalctl -u edge-agent -p warning -q --no-pager --since "@$t0" | wc -l)"

# The broker goes away: readings wait in the spool, and the journal says so at warning level.
before=$(grep -c '^edge/vm/telemetry/air ' /tmp/received)
systemctl stop mosquitto
sleep 3
warnings=$(journalctl -u edge-agent -p warning -q --no-pager --since "@$t0" | wc -l)
say "journal warnings after the broker stopped: $([ "$warnings" -gt 0 ] && echo some || echo none)"
journalctl -u edge-agent -p warning -q --no-pager --since "@$t0"
# Frozen: no watchdog pings; systemd kills it after WatchdogSec (30 s) and restarts it.
restarts=$(systemctl show -P NRestarts edge-agent)
kill -STOP "$pid"
wait_for 90 sh -c "[ \$(systemctl show -P NRestarts edge-agent) -gt $restarts ] && systemctl is-active edge-agent"
killed=$(yes_no sh -c 'journalctl -u edge-agent --no-pager | grep -q "Watchdog timeout"')
say "watchdog killed the frozen agent: $killed, restarted: $([ "$(main_pid)" != "$pid" ] && [ "$(main_pid)" != 0 ] && echo yes || echo no)"
systemctl start mosquitto
# The readings taken while the broker was down, before the kill, come from the spool.
last_seq=$(grep '^edge/vm/telemetry/air ' /tmp/received | sed -n "${before}p" | field seq)
wait_for 20 grep -q "^edge/vm/telemetry/air {\"seq\":$((last_seq + 2))," /tmp/received
say "readings taken before the kill delivered after the restart: $(yes_no grep -q "^edge/vm/telemetry/air {\"seq\":$((last_seq + 2))," /tmp/received)"

# Reload: a new sensor in the file, applied by the same process.
pid=$(main_pid)
echo '  - {name: air2, driver: bme280, address: 0x76, interval: 1s}' > /tmp/air2
sed -i '/^  - {name: air,/r /tmp/air2' /etc/edge-agent/config.yaml
systemctl reload edge-agent
wait_for 15 grep -q '^edge/vm/telemetry/air2 ' /tmp/received
say "reload: same process, new sensor publishing: $([ "$(main_pid)" = "$pid" ] && grep -q '^edge/vm/telemetry/air2 ' /tmp/received && echo yes || echo no)"

# Upgrade: the user's configuration and the spool stay, the service restarts.
cp /etc/edge-agent/config.yaml /tmp/config.before
records=$(ls /var/lib/edge-agent/spool | wc -l)
apt install "$(ls $payload/edge-agent_*+upgrade_amd64.deb)" >/dev/null 2>&1 || echo "upgrade failed"
wait_for 15 systemctl is-active edge-agent
say "upgrade: configuration kept: $(yes_no cmp /etc/edge-agent/config.yaml /tmp/config.before), restarted: $([ "$(main_pid)" != "$pid" ] && systemctl is-active -q edge-agent && echo yes || echo no), spool kept: $([ "$(ls /var/lib/edge-agent/spool | wc -l)" -ge "$records" ] && [ "$records" -gt 0 ] && echo yes || echo no)"

score=$(systemd-analyze security edge-agent.service --no-pager | sed -n 's/.*Overall exposure level for edge-agent.service: \([0-9.]*\).*/\1/p')
echo "systemd-analyze security: $score"
say "systemd-analyze security: 2.0 or better: $(awk -v s="$score" 'BEGIN { print (s != "" && s <= 2.0) ? "yes" : "no" }')"

apt remove edge-agent >/dev/null 2>&1 || echo "remove failed"
say "remove: stopped: $(pgrep -u edge-agent >/dev/null && echo no || echo yes), configuration kept: $(yes_no test -f /etc/edge-agent/config.yaml), spool kept: $(yes_no test -d /var/lib/edge-agent/spool)"
apt purge edge-agent >/dev/null 2>&1 || echo "purge failed"
say "purge: configuration gone: $(yes_no test ! -e /etc/edge-agent), spool gone: $(yes_no test ! -e /var/lib/edge-agent)"
echo "== the agent's journal"
journalctl -u edge-agent --no-pager | tail -40
say "guest done"
