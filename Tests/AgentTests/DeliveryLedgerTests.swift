import Testing

@testable import Agent
@testable import Spool

/// The delivery rules without a broker, a disk or a sleep (the field faults they answer are
/// exercised end to end in FieldFaultTests, BrokerLimitTests and DiskFullTests).
@Suite struct DeliveryLedgerTests {
    /// A window of 8: the backlog may fill 6 slots, live keeps 2.
    func ledger() -> DeliveryLedger { DeliveryLedger(window: 8, batch: 1) }

    /// "online" goes before any reading at every connect, and nothing is published live while it waits.
    @Test func theStatusGoesFirstAtEveryConnect() {
        var l = ledger()
        #expect(!l.mayPublishLive(connected: true, windowHasRoom: true), "not live before the first connect")
        l.connected(nextSeq: 0)
        #expect(l.pendingStatus == true)
        #expect(!l.mayPublishLive(connected: true, windowHasRoom: true) && !l.mayPublishBacklog(connected: true))
        l.pendingStatus = nil // published
        #expect(l.mayPublishLive(connected: true, windowHasRoom: true) && l.mayPublishBacklog(connected: true))
        #expect(!l.mayPublishLive(connected: true, windowHasRoom: false))
        l.connectionLost(nextSeq: 30, end: nil)
        #expect(!l.isLive && l.liveRanges == [.init(seqs: 0..<30, resume: nil)])
        l.connected(nextSeq: 45)
        #expect(l.pendingStatus == true && l.isLive(45) && !l.isLive(40))
    }

    /// Lingering, nothing goes live: every reading waits for the backlog, which sends them together.
    @Test func aLingeringLedgerNeverGoesLive() {
        var l = DeliveryLedger(window: 8, batch: 64, lingers: true)
        l.connected(nextSeq: 0)
        l.pendingStatus = nil
        l.startLive(nextSeq: 5)
        #expect(!l.isLive && !l.mayPublishLive(connected: true, windowHasRoom: true))
        #expect(l.mayPublishBacklog(connected: true))
    }

    @Test func liveComesFirstWhenTheWindowHasRoomAgain() {
        var l = ledger()
        l.startLive(nextSeq: 100) // connected: 100 on is live
        for seq in UInt64(100)..<108 { l.sent(packetID: UInt16(seq), seq: seq, at: 0) }
        l.stopLive(at: 108, resume: nil) // 108 found the window full
        #expect(!l.isLive && l.liveRanges == [.init(seqs: 100..<108, resume: nil)])
        #expect(!l.shouldResumeLive(inflightCount: 8), "no room: 108 on waits in the spool")
        _ = l.acknowledged(100); _ = l.acknowledged(101)
        #expect(l.shouldResumeLive(inflightCount: 6), "room beyond the backlog's share: live again")
        l.startLive(nextSeq: 115) // 108..<115 drain with the backlog
        #expect(l.isLive(115) && !l.isLive(110) && l.isLive(104))
        #expect(l.unreadBacklog(readSequence: 108, nextSeq: 120) == 7)
    }

    @Test func theBacklogReaderJumpsOverWhatWentOutLive() {
        var l = ledger()
        let resume = Spool.Position(seq: 20, segmentBase: 0, offset: 4096)
        l.startLive(nextSeq: 10)
        l.stopLive(at: 20, resume: resume)
        l.startLive(nextSeq: 30)
        l.stopLive(at: 40, resume: nil)
        #expect(l.nextSkip(readSequence: 5) == nil, "the reader has not reached the first range")
        #expect(l.nextSkip(readSequence: 10) == .toPosition(resume))
        #expect(l.nextSkip(readSequence: 20) == nil)
        #expect(l.nextSkip(readSequence: 30) == .toSeq(40))
        #expect(l.liveRanges.isEmpty)
    }

    @Test func rangesAreBoundedThenLiveWaitsForTheBacklog() {
        var l = ledger()
        for i in 0..<UInt64(DeliveryLedger.maxLiveRanges) {
            l.startLive(nextSeq: i * 10)
            l.stopLive(at: i * 10 + 5, resume: nil)
        }
        l.startLive(nextSeq: 10_000)
        #expect(!l.isLive, "64 ranges wait to be skipped: no 65th")
    }

    /// The cursor never passes a reading that is unread, staged or in flight, whatever was
    /// acknowledged after it.
    @Test func theCursorStopsAtTheLowestUnacknowledged() {
        var l = ledger()
        l.startLive(nextSeq: 50)
        l.sent(packetID: 1, seq: 50, at: 0)
        l.sent(packetID: 2, seq: 51, at: 0)
        #expect(l.lowestUnacknowledged(readSequence: 10, nextSeq: 52, staged: nil) == 10, "backlog 10..<50 unread")
        #expect(l.lowestUnacknowledged(readSequence: 50, nextSeq: 52, staged: 45) == 45, "a staged reading")
        #expect(l.lowestUnacknowledged(readSequence: 50, nextSeq: 52, staged: nil) == 50, "in flight")
        _ = l.acknowledged(2)
        #expect(l.lowestUnacknowledged(readSequence: 50, nextSeq: 52, staged: nil) == 50, "51 acknowledged, 50 not")
        _ = l.acknowledged(1)
        #expect(l.lowestUnacknowledged(readSequence: 50, nextSeq: 52, staged: nil) == 52)
    }

    @Test func aBatchIsAcknowledgedOrGivenUpWhole() {
        var l = ledger()
        for seq in UInt64(0)..<5 { l.sent(packetID: 7, seq: seq, at: 100 + seq) }
        l.sent(packetID: 8, seq: 5, at: 200)
        #expect(l.readings(in: 7) == 5 && l.batchIDs == [7])
        #expect(l.acknowledged(7) == 100, "the first reading's send time, for the latency")
        #expect(l.readings(in: 7) == 0 && l.acknowledged(7) == nil)
        #expect(l.lowestUnacknowledged(readSequence: 6, nextSeq: 6, staged: nil) == 5)
    }

    /// Records dropped from the spool count as dropped only if they were never sent: not those that
    /// went out live, are in flight, or wait staged in memory.
    @Test func aDropCountsOnlyWhatWasNeverSent() {
        var l = ledger()
        l.startLive(nextSeq: 10)
        l.stopLive(at: 20, resume: nil) // 10..<20 went out live
        l.sent(packetID: 1, seq: 3, at: 0) // backlog in flight
        l.sent(packetID: 2, seq: 12, at: 0) // live, in flight: counted once
        l.startLive(nextSeq: 90)
        #expect(l.sentCount(in: 0..<30, staged: [4, 5]) == 10 + 1 + 2)
        #expect(l.sentCount(in: 0..<100, staged: []) == 10 + 1 + 10)
        #expect(l.sentCount(in: 40..<50, staged: []) == 0)
    }
}
