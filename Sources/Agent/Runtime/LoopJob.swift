import Syscalls

/// One of the agent's periodic jobs, carrying its own deadline, as an sd-event source does: `run`
/// does what is due at `now` (and nothing when nothing is), `deadline` says when the job next needs
/// the loop (nil: only when an event comes). The loop runs every job in order on each turn and
/// sleeps until the earliest deadline (at most a second), so a new job is one more entry in the
/// list, not another line in the loop.
struct LoopJob {
    let name: StaticString
    let run: (Nanoseconds) -> Void
    let deadline: (Nanoseconds) -> Nanoseconds?

    init(_ name: StaticString, run: @escaping (Nanoseconds) -> Void, deadline: @escaping (Nanoseconds) -> Nanoseconds? = { _ in nil }) {
        self.name = name
        self.run = run
        self.deadline = deadline
    }

    /// The earliest deadline of `jobs`, and never later than a second from `now`.
    static func earliest(_ jobs: [LoopJob], now: Nanoseconds) -> Nanoseconds {
        var deadline = now + 1_000_000_000
        for job in jobs {
            if let d = job.deadline(now) { deadline = min(deadline, d) }
        }
        return deadline
    }
}
