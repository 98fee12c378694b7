import PropertyBased
import TestSupport
import Testing

@testable import Spool

/// Random sequences of append, read, ack, rewind, reopen and capacity overflow, checked against a
/// plain in-memory model of what the spool promises.
@Suite("Spool against a model")
struct SpoolModelTests {
    /// The model: what the spool promises, written from its rules and not from its code. Records
    /// take 14 bytes more than their payload and go to the newest segment while it stays within
    /// `segmentBytes`, else a new segment (a 32-byte header) starts; while a record would take the
    /// spool over its capacity and more than one segment is left, the oldest segment goes, and with
    /// it its records not yet acknowledged, counted as dropped; the cursor and the read position move
    /// past it. A sync point deletes the segments that are wholly acknowledged.
    struct Model {
        struct Segment {
            let base: UInt64
            var bytes: Int
        }
        let segmentBytes: Int
        let capacity: Int
        var segments: [Segment] = []
        var records: [UInt64: ReadRecord] = [:]
        var nextSeq: UInt64 = 0
        var acked: UInt64 = 0
        var readPosition: UInt64 = 0
        var dropped: UInt64 = 0

        var bytesUsed: Int { segments.reduce(0) { $0 + $1.bytes } }

        mutating func append(_ payload: [UInt8], timestamp: Int64) {
            let size = 14 + payload.count
            if segments.isEmpty || segments[segments.count - 1].bytes + size > segmentBytes {
                segments.append(Segment(base: nextSeq, bytes: 32))
            }
            while bytesUsed + size > capacity && segments.count > 1 {
                let oldest = segments.removeFirst()
                let end = segments[0].base
                if end > acked { dropped += end - max(acked, oldest.base) }
                for seq in oldest.base..<end { records[seq] = nil }
                acked = max(acked, end)
                readPosition = max(readPosition, end)
            }
            segments[segments.count - 1].bytes += size
            records[nextSeq] = ReadRecord(seq: nextSeq, timestamp: timestamp, payload: payload)
            nextSeq += 1
        }

        mutating func sync() {
            while segments.count > 1 && segments[1].base <= acked { segments.removeFirst() }
        }
    }

    @Test func randomOperationsMatchTheModel() async {
        await propertyCheck(count: 60, input: Gen.int(in: 0...1_000_000).array(of: 1...250)) { operations in
            let dir = TemporaryDirectory("spool-model")
            // The test decides when syncs happen (operations that are 8 mod 9): with the clock deciding, whether a
            // sync fell between two operations depended on machine load, and so did the outcome.
            // `.never` with a flush interval no run reaches keeps fdatasync out of a pure-logic test.
            var config = SpoolConfiguration(capacityBytes: 3 * 70_000, segmentBytes: 70_000, durability: .never)
            config.flushInterval = .max / 2
            var spool: Spool? = try? Spool(directory: dir.path, configuration: config)
            var model = Model(segmentBytes: config.segmentBytes, capacity: config.capacityBytes)
            var step = 0
            // Swift Testing shows a property failure only as "Issue recorded": say what diverged.
            func check(_ condition: Bool, _ text: String) {
                guard !condition else { return }
                print(
                    "spool model divergence at operation \(step): \(text); model: next \(model.nextSeq), acked \(model.acked), read \(model.readPosition), dropped \(model.dropped); spool: next \(spool?.nextSeq ?? 0), acked \(spool?.nextUnacknowledged ?? 0), dropped \(spool?.dropped ?? 0), bytes \(spool?.bytesUsed ?? 0)"
                )
                Issue.record("\(text)")
            }
            for operation in operations {
                step += 1
                if operation % 9 == 6 {
                    // Close and reopen: the cursor and every record survive; reading restarts at the cursor.
                    spool = nil // closing syncs
                    model.sync()
                    do { spool = try Spool(directory: dir.path, configuration: config) } catch {
                        check(false, "reopen failed: \(error)"); return
                    }
                    check(spool?.drainEvents() == [], #"spool?.drainEvents() == []"#)
                    check(spool?.nextSeq == model.nextSeq, #"spool?.nextSeq == model.nextSeq"#)
                    check(spool?.nextUnacknowledged == model.acked, #"spool?.nextUnacknowledged == model.acked"#)
                    model.readPosition = model.acked
                    continue
                }
                guard let current = spool else { check(false, "spool failed to open"); return }
                let argument = operation / 9
                switch operation % 9 {
                case 0, 1, 2: // append a record of 0 to 6,000 bytes
                    let size = argument % 6_001
                    let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &+ Int(model.nextSeq)) }
                    let seq = try! current.append(bytes, timestamp: Int64(model.nextSeq) * 1000)
                    check(seq == model.nextSeq, #"seq == model.nextSeq"#)
                    model.append(bytes, timestamp: Int64(seq) * 1000)
                case 3: // read up to 20
                    let want = argument % 21
                    let got = try! current.readAll(max: want)
                    let expected = (model.readPosition..<model.nextSeq).prefix(want).compactMap { model.records[$0] }
                    check(got == expected, #"got == expected"#)
                    if let last = got.last { model.readPosition = last.seq + 1 }
                case 4: // acknowledge some of what was read
                    guard model.readPosition > model.acked else { continue }
                    let through = model.acked + UInt64(argument) % (model.readPosition - model.acked)
                    try! current.ack(through: through)
                    for s in model.acked...through { model.records[s] = nil }
                    model.acked = through + 1
                case 5 where argument % 2 == 0: // rewind to the cursor
                    current.rewind()
                    model.readPosition = model.acked
                case 5: // skip some records forward (delivered another way), never backwards
                    let target = UInt64(max(0, Int(model.readPosition) + argument % 7 - 2))
                    current.skip(to: target)
                    model.readPosition = max(model.readPosition, min(target, model.nextSeq))
                    check(current.readSequence == model.readPosition, #"current.readSequence == model.readPosition"#)
                case 8: // the policy's sync point: cursor to disk, fully delivered segments deleted
                    try! current.sync()
                    model.sync()
                    check(current.durableNextUnacknowledged == model.acked, #"current.durableNextUnacknowledged == model.acked"#)
                default: // a burst of large appends to force overflow
                    for _ in 0..<(argument % 8) {
                        let seq = try! current.append([UInt8](repeating: 7, count: 30_000), timestamp: Int64(model.nextSeq) * 1000)
                        check(seq == model.nextSeq, #"seq == model.nextSeq"#)
                        model.append([UInt8](repeating: 7, count: 30_000), timestamp: Int64(seq) * 1000)
                    }
                }
                // Every operation: the spool's account agrees with the model's, drops included.
                check(spool?.nextUnacknowledged == model.acked, #"spool?.nextUnacknowledged == model.acked"#)
                check(spool?.bytesUsed == model.bytesUsed, #"spool?.bytesUsed == model.bytesUsed"#)
                check(spool?.dropped == model.dropped, #"spool?.dropped == model.dropped"#)
            }
            // Finally everything the model still holds is delivered, in order.
            spool?.rewind()
            let rest = try! spool!.readAll()
            check(
                rest == (model.acked..<model.nextSeq).compactMap { model.records[$0] },
                #"rest == (model.acked..<model.nextSeq).compactMap { model.records[$0] }"#)
        }
    }
}
