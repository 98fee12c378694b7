import Foundation
import MQTT
import TestSupport
import Testing

/// A fake broker sends malformed and hostile bytes; the client reports a clear error, never
/// crashes, and reconnects.
@Suite("Hostile brokers")
struct HostileBrokerTests {
    /// Serves one connection with `script`, then a well-behaved second connection; returns the
    /// client's errors and whether it came back.
    func expectErrorThenReconnect(
        keepAlive: UInt16 = 30, configure: (inout ClientConfiguration) -> Void = { _ in },
        _ script: @escaping @Sendable (FakeBroker.Connection) -> Void
    ) throws -> [ConnectionError] {
        let broker = FakeBroker()
        let reconnected = Atomic(false)
        let done = broker.serve { broker in
            guard let first = broker.accept() else { return }
            script(first)
            first.close()
            guard let second = broker.accept() else { return }
            second.handshake()
            reconnected.set(true)
            _ = second.readPacket(seconds: 2)
        }
        let c = try TestClient(broker.url, keepAlive: keepAlive, configure: configure)
        #expect(drive([c]) { reconnected.get() && c.client.isConnected })
        c.client.stop()
        _ = done.wait(timeout: .now() + 5)
        return c.recorder.errors
    }

    @Test func garbageInsteadOfConnack() throws {
        let errors = try expectErrorThenReconnect { connection in
            _ = connection.readPacket()
            connection.send([0x00, 0xDE, 0xAD, 0xBE, 0xEF])
        }
        #expect(errors.first == .session(.protocolViolation(.unknownPacketType(0))))
    }

    @Test func garbageAfterConnack() throws {
        let errors = try expectErrorThenReconnect { connection in
            connection.handshake()
            connection.send([0xF7, 0x01, 0x02])
        }
        #expect(errors.first == .session(.protocolViolation(.unknownPacketType(15))))
    }

    @Test func oversizedRemainingLength() throws {
        let errors = try expectErrorThenReconnect { connection in
            connection.handshake()
            connection.send([0x90, 0xFF, 0xFF, 0xFF, 0x7F]) // a 256 MB SUBACK announced
        }
        #expect(errors.first == .session(.protocolViolation(.packetTooLarge(size: 268_435_460, limit: 1_048_576))))
    }

    @Test func malformedRemainingLength() throws {
        let errors = try expectErrorThenReconnect { connection in
            connection.handshake()
            connection.send([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        }
        #expect(errors.first == .session(.protocolViolation(.malformedRemainingLength)))
    }

    @Test func connackRefused() throws {
        let errors = try expectErrorThenReconnect { connection in
            _ = connection.readPacket()
            connection.send([0x20, 2, 0, 5])
        }
        #expect(errors.first == .session(.refused(.notAuthorized)))
        #expect(errors.first?.description == "broker refused: not authorized")
    }

    @Test func unexpectedPacketTypes() throws {
        let errors = try expectErrorThenReconnect { connection in
            connection.handshake()
            connection.send([0x82, 6, 0, 1, 0, 1, 0x61, 0]) // SUBSCRIBE, which only clients send
        }
        #expect(errors.first == .session(.unexpectedPacket(.subscribe, whileState: "connected")))
    }

    @Test func truncatedPacketThenClose() throws {
        let errors = try expectErrorThenReconnect { connection in
            connection.handshake()
            connection.send([0x30, 10, 0, 1])
        }
        #expect(errors.first == .transport(.closedByPeer))
    }

    @Test func invalidUTF8Topic() throws {
        let errors = try expectErrorThenReconnect { connection in
            connection.handshake()
            connection.send([0x30, 4, 0, 2, 0xC0, 0x80])
        }
        #expect(errors.first == .session(.protocolViolation(.invalidUTF8(field: "topic name"))))
    }

    @Test func silentBrokerIsDeclaredDead() throws {
        let errors = try expectErrorThenReconnect(keepAlive: 1, configure: { $0.session.pingTimeout = 300_000_000 }) { connection in
            connection.handshake()
            #expect(connection.readType(seconds: 3) == .pingreq) // and never answer it
            _ = connection.readPacket(seconds: 1)
        }
        #expect(errors.first == .session(.keepAliveTimeout))
    }

    @Test func unknownPubackIsReportedAndIgnored() throws {
        let broker = FakeBroker()
        let done = broker.serve { broker in
            guard let connection = broker.accept() else { return }
            connection.handshake()
            connection.send([0x40, 2, 0x12, 0x34])
            connection.send([0xD0, 0])
            _ = connection.readPacket(seconds: 2)
        }
        let c = try TestClient(broker.url)
        #expect(drive([c]) { !c.recorder.warnings.isEmpty })
        #expect(c.recorder.warnings == [.unknownPacketID(.puback, 0x1234)])
        #expect(c.client.isConnected && c.recorder.errors.isEmpty)
        c.client.stop()
        _ = done.wait(timeout: .now() + 5)
    }

    @Test func unacknowledgedMessagesAreResentInOrderWithDup() throws {
        let broker = FakeBroker()
        let seen = Locked<[(id: UInt16, dup: Bool, payload: [UInt8])]>([])
        let done = broker.serve { broker in
            guard let first = broker.accept() else { return }
            first.handshake()
            for _ in 0..<3 { if let p = first.readPacket() { seen.mutate { $0.append(publishFields(p)) } } }
            first.close() // cut the connection without acknowledging anything
            guard let second = broker.accept() else { return }
            second.handshake(sessionPresent: true)
            for _ in 0..<3 {
                guard let p = second.readPacket() else { return }
                let fields = publishFields(p)
                seen.mutate { $0.append(fields) }
                second.send([0x40, 2, UInt8(fields.id >> 8), UInt8(fields.id & 0xFF)])
            }
            _ = second.readPacket(seconds: 2)
        }
        let c = try TestClient(broker.url, cleanSession: false)
        #expect(drive([c]) { c.client.isConnected })
        for i in 0..<3 { try c.client.publish(topic: "r", payload: [UInt8(i)], qos: .atLeastOnce) }
        #expect(drive([c]) { c.recorder.delivered.count == 3 })
        let packets = seen.get()
        #expect(packets.count == 6)
        #expect(packets.map(\.payload) == [[0], [1], [2], [0], [1], [2]])
        #expect(packets.map(\.dup) == [false, false, false, true, true, true])
        #expect(Array(packets[0..<3].map(\.id)) == Array(packets[3..<6].map(\.id)))
        c.client.stop()
        _ = done.wait(timeout: .now() + 5)
    }
}

func publishFields(_ bytes: [UInt8]) -> (id: UInt16, dup: Bool, payload: [UInt8]) {
    bytes.withUnsafeBytes { raw in
        guard case .publish(let view)? = try? PacketDecoder.decode(raw)?.packet else { return (0, false, []) }
        return (view.packetID, view.dup, view.payloadBytes)
    }
}

/// A value shared between a test and its fake broker's thread.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.lock(); defer { lock.unlock() }; return value }
    func set(_ new: Value) { lock.lock(); value = new; lock.unlock() }
    func mutate(_ body: (inout Value) -> Void) { lock.lock(); body(&value); lock.unlock() }
}
typealias Atomic = Locked
