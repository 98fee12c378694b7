import MQTT
import Spool
import Syscalls

#if canImport(Glibc)
import Glibc
#endif

/// How readings reach the broker: the delivery component. It owns the spool it was handed, the
/// ledger, the backlog batch, the backfill's token bucket, spill mode's copies, the parked messages
/// and the refused topics, and the retained status (which goes before any reading). The rules
/// (what is live, what is in flight, where the backlog reader jumps, how far the cursor may move)
/// are DeliveryLedger's; this carries them out with the spool and the client. The wiring (Agent)
/// tells it of readings made, acknowledgements, connects and losses, and runs its loop jobs.
///
/// Live: while connected, a new reading is published at once (write-ahead mode: right after it is
/// appended to the spool; spill mode: straight from memory, keeping a copy until the broker
/// acknowledges it).
///
/// Backlog: everything in the spool before the live stretch (what an outage or a restart left) is
/// read oldest first and published at the backfill rate, in batches if configured, using at most
/// three quarters of the in-flight window so live readings always find room; stretches that went
/// out live are skipped.
///
/// Live stops when a reading cannot be published at once (disconnected, window full): that reading
/// and the following ones go through the backlog. Live comes first: it resumes as soon as the
/// window has room for live readings again (its quarter, beside the backlog's three), at the next
/// connect, or when the backlog reader has caught up, whichever comes first; the stretch it missed
/// drains with the backlog. Each sensor's backlog arrives in order, and so do its live readings;
/// the two streams interleave during a drain, and `seq`/`ts` say where each belongs.
///
/// The spool's cursor (what a restart re-sends from) moves to the lowest reading not yet
/// acknowledged, so acknowledgements of live readings during a drain never skip the backlog.
final class Delivery {
    struct Settings {
        var spill: Bool
        var syncInterval: UInt64
        var inflight: Int
        var batch: Int
        var rate: Int
        var packetLimit: Int
        /// `mqtt.linger`: 0, or how long live readings wait to go together.
        var linger: UInt64 = 0
    }

    /// Publish-to-PUBACK latency since the last metrics message.
    struct LatencyStats {
        var count: UInt64 = 0
        var total: UInt64 = 0
        var maximum: UInt64 = 0
        mutating func add(_ ns: UInt64) { count += 1; total += ns; maximum = max(maximum, ns) }
    }

    let client: MQTTClient
    let spool: Spool
    let topics: Topics
    let repeated: RepeatedLog
    let spillMode: Bool
    let syncInterval: UInt64
    let batchSize: Int
    /// `mqtt.linger` in nanoseconds, 0 when off; `lingerDue`: when the readings waiting may go.
    let linger: UInt64
    var lingerDue: UInt64?
    /// Which records went out live, which are in flight, where the cursor may go (DeliveryLedger.swift).
    var ledger: DeliveryLedger
    var backlog: BacklogBatch
    var bucket: TokenBucket
    /// Spill mode's copies of live readings not yet acknowledged.
    var copies: UnacknowledgedCopies
    var latency = LatencyStats()
    /// Readings the spool refused (SpoolError): published from memory, or dropped.
    var unstored = (published: UInt64(0), dropped: UInt64(0))
    /// Acknowledgements came since the spool's cursor last moved.
    private(set) var cursorMayMove = false
    var parked: ParkedMessages
    /// Messages a 5.0 broker refused for good, by reason, and refusals it will be asked again after.
    var refusals: [ReasonCode: UInt64] = [:]
    var refusalRetries: UInt64 = 0
    /// Topics the broker refused a single message on, until when (Delivery+Parking.swift).
    var refusedTopics: [String: UInt64] = [:]
    /// Where a spool another device wrote was set aside at start (SpoolOwner), for `status`.
    var setAsideSpool: String?
    /// When the process started, for the status's uptime.
    let startedAt: UInt64
    var statusJSON = JSONWriter(capacity: 256)
    /// The packet id of this connection's "online" status: its PUBACK confirms a new configuration.
    var onlineStatusPacketID: UInt16?

    init(
        client: MQTTClient, spool: Spool, topics: Topics, settings: Settings, parkIn directory: String, repeated: RepeatedLog,
        startedAt: UInt64
    ) {
        self.client = client
        self.spool = spool
        self.topics = topics
        self.repeated = repeated
        self.startedAt = startedAt
        spillMode = settings.spill
        syncInterval = settings.syncInterval
        linger = settings.linger
        // Lingering, a sensor's readings of a whole linger time go as one message.
        batchSize = settings.linger > 0 ? max(settings.batch, Delivery.lingerBatch) : settings.batch
        parked = ParkedMessages(directory: directory)
        ledger = DeliveryLedger(window: settings.inflight, batch: batchSize, lingers: settings.linger > 0)
        backlog = BacklogBatch(batch: batchSize, packetLimit: settings.packetLimit)
        bucket = TokenBucket(ratePerSecond: settings.rate, capacity: max(batchSize, settings.rate / 10), now: MonotonicClock.now())
        copies = UnacknowledgedCopies(capacity: settings.spill ? settings.inflight : 1)
        spool.sentElsewhere = { [unowned self] seqs in sentCount(in: seqs) }
    }

    deinit { statusJSON.deallocate() }

    /// Readings read from the spool at once while lingering.
    static let lingerBatch = 64

    /// Opens the spool of `settings` for `device` and reports what its recovery found; the log
    /// follows what it reports later (a full disk, writing resumed). Also says whether it existed
    /// before, and where a spool another device wrote was set aside (SpoolOwner).
    static func openSpool(_ settings: SpoolSettings, device: String) throws -> (spool: Spool, existed: Bool, setAside: String?) {
        var configuration = SpoolConfiguration(capacityBytes: settings.capacity.bytes)
        switch settings.durability {
        case .always: configuration.durability = .always
        case .interval: configuration.durability = .interval(settings.syncInterval.nanoseconds)
        case .never: configuration.durability = .never
        }
        var existed = access(settings.dir + "/cursor", F_OK) == 0
        var setAside: String?
        // Opened first: its lock keeps out another agent, which may be using the directory.
        var opened: Spool? = try Spool(directory: settings.dir, configuration: configuration)
        var finding = SpoolOwner.finding(directory: settings.dir, device: device)
        if case .foreign(let other) = finding, let foreign = opened {
            let waiting = foreign.unacknowledgedCount
            opened = nil // its lock and descriptors go before the rename
            let path = try SpoolOwner.setAside(directory: settings.dir, foreign: other)
            Log.warning(
                "the spool in \(settings.dir) was written by device \(other), not \(device) (a card cloned or moved from another board?): its \(waiting) reading(s) waiting are not backfilled as this board's; set aside whole in \(path) for a person to collect; a new spool starts"
            )
            opened = try Spool(directory: settings.dir, configuration: configuration)
            (setAside, existed, finding) = (path, false, .unclaimed)
        }
        let spool = try opened ?? Spool(directory: settings.dir, configuration: configuration)
        if finding == .unclaimed { try SpoolOwner.claim(directory: settings.dir, device: device) }
        let capacity = settings.capacity.bytes
        for event in spool.drainEvents() { Log.warning(SpoolWords.describe(event, capacity: capacity)) }
        spool.onEvent = { event in
            switch event {
            case .writingResumed: Log.notice(SpoolWords.describe(event, capacity: capacity))
            default: Log.warning(SpoolWords.describe(event, capacity: capacity))
            }
        }
        return (spool, existed, setAside)
    }

    /// The window slots the backlog may fill.
    var backlogWindow: Int { ledger.backlogWindow }

    /// Readings in the spool not yet acknowledged.
    var waitingCount: UInt64 { spool.unacknowledgedCount }

    // MARK: Live

    /// Stores and publishes a new reading (a record the Recorder just wrote), on `topic` when its
    /// sensor's or line's topic was made at start-up. False if it was lost.
    func deliver(record: UnsafeRawBufferPointer, timestamp: Int64, now: UInt64, topic: ValidatedTopic? = nil, jsonStart: Int? = nil) -> Bool
    {
        let mayPublish = ledger.mayPublishLive(connected: client.isConnected, windowHasRoom: client.session.canPublishReliably)
        if spillMode, mayPublish, !copies.isFull,
            let id = publishLive(record, topic: topic, now: now, jsonStart: jsonStart)
        {
            if id != 0 { copies.add(packetID: id, sentAt: now, record: record) }
            return true
        }
        if spillMode { spillCopies(while: { _ in true }) }
        // An append may make room by dropping the oldest records: the cursor first, so that what
        // was acknowledged in this turn is not counted as dropped.
        if cursorMayMove { acknowledgeDelivered(now: now) }
        let seq: UInt64
        do { seq = try spool.append(record, timestamp: timestamp, now: now) } catch {
            return notStored(record, error: error, topic: topic, jsonStart: jsonStart)
        }
        guard ledger.isLive else {
            if linger > 0 && lingerDue == nil { lingerDue = now &+ linger } // the first of a linger time
            return true
        }
        if !spillMode, mayPublish, let id = publishLive(record, topic: topic, now: now, jsonStart: jsonStart) {
            if id != 0 { ledger.sent(packetID: id, seq: seq, at: now) } else { acknowledgeDelivered() }
            return true
        }
        ledger.stopLive(at: seq, resume: spool.lastAppendedPosition)
        return true
    }

    /// A reading the spool refused (a full disk, a failing card): published from memory if the
    /// broker takes it now, otherwise dropped and counted. Logged once per episode, with a count.
    private func notStored(_ record: UnsafeRawBufferPointer, error: SpoolError, topic: ValidatedTopic?, jsonStart: Int?) -> Bool {
        repeated.note("readings not stored", "readings cannot be stored: \(error)")
        // Not tracked in flight: its acknowledgement has no spool record to move the cursor past.
        if ledger.mayPublishLive(connected: client.isConnected, windowHasRoom: client.session.canPublishReliably),
            let id = publishLive(record, topic: topic, jsonStart: jsonStart), id != 0
        {
            unstored.published += 1
            return true
        }
        unstored.dropped += 1
        return false
    }

    /// How many of the spool records in `seqs`, about to be dropped unacknowledged, were sent all
    /// the same (the spool asks, to count only the others as dropped).
    func sentCount(in seqs: Range<UInt64>) -> UInt64 {
        ledger.sentCount(in: seqs, staged: backlog.entries.filter { !$0.sent }.map(\.seq))
    }

    /// Publishes a live record: its packet id, 0 if it was dropped as unpublishable (logged), nil
    /// if the client could not take it now.
    private func publishLive(
        _ record: UnsafeRawBufferPointer, topic: ValidatedTopic?, now: Nanoseconds = MonotonicClock.now(), jsonStart: Int?
    ) -> UInt16? {
        let written = jsonStart.map { AgentRecord(written: record, jsonStart: $0) }
        guard let parsed = written ?? AgentRecord(record) else { return 0 }
        return publish(name: parsed.name, event: parsed.event, payload: parsed.json, topic: topic, now: now)
    }

    /// Publishes a reading or event of `name`: on `validated` when given (a configured sensor's or
    /// line's topic, checked at start-up), else on a topic built from the name and checked now
    /// (backfill: names come from the spool, a file that may hold anything).
    func publish(
        name: UnsafeRawBufferPointer, event: Bool, payload: UnsafeRawBufferPointer, topic validated: ValidatedTopic? = nil,
        now: Nanoseconds = MonotonicClock.now()
    ) -> UInt16? {
        let topic = validated?.bytes ?? (event ? topics.events(lineName: name) : topics.telemetry(sensorName: name))
        if !refusedTopics.isEmpty, parkIfRefused(topic: topic, payload: payload) { return 0 }
        do {
            if let validated { return try client.publish(topic: validated, payload: payload, qos: .atLeastOnce, now: now) }
            return try client.publish(
                topicBytes: topic, payload: payload, qos: .atLeastOnce, properties: event ? topics.aliasedJSON : topics.telemetryJSON,
                now: now)
        } catch .windowFull {
            return nil
        } catch .tooLarge(let size, let limit) {
            park(
                topic: String(decoding: topic, as: UTF8.self), payload: payload,
                reason: "\(size) bytes, over \(client.session.limits.name) (\(limit) bytes)")
            return 0
        } catch {
            Log.error("a reading of \(String(decoding: name, as: UTF8.self)) cannot be published: \(error); dropped")
            return 0
        }
    }

    /// On connect: new readings go out live; what the spool holds is the backlog.
    func startLive() { ledger.startLive(nextSeq: spool.nextSeq) }

    /// On disconnect: spill mode writes its unacknowledged copies to the spool (they stay in the
    /// session too, and go again on reconnect), then live stops.
    func connectionLost() {
        if spillMode { spillCopies(while: { _ in true }) }
        ledger.connectionLost(nextSeq: spool.nextSeq, end: spool.endPosition)
    }

    /// Spill mode: writes the oldest unacknowledged copies to the spool while `condition(sentAt)`
    /// holds. Each stays in flight, now tied to its spool record, inside the live range so the
    /// backlog does not send it again: the spool holds it only in case the process dies first.
    func spillCopies(while condition: (UInt64) -> Bool) {
        while let sentAt = copies.oldestSentAt, condition(sentAt) {
            copies.popOldest { id, record in
                do {
                    let seq = try spool.append(record, timestamp: wallClockMilliseconds())
                    ledger.sent(packetID: id, seq: seq, at: sentAt)
                } catch {
                    // Still in flight: it is lost only if the process dies before the broker acknowledges it.
                    repeated.note("spill failures", "an unacknowledged reading could not be written to the spool: \(error)")
                }
            }
        }
    }

    /// Spill mode: writes the copies not acknowledged within `sync_interval` to the spool.
    func spillOverdueCopies(now: UInt64) {
        guard spillMode, let due = spillDeadline, due <= now else { return }
        let limit = now &- min(now, syncInterval)
        spillCopies(while: { $0 <= limit })
    }

    /// When the oldest spill copy is overdue.
    var spillDeadline: UInt64? {
        copies.oldestSentAt.map { $0 + syncInterval }
    }

    // MARK: Acknowledgements

    func readingDelivered(packetID: UInt16) {
        let now = MonotonicClock.now()
        if spillMode, let sentAt = copies.acknowledge(packetID) {
            latency.add(now - sentAt)
            return // a live reading that never needed the disk
        }
        guard let sentAt = ledger.acknowledged(packetID) else { return }
        latency.add(now - sentAt)
        // The cursor moves once per loop turn (the cursor job), not once per acknowledgement: a
        // read from the socket brings several, and each move scanned what is in flight.
        cursorMayMove = true
    }

    /// Moves the spool's cursor up to the lowest reading not yet acknowledged.
    func acknowledgeDelivered(now: Nanoseconds = MonotonicClock.now()) {
        cursorMayMove = false
        let lowest = ledger.lowestUnacknowledged(readSequence: spool.readSequence, nextSeq: spool.nextSeq, staged: backlog.lowestUnsent)
        guard lowest > spool.nextUnacknowledged else { return }
        do { try spool.ack(through: lowest - 1, now: now) } catch { Log.error("\(error)") }
    }

    // MARK: Connection

    /// A connect: "online" first, then live readings; what the spool holds is the backlog.
    func connected() {
        if linger > 0 { lingerDue = MonotonicClock.now() } // what waited for the connection goes now
        // A 5.0 broker's own limit, stated in CONNACK, sizes the backfill batches from now on.
        // Less the properties each message carries under 5.0 (`packetOverhead` is 3.1.1's).
        let properties = client.session.version == .v5 ? topics.telemetryJSON.block.count + 8 : 0
        backlog.packetLimit = (client.session.limits.maxPacketSize ?? .max) - properties
        ledger.connected(nextSeq: spool.nextSeq)
        sendPendingStatus()
    }

    // MARK: Loop jobs

    /// The cursor job: acknowledgements came this turn.
    func moveCursorIfDue(now: Nanoseconds) {
        if cursorMayMove { acknowledgeDelivered(now: now) }
    }

    /// The spool-sync job.
    func syncSpoolIfDue(now: Nanoseconds) {
        do { try spool.syncIfDue(now: now) } catch {
            // A failing disk was reported when the episode began (SpoolWords), and its end will be.
            if !spool.isWriteFailing { Log.error("\(error)") }
        }
    }

    var spoolSyncDeadline: Nanoseconds? { spool.nextSyncDeadline }

    /// At shutdown, once the client has stopped: what the broker did not acknowledge in time waits
    /// on disk, the cursor moves past what it did, and the spool is synced.
    func shutDown() {
        if spillMode { spillCopies(while: { _ in true }) }
        if cursorMayMove { acknowledgeDelivered() }
        do { try spool.sync() } catch { Log.error("\(error)") }
    }
}
