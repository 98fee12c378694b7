import Foundation
import TestSupport
import Testing

@testable import Agent
@testable import Spool

/// The parts of delivery that need no broker: the backfill's rate limit, batches, spill copies,
/// the per-sensor sequence numbers and the spool's skip.
@Suite struct DeliveryTests {
    @Test func tokenBucketKeepsItsRateAndBurst() {
        var bucket = TokenBucket(ratePerSecond: 10, capacity: 3, now: 0)
        func take(_ n: Int, now: UInt64) -> Bool { bucket.take(n, now: now) }
        func readyAt(_ n: Int, now: UInt64) -> UInt64 { bucket.readyAt(n, now: now) }
        #expect(take(3, now: 0)) // the saved-up burst
        #expect(!take(1, now: 0))
        #expect(readyAt(1, now: 0) == 100_000_000) // one token every 100 ms
        #expect(!take(1, now: 99_000_000))
        #expect(take(1, now: 100_000_000))
        #expect(!take(2, now: 250_000_000)) // 1.5 tokens: all or nothing
        #expect(take(2, now: 300_000_000))
        #expect(take(3, now: 10_000_000_000)) // a long pause saves up no more than the capacity
        #expect(!take(1, now: 10_000_000_000))
        // Over a simulated minute, 10 a second.
        var taken = 0
        var t: UInt64 = 20_000_000_000
        let end = t + 60_000_000_000
        while t < end {
            if bucket.take(1, now: t) { taken += 1 }
            t += 7_000_000
        }
        #expect(taken >= 600 && taken <= 603)
    }

    static func record(_ name: String, _ json: String, event: Bool = false) -> [UInt8] {
        AgentRecord.encode(name: name, event: event, json: json)
    }

    @Test func batchesGroupEachSensorsReadingsInOrder() {
        var batch = BacklogBatch(batch: 8)
        let records = [
            ("air", #"{"seq":1}"#, false), ("soil", #"{"seq":7}"#, false), ("air", #"{"seq":2}"#, false),
            ("door", #"{"seq":3}"#, true), ("air", #"{"seq":3}"#, false), ("air", #"{"seq":4}"#, true),
        ]
        for (i, r) in records.enumerated() {
            let added = Self.record(r.0, r.1, event: r.2).withUnsafeBytes { batch.add(seq: UInt64(10 + i), record: $0) }
            #expect(added)
        }
        let odd = [UInt8(0), 1].withUnsafeBytes { batch.add(seq: 99, record: $0) }
        #expect(!odd) // not an agent record
        var messages: [(String, Bool, String, [UInt64])] = []
        var refuseNext = true
        while true {
            var seqs: [UInt64] = []
            var sent: (String, Bool, String)?
            let result = batch.sendNext(
                { name, event, payload in
                    if refuseNext { refuseNext = false; return false } // the window was full: nothing marked
                    sent = (String(decoding: name, as: UTF8.self), event, String(decoding: payload, as: UTF8.self))
                    return true
                }, taken: { seqs.append($0) })
            guard let result else { break }
            if result, let sent { messages.append((sent.0, sent.1, sent.2, seqs)) }
            #expect(batch.lowestUnsent == (batch.isEmpty ? nil : batch.entries.first { !$0.sent }?.seq))
        }
        #expect(messages.map(\.0) == ["air", "soil", "door", "air"])
        #expect(messages[0].2 == #"[{"seq":1},{"seq":2},{"seq":3}]"#)
        #expect(messages[0].3 == [10, 12, 14])
        #expect(messages[1].2 == #"{"seq":7}"#) // one reading goes as an object
        #expect(messages[2].1 && messages[3].1) // events and readings of the same name stay apart
        #expect(batch.isEmpty)
    }

    @Test func spillCopiesKeepOrderAndForgetAcknowledged() {
        var copies = UnacknowledgedCopies(capacity: 3)
        for id in UInt16(1)...3 {
            Self.record("air", "{\"n\":\(id)}").withUnsafeBytes { copies.add(packetID: id, sentAt: UInt64(id), record: $0) }
        }
        func acknowledge(_ id: UInt16) -> Bool { copies.acknowledge(id) != nil }
        #expect(copies.isFull)
        #expect(acknowledge(2))
        #expect(!acknowledge(2))
        #expect(copies.oldestSentAt == 1)
        #expect(acknowledge(1))
        #expect(copies.oldestSentAt == 3) // 2 was already done: the front moves past it
        var popped: [UInt16] = []
        copies.popOldest { id, _ in popped.append(id) }
        #expect(popped == [3] && copies.isEmpty)
    }

    @Test func sequenceNumbersContinueAndNeverRepeatAfterACrash() throws {
        let dir = TemporaryDirectory("sequences")
        var warnings: [String] = []
        var store = SequenceStore(directory: dir.path, telemetry: ["air"], events: ["air"], warning: { warnings.append($0) })
        #expect(store.next(name: "air", event: false) == 0)
        #expect(store.next(name: "air", event: false) == 1)
        #expect(store.next(name: "air", event: true) == 0) // events have their own numbers
        #expect(store.next(name: "nothing", event: false) == nil)
        // A crash (no close): the next run starts at the reserved bound, never below.
        store = SequenceStore(directory: dir.path, telemetry: ["air", "soil"], events: [], warning: { warnings.append($0) })
        #expect(store.next(name: "air", event: false) == 1024)
        for _ in 0..<1100 { _ = store.next(name: "air", event: false) }
        #expect(store.next(name: "soil", event: false) == 0)
        store.close()
        // A clean stop: no gap. Names no longer configured keep their numbers in the file.
        store = SequenceStore(directory: dir.path, telemetry: ["air", "soil"], events: [], warning: { warnings.append($0) })
        #expect(store.next(name: "air", event: false) == 2125)
        #expect(store.next(name: "soil", event: false) == 1)
        store.close()
        #expect(try String(contentsOfFile: dir.file("sequences"), encoding: .utf8).contains("events/air 1024"))
        // A damaged file is set aside with a warning.
        try "telemetry/air twelve\n".write(toFile: dir.file("sequences"), atomically: true, encoding: .utf8)
        store = SequenceStore(directory: dir.path, telemetry: ["air"], events: [], warning: { warnings.append($0) })
        #expect(warnings.count == 1 && warnings[0].contains("line 1"))
        #expect(FileManager.default.fileExists(atPath: dir.file("sequences.corrupt")))
        #expect(warnings.allSatisfy { !$0.isEmpty })
    }

    /// The numbers never repeat when the file is lost: the backup, the spool's records and the
    /// clock, in that order, say where they continue.
    @Test func sequenceNumbersSurviveALostOrDamagedFile() throws {
        let dir = TemporaryDirectory("sequences")
        var warnings: [String] = []
        let warn = { (w: String) in warnings.append(w) }
        var store = SequenceStore(directory: dir.path, telemetry: ["air"], events: [], warning: warn)
        #expect(store.previousRunStoppedCleanly == nil, "a first start")
        for _ in 0..<10 { _ = store.next(name: "air", event: false) }
        store.close()
        // The file deleted: the backup has the same numbers.
        try FileManager.default.removeItem(atPath: dir.file("sequences"))
        store = SequenceStore(directory: dir.path, telemetry: ["air"], events: [], warning: warn)
        #expect(store.next(name: "air", event: false) == 10)
        #expect(store.previousRunStoppedCleanly == true)
        #expect(warnings.last?.contains("continue from") == true)
        // No close (a crash): the next start says so, and resumes at the bound.
        store = SequenceStore(directory: dir.path, telemetry: ["air"], events: [], warning: warn)
        #expect(store.previousRunStoppedCleanly == false)
        #expect(store.next(name: "air", event: false) == 1024)
        // A file from a version before these lines says nothing of how the run ended.
        #expect(SequenceStore.stoppedCleanly("# edge-agent: ...\ntelemetry/air 2048\n") == nil)
        // Both gone on a spool that existed: past the spool's records and the clock.
        for name in ["sequences", "sequences.backup"] { try FileManager.default.removeItem(atPath: dir.file(name)) }
        let clock = SequenceStore.Recovery(spoolExisted: true, keptInSpool: { ["telemetry/air": 5000] }, wallClock: 4000)
        store = SequenceStore(directory: dir.path, telemetry: ["air", "soil"], events: ["button"], recovery: clock, warning: warn)
        #expect(store.next(name: "air", event: false) == 5000)
        #expect(store.next(name: "soil", event: false) == 4000)
        #expect(store.next(name: "button", event: true) == 4000)
        #expect(warnings.last?.contains("clock") == true)
        // Both damaged, no clock: past the spool's records, with a warning that says what may repeat.
        for name in ["sequences", "sequences.backup"] {
            try "telemetry/air x\n".write(toFile: dir.file(name), atomically: true, encoding: .utf8)
        }
        let noClock = SequenceStore.Recovery(spoolExisted: true, keptInSpool: { ["telemetry/air": 7000] }, wallClock: nil)
        store = SequenceStore(directory: dir.path, telemetry: ["air"], events: [], recovery: noClock, warning: warn)
        #expect(store.next(name: "air", event: false) == 7000)
        #expect(warnings.last?.contains("may repeat") == true)
        // A spool directory that did not exist: a first start, from 0, without a word.
        let fresh = TemporaryDirectory("sequences")
        let count = warnings.count
        let first = SequenceStore.Recovery(spoolExisted: false, keptInSpool: { ["telemetry/air": 5000] }, wallClock: 4000)
        store = SequenceStore(directory: fresh.path, telemetry: ["air"], events: [], recovery: first, warning: warn)
        #expect(store.next(name: "air", event: false) == 0 && warnings.count == count)
    }

    @Test func theSpoolsRecordsGiveTheNextNumbers() throws {
        let dir = TemporaryDirectory("kept")
        let spool = try Spool(directory: dir.path, configuration: SpoolConfiguration(capacityBytes: 4 << 20))
        for (name, event, seq) in [("air", false, 41), ("air", false, 42), ("button", true, 7), ("air", true, 3)] {
            try spool.append(AgentRecord.encode(name: name, event: event, json: #"{"seq":\#(seq),"ts":1}"#), timestamp: 1)
        }
        try spool.append(AgentRecord.encode(name: "odd", event: false, json: #"{"ts":1}"#), timestamp: 1)
        try spool.ack(through: 1) // delivered records count too
        #expect(SequenceStore.nextNumbers(in: spool) == ["telemetry/air": 43, "events/button": 8, "events/air": 4])
    }

    func readSeqs(_ spool: Spool, max: Int = .max) throws -> [UInt64] {
        var seqs: [UInt64] = []
        try spool.read(max: max) { seqs.append($0.seq) }
        return seqs
    }

    @Test func spoolSkipJumpsPastRecordsDeliveredAnotherWay() throws {
        let dir = TemporaryDirectory("skip")
        let spool = try Spool(directory: dir.path, configuration: SpoolConfiguration(capacityBytes: 4 << 20))
        for i in 0..<10 { try spool.append(Array("r\(i)".utf8), timestamp: Int64(i)) }
        spool.skip(to: 4) // the record just appended is not 4: found by scanning
        #expect(try readSeqs(spool, max: 1) == [4])
        try spool.append(Array("r10".utf8), timestamp: 10)
        spool.skip(to: 10) // the record just appended
        #expect(try readSeqs(spool, max: 5) == [10])
        try spool.append(Array("r11".utf8), timestamp: 11)
        spool.skip(to: spool.nextSeq) // the end
        #expect(spool.unreadCount == 0)
        try spool.append(Array("r12".utf8), timestamp: 12)
        #expect(try readSeqs(spool) == [12])
        spool.skip(to: 3) // never backwards
        #expect(spool.readSequence == 13)
    }

    /// Places noted while appending stay good across segments; a place in a dropped segment falls
    /// back to the sequence number.
    @Test func spoolSkipsToNotedPlaces() throws {
        let dir = TemporaryDirectory("skip-places")
        let spool = try Spool(directory: dir.path, configuration: SpoolConfiguration(capacityBytes: 1 << 20, segmentBytes: 128 << 10))
        let big = [UInt8](repeating: 7, count: 1000)
        var noted: [Spool.Position] = []
        for i in 0..<200 { // about three segments
            try spool.append(big, timestamp: Int64(i))
            if i % 50 == 10 { noted.append(try #require(spool.lastAppendedPosition)) }
        }
        let end = try #require(spool.endPosition)
        #expect(end.seq == 200)
        for place in noted {
            spool.skip(to: place)
            #expect(try readSeqs(spool, max: 1) == [place.seq])
        }
        spool.skip(to: end)
        try spool.append(big, timestamp: 200)
        #expect(try readSeqs(spool) == [200])
        // Fill past the capacity: the first segments go, and so does the first noted place.
        for i in 201..<1400 { try spool.append(big, timestamp: Int64(i)) }
        spool.rewind()
        let oldest = try readSeqs(spool, max: 1).first ?? 0
        #expect(oldest > noted[0].seq)
        spool.skip(to: noted[0]) // gone: nothing moves backwards or breaks
        #expect(spool.readSequence == oldest + 1)
    }
}

@Suite struct StartupPagesTests {
    /// Dropping the read-only file-backed pages loses nothing: the process keeps running the code
    /// and reading the data it dropped, which fault back in.
    @Test func releasingStartupPagesKeepsTheProcessWorking() throws {
        let rss = StartupPages.release()
        let before = try #require(rss.before)
        let after = try #require(rss.after)
        #expect(after <= before + 256) // other test threads may fault pages in meanwhile
        // Code, constant data and relocated pointers (RELRO) all still work.
        var hasher = Hasher()
        hasher.combine("edge-agent")
        _ = hasher.finalize()
        #expect(String(describing: SpoolEvent.cursorLost) == "cursorLost")
        #expect(SequenceStore.parse("telemetry/air 7\n").map { $0["telemetry/air"] } == .success(7))
    }
}
