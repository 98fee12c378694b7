#!/usr/bin/env bash
# The Debian package under real systemd: boots a Debian 13 system in qemu (the `vm` test kernel of
# scripts/build-test-kernel.sh, a debootstrapped root with systemd as PID 1, udev and mosquitto,
# made once and cached in /var/tmp), with a second disk holding the package, an upgrade of it and
# the guest's script (scripts/boot-test-guest.sh). In the guest, with i2c-stub and gpio-sim giving
# the devices and every connection inside the VM, the script follows the README's install section
# word for word, then checks the service: Type=notify and its STATUS line, a chip read over
# /dev/i2c-0 and a gpio-sim edge as the edge-agent user in the unit's sandbox, telemetry and the
# retained status at the VM's mosquitto, the watchdog killing a frozen agent with the spool
# surviving, reload, journal priorities, upgrade, remove and purge, and systemd-analyze security.
# Results come back over a second serial port; any difference from the expected lines fails.
#
#   scripts/boot-test.sh [PACKAGE.deb]      (default: scripts/build-deb.sh's trixie amd64 package)
set -euo pipefail
cd "$(dirname "$0")/.."
source=$PWD
deb=${1:-$(scripts/build-deb.sh --suite trixie --arch amd64)}
kernel_dir=$(scripts/build-test-kernel.sh vm)

# The root image: Debian 13 with what the package depends on and recommends already installed, so
# that `apt install ./edge-agent_*.deb` needs no network; remade when make_image or the list changes.
packages=systemd-sysv,udev,kmod,procps,mosquitto,mosquitto-clients,i2c-tools,gpiod,libssl3t64,libyaml-0-2,libgpiod3,libi2c0,zlib1g,libstdc++6
cache=${EDGE_AGENT_VM_CACHE:-/var/tmp/edge-agent-vm}
make_image() {
  rm -rf "$cache" && mkdir -p "$cache"
  local root=$cache/root
  debootstrap --variant=minbase --include="$packages" trixie "$root" http://deb.debian.org/debian >/dev/null
  echo edge-vm > "$root/etc/hostname"
  printf "127.0.0.1 localhost edge-vm\n::1 localhost ip6-localhost\n" > "$root/etc/hosts"
  printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' > "$root/etc/fstab"
  chroot "$root" systemd-machine-id-setup >/dev/null
  ln -sf /dev/null "$root/etc/systemd/system/systemd-firstboot.service"   # no questions on the console
  # The user answers "yes" to apt's questions; the README's commands are run as written.
  echo 'APT::Get::Assume-Yes "true";' > "$root/etc/apt/apt.conf.d/90boot-test"
  mkdir -p "$root/mnt/payload" "$root/etc/systemd/system/multi-user.target.wants"
  cat > "$root/etc/systemd/system/boot-test.service" <<'EOF'
[Unit]
Description=edge-agent boot test (scripts/boot-test-guest.sh on the second disk)
After=basic.target mosquitto.service systemd-udevd.service
Wants=mosquitto.service
[Service]
Type=oneshot
ExecStartPre=/bin/mount -o ro /dev/vdb /mnt/payload
ExecStart=/bin/sh /mnt/payload/boot-test-guest.sh
ExecStopPost=/bin/systemctl poweroff --no-block
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=infinity
EOF
  ln -s /etc/systemd/system/boot-test.service "$root/etc/systemd/system/multi-user.target.wants/boot-test.service"
  rm -f "$root/var/cache/apt/archives/"*.deb
  mkfs.ext4 -q -L root -d "$root" "$image.tmp" 2G
  rm -rf "$root"
  mv "$image.tmp" "$image"
}
image=$cache/root-$( (echo "$packages"; declare -f make_image) | sha256sum | cut -c1-12).img
if [ ! -f "$image" ]; then
  echo "boot-test: making the Debian 13 root image (a few minutes, once)" >&2
  make_image
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/edge-agent-boot.XXXXXX")
[ -n "${EDGE_AGENT_KEEP_WORK:-}" ] || trap 'rm -rf "$work"' EXIT
payload=$work/payload
mkdir -p "$payload"
cp "$deb" scripts/boot-test-guest.sh scripts/guest-devices.sh "$kernel_dir/i2c-stub.ko" "$payload/"
# The upgrade: the same package with a higher Debian revision.
name=$(basename "$deb")
version=$(dpkg-deb -f "$deb" Version)
dpkg-deb -R "$deb" "$work/upgrade"
sed -i "s/^Version: .*/Version: $version+upgrade/" "$work/upgrade/DEBIAN/control"
dpkg-deb --root-owner-group -Zxz -b "$work/upgrade" "$payload/${name/$version/$version+upgrade}" >/dev/null
# The README's install commands, for the guest to run as they are written.
sed -n '/<!-- install: begin -->/,/<!-- install: end -->/p' README.md | sed -n 's/^    //p' > "$payload/install-commands"
[ -s "$payload/install-commands" ] || { echo "boot-test: no install commands in README.md" >&2; exit 1; }
mkfs.ext4 -q -d "$payload" "$work/payload.img" 64M

# TCG: KVM inside this CI machine (itself a VM) hangs at boot; TCG boots the VM in about 20 s.
accel=(-accel tcg)
results=$work/results.txt
start=$(date +%s)
timeout 900 qemu-system-x86_64 "${accel[@]}" -m 1024 -smp 2 -nographic -no-reboot \
  -kernel "$kernel_dir/bzImage" -append "root=/dev/vda rw console=ttyS0 panic=-1 systemd.show_status=false" \
  -drive "file=$image,if=virtio,format=raw,snapshot=on" -drive "file=$work/payload.img,if=virtio,format=raw,readonly=on" \
  -serial "file:$work/console.txt" -serial "file:$results" -monitor none -nic none </dev/null >/dev/null 2>&1 || true
tr -d '\r' < "$results" > "$work/actual.txt" || true
cat "$work/actual.txt"
echo "boot-test: guest ran $(( $(date +%s) - start )) s"

expected=$work/expected.txt
cat > "$expected" <<'EOF'
== installed: enabled, inactive until configured
== status says why: device_id: the device id must not be empty
== README install commands: ok
== active (running) through Type=notify, STATUS: connected
== runs as edge-agent in groups edge-agent gpio i2c
== /dev/i2c-0 group i2c, /dev/gpiochip0 group gpio
== telemetry air: temperature_c 25.08, humidity_pct 55.00, pressure_hpa 1006.53
== retained status: online
== relay output after start: 1
== door event over gpio-sim: ok
== gpio-set from the control topic: relay 0, reply ok
== journal warnings in normal running: 0
== journal warnings after the broker stopped: some
== watchdog killed the frozen agent: yes, restarted: yes
== readings taken before the kill delivered after the restart: yes
== reload: same process, new sensor publishing: yes
== upgrade: configuration kept: yes, restarted: yes, spool kept: yes
== systemd-analyze security: 2.0 or better: yes
== remove: stopped: yes, configuration kept: yes, spool kept: yes
== purge: configuration gone: yes, spool gone: yes
== guest done
EOF
if diff -u "$expected" <(grep '^== ' "$work/actual.txt"); then
  echo "boot test: OK"
else
  echo "boot test: FAILED (expected above, with - lines; actual with +); the guest's console:" >&2
  tail -80 "$work/console.txt" >&2
  exit 1
fi
