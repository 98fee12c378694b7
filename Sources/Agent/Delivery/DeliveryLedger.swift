import Spool

/// The rules of delivery as a value with no I/O: which spool records went out live, which are in
/// flight under which packet id, where the backlog reader must jump, and how far the spool's
/// cursor may move. `Delivery` (Delivery.swift) asks it and carries out what it says with the
/// spool and the client; DeliveryLedgerTests checks the rules without a broker or a disk.
///
/// Live: readings at or after `liveFrom` went out live (or are going). Live stops when a reading
/// cannot be published at once; the stretch before it becomes a `LiveRange` the backlog reader
/// jumps over. Live comes first: it restarts as soon as the window has room beyond the backlog's
/// share (`shouldResumeLive`), at a connect, or when the backlog has caught up.
///
/// Lingering (`mqtt.linger`): live never starts; every reading goes through the backlog, which
/// sends a sensor's waiting readings as one message once the oldest has waited the linger time.
///
/// The cursor may pass only what is acknowledged: `lowestUnacknowledged` is the lowest record still
/// unread, staged or in flight.
struct DeliveryLedger {
    /// Readings that went out live, and where the backlog reader resumes after them.
    struct LiveRange: Equatable {
        var seqs: Range<UInt64>
        var resume: Spool.Position?
    }

    struct InflightReading: Equatable {
        var packetID: UInt16
        var seq: UInt64
        var sentAt: UInt64
    }

    /// What the backlog reader must do before reading on.
    enum Skip: Equatable {
        case toPosition(Spool.Position)
        case toSeq(UInt64)
    }

    /// Live ranges the backlog may have to skip before live stops resuming: bounds memory when
    /// the link flaps during a long drain. Beyond it, readings simply wait for the backlog.
    static let maxLiveRanges = 64

    /// The retained status to publish (true: online) before anything else; nil when none waits.
    /// Readings, backlog and replies wait while it does, so a window full of backlog at a
    /// reconnect cannot leave the last will's "offline" standing while the agent publishes.
    var pendingStatus: Bool?
    private(set) var liveFrom: UInt64?
    private(set) var liveRanges: [LiveRange] = []
    private(set) var inflight: [InflightReading] = []
    /// The window slots the backlog may fill: three quarters, so live readings always find room.
    let backlogWindow: Int

    /// Readings wait for the linger time instead of going out live.
    let lingers: Bool

    init(window: Int, batch: Int, lingers: Bool = false) {
        self.lingers = lingers
        backlogWindow = max(1, window - max(1, window / 4))
        liveRanges.reserveCapacity(DeliveryLedger.maxLiveRanges)
        inflight.reserveCapacity(window * batch + 16)
    }

    var isLive: Bool { liveFrom != nil }

    func isLive(_ seq: UInt64) -> Bool {
        if let liveFrom, seq >= liveFrom { return true }
        return liveRanges.contains { $0.seqs.contains(seq) }
    }

    // MARK: The connection

    /// Connected: "online" goes first, then new readings (from `nextSeq`) go out live and what
    /// the spool holds is the backlog.
    mutating func connected(nextSeq: UInt64) {
        pendingStatus = true
        startLive(nextSeq: nextSeq)
    }

    /// Disconnected: live stops at `nextSeq` (the backlog jumps to `end` past the live stretch).
    mutating func connectionLost(nextSeq: UInt64, end: Spool.Position?) {
        stopLive(at: nextSeq, resume: end)
    }

    /// Whether a new reading may be published at once: live, no status waiting, a connection with
    /// room in its window.
    func mayPublishLive(connected: Bool, windowHasRoom: Bool) -> Bool {
        liveFrom != nil && pendingStatus == nil && connected && windowHasRoom
    }

    /// Whether the backlog may publish now (not while the status waits).
    func mayPublishBacklog(connected: Bool) -> Bool { connected && pendingStatus == nil }

    // MARK: Live

    /// New readings go out live from `nextSeq` on, unless live is on already or too many live
    /// ranges wait to be skipped.
    mutating func startLive(nextSeq: UInt64) {
        guard !lingers, liveFrom == nil, liveRanges.count < DeliveryLedger.maxLiveRanges else { return }
        liveFrom = nextSeq
    }

    /// Live stops before `seq`: it and what follows go through the backlog, which skips the live
    /// stretch by jumping to `resume`, the place of `seq` in the spool, when it is known.
    mutating func stopLive(at seq: UInt64, resume: Spool.Position?) {
        guard let from = liveFrom else { return }
        if from < seq { liveRanges.append(LiveRange(seqs: from..<seq, resume: resume?.seq == seq ? resume : nil)) }
        liveFrom = nil
    }

    /// Whether live should restart now: it stopped, and the window has room beyond the backlog's share.
    func shouldResumeLive(inflightCount: Int) -> Bool {
        liveFrom == nil && inflightCount <= backlogWindow
    }

    // MARK: In flight

    mutating func sent(packetID: UInt16, seq: UInt64, at time: UInt64) {
        inflight.append(InflightReading(packetID: packetID, seq: seq, sentAt: time))
    }

    /// How many readings travel under `packetID`.
    func readings(in packetID: UInt16) -> Int { inflight.lazy.filter { $0.packetID == packetID }.count }

    /// The broker acknowledged `packetID` (or it was given up): its readings are done. Returns when
    /// the first of them was sent, nil if the id carried no reading.
    mutating func acknowledged(_ packetID: UInt16) -> UInt64? {
        guard let first = inflight.firstIndex(where: { $0.packetID == packetID }) else { return nil }
        let sentAt = inflight[first].sentAt
        // A batch: every reading in the message. They were recorded one after the other as the
        // message was sent, and an id is not reused before its acknowledgement, so they are
        // adjacent: one removal, not a pass over the whole window per acknowledgement.
        var end = first + 1
        while end < inflight.count && inflight[end].packetID == packetID { end += 1 }
        inflight.removeSubrange(first..<end)
        return sentAt
    }

    /// The packet ids carrying more than one reading (backfill batches), oldest first.
    var batchIDs: [UInt16] {
        var ids: [UInt16] = []
        for reading in inflight where !ids.contains(reading.packetID) && readings(in: reading.packetID) > 1 { ids.append(reading.packetID) }
        return ids
    }

    // MARK: Backlog

    /// Readings in the spool before the live stretch that the reader has not reached (live ranges
    /// ahead of it included).
    func unreadBacklog(readSequence: UInt64, nextSeq: UInt64) -> UInt64 {
        let end = liveFrom ?? nextSeq
        return readSequence < end ? end - readSequence : 0
    }

    /// The jump the reader at `readSequence` must make over a live range it has reached, if any; the
    /// range is then forgotten. Call until nil.
    mutating func nextSkip(readSequence: UInt64) -> Skip? {
        guard let range = liveRanges.first, readSequence >= range.seqs.lowerBound else { return nil }
        liveRanges.removeFirst()
        if let resume = range.resume { return .toPosition(resume) }
        return .toSeq(range.seqs.upperBound)
    }

    // MARK: The cursor and what a drop costs

    /// The lowest record not yet acknowledged: the cursor may move up to it. `readSequence` and
    /// `nextSeq` are the spool's; `staged` is the lowest record staged for the backlog and unsent.
    func lowestUnacknowledged(readSequence: UInt64, nextSeq: UInt64, staged: UInt64?) -> UInt64 {
        var lowest = unreadBacklog(readSequence: readSequence, nextSeq: nextSeq) > 0 ? readSequence : nextSeq
        if let staged { lowest = min(lowest, staged) }
        for reading in inflight { lowest = min(lowest, reading.seq) }
        return lowest
    }

    /// How many of the records in `seqs`, about to be dropped unacknowledged, were sent all the
    /// same (live, or in flight) or will be (`staged`, unsent, in memory). They are not lost.
    func sentCount(in seqs: Range<UInt64>, staged: [UInt64]) -> UInt64 {
        func overlap(_ a: Range<UInt64>) -> UInt64 { UInt64(a.clamped(to: seqs).count) }
        var n: UInt64 = 0
        for range in liveRanges { n += overlap(range.seqs) }
        if let liveFrom, liveFrom < UInt64.max { n += overlap(liveFrom..<UInt64.max) }
        for reading in inflight where seqs.contains(reading.seq) && !isLive(reading.seq) { n += 1 }
        for seq in staged where seqs.contains(seq) && !isLive(seq) { n += 1 }
        return n
    }
}
