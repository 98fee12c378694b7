import CLinux
import Testing

@testable import Agent

#if canImport(Glibc)
import Glibc
#endif

/// Periodic jobs keep their grid: a late wake-up neither drifts it nor fires catch-up runs.
@Test func nextSlotKeepsTheGrid() {
    #expect(nextSlot(after: 1_000, interval: 100, now: 900) == 1_000, "not due yet: unchanged")
    #expect(nextSlot(after: 1_000, interval: 100, now: 1_000) == 1_100, "due now: the next slot")
    #expect(nextSlot(after: 1_000, interval: 100, now: 1_050) == 1_100, "a little late: no drift")
    #expect(nextSlot(after: 1_000, interval: 100, now: 1_999) == 2_000, "ten slots late: one run, on the grid")
    #expect(nextSlot(after: 1_000, interval: 100, now: 2_000) == 2_100)
}

/// A descriptor closed behind the loop's back leaves epoll by itself; when its number comes back
/// (a reconnect's new socket), watching it must work, not fail silently with ENOENT.
@Test func aReusedDescriptorNumberIsWatchedAgain() throws {
    let loop = try EventLoop()
    var first: [Int32] = [0, 0]
    #expect(pipe(&first) == 0)
    loop.watch(first[0], events: UInt32(EPOLLIN.rawValue))
    close(first[0]); close(first[1])
    var second: [Int32] = [0, 0]
    #expect(pipe(&second) == 0)
    defer { close(second[0]); close(second[1]) }
    #expect(second[0] == first[0], "the kernel hands out the lowest free number")
    loop.watch(second[0], events: UInt32(EPOLLIN.rawValue | EPOLLRDHUP.rawValue)) // other events: an MOD
    #expect(write(second[1], "x", 1) == 1)
    var seen: [Int32] = []
    loop.wait(until: 1_000_000_000, now: 0) { fd, _ in seen.append(fd) }
    #expect(seen == [second[0]])
}
