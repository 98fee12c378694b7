import Foundation
import MQTT
import TestSupport
import Testing

/// The client against fake 5.0 brokers, and against ones that refuse 5.0: negotiation, redirects,
/// takeovers, refusals and the limits a broker states.
@Suite("Client under MQTT 5.0")
struct ClientV5Tests {
    func client(_ url: String, auto: Bool = true, brokers: [String] = []) throws -> TestClient {
        try TestClient(url, cleanSession: false, brokers: brokers) { config in
            config.session.connect.version = .v5
            config.session.connect.sessionExpiry = 60
            config.versionFallback = auto
        }
    }

    @Test func aBrokerAnsweringReturnCode1GetsThreeOneOneFromThenOn() throws {
        let broker = FakeBroker()
        let seen = Locked<[ProtocolVersion]>([])
        let done = broker.serve { broker in
            guard let first = broker.accept(), let connect = first.readConnect() else { return }
            seen.mutate { $0.append(connect.version) }
            first.send([0x20, 2, 0, 1]) // 3.1.1: unacceptable protocol version
            first.close()
            for _ in 0..<2 {
                guard let next = broker.accept(), let options = next.handshake() else { return }
                seen.mutate { $0.append(options.version) }
                _ = next.readPacket(seconds: 0.3)
                next.close()
            }
        }
        let c = try client(broker.url)
        #expect(drive([c]) { seen.get().count == 3 })
        #expect(seen.get() == [.v5, .v311, .v311]) // remembered for this broker
        #expect(c.recorder.versions == [.v311]) // said once
        c.client.stop()
        _ = done.wait(timeout: .now() + 5)
    }

    @Test func aBrokerClosingOnAFiveConnectIsTriedInThreeOneOneAndBackIfThatClosesToo() throws {
        let broker = FakeBroker()
        let seen = Locked<[ProtocolVersion]>([])
        let done = broker.serve { broker in
            for k in 0..<3 {
                guard let next = broker.accept(), let connect = next.readConnect() else { return }
                seen.mutate { $0.append(connect.version) }
                if k == 2 { next.send([0x20, 3, 0, 0, 0]) } // the third is taken (5.0 CONNACK)
                _ = next.readPacket(seconds: 0.3)
                next.close()
            }
        }
        let c = try client(broker.url)
        #expect(drive([c]) { seen.get().count == 3 })
        // Closed on 5.0: 3.1.1, tentatively; closed on 3.1.1 too: not about the version, 5.0 again.
        #expect(seen.get() == [.v5, .v311, .v5])
        #expect(c.recorder.versions == [.v311, .v5])
        c.client.stop()
        _ = done.wait(timeout: .now() + 5)
    }

    @Test func aFixedVersionDoesNotFallBack() throws {
        let broker = FakeBroker()
        let seen = Locked<[ProtocolVersion]>([])
        let done = broker.serve { broker in
            for _ in 0..<2 {
                guard let next = broker.accept(), let connect = next.readConnect() else { return }
                seen.mutate { $0.append(connect.version) }
                next.send([0x20, 2, 0, 1])
                next.close()
            }
        }
        let c = try client(broker.url, auto: false)
        #expect(drive([c]) { seen.get().count == 2 })
        #expect(seen.get() == [.v5, .v5])
        #expect(c.recorder.errors.first == .session(.refused(.unacceptableProtocolVersion)))
        c.client.stop()
        _ = done.wait(timeout: .now() + 5)
    }

    @Test func aServerReferenceMovesTheClientThere() throws {
        let first = FakeBroker()
        let second = FakeBroker()
        let reached = Locked(false)
        let doneFirst = first.serve { broker in
            guard let c = broker.accept() else { return }
            c.handshake5(reason: .useAnotherServer) { $0.string(PropertyID.serverReference, "127.0.0.1:\(second.port)") }
            _ = c.readPacket(seconds: 0.5)
        }
        let doneSecond = second.serve { broker in
            guard let c = broker.accept(), c.handshake5() != nil else { return }
            reached.set(true)
            _ = c.readPacket(seconds: 1)
        }
        let c = try client(first.url)
        #expect(drive([c]) { reached.get() && c.client.isConnected })
        #expect(c.recorder.redirects == [BrokerAddress(host: "127.0.0.1", port: second.port, useTLS: false)])
        #expect(c.client.broker.port == second.port)
        c.client.stop()
        _ = doneFirst.wait(timeout: .now() + 5)
        _ = doneSecond.wait(timeout: .now() + 5)
    }

    @Test func sessionTakenOverNamesTheClashAtOnce() throws {
        let broker = FakeBroker()
        let done = broker.serve { broker in
            guard let c = broker.accept(), c.handshake5() != nil else { return }
            _ = c.readPacket(seconds: 0.3) // its SUBSCRIBE, if any
            c.send { PacketEncoder.disconnect5(reason: .sessionTakenOver, into: $0) }
            c.close()
            guard let again = broker.accept() else { return }
            again.handshake5()
            _ = again.readPacket(seconds: 0.5)
        }
        let c = try client(broker.url)
        #expect(drive([c]) { !c.recorder.clashes.isEmpty })
        #expect(c.recorder.clashes == [1]) // no second takeover needed to be sure
        #expect(c.recorder.errors.first == .session(.disconnectedByBroker(BrokerReason(code: .sessionTakenOver))))
        #expect(c.recorder.gaveUp.isEmpty)
        c.client.stop()
        _ = done.wait(timeout: .now() + 5)
    }

    @Test func receiveMaximumOfOneAndNoTopicAliasesAtTheBroker() throws {
        let broker = FakeBroker()
        let arrivals = Locked<[(topic: String, alias: UInt16?)]>([])
        let acked = Locked(0)
        let done = broker.serve { broker in
            guard let c = broker.accept(), c.handshake5({ $0.uint16(PropertyID.receiveMaximum, 1) }) != nil else { return }
            while let bytes = c.readPacket(seconds: 1) {
                guard bytes[0] >> 4 == 3 else { continue }
                let (id, topic, alias) = bytes.withUnsafeBytes { raw -> (UInt16, String, UInt16?) in
                    guard case .publish(let view)? = try? PacketDecoder.decode(raw, version: .v5)?.packet else { return (0, "", nil) }
                    return (view.packetID, view.topicString, view.properties.uint16(PropertyID.topicAlias))
                }
                arrivals.mutate { $0.append((topic, alias)) }
                // A second PUBLISH must not come before this one is acknowledged.
                if c.readPacket(seconds: 0.3) != nil { arrivals.mutate { $0.append(("too soon", nil)) } }
                c.send { PacketEncoder.acknowledgement5(.puback, packetID: id, reason: .success, into: $0) }
                acked.mutate { $0 += 1 }
            }
        }
        let c = try client(broker.url)
        #expect(drive([c]) { c.client.isConnected })
        let aliased = MessageProperties.json(aliasable: true)
        for _ in 0..<3 {
            _ = try [UInt8]("1".utf8).withUnsafeBytes {
                try c.client.publish(topic: "t/a", payload: $0, qos: .atLeastOnce, properties: aliased)
            }
        }
        #expect(drive([c], seconds: 10) { c.recorder.delivered.count == 3 })
        #expect(arrivals.get().map(\.topic) == ["t/a", "t/a", "t/a"]) // a broker with no aliases gets names
        #expect(arrivals.get().allSatisfy { $0.alias == nil })
        c.client.stop()
        _ = done.wait(timeout: .now() + 5)
    }

    @Test func aRefusalInPubackIsReportedWithoutADisconnect() throws {
        let broker = FakeBroker()
        let done = broker.serve { broker in
            guard let c = broker.accept(), c.handshake5() != nil else { return }
            while let bytes = c.readPacket(seconds: 1) {
                guard bytes[0] >> 4 == 3 else { continue }
                let id = bytes.withUnsafeBytes { raw -> UInt16 in
                    guard case .publish(let view)? = try? PacketDecoder.decode(raw, version: .v5)?.packet else { return 0 }
                    return view.packetID
                }
                c.send { PacketEncoder.acknowledgement5(.puback, packetID: id, reason: .topicNameInvalid, into: $0) }
            }
        }
        let c = try client(broker.url)
        #expect(drive([c]) { c.client.isConnected })
        _ = try c.client.publish(topic: "t/b", payload: Array("x".utf8), qos: .atLeastOnce)
        #expect(drive([c]) { !c.recorder.refused.isEmpty })
        #expect(c.recorder.refused.first?.reason == .topicNameInvalid)
        #expect(c.recorder.refused.first?.payload == "x")
        #expect(c.recorder.errors.isEmpty)
        c.client.stop()
        _ = done.wait(timeout: .now() + 5)
    }
}
