import Testing

@testable import MQTT

/// The in-flight window's fixed memory: a ring of slots and one byte arena whose messages never
/// wrap, reclaimed only from the oldest end.
@Suite struct InflightWindowTests {
    /// Reserves `length` bytes filled with `byte`; the id, or nil when the window or arena is full.
    func put(_ w: inout InflightWindow, _ length: Int, _ byte: UInt8) -> UInt16? {
        guard let (id, bytes, _) = w.reserve(length: length, qos: .atLeastOnce) else { return nil }
        bytes.initializeMemory(as: UInt8.self, repeating: byte)
        return id
    }

    func holds(_ w: InflightWindow, _ id: UInt16, _ length: Int, _ byte: UInt8) -> Bool {
        guard let bytes = w.bytes(of: id) else { return false }
        return bytes.count == length && bytes.allSatisfy { $0 == byte }
    }

    @Test func aMessageThatDoesNotFitAtTheEndGoesToTheFrontOnceTheOldestIsDone() throws {
        var w = InflightWindow(capacity: 8, arenaBytes: 1024)
        defer { w.deallocate() }
        let a = try #require(put(&w, 400, 0xA1))
        let b = try #require(put(&w, 400, 0xB2)) // [0, 800)
        let early = put(&w, 300, 0xC3)
        #expect(early == nil, "224 bytes left at the end, and the front is taken")
        let done = w.complete(a, expecting: .awaitingPuback) // frees [0, 400)
        #expect(done)
        let c = try #require(put(&w, 300, 0xC3)) // wraps: [0, 300)
        #expect(holds(w, b, 400, 0xB2) && holds(w, c, 300, 0xC3), "the wrapped message does not overwrite the live one")
        let tooBig = put(&w, 200, 0xD4)
        #expect(tooBig == nil, "only [300, 400) is free between the head and the oldest")
        let d = try #require(put(&w, 100, 0xD4)) // [300, 400)
        #expect(holds(w, b, 400, 0xB2) && holds(w, c, 300, 0xC3) && holds(w, d, 100, 0xD4))
    }

    /// A message acknowledged out of order keeps its bytes until every older one is done: the
    /// window slides, it does not fragment.
    @Test func anOutOfOrderAcknowledgementFreesNothingUntilTheOldestIsDone() throws {
        var w = InflightWindow(capacity: 3, arenaBytes: 1024)
        defer { w.deallocate() }
        let a = try #require(put(&w, 300, 1))
        let b = try #require(put(&w, 300, 2))
        let c = try #require(put(&w, 300, 3))
        let fourth = put(&w, 10, 4)
        #expect(w.isFull && fourth == nil)
        let doneB = w.complete(b, expecting: .awaitingPuback), doneC = w.complete(c, expecting: .awaitingPuback)
        #expect(doneB && doneC)
        #expect(w.isFull && w.pending == 1, "b and c are done, but a still holds the front")
        #expect(w.oldestSent == nil, "a was never marked sent")
        w.markSent(a)
        #expect(w.oldestSent == a)
        let doneA = w.complete(a, expecting: .awaitingPuback)
        #expect(doneA && w.count == 0 && !w.isFull)
        let e = try #require(put(&w, 1000, 5)) // all reclaimed: the whole arena from 0
        #expect(holds(w, e, 1000, 5))
    }

    /// Packet ids run 1...65535 and wrap to 1, never 0 (MQTT-2.3.1-1).
    @Test func idsWrapPastZero() throws {
        var w = InflightWindow(capacity: 4, arenaBytes: 1024)
        defer { w.deallocate() }
        var ids: [UInt16] = []
        for _ in 0..<70_000 {
            let id = try #require(put(&w, 8, 0))
            ids.append(id)
            let done = w.complete(id, expecting: .awaitingPuback)
            #expect(done)
        }
        #expect(!ids.contains(0))
        #expect(ids[65_534] == 65_535 && ids[65_535] == 1)
    }
}
