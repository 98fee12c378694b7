import MQTT
import Spool
import Syscalls

/// The backlog: what the spool holds before the live stretch, read oldest first and published at
/// the backfill rate, in batches if configured, in at most three quarters of the window.
extension Delivery {
    // MARK: Backlog

    /// Readings in the spool before the live stretch, not yet read by the backlog (live ranges
    /// ahead of the reader included).
    var unreadBacklog: UInt64 { ledger.unreadBacklog(readSequence: spool.readSequence, nextSeq: spool.nextSeq) }

    /// Publishes what the backlog's rate and window share allow, after resuming live if it can.
    func publishBacklog(now: UInt64) {
        guard ledger.mayPublishBacklog(connected: client.isConnected) else { return }
        if let due = lingerDue, now < due { return } // lingering: the oldest has not waited long enough
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
                lingerDue = nil // or, lingering, wait for the next reading's linger time
                return
            }
            guard client.session.inflightCount < backlogWindow else { return }
            let want = Int(min(UInt64(batchSize), unread))
            guard bucket.take(want, now: now) else { return }
            stage(max: want)
        }
    }

    /// When the backlog can next send, if it has something and room to send it.
    var backlogDeadline: UInt64? {
        guard ledger.mayPublishBacklog(connected: client.isConnected), client.session.inflightCount < backlogWindow else { return nil }
        if let due = lingerDue, due > MonotonicClock.now() { return due }
        if !backlog.isEmpty { return MonotonicClock.now() }
        let unread = unreadBacklog
        guard unread > 0 else { return nil }
        return bucket.readyAt(Int(min(UInt64(batchSize), unread)), now: MonotonicClock.now())
    }

    /// Readings the backlog has still to send (an upper bound: live ranges ahead of the reader
    /// are counted too).
    var backlogCount: UInt64 {
        unreadBacklog + UInt64(backlog.unsentCount)
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
}
