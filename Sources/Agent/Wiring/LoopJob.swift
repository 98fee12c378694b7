/// The agent's periodic jobs, in the order they run on each turn of the loop: timers of the
/// connection and the spool first (what the last wait made due), then sampling, publishing and
/// commands, and last the socket's interest, after everything that may have queued bytes.
///
/// Each carries its own deadline, as an sd-event source does (`Agent.run(_:now:)` does what is due
/// and nothing when nothing is; `Agent.deadline(of:now:)` says when the job next needs the loop,
/// nil: only when an event comes). The loop runs every job on each turn and sleeps until the
/// earliest deadline (at most a second), so a new job is one more case here and one in each
/// switch (AgentLoopJobs.swift), not another line in the loop. An enum, not a list of closures:
/// calling a closure retains and releases its context, on every turn, for every job.
enum LoopJob: CaseIterable {
    case keepAliveAndReconnect, cursor, spoolSync, clock, status, sensors, gpioTimers, spill, stateTopicsAndHomeAssistant, backlog
    case metrics, commands, remoteConfig, repeatedLogLines, watchdog, startupPages, socketInterest

    /// Every job, once: the synthesized `allCases` builds a new array at each use.
    static let inOrder: [LoopJob] = allCases
}
