import Foundation
import MQTT
import Syscalls
import TestSupport

/// A broker that says exactly what a test tells it to: a listening socket on a free loopback port,
/// and blocking connections the test script drives from a background thread.
final class FakeBroker: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32

    init() {
        port = freeLoopbackPort()
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(listener, 8)
    }

    deinit { close(listener) }

    var url: String { "mqtt://127.0.0.1:\(port)" }

    /// Waits up to `seconds` for the client to connect.
    func accept(seconds: Double = 10) -> Connection? {
        var fd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        guard poll(&fd, 1, Int32(seconds * 1000)) == 1 else { return nil }
        let connection = Glibc.accept(listener, nil, nil)
        return connection >= 0 ? Connection(fd: connection) : nil
    }

    /// Runs `script` on a background thread; `done` is signalled when it returns.
    func serve(_ script: @escaping @Sendable (FakeBroker) -> Void) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        Thread {
            script(self); done.signal()
        }.start()
        return done
    }

    final class Connection {
        private(set) var fd: Int32
        private var pending: [UInt8] = []

        init(fd: Int32) { self.fd = fd }
        deinit { close() }

        func close() {
            if fd >= 0 { Glibc.close(fd) }
            fd = -1
        }

        func send(_ bytes: [UInt8]) {
            _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }

        /// The next whole packet's bytes, or nil on timeout or close.
        func readPacket(seconds: Double = 10) -> [UInt8]? {
            let deadline = Date().addingTimeInterval(seconds)
            while true {
                if let header = try? pending.withUnsafeBytes({ try PacketDecoder.fixedHeader($0, maxPacketSize: 1 << 28) }),
                    pending.count >= header.packetLength
                {
                    let packet = Array(pending[..<header.packetLength])
                    pending.removeFirst(header.packetLength)
                    return packet
                }
                let left = deadline.timeIntervalSinceNow
                guard left > 0 else { return nil }
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&p, 1, Int32(left * 1000)) == 1 else { return nil }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { return nil }
                pending.append(contentsOf: chunk[..<n])
            }
        }

        func readType(seconds: Double = 10) -> PacketType? {
            guard let bytes = readPacket(seconds: seconds) else { return nil }
            return PacketType(rawValue: bytes[0] >> 4)
        }

        /// Reads CONNECT, whatever its version.
        func readConnect(seconds: Double = 10) -> ConnectOptions? {
            guard let bytes = readPacket(seconds: seconds),
                case .connect(let options)? = try? bytes.withUnsafeBytes({ try PacketDecoder.decode($0)?.packet })
            else { return nil }
            return options
        }

        /// Reads a 5.0 CONNECT and answers a 5.0 CONNACK with `reason` and `properties`.
        @discardableResult
        func handshake5(reason: ReasonCode = .success, _ properties: (inout PropertyBuilder) -> Void = { _ in }) -> ConnectOptions? {
            guard let options = readConnect(), options.version == .v5 else { return nil }
            var p = PropertyBuilder()
            properties(&p)
            let buffer = WireBuffer(capacity: 64)
            PacketEncoder.connack5(sessionPresent: false, reason: reason, properties: p.bytes, into: buffer)
            send(buffer.readableArray())
            return options
        }

        /// Sends what `body` encodes.
        func send(_ body: (WireBuffer) -> Void) {
            let buffer = WireBuffer(capacity: 64)
            body(buffer)
            send(buffer.readableArray())
        }

        /// Reads CONNECT and answers CONNACK accepted.
        @discardableResult
        func handshake(sessionPresent: Bool = false) -> ConnectOptions? {
            guard let bytes = readPacket(),
                case .connect(let options)? = try? bytes.withUnsafeBytes({ try PacketDecoder.decode($0)?.packet })
            else { return nil }
            send([0x20, 2, sessionPresent ? 1 : 0, 0])
            return options
        }
    }
}

/// Records what a client reports, for assertions.
final class RecordingDelegate: MQTTClientDelegate, @unchecked Sendable {
    var connects: [Bool] = []
    var errors: [ConnectionError] = []
    var messages: [(topic: String, payload: String, qos: QoS, retain: Bool)] = []
    var delivered: [UInt16] = []
    var subscribeResults: [[SubscribeResult]] = []
    var warnings: [SessionWarning] = []
    var retryDelays: [Nanoseconds] = []
    var gaveUp: [(id: UInt16, payload: String)] = []
    var refused: [(id: UInt16, reason: ReasonCode, payload: String)] = []
    var versions: [ProtocolVersion] = []
    var redirects: [BrokerAddress] = []
    var clashes: [Int] = []

    func mqttClient(_ client: MQTTClient, didConnectTo broker: BrokerAddress, sessionPresent: Bool) { connects.append(sessionPresent) }
    func mqttClient(_ client: MQTTClient, didLoseConnectionTo broker: BrokerAddress, error: ConnectionError, retryIn: Nanoseconds) {
        errors.append(error)
        retryDelays.append(retryIn)
    }
    func mqttClient(_ client: MQTTClient, didGiveUp packetID: UInt16, message: PublishView) {
        gaveUp.append((packetID, String(decoding: message.payload, as: UTF8.self)))
    }
    func mqttClient(_ client: MQTTClient, didReceive message: PublishView) {
        messages.append((message.topicString, String(decoding: message.payload, as: UTF8.self), message.qos, message.retain))
    }
    func mqttClient(_ client: MQTTClient, didDeliver packetID: UInt16) { delivered.append(packetID) }
    func mqttClient(_ client: MQTTClient, didRefuse packetID: UInt16, message: PublishView, reason: ReasonCode, reasonString: String?) {
        refused.append((packetID, reason, String(decoding: message.payload, as: UTF8.self)))
    }
    func mqttClient(_ client: MQTTClient, willSpeak version: ProtocolVersion, to broker: BrokerAddress, because error: ConnectionError) {
        versions.append(version)
    }
    func mqttClient(_ client: MQTTClient, redirectedTo broker: BrokerAddress, by reason: BrokerReason) { redirects.append(broker) }
    func mqttClient(_ client: MQTTClient, clientIDInUse clientID: String, takeovers: Int) { clashes.append(takeovers) }
    func mqttClient(_ client: MQTTClient, didSubscribe packetID: UInt16, results: [SubscribeResult]) { subscribeResults.append(results) }
    func mqttClient(_ client: MQTTClient, warning: SessionWarning) { warnings.append(warning) }
}

/// A client with its recorder, and a loop that drives any number of them until a condition holds.
struct TestClient {
    let client: MQTTClient
    let recorder = RecordingDelegate()

    init(
        _ url: String, version: ProtocolVersion = .v311, id: String = "test-\(UInt32.random(in: 0...UInt32.max))",
        cleanSession: Bool = true,
        keepAlive: UInt16 = 30, will: Will? = nil, username: String? = nil, password: String? = nil,
        tls: TLSConfiguration = TLSConfiguration(), subscriptions: [TopicSubscription] = [],
        brokers extra: [String] = [], configure: (inout ClientConfiguration) -> Void = { _ in }
    ) throws {
        let brokers = ([url] + extra).map { BrokerAddress(url: $0)! }
        var session = SessionConfiguration(
            connect: ConnectOptions(
                clientID: id, cleanSession: cleanSession, keepAlive: keepAlive,
                will: will, username: username, password: password.map { Array($0.utf8) }))
        session.maxInflight = 32
        session.connect.version = version
        // A session kept until cleaned, as 3.1.1's: under 5.0 that is an expiry.
        if version == .v5 && !cleanSession { session.connect.sessionExpiry = 3600 }
        var config = ClientConfiguration(brokers: brokers, session: session)
        config.tls = tls
        config.subscriptions = subscriptions
        config.backoff = ReconnectBackoff(minimum: 50_000_000, maximum: 200_000_000)
        configure(&config)
        client = try MQTTClient(configuration: config)
        client.delegate = recorder
    }
}

/// Runs the clients' loops until `condition` holds; false on timeout.
@discardableResult
func drive(_ clients: [TestClient], seconds: Double = 10, until condition: () -> Bool) -> Bool {
    for c in clients { c.client.start() }
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        for c in clients { c.client.runOnce(maxWait: 5_000_000) }
    }
    return condition()
}
