import Syscalls

/// What each of the loop's jobs does and when it next needs the loop (LoopJob.swift).
extension Agent {
    func run(_ job: LoopJob, now: Nanoseconds) {
        switch job {
        case .keepAliveAndReconnect: client.tick(now: now)
        case .cursor: if cursorMayMove { acknowledgeDelivered(now: now) }
        case .spoolSync:
            do { try spool.syncIfDue(now: now) } catch {
                // A failing disk was reported when the episode began (SpoolWords), and its end will be.
                if !spool.isWriteFailing { Log.error("\(error)") }
            }
        case .clock: clock?.refresh(now: now)
        case .status: _ = sendPendingStatus()
        case .sensors: runDueSensors(now: now)
        case .gpioTimers: runGPIOTimers(now: now)
        case .spill: spillOverdueCopies(now: now)
        case .stateTopicsAndHomeAssistant: publishHomeAssistant()
        case .backlog: publishBacklog(now: now)
        case .metrics:
            guard now >= nextMetricsAt else { return }
            publishMetrics()
            nextMetricsAt = nextSlot(after: nextMetricsAt, interval: config.metricsInterval.nanoseconds, now: now)
        case .commands:
            client.flush(now: now)
            runCommands()
            client.flush(now: now)
        case .repeatedLogLines: repeated.tick(now: now)
        case .watchdog: watchdogDeadline = systemd.watchdog(now: now)
        case .startupPages:
            guard !startupPagesReleased, now >= startedAt + StartupPages.delay else { return }
            startupPagesReleased = true
            let rss = StartupPages.release()
            if let before = rss.before, let after = rss.after {
                Log.info("start-up done: its pages released, resident memory \(before) kB -> \(after) kB")
            }
        case .socketInterest: updateWatchedDescriptor()
        }
    }

    func deadline(of job: LoopJob, now: Nanoseconds) -> Nanoseconds? {
        switch job {
        case .keepAliveAndReconnect: client.nextDeadline()
        case .cursor: cursorMayMove ? now : nil
        case .spoolSync: spool.nextSyncDeadline
        case .sensors: sensorsEarliest
        case .gpioTimers: gpioDeadline
        case .spill: spillDeadline
        case .stateTopicsAndHomeAssistant: homeAssistantDeadline
        case .backlog: backlogDeadline
        case .metrics: nextMetricsAt
        case .commands: commandsReady ? now : nil
        case .repeatedLogLines: repeated.nextDeadline
        case .watchdog: watchdogDeadline
        case .startupPages: startupPagesReleased ? nil : startedAt + StartupPages.delay
        case .clock, .status, .socketInterest: nil
        }
    }

    /// The earliest deadline of the jobs, and never later than a second from `now`.
    func earliestDeadline(now: Nanoseconds) -> Nanoseconds {
        var earliest = now + 1_000_000_000
        for job in LoopJob.inOrder {
            if let d = deadline(of: job, now: now) { earliest = min(earliest, d) }
        }
        return earliest
    }

}
