import CLinux
import Syscalls

#if canImport(Glibc)
import Glibc
#endif

/// One epoll set for everything the daemon waits on: the broker socket, signals (signalfd) and,
/// later, GPIO event descriptors. Timers need no descriptor of their own: every periodic job keeps
/// its next deadline on the monotonic clock, and `wait` sleeps until the earliest one, so sampling
/// at start + k x interval never drifts however late a wake-up is.
final class EventLoop {
    private let epoll: Int32
    private var registered: [Int32: UInt32] = [:]
    /// Descriptors epoll refused, each logged once.
    private var refused: Set<Int32> = []
    /// The last descriptor and interest watched successfully: the broker socket is asked for on
    /// every turn, mostly unchanged, and this answers without a lookup in `registered`.
    private var last: (fd: Int32, events: UInt32) = (-1, 0)

    init() throws(AgentError) {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw .system("epoll_create1", Errno(rawValue: errno)) }
    }

    deinit { close(epoll) }

    /// Watches `fd` for `events` (EPOLLIN, EPOLLOUT), replacing what was watched before.
    func watch(_ fd: Int32, events: UInt32) {
        if last.fd == fd && last.events == events { return }
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        if let current = registered[fd], current == events { last = (fd, events); return }
        if epoll_ctl(epoll, registered[fd] == nil ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &event) != 0 {
            // The table can be stale: a descriptor closed elsewhere left epoll by itself, and its
            // number may be in use again. Try the other operation before giving up.
            let first = errno
            let other = first == ENOENT ? EPOLL_CTL_ADD : first == EEXIST ? EPOLL_CTL_MOD : nil
            if other == nil || epoll_ctl(epoll, other!, fd, &event) != 0 {
                if refused.insert(fd).inserted {
                    Log.error(
                        "epoll_ctl for descriptor \(fd): \(String(cString: strerror(errno))); it is not watched, and is tried again each turn"
                    )
                }
                registered[fd] = nil
                return
            }
        }
        refused.remove(fd)
        registered[fd] = events
        last = (fd, events)
    }

    func unwatch(_ fd: Int32) {
        if last.fd == fd { last = (-1, 0) }
        guard registered.removeValue(forKey: fd) != nil else { return }
        // ENOENT or EBADF: the descriptor was closed already, which took it out of the set.
        if epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nil) != 0 && errno != ENOENT && errno != EBADF {
            Log.error("epoll_ctl(DEL) for descriptor \(fd): \(String(cString: strerror(errno)))")
        }
    }

    /// Forgets descriptors that were closed elsewhere (a closed fd leaves epoll by itself).
    func forget(_ fd: Int32) {
        if last.fd == fd { last = (-1, 0) }
        registered.removeValue(forKey: fd)
    }

    /// Waits until a descriptor is ready or `deadline` (monotonic ns) passes; calls `ready` per event.
    func wait(until deadline: UInt64, now: UInt64, _ ready: (Int32, UInt32) -> Void) {
        var events = (
            epoll_event(), epoll_event(), epoll_event(), epoll_event(), epoll_event(), epoll_event(), epoll_event(), epoll_event()
        )
        let timeoutMs = deadline > now ? Int32(clamping: (deadline - now + 999_999) / 1_000_000) : 0
        let count = withUnsafeMutableBytes(of: &events) { raw in
            epoll_wait(epoll, raw.baseAddress!.assumingMemoryBound(to: epoll_event.self), 8, timeoutMs)
        }
        guard count > 0 else { return }
        withUnsafeBytes(of: &events) { raw in
            let list = raw.bindMemory(to: epoll_event.self)
            for i in 0..<Int(count) { ready(list[i].data.fd, list[i].events) }
        }
    }
}

/// The first slot of the grid `due + k x interval` that lies after `now` (or `due` itself if it
/// is still ahead). Periodic jobs advance by this, so a late wake-up neither drifts the grid nor
/// fires a burst of catch-up runs.
func nextSlot(after due: UInt64, interval: UInt64, now: UInt64) -> UInt64 {
    due > now ? due : due + ((now - due) / interval + 1) * interval
}
