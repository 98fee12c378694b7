#if canImport(Glibc)
import Glibc
#endif

/// sd_notify(3) without libsystemd: datagrams to $NOTIFY_SOCKET. Does nothing when not run by
/// systemd. The watchdog interval is half of $WATCHDOG_USEC, pinged from the main loop, so a loop
/// that hangs stops the pings and systemd restarts the service.
final class SystemdNotifier {
    private let fd: Int32
    private var address = sockaddr_un()
    private var addressLength: socklen_t = 0
    let watchdogInterval: UInt64?
    private(set) var nextWatchdog: UInt64 = 0

    init() {
        guard let path = getenv("NOTIFY_SOCKET").map({ String(cString: $0) }), !path.isEmpty,
            path.utf8.count < MemoryLayout.size(ofValue: address.sun_path)
        else {
            fd = -1
            watchdogInterval = nil
            return
        }
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 } // abstract namespace
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        addressLength = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        if let usec = getenv("WATCHDOG_USEC").flatMap({ UInt64(String(cString: $0)) }), usec > 0 {
            watchdogInterval = usec * 1000 / 2
        } else {
            watchdogInterval = nil
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    var isActive: Bool { fd >= 0 }

    func send(_ message: String) {
        guard fd >= 0 else { return }
        var message = message
        message.withUTF8 { utf8 in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    _ = sendto(fd, utf8.baseAddress, utf8.count, Int32(MSG_NOSIGNAL), $0, addressLength)
                }
            }
        }
    }

    /// Pings the watchdog if due; returns the next time it is due.
    func watchdog(now: UInt64) -> UInt64? {
        guard let interval = watchdogInterval else { return nil }
        if now >= nextWatchdog {
            send("WATCHDOG=1")
            nextWatchdog = now + interval
        }
        return nextWatchdog
    }
}
