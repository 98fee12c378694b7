import Syscalls

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A non-blocking TCP connection with TCP_NODELAY. Tries each address the host resolves to
/// (IPv6 and IPv4) in turn until one accepts, starting at `firstAddress` (modulo their count:
/// BrokerRotation spreads a fleet over a name's addresses and moves past one that failed).
public final class TCPTransport: Transport {
    public let host: String
    public let port: UInt16
    public private(set) var fileDescriptor: Int32 = -1
    private var addresses: [sockaddr_storage] = []
    private var addressLengths: [socklen_t] = []
    private let firstAddress: UInt64
    /// Addresses a connect was started to, the one connected (or connecting) included.
    public private(set) var addressesTried = 0
    private var connecting = false
    private var lastError: TransportError?

    public init(host: String, port: UInt16, firstAddress: UInt64 = 0) {
        self.host = host
        self.port = port
        self.firstAddress = firstAddress
    }

    /// The addresses the host resolved to (0 before resolving or when it did not resolve).
    public var addressCount: Int { addresses.count }

    deinit { close() }

    public func advanceConnect() throws(TransportError) -> ConnectProgress {
        if addresses.isEmpty { try resolve() }
        if connecting {
            // The connect started earlier completed one way or the other (section "Notes" of connect(2)).
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fileDescriptor, SOL_SOCKET, SO_ERROR, &error, &length)
            connecting = false
            if error == 0 { return .ready }
            lastError = .system(operation: "connect to \(host):\(port)", errno: Errno(rawValue: error))
            closeSocket()
        }
        while addressesTried < addresses.count {
            let index = Int((firstAddress + UInt64(addressesTried)) % UInt64(addresses.count))
            addressesTried += 1
            let family = Int32(addresses[index].ss_family)
            let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { lastError = .system(operation: "socket", errno: Errno(rawValue: errno)); continue }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            fileDescriptor = fd
            let result = withUnsafePointer(to: &addresses[index]) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, addressLengths[index]) }
            }
            if result == 0 { return .ready }
            if errno == EINPROGRESS { connecting = true; return .wantWrite }
            lastError = .system(operation: "connect to \(host):\(port)", errno: Errno(rawValue: errno))
            closeSocket()
        }
        throw lastError ?? .resolve(host: host, message: "no usable address")
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> IOStatus {
        while true {
            let n = Glibc.read(fileDescriptor, buffer.baseAddress, buffer.count)
            if n > 0 { return .transferred(n) }
            if n == 0 { return .closed }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock(wantWrite: false)
            default: throw .system(operation: "read from \(host):\(port)", errno: Errno(rawValue: errno))
            }
        }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(TransportError) -> IOStatus {
        while true {
            // MSG_NOSIGNAL: a broker that went away is an error to handle, not SIGPIPE.
            let n = send(fileDescriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if n >= 0 { return .transferred(n) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock(wantWrite: true)
            case EPIPE, ECONNRESET: return .closed
            default: throw .system(operation: "write to \(host):\(port)", errno: Errno(rawValue: errno))
            }
        }
    }

    public var hasBufferedInput: Bool { false }

    public func close() {
        closeSocket()
        connecting = false
    }

    private func closeSocket() {
        if fileDescriptor >= 0 { Glibc.close(fileDescriptor) }
        fileDescriptor = -1
    }

    private func resolve() throws(TransportError) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        // getaddrinfo blocks; brokers are named in the config and resolve from /etc/hosts or a LAN
        // resolver, and a failure moves on to the next broker.
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let list else {
            throw .resolve(host: host, message: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { dst in
                dst.copyMemory(from: UnsafeRawBufferPointer(start: current.pointee.ai_addr, count: Int(current.pointee.ai_addrlen)))
            }
            addresses.append(storage)
            addressLengths.append(current.pointee.ai_addrlen)
            entry = current.pointee.ai_next
        }
    }
}
