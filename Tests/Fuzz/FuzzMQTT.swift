@testable import MQTT

/// The broker's side of a connection is the attacker: CONNECT is written, then everything the
/// broker says comes from the input, in chunks whose sizes the first byte chooses, with the
/// session answering, publishing and ticking as the client would.
enum FuzzMQTT {
    static func run(_ bytes: UnsafeRawBufferPointer) {
        guard let first = bytes.first else { return }
        var config = SessionConfiguration(connect: ConnectOptions(clientID: "fuzz", cleanSession: first & 0x80 == 0, keepAlive: 30))
        config.maxInflight = 4
        config.maxIncomingPacketSize = 256
        config.inflightArenaBytes = 4096
        let session = MQTTSession(configuration: config)
        var now: Nanoseconds = 1_000_000_000
        try? session.connectionOpened(now: now)
        let chunk = Int(first & 0x3F) + 1
        let input = UnsafeRawBufferPointer(rebasing: bytes[1...])
        var pending: [UInt8] = []
        var offset = 0
        while offset < input.count {
            let end = min(input.count, offset + chunk)
            pending += input[offset..<end]
            offset = end
            let consumed: Int
            do {
                consumed = try pending.withUnsafeBytes { raw in
                    try session.receive(raw, now: now) { event in
                        if case .connected = event { _ = try? session.subscribe([TopicSubscription("a/#")], now: now) }
                    }
                }
            } catch {
                // The client closes and reconnects; carry on with the rest as a new connection.
                session.connectionClosed()
                pending.removeAll()
                try? session.connectionOpened(now: now)
                continue
            }
            pending.removeFirst(consumed)
            if pending.count > 4096 { pending.removeAll() }
            _ = try? session.publish(topic: "t/x", payload: UnsafeRawBufferPointer(start: nil, count: 0), qos: QoS(rawValue: UInt8(offset % 3))!, now: now)
            session.outbound.clear()
            now &+= 7_000_000_000
            do { try session.tick(now: now) } catch { session.connectionClosed(); try? session.connectionOpened(now: now) }
        }
    }
}
