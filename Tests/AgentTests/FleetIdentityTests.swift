import Foundation
import MQTT
import TestSupport
import Testing

/// Boards of one fleet against a real mosquitto: one id on two boards is named, `device_id: auto`
/// keeps boards apart, and a spool written under another id is not backfilled as this board's.
@Suite("A fleet's identities", .serialized)
struct FleetIdentityTests {
    /// Reconnect delays as shipped (1 s up): the rule that names a clash ignores closes in the
    /// first moments of a connection, which the suite's usual 100 ms would all be.
    static let shippedBackoff = ["reconnect_min: 100ms": "reconnect_min: 1s", "reconnect_max: 300ms": "reconnect_max: 8s"]

    @Test func twoBoardsWithOneIdBothSayWhyAndNothingIsParked() throws {
        let broker = try Mosquitto()
        defer { broker.stop() }
        let boards = try (0..<2).map { _ in try AgentProcess(brokerPort: broker.port) }
        for board in boards {
            try board.amendConfig(Self.shippedBackoff)
            try board.start()
        }
        let named = waitUntil(seconds: 30) { boards.allSatisfy { $0.log.contains("another client is using client id e2e") } }
        #expect(named, "\(boards.map(\.log))")
        for board in boards {
            #expect(!board.log.contains("is parked in") && !board.log.contains("gave up"), "\(board.log)")
            let parked = (try? FileManager.default.contentsOfDirectory(atPath: board.directory.file("spool/parked"))) ?? []
            #expect(parked.isEmpty)
            board.stop(SIGTERM)
        }
    }

    @Test func autoGivesEachBoardItsOwnIdFromItsSerial() throws {
        let broker = try Mosquitto()
        defer { broker.stop() }
        let observer = try Observer(url: broker.url)
        let serials = ["10000000aaaa0001", "10000000bbbb0002"]
        let boards = try serials.map { serial in
            let board = try AgentProcess(brokerPort: broker.port)
            // The same image on two boards: each board file says where its serial is.
            try "\(serial)\0".write(toFile: board.directory.file("serial-number"), atomically: true, encoding: .utf8)
            try "model: Image board\ngpio_chip: simulated\nserial_files: [\(board.directory.file("serial-number"))]\n"
                .write(toFile: board.directory.file("image.board.yaml"), atomically: true, encoding: .utf8)
            try board.amendConfig(Self.shippedBackoff.merging(["device_id: e2e": "device_id: auto\nboard: image"]) { $1 })
            try board.start()
            return board
        }
        let both = observer.wait(seconds: 15) {
            serials.allSatisfy { id in observer.messages.filter { $0.topic == "edge/\(id)/telemetry/air" }.count >= 10 }
        }
        #expect(both)
        for (board, serial) in zip(boards, serials) {
            #expect(board.log.contains("device \(serial) (the board's serial, from \(board.directory.file("serial-number")))"))
            #expect(!board.log.contains("another client"))
            board.stop(SIGTERM)
        }
    }

    @Test func aSpoolFromAnotherBoardIsSetAsideNotBackfilled() throws {
        let broker = try Mosquitto()
        defer { broker.stop() }
        // Board "old" buffers readings while its broker is unreachable.
        let unreachable = freeLoopbackPort()
        let board = try AgentProcess(brokerPort: unreachable)
        try board.amendConfig(["device_id: e2e": "device_id: old"])
        try board.start()
        #expect(waitUntil(seconds: 10) { board.log.contains("retrying") })
        Thread.sleep(forTimeInterval: 1.5)
        board.stop(SIGTERM)
        // Its card goes into board "new", which can reach the broker.
        let observer = try Observer(url: broker.url)
        try board.amendConfig(["device_id: old": "device_id: new", "127.0.0.1:\(unreachable)": "127.0.0.1:\(broker.port)"])
        try board.start()
        #expect(observer.wait { observer.messages.contains { $0.topic == "edge/new/metrics" } })
        #expect(board.log.contains("was written by device old, not new"))
        let seqs = observer.messages.filter { $0.topic == "edge/new/telemetry/air" }.compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.payload.utf8)) as? [String: Any])?["seq"] as? Int
        }
        #expect(seqs.first == 0 && !observer.messages.contains { $0.topic.hasPrefix("edge/old/") }, "\(seqs)")
        let metrics = observer.messages.last { $0.topic == "edge/new/metrics" }?.payload ?? ""
        #expect(metrics.contains(#""spool_set_aside":"\#(board.directory.file("spool.from-old"))""#), "\(metrics)")
        board.stop(SIGTERM)
        // What was set aside is still there for a person to collect: old's readings, all of them.
        let status = try run(AgentProcess.binary, ["spool", "status", "--dir", board.directory.file("spool.from-old")])
        let kept = status.split(separator: "\n").first { $0.hasPrefix("records:") }.flatMap { $0.split(separator: " ").dropFirst().first }
        #expect(Int(kept ?? "") ?? 0 >= 10, "\(status)")
    }
}
