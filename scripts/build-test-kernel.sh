#!/bin/sh
# Builds the small Linux kernel the hardware test boots under qemu: Debian's linux-source-6.1 with
# `make tinyconfig` plus exactly what the guest needs (serial console, initramfs, devtmpfs,
# configfs, the GPIO character device and gpio-sim, I2C with i2c-dev, and i2c-stub as a module,
# since i2c-stub is module-only). Debian's stock kernel has i2c-stub but no gpio-sim, hence this.
#
# With `vm`, the kernel of the tests that boot a whole Debian system with systemd as PID 1
# (scripts/boot-test.sh, scripts/power-cut-test.sh): x86-64 defconfig and kvm_guest.config (virtio
# disks, ext4, cgroups, namespaces, seccomp, BPF: what systemd and the unit's sandbox use) plus the
# same GPIO and I2C options, without the subsystems a qemu guest has no use for (graphics, sound,
# USB, wireless, netfilter), which halves the build. About 10 minutes on 2 cores.
#
# The result is cached by flavour, source version and this script's own checksum, so a repeated run
# prints the cached directory at once. Prints the directory holding bzImage and i2c-stub.ko.
# Needs: linux-source-6.1 bc flex bison libelf-dev (scripts/install-deps.sh installs them).
#
#   scripts/build-test-kernel.sh [tiny | vm]
set -eu
flavour=${1:-tiny}
case "$flavour" in tiny|vm) ;; *) echo "build-test-kernel: unknown flavour $flavour" >&2; exit 2 ;; esac

src_tar=/usr/src/linux-source-6.1.tar.xz
[ -f "$src_tar" ] || { echo "build-test-kernel: $src_tar missing (apt-get install linux-source-6.1)" >&2; exit 1; }

version=$(dpkg-query -W -f='${Version}' linux-source-6.1)
script_sum=$(sha256sum "$0" | cut -c1-12)
cache_root=${EDGE_AGENT_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edge-agent/kernel}
out="$cache_root/$flavour-$version-$script_sum"
if [ -f "$out/bzImage" ] && [ -f "$out/i2c-stub.ko" ]; then
    echo "$out"
    exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/edge-agent-kernel.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "build-test-kernel: building the $flavour linux $version in $work" >&2
tar -xf "$src_tar" -C "$work"
cd "$work/linux-source-6.1"

if [ "$flavour" = tiny ]; then
make -s ARCH=x86_64 tinyconfig >&2
# Each line: an option the guest needs, and why.
./scripts/config \
    -e 64BIT \
    -e PRINTK -e TTY -e SERIAL_8250 -e SERIAL_8250_CONSOLE \
    -e BLK_DEV_INITRD \
    -e DEVTMPFS -e DEVTMPFS_MOUNT -e PROC_FS -e SYSFS -e CONFIGFS_FS -e TMPFS -e SHMEM \
    -e BINFMT_ELF -e BINFMT_SCRIPT \
    -e MULTIUSER -e FUTEX -e EPOLL -e TIMERFD -e SIGNALFD -e EVENTFD -e POSIX_TIMERS \
    -e FILE_LOCKING -e ADVISE_SYSCALLS -e UNIX -e NET \
    -e MODULES -e MODULE_UNLOAD \
    -e GPIOLIB -e GPIO_CDEV -e GPIO_CDEV_V1 -e GPIO_SIM \
    -e I2C -e I2C_CHARDEV -m I2C_STUB \
    >&2
else
make -s ARCH=x86_64 defconfig kvm_guest.config >&2
./scripts/config \
    -e VIRTIO_BLK -e EXT4_FS -e CONFIGFS_FS -e AUTOFS_FS -e TMPFS_POSIX_ACL -e TMPFS_XATTR \
    -e SECCOMP -e SECCOMP_FILTER -e BPF_SYSCALL -e CGROUP_BPF -e MEMCG -e FHANDLE -e KEYS \
    -e MODULES -e MODULE_UNLOAD \
    -e GPIOLIB -e GPIO_CDEV -e GPIO_CDEV_V1 -e GPIO_SIM \
    -e I2C -e I2C_CHARDEV -m I2C_STUB \
    -d DRM -d FB -d SOUND -d USB_SUPPORT -d WLAN -d WIRELESS -d CFG80211 -d NETFILTER -d AGP \
    -d HID -d INPUT_MOUSE -d INPUT_JOYSTICK -d INPUT_TABLET -d INPUT_TOUCHSCREEN -d MACINTOSH_DRIVERS \
    -d ETHERNET -d NET_VENDOR_INTEL -d SECURITY_SELINUX -d HIBERNATION -d SUSPEND -d FTRACE \
    -d KPROBES -d PROFILING -d DEBUG_INFO -d MICROCODE -d XEN -d HYPERV -d PCCARD -d ATA -d SCSI \
    >&2
fi
make -s ARCH=x86_64 olddefconfig >&2
options="GPIO_SIM=y GPIO_CDEV_V1=y I2C_CHARDEV=y I2C_STUB=m SERIAL_8250_CONSOLE=y BLK_DEV_INITRD=y"
[ "$flavour" = tiny ] || options="$options VIRTIO_BLK=y EXT4_FS=y SECCOMP_FILTER=y CGROUP_BPF=y MEMCG=y"
for option in $options; do
    grep -q "^CONFIG_$option\$" .config || { echo "build-test-kernel: CONFIG_$option did not stick" >&2; exit 1; }
done
make -s ARCH=x86_64 -j"$(nproc)" bzImage modules >&2

mkdir -p "$out.tmp"
cp arch/x86/boot/bzImage drivers/i2c/i2c-stub.ko "$out.tmp/"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$out"
