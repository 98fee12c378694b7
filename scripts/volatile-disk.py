#!/usr/bin/env python3
"""A disk with a volatile write cache, served over NBD for the power-cut test's qemu guest.

Writes go to a cache in this process's memory; a FLUSH (what the guest's fsync and fdatasync end
in) and a clean disconnect write the cache to the image and fsync it, a write with FUA its own
sectors. When the
guest dies without disconnecting (the test kills qemu: a power cut), the cache is thrown away: what
the guest wrote but never flushed is lost, as on a real SD card or SSD whose cache loses power.
Reads see the cache. One client, one connection; exits when it ends. Prints one line at the end:
"volatile-disk: power cut, N unflushed sectors lost" or "volatile-disk: clean disconnect".

    volatile-disk.py SOCKET IMAGE
"""
import os
import socket
import struct
import sys

SECTOR = 512
NBDMAGIC, IHAVEOPT, REPLY_MAGIC = b"NBDMAGIC", 0x49484156454F5054, 0x3E889045565A9
REQUEST_MAGIC, SIMPLE_REPLY_MAGIC = 0x25609513, 0x67446698
OPT_EXPORT_NAME, OPT_ABORT, OPT_GO = 1, 2, 7
REP_ACK, REP_INFO, REP_ERR_UNSUP = 1, 3, 0x80000001
HAS_FLAGS, SEND_FLUSH, SEND_FUA = 1, 4, 8
CMD_READ, CMD_WRITE, CMD_DISC, CMD_FLUSH = 0, 1, 2, 3
FLAG_FUA = 1
EINVAL = 22


def receive(conn, n):
    data = bytearray()
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("peer gone")
        data += chunk
    return bytes(data)


class VolatileDisk:
    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR)
        self.size = os.fstat(self.fd).st_size
        self.cache = {}  # sector number -> 512 bytes not yet on the image

    def read(self, offset, length):
        data = bytearray(os.pread(self.fd, length, offset).ljust(length, b"\0"))
        for sector in range(offset // SECTOR, (offset + length + SECTOR - 1) // SECTOR):
            if sector in self.cache:
                start = sector * SECTOR
                lo, hi = max(start, offset), min(start + SECTOR, offset + length)
                data[lo - offset:hi - offset] = self.cache[sector][lo - start:hi - start]
        return bytes(data)

    def write(self, offset, data):
        end = offset + len(data)
        for sector in range(offset // SECTOR, (end + SECTOR - 1) // SECTOR):
            start = sector * SECTOR
            block = bytearray(self.cache.get(sector) or os.pread(self.fd, SECTOR, start).ljust(SECTOR, b"\0"))
            lo, hi = max(start, offset), min(start + SECTOR, end)
            block[lo - start:hi - start] = data[lo - offset:hi - offset]
            self.cache[sector] = bytes(block)

    def write_through(self, offset, length):
        """FUA: this write's sectors reach the image before the reply; the rest stay cached."""
        for sector in range(offset // SECTOR, (offset + length + SECTOR - 1) // SECTOR):
            if sector in self.cache:
                os.pwrite(self.fd, self.cache.pop(sector), sector * SECTOR)
        os.fdatasync(self.fd)

    def flush(self):
        for sector, block in sorted(self.cache.items()):
            os.pwrite(self.fd, block, sector * SECTOR)
        os.fsync(self.fd)
        self.cache.clear()


def negotiate(conn, disk):
    conn.sendall(NBDMAGIC + struct.pack(">QH", IHAVEOPT, 1 | 2))  # fixed newstyle, no zeroes
    receive(conn, 4)  # the client's flags
    flags = HAS_FLAGS | SEND_FLUSH | SEND_FUA
    while True:
        magic, option, length = struct.unpack(">QII", receive(conn, 16))
        data = receive(conn, length)
        if magic != IHAVEOPT:
            raise ConnectionError("bad option magic")
        if option == OPT_EXPORT_NAME:
            conn.sendall(struct.pack(">QH", disk.size, flags))
            return
        if option == OPT_GO:
            info = struct.pack(">HQH", 0, disk.size, flags)  # NBD_INFO_EXPORT
            conn.sendall(struct.pack(">QIII", REPLY_MAGIC, option, REP_INFO, len(info)) + info)
            conn.sendall(struct.pack(">QIII", REPLY_MAGIC, option, REP_ACK, 0))
            return
        if option == OPT_ABORT:
            raise ConnectionError("client aborted")
        conn.sendall(struct.pack(">QIII", REPLY_MAGIC, option, REP_ERR_UNSUP, 0))


def serve(conn, disk):
    while True:
        magic, flags, kind, cookie, offset, length = struct.unpack(">IHHQQI", receive(conn, 28))
        if magic != REQUEST_MAGIC:
            raise ConnectionError("bad request magic")
        data = receive(conn, length) if kind == CMD_WRITE else b""
        if kind == CMD_DISC:
            disk.flush()
            return True
        error = 0
        if kind in (CMD_READ, CMD_WRITE) and offset + length > disk.size:
            error, data = EINVAL, b""
        elif kind == CMD_READ:
            data = disk.read(offset, length)
        elif kind == CMD_WRITE:
            disk.write(offset, data)
            if flags & FLAG_FUA:
                disk.write_through(offset, length)
        elif kind == CMD_FLUSH:
            disk.flush()
        else:
            error = EINVAL
        reply = struct.pack(">IIQ", SIMPLE_REPLY_MAGIC, error, cookie)
        conn.sendall(reply + (data if kind == CMD_READ and not error else b""))


def main():
    path, image = sys.argv[1], sys.argv[2]
    disk = VolatileDisk(image)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(path):
        os.unlink(path)
    server.bind(path)
    server.listen(1)
    conn, _ = server.accept()
    try:
        negotiate(conn, disk)
        serve(conn, disk)
        print("volatile-disk: clean disconnect")
    except (ConnectionError, OSError):
        print(f"volatile-disk: power cut, {len(disk.cache)} unflushed sectors lost")


if __name__ == "__main__":
    main()
