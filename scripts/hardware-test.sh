#!/usr/bin/env bash
# The Linux I2C and GPIO backends against a real kernel: boots the small test kernel
# (scripts/build-test-kernel.sh) under qemu with an initramfs holding busybox, the release
# edge-agent and its shared libraries, then inside the guest:
#   - i2c-stub at 0x76 filled with a BME280's registers (the datasheet's worked example), read
#     with `edge-agent read` through /dev/i2c-0, libi2c's SMBus calls and the BME280 driver;
#   - `edge-agent scan-i2c` naming the chip by its id register;
#   - gpio-sim: the agent runs with an input (biased pull-up, which gpio-sim must show) and an
#     output on the simulated chip, found by its label (libgpiod); the script drives the input
#     through gpio-sim's pull attribute, first in a burst of bounces that the 20 ms debounce must fold into one edge (libgpiod 1.6: the agent's
#     debouncer; libgpiod 2: the kernel's), reads the output back, then stops the agent and checks
#     that the edges were recorded as events and the output went to its safe state; a second input
#     without debounce sees two edges 0.2 s apart, the second while the agent is stopped (SIGSTOP)
#     for 2 s: its events must keep the kernel's times, 0.2 s apart.
# Prints the guest's transcript and exits non-zero on any difference from what is expected.
#
# EDGE_AGENT_BINARY tests another build; EDGE_AGENT_ROOT names the root it was built for (its shared
# libraries and loader come from there: scripts/trixie-test.sh's Debian 13 root).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

kernel_dir=$(scripts/build-test-kernel.sh)
if [ -z "${EDGE_AGENT_BINARY:-}" ]; then
    swift build -c release --static-swift-stdlib --product edge-agent >&2
    EDGE_AGENT_BINARY=$root/.build/release/edge-agent
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/edge-agent-hwtest.XXXXXX")
[ -n "${EDGE_AGENT_KEEP_WORK:-}" ] || trap 'rm -rf "$work"' EXIT
initrd=$work/root
mkdir -p "$initrd"/{bin,lib,lib64,etc,proc,sys,dev,tmp,usr/lib}
cp /bin/busybox "$initrd/bin/busybox"
cp "$EDGE_AGENT_BINARY" "$initrd/bin/edge-agent"
strip "$initrd/bin/edge-agent" 2>/dev/null || true
cp "$kernel_dir/i2c-stub.ko" "$initrd/lib/"
cp scripts/guest-devices.sh "$initrd/bin/"
# The binary's shared libraries, at the paths the dynamic loader looks for them.
libroot=${EDGE_AGENT_ROOT:-}
if [ -n "$libroot" ]; then
    cp "$EDGE_AGENT_BINARY" "$libroot/tmp/edge-agent-ldd"
    libraries=$(chroot "$libroot" ldd /tmp/edge-agent-ldd)
    rm -f "$libroot/tmp/edge-agent-ldd"
else
    libraries=$(ldd "$EDGE_AGENT_BINARY")
fi
echo "$libraries" | grep -o '/[^ ]*' | while read -r lib; do
    mkdir -p "$initrd$(dirname "$lib")"
    cp -L "$libroot$lib" "$initrd$lib"
done

cat > "$initrd/etc/test.board.yaml" <<'EOF'
model: qemu gpio-sim test board
gpio_chip: edge-test
gpio_lines: 8
i2c_bus: 0
lines: {GPIO3: 3, GPIO5: 5, GPIO6: 6}
EOF
cat > "$initrd/etc/test.yaml" <<'EOF'
device_id: qemu
board: /etc/test.board.yaml
clock_check: false
mqtt:
  brokers: [mqtt://127.0.0.1:1883]
spool:
  dir: /tmp/spool
  durability: always
sensors:
  - {name: air, driver: bme280, address: 0x76, interval: 10s}
gpio:
  - {name: door, line: GPIO3, direction: input, edge: both, debounce: 20ms, bias: pull-up}
  - {name: button, line: GPIO6, direction: input, edge: both}
  - {name: relay, line: GPIO5, direction: output, initial: true, safe_state: false, commandable: true}
EOF

cat > "$initrd/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t devtmpfs dev /dev; mount -t proc proc /proc; mount -t sysfs sys /sys
mount -t configfs none /sys/kernel/config; mount -t tmpfs tmp /tmp
echo "== guest up: $(uname -r)"

lines=$(/bin/guest-devices.sh /lib/i2c-stub.ko)
echo "== read"
edge-agent read --config /etc/test.yaml air 2>&1
echo "== scan"
edge-agent scan-i2c --bus 0 2>&1

echo pull-down > $lines/sim_gpio3/pull
echo pull-down > $lines/sim_gpio6/pull
edge-agent run --config /etc/test.yaml 2>/tmp/agent.log &
agent=$!
sleep 2
echo "== output after start: $(cat $lines/sim_gpio5/value)"
# The agent asked for a pull-up on the input, over gpio-sim's pull-down.
echo "== input with its pull-up bias: $(cat $lines/sim_gpio3/value)"
# Bounces: five level changes within a few milliseconds, settling low: one edge.
for pull in pull-down pull-up pull-down pull-up pull-down; do echo $pull > $lines/sim_gpio3/pull; done
sleep 1
echo pull-up > $lines/sim_gpio3/pull
sleep 1
# Two button edges 0.2 s apart, the second while the agent is stopped for 2 s: with the kernel's
# event times the two events are 0.2 s apart, not 2 s (the time the loop saw them).
echo pull-up > $lines/sim_gpio6/pull
sleep 0.2
kill -STOP $agent
echo pull-down > $lines/sim_gpio6/pull
sleep 2
kill -CONT $agent
sleep 0.5
kill -TERM $agent
wait $agent
echo "== agent exit: $?"
echo "== output after stop: $(cat $lines/sim_gpio5/value)"
echo "== events"
edge-agent spool dump --dir /tmp/spool 2>&1 | grep -o 'events/[a-z]* {[^}]*}' > /tmp/events
grep -v button /tmp/events | sed 's/"seq":[0-9]*,"ts":[0-9]*,//'
set -- $(grep button /tmp/events | sed 's/.*"ts":\([0-9]*\).*/\1/')
gap=$(( $2 - $1 ))
echo "== button events $(grep -c button /tmp/events), kernel-time gap under 1 s: $([ $gap -ge 100 ] && [ $gap -lt 1000 ] && echo yes || echo "no ($gap ms)")"
echo "== agent log"
cat /tmp/agent.log
echo "== guest done"
reboot -f
EOF
chmod +x "$initrd/init"
(cd "$initrd" && find . | cpio -o -H newc 2>/dev/null) > "$work/initrd.cpio"

transcript=$work/transcript.txt
timeout 300 qemu-system-x86_64 -kernel "$kernel_dir/bzImage" -initrd "$work/initrd.cpio" \
    -append "console=ttyS0 quiet panic=-1" -nographic -no-reboot -m 512 </dev/null 2>&1 \
    | tr -d '\r' | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' | sed -n '/== guest up/,/^== guest done/p' > "$transcript" || true
cat "$transcript"

expected=$work/expected.txt
cat > "$expected" <<'EOF'
== read
air:
  temperature_c     25.08 °C
  humidity_pct      55.00 %RH
  pressure_hpa      1006.53 hPa
== scan
i2c-0:
  0x76  BME280 (chip id 0x60)
== output after start: 1
== input with its pull-up bias: 1
== agent exit: 0
== output after stop: 0
== events
events/door {"state":false,"source":"input"}
events/door {"state":true,"source":"input"}
== button events 2, kernel-time gap under 1 s: yes
EOF
actual=$work/actual.txt
sed -n '/^== read/,/^== agent log/p' "$transcript" | sed '$d' | grep -v '^events/relay {"state":false' > "$actual" || true
if diff -u "$expected" "$actual"; then
    echo "hardware test: OK (kernel $(basename "$kernel_dir"))"
else
    echo "hardware test: FAILED (expected above, with - lines; actual with +)" >&2
    exit 1
fi
