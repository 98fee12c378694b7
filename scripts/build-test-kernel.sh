#!/bin/sh
# Builds the small Linux kernel the hardware test boots under qemu: Debian's linux-source-6.1 with
# `make tinyconfig` plus exactly what the guest needs (serial console, initramfs, devtmpfs,
# configfs, the GPIO character device and gpio-sim, I2C with i2c-dev, and i2c-stub as a module,
# since i2c-stub is module-only). Debian's stock kernel has i2c-stub but no gpio-sim, hence this.
#
# The result is cached by source version and by this script's own checksum, so a repeated run
# prints the cached directory at once. Prints the directory holding bzImage and i2c-stub.ko.
# Needs: linux-source-6.1 bc flex bison libelf-dev (scripts/install-deps.sh installs them).
set -eu

src_tar=/usr/src/linux-source-6.1.tar.xz
[ -f "$src_tar" ] || { echo "build-test-kernel: $src_tar missing (apt-get install linux-source-6.1)" >&2; exit 1; }

version=$(dpkg-query -W -f='${Version}' linux-source-6.1)
script_sum=$(sha256sum "$0" | cut -c1-12)
cache_root=${EDGE_AGENT_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edge-agent/kernel}
out="$cache_root/$version-$script_sum"
if [ -f "$out/bzImage" ] && [ -f "$out/i2c-stub.ko" ]; then
    echo "$out"
    exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/edge-agent-kernel.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "build-test-kernel: building linux $version in $work (about 2-3 minutes on 2 cores)" >&2
tar -xf "$src_tar" -C "$work"
cd "$work/linux-source-6.1"

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
make -s ARCH=x86_64 olddefconfig >&2
for option in GPIO_SIM=y GPIO_CDEV_V1=y I2C_CHARDEV=y I2C_STUB=m SERIAL_8250_CONSOLE=y BLK_DEV_INITRD=y; do
    grep -q "^CONFIG_$option\$" .config || { echo "build-test-kernel: CONFIG_$option did not stick" >&2; exit 1; }
done
make -s ARCH=x86_64 -j"$(nproc)" bzImage modules >&2

mkdir -p "$out.tmp"
cp arch/x86/boot/bzImage drivers/i2c/i2c-stub.ko "$out.tmp/"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$out"
