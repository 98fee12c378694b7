import CTLSMemory
import Foundation
import MQTT
import TestSupport
import Testing

/// Against a real mosquitto started for each test on a free loopback port, in MQTT 3.1.1 and 5.0.
@Suite("Against mosquitto")
struct BrokerIntegrationTests {
    @Test(arguments: [ProtocolVersion.v311, .v5])
    func roundTripsAtEveryQoS(version: ProtocolVersion) throws {
        let broker = try Mosquitto()
        defer { broker.stop() } // keeps the broker alive to the end of the test
        let sub = try TestClient(broker.url, version: version, subscriptions: [TopicSubscription("rt/#", qos: .exactlyOnce)])
        let pub = try TestClient(broker.url, version: version)
        #expect(drive([sub, pub]) { sub.recorder.subscribeResults.count == 1 && pub.client.isConnected })
        #expect(sub.recorder.subscribeResults == [[.granted(.exactlyOnce)]])
        for qos in [QoS.atMostOnce, .atLeastOnce, .exactlyOnce] {
            try pub.client.publish(topic: "rt/\(qos.rawValue)", payload: Array("payload \(qos.rawValue)".utf8), qos: qos)
        }
        #expect(drive([sub, pub]) { sub.recorder.messages.count == 3 && pub.recorder.delivered.count == 2 })
        #expect(sub.recorder.messages.map(\.topic) == ["rt/0", "rt/1", "rt/2"])
        #expect(sub.recorder.messages.map(\.payload) == ["payload 0", "payload 1", "payload 2"])
        #expect(sub.recorder.messages.map(\.qos) == [.atMostOnce, .atLeastOnce, .exactlyOnce])
        #expect(pub.client.session.inflightCount == 0)
        #expect(sub.recorder.errors.isEmpty && pub.recorder.errors.isEmpty)
    }

    @Test(arguments: [ProtocolVersion.v311, .v5])
    func manyMessagesKeepTheirOrderThroughTheWindow(version: ProtocolVersion) throws {
        let broker = try Mosquitto()
        defer { broker.stop() } // keeps the broker alive to the end of the test
        let sub = try TestClient(broker.url, version: version, subscriptions: [TopicSubscription("seq", qos: .atLeastOnce)])
        let pub = try TestClient(broker.url, version: version)
        #expect(drive([sub, pub]) { sub.recorder.subscribeResults.count == 1 && pub.client.isConnected })
        var next = 0
        #expect(
            drive([sub, pub], seconds: 30) {
                while next < 2000, (try? pub.client.publish(topic: "seq", payload: Array(String(next).utf8), qos: .atLeastOnce)) != nil {
                    next += 1
                }
                return sub.recorder.messages.count == 2000
            })
        #expect(sub.recorder.messages.map(\.payload) == (0..<2000).map(String.init))
    }

    @Test(arguments: [ProtocolVersion.v311, .v5])
    func retainedMessageReachesLaterSubscribers(version: ProtocolVersion) throws {
        let broker = try Mosquitto()
        defer { broker.stop() } // keeps the broker alive to the end of the test
        let pub = try TestClient(broker.url, version: version)
        #expect(drive([pub]) { pub.client.isConnected })
        try pub.client.publish(topic: "ret/status", payload: Array("online".utf8), qos: .atLeastOnce, retain: true)
        #expect(drive([pub]) { pub.recorder.delivered.count == 1 })
        let late = try TestClient(broker.url, version: version, subscriptions: [TopicSubscription("ret/#")])
        #expect(drive([late]) { late.recorder.messages.count == 1 })
        #expect(late.recorder.messages.first?.payload == "online")
        #expect(late.recorder.messages.first?.retain == true)
    }

    @Test(arguments: [ProtocolVersion.v311, .v5])
    func willIsPublishedWhenTheSocketIsCut(version: ProtocolVersion) throws {
        let broker = try Mosquitto()
        defer { broker.stop() } // keeps the broker alive to the end of the test
        let observer = try TestClient(broker.url, version: version, subscriptions: [TopicSubscription("dev/1/status")])
        let victim = try TestClient(
            broker.url, version: version, will: Will(topic: "dev/1/status", payload: Array("offline".utf8), qos: .atLeastOnce, retain: true)
        )
        #expect(drive([observer, victim]) { observer.recorder.subscribeResults.count == 1 && victim.client.isConnected })
        victim.client.dropConnection()
        victim.client.stop()
        #expect(drive([observer]) { observer.recorder.messages.count == 1 })
        #expect(observer.recorder.messages.first?.payload == "offline")
    }

    @Test(arguments: [ProtocolVersion.v311, .v5])
    func noWillAfterACleanDisconnect(version: ProtocolVersion) throws {
        let broker = try Mosquitto()
        defer { broker.stop() } // keeps the broker alive to the end of the test
        let observer = try TestClient(broker.url, version: version, subscriptions: [TopicSubscription("dev/2/status")])
        let leaver = try TestClient(broker.url, version: version, will: Will(topic: "dev/2/status", payload: Array("offline".utf8)))
        #expect(drive([observer, leaver]) { observer.recorder.subscribeResults.count == 1 && leaver.client.isConnected })
        leaver.client.stop()
        #expect(!drive([observer], seconds: 1) { !observer.recorder.messages.isEmpty })
    }

    @Test(arguments: [ProtocolVersion.v311, .v5])
    func persistentSessionRedeliversAfterReconnect(version: ProtocolVersion) throws {
        let broker = try Mosquitto()
        defer { broker.stop() } // keeps the broker alive to the end of the test
        let id = "persistent-\(UInt32.random(in: 0...UInt32.max))"
        let first = try TestClient(
            broker.url, version: version, id: id, cleanSession: false, subscriptions: [TopicSubscription("ps/t", qos: .atLeastOnce)])
        #expect(drive([first]) { first.recorder.subscribeResults.count == 1 })
        first.client.stop()
        let pub = try TestClient(broker.url, version: version)
        #expect(drive([pub]) { pub.client.isConnected })
        for i in 0..<5 { try pub.client.publish(topic: "ps/t", payload: Array("m\(i)".utf8), qos: .atLeastOnce) }
        #expect(drive([pub]) { pub.recorder.delivered.count == 5 })
        // Same client id, no subscriptions configured: the broker kept them and the queued messages.
        let again = try TestClient(broker.url, version: version, id: id, cleanSession: false)
        #expect(drive([again]) { again.recorder.messages.count == 5 })
        #expect(again.recorder.connects == [true])
        #expect(again.recorder.messages.map(\.payload) == ["m0", "m1", "m2", "m3", "m4"])
    }

    @Test(arguments: [ProtocolVersion.v311, .v5])
    func subscribeFailureIsReported(version: ProtocolVersion) throws {
        // mosquitto denies a subscription only through a plugin: build the test's own.
        let build = TemporaryDirectory("plugin")
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/mosquitto-deny-subscribe.c").standardized.path
        try run("gcc", ["-shared", "-fPIC", "-o", build.file("deny.so"), source])
        var options = Mosquitto.Options()
        options.extraConfig = ["plugin \(build.file("deny.so"))"]
        let broker = try Mosquitto(options)
        defer { broker.stop() } // keeps the broker alive to the end of the test
        let sub = try TestClient(broker.url, subscriptions: [TopicSubscription("allowed/x"), TopicSubscription("denied/x")]) {
            $0.session.connect.version = version
        }
        #expect(drive([sub]) { sub.recorder.subscribeResults.count == 1 })
        // 5.0 says why.
        let refusal: SubscribeResult = version == .v5 ? .refused(.notAuthorized) : .failure
        #expect(sub.recorder.subscribeResults.first == [.granted(.atLeastOnce), refusal])
        #expect(sub.client.isConnected)
    }

    @Test(arguments: [ProtocolVersion.v311, .v5])
    func keepAliveHoldsAnIdleConnection(version: ProtocolVersion) throws {
        let broker = try Mosquitto()
        defer { broker.stop() } // keeps the broker alive to the end of the test
        let idle = try TestClient(broker.url, version: version, keepAlive: 1)
        #expect(drive([idle]) { idle.client.isConnected })
        drive([idle], seconds: 3.5) { false }
        #expect(idle.client.isConnected)
        #expect(idle.recorder.errors.isEmpty)
        #expect(idle.recorder.connects.count == 1)
        #expect(broker.log.components(separatedBy: "Received PINGREQ").count - 1 >= 2)
    }

    @Test(arguments: [ProtocolVersion.v311, .v5])
    func reconnectsAfterTheBrokerRestarts(version: ProtocolVersion) throws {
        let broker = try Mosquitto()
        defer { broker.stop() } // keeps the broker alive to the end of the test
        let c = try TestClient(broker.url, version: version)
        #expect(drive([c]) { c.client.isConnected })
        broker.stop()
        #expect(drive([c]) { !c.client.isConnected })
        drive([c], seconds: 0.5) { false } // a few failed attempts while it is down
        try broker.start()
        #expect(drive([c]) { c.recorder.connects.count == 2 })
        try c.client.publish(topic: "after/restart", payload: [1], qos: .atLeastOnce)
        #expect(drive([c]) { c.recorder.delivered.count == 1 })
        #expect(c.client.reconnectCount == 1)
    }

    @Test(arguments: [ProtocolVersion.v311, .v5])
    func failsOverToTheNextBroker(version: ProtocolVersion) throws {
        let broker = try Mosquitto()
        defer { broker.stop() } // keeps the broker alive to the end of the test
        let dead = "mqtt://127.0.0.1:\(freeLoopbackPort())"
        let c = try TestClient(dead, version: version, brokers: [broker.url])
        #expect(drive([c]) { c.client.isConnected })
        #expect(c.client.broker.port == broker.port)
        guard case .transport(.system(_, let errno))? = c.recorder.errors.first else {
            Issue.record("expected connection refused, got \(c.recorder.errors)"); return
        }
        #expect(errno == .connectionRefused)
    }

    @Test(arguments: [ProtocolVersion.v311, .v5])
    func usernameAndPassword(version: ProtocolVersion) throws {
        var options = Mosquitto.Options()
        options.users = ["agent": "s3cret"]
        let broker = try Mosquitto(options)
        defer { broker.stop() } // keeps the broker alive to the end of the test
        let good = try TestClient(broker.url, version: version, username: "agent", password: "s3cret")
        #expect(drive([good]) { good.client.isConnected })
        let bad = try TestClient(broker.url, version: version, username: "agent", password: "wrong")
        #expect(drive([bad]) { !bad.recorder.errors.isEmpty })
        let refusal = bad.recorder.errors.first
        if version == .v5 { // a reason code, no longer a return code
            let reasons: [ReasonCode] = [.notAuthorized, .badUserNameOrPassword]
            #expect(reasons.contains { refusal == .session(.rejected(BrokerReason(code: $0))) }, "\(String(describing: refusal))")
        } else {
            #expect(refusal == .session(.refused(.notAuthorized)) || refusal == .session(.refused(.badUsernameOrPassword)))
        }
        #expect(!bad.client.isConnected)
    }
}

@Suite("TLS against mosquitto")
struct TLSIntegrationTests {
    let certificates: Certificates
    let directory = TemporaryDirectory("certs")

    init() throws { certificates = try Certificates(in: directory) }

    func tls(client: Bool = false, stranger: Bool = false) -> TLSConfiguration {
        var t = TLSConfiguration()
        t.caFile = certificates.caCertificate
        if client { t.certificateFile = certificates.clientCertificate; t.keyFile = certificates.clientKey }
        if stranger { t.certificateFile = certificates.strangerCertificate; t.keyFile = certificates.strangerKey }
        return t
    }

    func broker(requireClientCertificate: Bool = false) throws -> Mosquitto {
        var options = Mosquitto.Options()
        options.tls = certificates
        options.requireClientCertificate = requireClientCertificate
        return try Mosquitto(options)
    }

    @Test func verifiesTheServerAndItsName() throws {
        let broker = try broker()
        defer { broker.stop() } // keeps the broker alive to the end of the test
        let c = try TestClient("mqtts://localhost:\(broker.port)", tls: tls())
        #expect(drive([c]) { c.client.isConnected })
        try c.client.publish(topic: "tls/x", payload: [1, 2, 3], qos: .atLeastOnce)
        #expect(drive([c]) { c.recorder.delivered.count == 1 })
    }

    /// OpenSSL's per-record allocations come from the pool (CTLSMemory), not from malloc: each
    /// TLS record written takes a block from it and gives it back.
    @Test func openSSLAllocatesFromThePool() throws {
        let broker = try broker()
        defer { broker.stop() }
        let c = try TestClient("mqtts://localhost:\(broker.port)", tls: tls())
        #expect(TLSContext.pooledMemory)
        #expect(drive([c]) { c.client.isConnected })
        let before = edge_tls_memory_served()
        for i in 0..<50 {
            try c.client.publish(topic: "tls/pool", payload: [UInt8](repeating: UInt8(i), count: 64), qos: .atLeastOnce)
            #expect(drive([c]) { c.recorder.delivered.count == i + 1 })
        }
        #expect(edge_tls_memory_served() - before >= 50)
    }

    @Test func rejectsAWrongHostName() throws {
        let broker = try broker()
        defer { broker.stop() } // keeps the broker alive to the end of the test
        // The certificate names "localhost" only; 127.0.0.1 is not in it.
        let c = try TestClient("mqtts://127.0.0.1:\(broker.port)", tls: tls())
        #expect(drive([c]) { !c.recorder.errors.isEmpty })
        #expect(!c.client.isConnected)
        guard case .transport(.certificate(let message))? = c.recorder.errors.first else {
            Issue.record("expected a certificate error, got \(c.recorder.errors)"); return
        }
        #expect(message.contains("mismatch"))
    }

    @Test func rejectsAnUntrustedServer() throws {
        let broker = try broker()
        defer { broker.stop() } // keeps the broker alive to the end of the test
        var t = TLSConfiguration()
        t.caFile = certificates.strangerCertificate // not the CA that signed the server
        let c = try TestClient("mqtts://localhost:\(broker.port)", tls: t)
        #expect(drive([c]) { !c.recorder.errors.isEmpty })
        guard case .transport(.certificate)? = c.recorder.errors.first else {
            Issue.record("expected a certificate error, got \(c.recorder.errors)"); return
        }
    }

    @Test func mutualTLSAcceptedWithAClientCertificate() throws {
        let broker = try broker(requireClientCertificate: true)
        defer { broker.stop() } // keeps the broker alive to the end of the test
        let c = try TestClient("mqtts://localhost:\(broker.port)", tls: tls(client: true))
        #expect(drive([c]) { c.client.isConnected })
    }

    @Test func mutualTLSRejectsMissingOrStrangerCertificates() throws {
        let broker = try broker(requireClientCertificate: true)
        defer { broker.stop() } // keeps the broker alive to the end of the test
        let none = try TestClient("mqtts://localhost:\(broker.port)", tls: tls())
        let stranger = try TestClient("mqtts://localhost:\(broker.port)", tls: tls(stranger: true))
        #expect(drive([none, stranger]) { !none.recorder.errors.isEmpty && !stranger.recorder.errors.isEmpty })
        #expect(!none.client.isConnected && !stranger.client.isConnected)
        #expect(none.recorder.connects.isEmpty && stranger.recorder.connects.isEmpty)
    }

    @Test func badKeyFileIsAClearConfigurationError() {
        var t = tls()
        t.certificateFile = certificates.clientCertificate
        t.keyFile = certificates.serverKey // does not match the certificate
        #expect {
            try TLSContext(t)
        } throws: { error in
            "\(error)".contains("does not match")
        }
    }
}
