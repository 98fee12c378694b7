import MQTT
import Syscalls

#if canImport(Glibc)
import Glibc
#endif

/// The process's own life: when it started, its signals (stop, reload), systemd's notify socket
/// and watchdog, the one-time release of its start-up pages, and the re-exec that a reload is.
/// The wiring asks it whether to stop or reload, and runs its two loop jobs.
final class ProcessControl {
    let startedAt: UInt64
    let signals: SignalDescriptor
    let systemd = SystemdNotifier()
    /// The file the configuration came from, for reload.
    let configPath: String?
    private(set) var stopping = false
    private(set) var reloadRequested = false
    private var startupPagesReleased = false
    /// When systemd's watchdog next wants a keep-alive (nil: it does not watch).
    private var watchdogDeadline: Nanoseconds?

    init(configPath: String?, startedAt: UInt64) throws(AgentError) {
        self.configPath = configPath
        self.startedAt = startedAt
        signals = try SignalDescriptor([SIGTERM, SIGINT, SIGHUP])
    }

    var uptimeSeconds: UInt64 { (MonotonicClock.now() - startedAt) / 1_000_000_000 }

    /// Reads the signals that came: SIGTERM and SIGINT stop, SIGHUP reloads if the file is good.
    func handleSignals() {
        while let signal = signals.next() {
            switch signal {
            case SIGTERM, SIGINT:
                Log.notice("signal \(signal): shutting down")
                stopping = true
            case SIGHUP:
                do { try requestReload() } catch { Log.error("SIGHUP: \(error.message); keeping the running configuration") }
            default:
                break
            }
        }
    }

    /// Checks the configuration file before a reload: a broken file keeps the running agent as it is.
    func requestReload() throws(CommandFailure) {
        guard let path = configPath else { throw CommandFailure("started without a configuration file; nothing to reload") }
        do { _ = try AgentConfig.load(path: path) } catch { throw CommandFailure("configuration not reloaded: \(error)") }
        reloadRequested = true
    }

    /// A re-exec on a configuration already checked (a pushed one, or a rollback).
    func requestReexec() { reloadRequested = true }

    /// Forgets a reload asked for (the commands fuzz target runs `reload` without re-executing).
    func cancelReload() { reloadRequested = false }

    /// Reload: start this same program again with the same arguments. Every setting takes effect,
    /// brokers included; the spool was synced and its lock goes with the old image (CLOEXEC).
    func reexec() -> Never {
        Log.notice("reloading the configuration")
        let arguments = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", arguments)
        Log.error("reload failed: execv: \(String(cString: strerror(errno))); exiting so the service manager restarts it")
        exit(1)
    }

    // MARK: Loop jobs

    func runWatchdog(now: Nanoseconds) { watchdogDeadline = systemd.watchdog(now: now) }

    var watchdogJobDeadline: Nanoseconds? { watchdogDeadline }

    /// Gives back the pages only start-up used, once, `StartupPages.delay` after the start.
    func releaseStartupPagesIfDue(now: Nanoseconds) {
        guard !startupPagesReleased, now >= startedAt + StartupPages.delay else { return }
        startupPagesReleased = true
        let rss = StartupPages.release()
        if let before = rss.before, let after = rss.after {
            Log.info("start-up done: its pages released, resident memory \(before) kB -> \(after) kB")
        }
    }

    var startupPagesDeadline: Nanoseconds? { startupPagesReleased ? nil : startedAt + StartupPages.delay }
}
