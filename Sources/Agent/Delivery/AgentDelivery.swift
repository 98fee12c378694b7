import MQTT
import Spool
import Syscalls

/// How readings reach the broker: the I/O side. The rules (what is live, what is in flight, where
/// the backlog reader jumps, how far the cursor may move) are DeliveryLedger's; this carries them
/// out with the spool and the client.
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
extension Agent {
    /// The window slots the backlog may fill.
    var backlogWindow: Int { ledger.backlogWindow }

    var spillMode: Bool { config.spool.mode == .spill }

    // MARK: Live

    /// Stores and publishes a new reading (the record built in `json`), on `topic` when its
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
        guard ledger.isLive else { return true }
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
            return try client.publish(topicBytes: topic, payload: payload, qos: .atLeastOnce, now: now)
        } catch .windowFull {
            return nil
        } catch .tooLarge(let size, let limit) {
            park(
                topic: String(decoding: topic, as: UTF8.self), payload: payload,
                reason: "\(size) bytes, over mqtt.max_packet_size (\(limit) bytes)")
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
        let limit = now &- min(now, config.spool.syncInterval.nanoseconds)
        spillCopies(while: { $0 <= limit })
    }

    // MARK: Backlog

    /// Readings in the spool before the live stretch, not yet read by the backlog (live ranges
    /// ahead of the reader included).
    var unreadBacklog: UInt64 { ledger.unreadBacklog(readSequence: spool.readSequence, nextSeq: spool.nextSeq) }

    /// Publishes what the backlog's rate and window share allow, after resuming live if it can.
    func publishBacklog(now: UInt64) {
        guard ledger.mayPublishBacklog(connected: client.isConnected) else { return }
        // Live first: once the window has room beyond the backlog's share, new readings go out live
        // again instead of waiting for the backlog reader to reach them (which, on a slow link or
        // at a low backfill rate, took half a minute).
        if ledger.shouldResumeLive(inflightCount: client.session.inflightCount) { startLive() }
        while true {
            skipLiveRanges()
            if !backlog.isEmpty {
                guard client.session.inflightCount < backlogWindow, sendStaged(now: now) else { return }
                continue
            }
            let unread = unreadBacklog
            guard unread > 0 else {
                startLive() // caught up: new readings go out live again
                return
            }
            guard client.session.inflightCount < backlogWindow else { return }
            let want = Int(min(UInt64(config.backfill.batch), unread))
            guard bucket.take(want, now: now) else { return }
            stage(max: want)
        }
    }

    /// When the backlog can next send, if it has something and room to send it.
    var backlogDeadline: UInt64? {
        guard ledger.mayPublishBacklog(connected: client.isConnected), client.session.inflightCount < backlogWindow else { return nil }
        if !backlog.isEmpty { return MonotonicClock.now() }
        let unread = unreadBacklog
        guard unread > 0 else { return nil }
        return bucket.readyAt(Int(min(UInt64(config.backfill.batch), unread)), now: MonotonicClock.now())
    }

    /// Readings the backlog has still to send (an upper bound: live ranges ahead of the reader
    /// are counted too).
    var backlogCount: UInt64 {
        unreadBacklog + UInt64(backlog.unsentCount)
    }

    var spillDeadline: UInt64? {
        copies.oldestSentAt.map { $0 + config.spool.syncInterval.nanoseconds }
    }

    private func skipLiveRanges() {
        while let skip = ledger.nextSkip(readSequence: spool.readSequence) {
            switch skip {
            case .toPosition(let position): spool.skip(to: position)
            case .toSeq(let seq): spool.skip(to: seq)
            }
        }
    }

    private func stage(max: Int) {
        backlog.reset()
        var malformed = false
        do {
            try spool.read(max: max) { record in
                guard !ledger.isLive(record.seq) else { return } // a record past a corrupt gap that went out live
                if !backlog.add(seq: record.seq, record: record.payload) {
                    Log.error("spool record \(record.seq) is not an agent reading; skipped")
                    malformed = true
                }
            }
        } catch { Log.error("\(error)") }
        if malformed { acknowledgeDelivered() }
    }

    /// Sends staged messages until the window share is used; false if some are left.
    private func sendStaged(now: UInt64) -> Bool {
        while client.session.inflightCount < backlogWindow {
            var packetID: UInt16 = 0
            let result = backlog.sendNext(
                { name, event, payload in
                    guard let id = publish(name: name, event: event, payload: payload) else { return false }
                    packetID = id
                    return true
                },
                taken: { seq in
                    if packetID != 0 { ledger.sent(packetID: packetID, seq: seq, at: now) }
                })
            switch result {
            case nil: backlog.reset(); return true
            case false?: return false
            case true?: if packetID == 0 { acknowledgeDelivered() }
            }
        }
        return backlog.isEmpty
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
}
