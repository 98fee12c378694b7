import Syscalls

@testable import MQTT

/// The broker's side of a connection is the attacker: CONNECT is written, then everything the
/// broker says comes from the input, in chunks whose sizes the first byte chooses, with the
/// session answering, publishing and ticking as the client would. Bit 6 of the first byte makes
/// the session speak 5.0: properties, reason codes, CONNACK's limits, aliases and refusals; and
/// the input is also read as a property block in every context.
enum FuzzMQTT {
    static func run(_ bytes: UnsafeRawBufferPointer) {
        guard let first = bytes.first else { return }
        var config = SessionConfiguration(connect: ConnectOptions(clientID: "fuzz", cleanSession: first & 0x80 == 0, keepAlive: 30))
        let v5 = first & 0x40 != 0
        if v5 {
            config.connect.version = .v5
            config.connect.sessionExpiry = 60
            config.maxTopicAliases = 2
            let contexts: [PropertyContext] = [.connack, .publish, .acknowledgement, .suback, .disconnect, .will]
            for context in contexts {
                if (try? Properties.check(UnsafeRawBufferPointer(rebasing: bytes[1...]), context, in: .publish)) != nil {
                    _ = ConnackProperties(Properties(unchecked: UnsafeRawBufferPointer(rebasing: bytes[1...])))
                }
            }
        }
        config.maxInflight = 4
        config.maxIncomingPacketSize = 256
        config.inflightArenaBytes = 4096
        let session = MQTTSession(configuration: config)
        let aliased = MessageProperties.json(aliasable: true)
        var now: Nanoseconds = 1_000_000_000
        try? session.connectionOpened(now: now)
        let chunk = Int(first & 0x3F) + 1
        let input = UnsafeRawBufferPointer(rebasing: bytes[1...])
        // The bytes not yet consumed are input[start..<end]: the input is contiguous, as the
        // client's receive buffer is.
        var start = 0
        var end = 0
        var turn = 0
        while end < input.count {
            end = min(input.count, end + chunk)
            do {
                start += try session.receive(UnsafeRawBufferPointer(rebasing: input[start..<end]), now: now) { event in
                    if case .connected = event { _ = try? session.subscribe([TopicSubscription("a/#")], now: now) }
                }
            } catch {
                // The client closes and reconnects; the rest of the input is the new connection.
                session.connectionClosed()
                start = end
                try? session.connectionOpened(now: now)
            }
            turn += 1
            guard turn % 8 == 0 else { continue }
            _ = try? session.publish(
                topic: turn % 16 == 0 ? "t/y" : "t/x", payload: UnsafeRawBufferPointer(start: nil, count: 0),
                qos: QoS(rawValue: UInt8(turn % 3))!, retain: turn % 5 == 0, properties: aliased, now: now)
            _ = session.takeWarnings()
            session.outbound.clear()
            now &+= 7_000_000_000
            do { try session.tick(now: now) { _ in } } catch { session.connectionClosed(); try? session.connectionOpened(now: now) }
        }
    }
}
