import Syscalls
import TestSupport
import Testing

@testable import MQTT

/// BrokerRotation (which broker and address a fleet's clients go to) and ClashWatch (another client
/// with this id): pure values, no broker.
@Suite struct BrokerRotationTests {
    @Test func inOrderTriesEveryAddressOfABrokerBeforeTheNext() {
        var rotation = BrokerRotation(brokerCount: 2, order: .inOrder)
        #expect(rotation.broker == 0 && rotation.firstAddress % 3 == 0)
        // The first address took the TCP connection but not the MQTT one: the second is next.
        rotation.attemptFailed(attempted: 1, of: 3)
        #expect(rotation.broker == 0 && rotation.firstAddress % 3 == 1)
        // The second and third refused TCP at once, in the same attempt: every address was tried.
        rotation.attemptFailed(attempted: 2, of: 3)
        #expect(rotation.broker == 1 && rotation.firstAddress == 0)
        // A name that did not resolve (0 addresses) moves on too, wrapping around.
        rotation.attemptFailed(attempted: 0, of: 0)
        #expect(rotation.broker == 0)
    }

    @Test func aConnectionThatWorkedIsRetriedAtItsAddress() {
        var rotation = BrokerRotation(brokerCount: 2, order: .inOrder)
        rotation.attemptFailed(attempted: 1, of: 4) // address 0 refused MQTT
        rotation.connectionLost(attempted: 2) // from 1: 1 refused TCP, 2 worked, then dropped
        #expect(rotation.broker == 0 && rotation.firstAddress % 4 == 2)
        // Counting starts again from the address that worked: three more before the next broker.
        rotation.attemptFailed(attempted: 3, of: 4)
        #expect(rotation.broker == 0 && rotation.firstAddress % 4 == 1)
        rotation.attemptFailed(attempted: 1, of: 4)
        #expect(rotation.broker == 1)
    }

    @Test func spreadIsStablePerClientAndVisitsEveryBroker() {
        let a = BrokerRotation(brokerCount: 5, order: .spread(key: "greenhouse-17"))
        #expect(a == BrokerRotation(brokerCount: 5, order: .spread(key: "greenhouse-17")))
        #expect(a.order.sorted() == [0, 1, 2, 3, 4])
        #expect(BrokerRotation.fnv1a("a") == 0xaf63_dc4c_8601_ec8c) // the published FNV-1a 64 test vector
        var rotation = a
        var visited: [Int] = []
        for _ in 0..<5 {
            visited.append(rotation.broker)
            rotation.attemptFailed(attempted: 1, of: 1)
        }
        #expect(visited == a.order && rotation.broker == a.order[0])
    }

    @Test func spreadShareIsEvenForFirstChoicesAndForFailover() {
        let clients = 3_000
        var first = [0, 0, 0]
        var afterZeroFails = [0, 0, 0]
        var firstAddress = [0, 0, 0, 0]
        for i in 0..<clients {
            var rotation = BrokerRotation(brokerCount: 3, order: .spread(key: "board-\(i)"))
            first[rotation.broker] += 1
            firstAddress[Int(rotation.firstAddress % 4)] += 1
            if rotation.broker == 0 {
                rotation.attemptFailed(attempted: 1, of: 1)
                afterZeroFails[rotation.broker] += 1
            }
        }
        // Within 10 % of an even share: a rotation by the hash would send every client of a
        // failed broker to the same next one.
        for count in first { #expect(abs(count - clients / 3) < clients / 30, "\(first)") }
        let failed = first[0]
        #expect(afterZeroFails[0] == 0)
        for count in afterZeroFails[1...] { #expect(abs(count - failed / 2) < failed / 10, "\(afterZeroFails)") }
        for count in firstAddress { #expect(abs(count - clients / 4) < clients / 40, "\(firstAddress)") }
    }
}

@Suite struct ReconnectStormTests {
    @Test func aRoundOfFailedBrokersIsToldApartFromAFailover() {
        var rotation = BrokerRotation(brokerCount: 3, order: .inOrder)
        #expect(rotation.attemptFailed(attempted: 1, of: 2) == .nextAddress)
        #expect(rotation.attemptFailed(attempted: 1, of: 2) == .nextBroker)
        #expect(rotation.attemptFailed(attempted: 1, of: 1) == .nextBroker)
        #expect(rotation.attemptFailed(attempted: 0, of: 0) == .roundFailed) // the third broker: all three down
        #expect(rotation.attemptFailed(attempted: 1, of: 1) == .nextBroker) // a new round counts afresh
        // A connection that worked starts the count again.
        rotation.connectionLost(attempted: 1)
        #expect(rotation.attemptFailed(attempted: 1, of: 1) == .nextBroker)
        #expect(rotation.attemptFailed(attempted: 1, of: 1) == .nextBroker)
        #expect(rotation.attemptFailed(attempted: 1, of: 1) == .roundFailed)
    }

    @Test func theFirstRetryIsJitteredFailoverStaysQuickAndAnOutageWidensToTheMaximum() {
        var backoff = ReconnectBackoff(minimum: 1_000_000_000, maximum: 60_000_000_000)
        #expect(backoff.cap == 2_000_000_000) // not the minimum itself: a fleet does not retry in lock step
        var random = SplitMix64(seed: 7)
        var first: Set<Nanoseconds> = []
        for _ in 0..<20 {
            var b = backoff
            first.insert(b.nextDelay(using: &random))
        }
        #expect(first.count == 20 && first.allSatisfy { (1_000_000_000...2_000_000_000).contains($0) })
        _ = backoff.nextDelay()
        _ = backoff.nextDelay()
        #expect(backoff.cap == 8_000_000_000)
        for _ in 0..<50 { #expect(backoff.failoverDelay() <= 2_000_000_000) }
        #expect(backoff.cap == 8_000_000_000) // hops within a round do not grow it
        backoff.widen()
        #expect(backoff.cap == 60_000_000_000)
        backoff.reset()
        #expect(backoff.cap == 2_000_000_000)
    }
}

@Suite struct ClashWatchTests {
    let second: Nanoseconds = 1_000_000_000

    @Test func twoTakeoversNameAClashOnce() {
        var watch = ClashWatch()
        var reports = 0
        var now = 100 * second
        for _ in 0..<6 {
            watch.connectionClosed(byPeer: true, connectedFor: 2 * second, now: now)
            now += second
            if watch.connected(now: now) { reports += 1 }
        }
        #expect(reports == 1 && watch.suspected && watch.takeovers == 6)
        // A connection that holds for a whole window ends the episode; a new one is reported again.
        watch.connectionClosed(byPeer: true, connectedFor: watch.window, now: now + watch.window)
        #expect(!watch.suspected)
    }

    @Test func aBrokerThatFailsOrANodeThatDiesIsNoTakeover() {
        var watch = ClashWatch()
        var now = 100 * second
        for _ in 0..<5 {
            watch.connectionClosed(byPeer: true, connectedFor: 5 * second, now: now)
            watch.connectFailed() // the broker was down: refused, or the next broker took the connect
            now += 2 * second
            let named = watch.connected(now: now)
            #expect(!named)
        }
        #expect(watch.takeovers == 0)
    }

    @Test func closesRightAfterConnectingAreLeftToPoisonWatch() {
        var watch = ClashWatch()
        var now = 100 * second
        for _ in 0..<5 {
            watch.connectionClosed(byPeer: true, connectedFor: 20_000_000, now: now) // 20 ms: a refused message
            now += second
            let named = watch.connected(now: now)
            #expect(!named)
        }
        // Nor do closes on our side (a keep-alive timeout, a stop).
        watch.connectionClosed(byPeer: false, connectedFor: 5 * second, now: now)
        let named = watch.connected(now: now + second)
        #expect(!named && watch.takeovers == 0)
    }

    @Test func takeoversSpreadOverMoreThanAWindowAreNoClash() {
        var watch = ClashWatch()
        var now = 100 * second
        for _ in 0..<5 {
            watch.connectionClosed(byPeer: true, connectedFor: 2 * second, now: now)
            let named = watch.connected(now: now + second)
            #expect(!named)
            now += watch.window + second // a broker that restarts at once, every few minutes
        }
        #expect(watch.takeovers == 5 && !watch.suspected)
    }
}

@Suite("Spread against mosquitto")
struct SpreadAgainstMosquittoTests {
    @Test func aFleetSpreadsOverThreeBrokersAndFailsOverToEachClientsNext() throws {
        let brokers = try (0..<3).map { _ in try Mosquitto() }
        defer { for broker in brokers { broker.stop() } }
        let urls = brokers.map(\.url)
        let clients = try (0..<12).map { i in
            try TestClient(urls[0], id: "fleet-\(i)", brokers: Array(urls[1...])) { $0.brokerOrder = .spread(key: "fleet-\(i)") }
        }
        let orders = (0..<12).map { BrokerRotation(brokerCount: 3, order: .spread(key: "fleet-\($0)")).order }
        #expect(drive(clients) { clients.allSatisfy(\.client.isConnected) })
        for (client, order) in zip(clients, orders) { #expect(client.client.broker.port == brokers[order[0]].port) }
        let load = (0..<3).map { b in orders.filter { $0[0] == b }.count }
        #expect(load.allSatisfy { $0 >= 2 }, "\(load)") // the list's first broker does not take the fleet
        // The busiest broker dies: each of its clients goes to its own next one, not all to one.
        let dead = load.firstIndex(of: load.max()!)!
        brokers[dead].stop()
        let deadPort = brokers[dead].port
        #expect(drive(clients, seconds: 20) { clients.allSatisfy { $0.client.isConnected && $0.client.broker.port != deadPort } })
        var moved: Set<UInt16> = []
        for (client, order) in zip(clients, orders) where order[0] == dead {
            #expect(client.client.broker.port == brokers[order[1]].port)
            moved.insert(client.client.broker.port)
        }
        #expect(moved.count == 2, "the clients of broker \(dead) all went to \(moved)")
    }
}

@Suite("Reconnect delays against closed ports")
struct ReconnectDelayTests {
    /// Two brokers both refusing is a cluster down: the delays widen to the whole window. One broker
    /// refusing keeps the doubling cap (a board is back soon after its broker restarts).
    @Test func aClusterDownWidensTheWindowAndOneBrokerDownDoesNot() throws {
        func delays(brokers: Int) throws -> [Nanoseconds] {
            let urls = (0..<brokers).map { _ in "mqtt://127.0.0.1:\(freeLoopbackPort())" }
            let c = try TestClient(urls[0], brokers: Array(urls[1...])) {
                $0.backoff = ReconnectBackoff(minimum: 10_000_000, maximum: 2_000_000_000)
            }
            _ = drive([c], seconds: 15) { c.recorder.retryDelays.count >= 2 * brokers + 3 }
            c.client.stop()
            return c.recorder.retryDelays
        }
        let single = try delays(brokers: 1)
        // 10 ms doubling: 20, 40, 80, 160, 320 ms caps.
        for (i, delay) in single.prefix(5).enumerated() { #expect(delay <= 10_000_000 << (i + 1), "\(single)") }
        let cluster = try delays(brokers: 2)
        // Hops to the other broker keep the first cap (delays 0, 2, 4); each failed round draws over
        // 10 ms to 2 s (1, 3, 5): all three under 100 ms would have odds of about 1 in 10,000.
        #expect(cluster.count >= 6, "\(cluster)")
        for i in stride(from: 0, to: min(cluster.count, 6), by: 2) { #expect(cluster[i] <= 20_000_000, "\(cluster)") }
        #expect([1, 3, 5].filter { $0 < cluster.count }.contains { cluster[$0] > 100_000_000 }, "\(cluster)")
    }
}
