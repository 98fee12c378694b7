import CLinux
import MQTT
import Syscalls

#if canImport(Glibc)
import Glibc
#endif

/// What each of the loop's jobs does and when it next needs the loop (LoopJob.swift): each job is
/// one component's, and this is only the table that says whose.
extension Agent {
    func run(_ job: LoopJob, now: Nanoseconds) {
        switch job {
        case .keepAliveAndReconnect: client.tick(now: now)
        case .cursor: delivery.moveCursorIfDue(now: now)
        case .spoolSync: delivery.syncSpoolIfDue(now: now)
        case .clock: recorder.refreshClock(now: now)
        case .status: _ = delivery.sendPendingStatus()
        case .sensors: sampler.runDueSensors(now: now)
        case .gpioTimers: sampler.runGPIOTimers(now: now)
        case .spill: delivery.spillOverdueCopies(now: now)
        case .stateTopicsAndHomeAssistant: states.publish()
        case .backlog: delivery.publishBacklog(now: now)
        case .metrics:
            guard metrics.isDue(now: now) else { return }
            metrics.publish(
                client: client, uptimeSeconds: process.uptimeSeconds, delivery: delivery, commands: commands, sampler: sampler,
                remote: remote, repeated: repeated)
        case .commands:
            client.flush(now: now)
            commands.run(statusPending: delivery.statusPending, on: self)
            client.flush(now: now)
        case .remoteConfig:
            if remote.run(now: now, statusPending: delivery.statusPending) { process.requestReexec() }
        case .repeatedLogLines: repeated.tick(now: now)
        case .watchdog: process.runWatchdog(now: now)
        case .startupPages: process.releaseStartupPagesIfDue(now: now)
        case .socketInterest: updateWatchedDescriptor()
        }
    }

    func deadline(of job: LoopJob, now: Nanoseconds) -> Nanoseconds? {
        switch job {
        case .keepAliveAndReconnect: client.nextDeadline()
        case .cursor: delivery.cursorMayMove ? now : nil
        case .spoolSync: delivery.spoolSyncDeadline
        case .sensors: sampler.sensorsEarliest
        case .gpioTimers: sampler.gpioDeadline
        case .spill: delivery.spillDeadline
        case .stateTopicsAndHomeAssistant: states.deadline
        case .backlog: delivery.backlogDeadline
        case .metrics: metrics.nextAt
        case .commands: commands.isReady(statusPending: delivery.statusPending) ? now : nil
        case .remoteConfig: remote.deadline(now: now, statusPending: delivery.statusPending)
        case .repeatedLogLines: repeated.nextDeadline
        case .watchdog: process.watchdogJobDeadline
        case .startupPages: process.startupPagesDeadline
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

    /// The socket job: the broker's descriptor and the events it waits for, after everything that
    /// may have queued bytes.
    func updateWatchedDescriptor() {
        let request = client.pollRequest
        let fd = request?.fd ?? -1
        if fd != watchedFD {
            if watchedFD >= 0 { loop.forget(watchedFD) }
            watchedFD = fd
        }
        if let request {
            var events: UInt32 = 0
            if request.events & Int16(POLLIN) != 0 { events |= UInt32(EPOLLIN.rawValue) }
            if request.events & Int16(POLLOUT) != 0 { events |= UInt32(EPOLLOUT.rawValue) }
            loop.watch(fd, events: events)
        }
    }
}
