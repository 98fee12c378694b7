import Foundation

/// A TCP link between a client and a broker that a test can cut, as a failed cellular link or a
/// pulled cable would: every connection through it is closed at once (no DISCONNECT, the broker
/// sees the client vanish) and new ones are closed as they come until the link is restored. Bytes
/// are forwarded by one background thread with poll(2), which alone opens and closes descriptors.
public final class LinkProxy: @unchecked Sendable {
    public let port: UInt16
    private let target: UInt16
    private let lock = NSLock()
    private let listener: Int32
    private var pairs: [(Int32, Int32)] = []
    private var running = true
    private var isCut = false
    private var thread: Thread?

    public init(to target: UInt16) {
        self.target = target
        port = freeLoopbackPort()
        listener = LinkProxy.listen(on: port)
        let thread = Thread { [unowned self] in self.loop() }
        self.thread = thread
        thread.start()
    }

    deinit {
        lock.lock()
        running = false
        lock.unlock()
        Thread.sleep(forTimeInterval: 0.1)
        closeAll()
        Glibc.close(listener)
    }

    public var url: String { "mqtt://127.0.0.1:\(port)" }

    /// Closes every connection and, until `restore`, each new one.
    public func cut() {
        lock.lock()
        isCut = true
        lock.unlock()
        Thread.sleep(forTimeInterval: 0.1) // the forwarding thread closes them on its next turn
    }

    /// Forwards new connections again.
    public func restore() {
        lock.lock()
        isCut = false
        lock.unlock()
    }

    private func closeAll() {
        for (a, b) in pairs {
            Glibc.close(a)
            Glibc.close(b)
        }
        pairs.removeAll()
    }

    private func loop() {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            lock.lock()
            guard running else { lock.unlock(); return }
            if isCut { closeAll() }
            var fds = pairs.flatMap {
                [pollfd(fd: $0.0, events: Int16(POLLIN), revents: 0), pollfd(fd: $0.1, events: Int16(POLLIN), revents: 0)]
            }
            fds.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0))
            lock.unlock()
            guard poll(&fds, nfds_t(fds.count), 20) > 0 else { continue }
            lock.lock()
            for entry in fds where entry.revents != 0 {
                if entry.fd == listener {
                    let client = accept(listener, nil, nil)
                    guard client >= 0 else { continue }
                    if isCut { Glibc.close(client); continue }
                    let upstream = LinkProxy.connect(to: target)
                    if upstream >= 0 { pairs.append((client, upstream)) } else { Glibc.close(client) }
                    continue
                }
                guard let index = pairs.firstIndex(where: { $0.0 == entry.fd || $0.1 == entry.fd }) else { continue }
                let (a, b) = pairs[index]
                let other = entry.fd == a ? b : a
                let n = buffer.withUnsafeMutableBytes { recv(entry.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if n > 0 {
                    _ = buffer.withUnsafeBytes { send(other, $0.baseAddress, n, Int32(MSG_NOSIGNAL)) }
                } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                    Glibc.close(a)
                    Glibc.close(b)
                    pairs.remove(at: index)
                }
            }
            lock.unlock()
        }
    }

    private static func listen(on port: UInt16) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        Glibc.listen(fd, 16)
        return fd
    }

    private static func connect(to port: UInt16) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = loopback(port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if result != 0 { Glibc.close(fd); return -1 }
        return fd
    }

    private static func loopback(_ port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return address
    }
}
