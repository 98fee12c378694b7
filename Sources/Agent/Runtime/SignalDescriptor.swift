import CLinux
import Syscalls

#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM, SIGINT and SIGHUP as a readable descriptor instead of asynchronous handlers.
final class SignalDescriptor {
    let fd: Int32

    init(_ signals: [Int32]) throws(AgentError) {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        // Blocked, so they are only ever read from the descriptor.
        sigprocmask(SIG_BLOCK, &set, nil)
        fd = signalfd(-1, &set, Int32(SFD_NONBLOCK | SFD_CLOEXEC))
        guard fd >= 0 else { throw .system("signalfd", Errno(rawValue: errno)) }
    }

    deinit { close(fd) }

    /// The next pending signal, if any.
    func next() -> Int32? {
        var info = signalfd_siginfo()
        let n = read(fd, &info, MemoryLayout<signalfd_siginfo>.size)
        return n == MemoryLayout<signalfd_siginfo>.size ? Int32(info.ssi_signo) : nil
    }
}
