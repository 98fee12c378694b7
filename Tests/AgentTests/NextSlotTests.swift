import Testing
@testable import Agent

/// Periodic jobs keep their grid: a late wake-up neither drifts it nor fires catch-up runs.
@Test func nextSlotKeepsTheGrid() {
    #expect(nextSlot(after: 1_000, interval: 100, now: 900) == 1_000, "not due yet: unchanged")
    #expect(nextSlot(after: 1_000, interval: 100, now: 1_000) == 1_100, "due now: the next slot")
    #expect(nextSlot(after: 1_000, interval: 100, now: 1_050) == 1_100, "a little late: no drift")
    #expect(nextSlot(after: 1_000, interval: 100, now: 1_999) == 2_000, "ten slots late: one run, on the grid")
    #expect(nextSlot(after: 1_000, interval: 100, now: 2_000) == 2_100)
}
