#!/usr/bin/env bash
# Power cuts under the spool: a qemu guest (the `vm` test kernel, an initramfs with busybox and
# Tests/SpoolCrashWriter) appends to a spool on an ext4 disk and reports over its second serial port
# what the spool has promised ("durable N": every record below N survives). The host kills qemu at
# a random moment, boots the guest again on the same disk, and the writer first reports what it
# found ("reopened next N ... intact yes corrupt 0"), then goes on writing, until the next kill.
#
# The disk is served by scripts/volatile-disk.py: writes stay in a cache in that process until the
# guest flushes (fsync, fdatasync, a journal commit), and a kill throws the cache away. So what the
# guest did not sync is lost twice over: in the guest's page cache and in the disk's cache, as on
# an SD card that loses power. Every round must find every promised record, in order and intact,
# the cursor no further back than it durably was, nothing corrupt. With `always` every append
# is promised; with `interval` (1 s, the agent's default) what the last sync covered. The writer
# appends 500 records a second, as busy sensors would: a writer as fast as the disk would fill the
# guest's page cache and make the kernel write back on its own, hiding a missing sync.
#
#   scripts/power-cut-test.sh [ROUNDS]    (default 6 per policy)
# EDGE_AGENT_SPOOL_WRITER tests another build of the writer (to check that the test fails without
# the spool's fdatasync calls).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-6}
kernel_dir=$(scripts/build-test-kernel.sh vm)
writer=${EDGE_AGENT_SPOOL_WRITER:-}
if [ -z "$writer" ]; then
  swift build -c release --static-swift-stdlib --product spool-crash-writer >&2
  writer=.build/release/spool-crash-writer
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/edge-agent-powercut.XXXXXX")
[ -n "${EDGE_AGENT_KEEP_WORK:-}" ] || trap 'rm -rf "$work"' EXIT
initrd=$work/root
mkdir -p "$initrd"/{bin,dev,proc,sys,mnt}
cp /bin/busybox "$initrd/bin/busybox"
cp "$writer" "$initrd/bin/spool-crash-writer"
ldd "$writer" | grep -o '/[^ ]*' | while read -r lib; do
  mkdir -p "$initrd$(dirname "$lib")"
  cp -L "$lib" "$initrd$lib"
done
cat > "$initrd/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t devtmpfs dev /dev; mount -t proc proc /proc; mount -t sysfs sys /sys
policy=$(sed -n 's/.*policy=\([a-z]*\).*/\1/p' /proc/cmdline)
mount -t ext4 /dev/vda /mnt || { echo "mount failed" > /dev/ttyS1; poweroff -f; }
echo "booted $policy" > /dev/ttyS1
exec spool-crash-writer /mnt/spool $policy 1000 500 > /dev/ttyS1 2>&1
EOF
chmod +x "$initrd/init"
(cd "$initrd" && find . | cpio -o -H newc 2>/dev/null) > "$work/initrd.cpio"

# boot POLICY OUT: boots the guest on the disk until the writer has written for a random while
# (or, with a last argument `check`, only until it reported the reopened spool), then cuts power.
boot() {
  local policy=$1 out=$2 mode=${3:-write}
  rm -f "$work/nbd.sock"
  python3 scripts/volatile-disk.py "$work/nbd.sock" "$work/disk.img" > "$out.disk" & local server=$!
  for _ in $(seq 50); do [ -S "$work/nbd.sock" ] && break; sleep 0.1; done
  qemu-system-x86_64 -accel tcg -m 512 -nographic -no-reboot -monitor none -nic none \
    -kernel "$kernel_dir/bzImage" -initrd "$work/initrd.cpio" -append "console=ttyS0 quiet panic=-1 policy=$policy" \
    -drive "driver=raw,if=virtio,cache=writeback,file.driver=nbd,file.server.type=unix,file.server.path=$work/nbd.sock" \
    -serial "file:$out.console" -serial "file:$out.raw" </dev/null >/dev/null 2>&1 & local vm=$!
  local waited=0
  until grep -q '^reopened' "$out.raw" 2>/dev/null; do
    sleep 0.2; waited=$((waited + 1))
    if [ $waited -gt 300 ] || ! kill -0 $vm 2>/dev/null; then echo "power-cut: the guest did not start the writer" >&2; cat "$out.console" "$out" >&2; kill -9 $vm 2>/dev/null; exit 1; fi
  done
  # Long enough for several 1 s syncs with `interval`; any moment will do with `always`.
  [ "$mode" = check ] || sleep "$(awk -v p="$policy" 'BEGIN { srand(); print (p == "always" ? 0.5 + rand() * 2.5 : 2.5 + rand() * 3) }')"
  kill -9 $vm; wait $vm 2>/dev/null || true
  wait $server || true
  tr -d '\r' < "$out.raw" > "$out"
}

failures=0 lost_sectors=0
for policy in always interval; do
  rm -f "$work/disk.img"
  truncate -s 128M "$work/disk.img"
  mkfs.ext4 -q "$work/disk.img"
  promised=0 acked=0 progressed=0
  for round in $(seq 0 "$rounds"); do
    out=$work/$policy-$round.txt
    if [ "$round" -lt "$rounds" ]; then boot "$policy" "$out"; else boot "$policy" "$out" check; fi
    read -r _ _ next _ cursor _ records _ intact _ corrupt _ lost <<<"$(grep -m1 '^reopened' "$out")"
    verdict=""
    [ "$next" -ge "$promised" ] || verdict="$verdict; lost promised records (found up to $next)"
    [ "$cursor" -ge "$acked" ] || verdict="$verdict; the cursor went back (to $cursor, durably $acked)"
    [ "$intact" = yes ] && [ "$corrupt" = 0 ] && [ "$lost" = no ] || verdict="$verdict; intact $intact, corrupt $corrupt, cursor lost $lost"
    if [ -z "$verdict" ]; then verdict=ok; else verdict=${verdict#; }; failures=$((failures + 1)); fi
    cache=$(sed -n 's/.*power cut, \([0-9]*\) unflushed.*/\1/p' "$out.disk")
    lost_sectors=$((lost_sectors + ${cache:-0}))
    before=$promised
    promised=$(sed -n 's/^durable //p' "$out" | sort -n | tail -1); promised=${promised:-$before}
    newest_ack=$(sed -n 's/^acked //p' "$out" | sort -n | tail -1); acked=${newest_ack:-$acked}
    [ "$promised" -gt "$before" ] && progressed=$((progressed + 1))
    echo "power-cut $policy round $round: reopened with $records records from $cursor to $next (promised $before): $verdict; then promised $promised; the disk's cache lost ${cache:-0} sectors"
  done
  # The rounds must have written, or the checks hold of an empty spool.
  [ $progressed -ge $((rounds - 1)) ] || { echo "power-cut $policy: the writer progressed in only $progressed rounds"; failures=$((failures + 1)); }
done
echo "power-cut: the disk's cache lost $lost_sectors unflushed sectors in all (what the guest wrote without syncing)"
if [ $failures -eq 0 ]; then echo "power-cut test: OK"; else echo "power-cut test: FAILED ($failures)"; exit 1; fi
