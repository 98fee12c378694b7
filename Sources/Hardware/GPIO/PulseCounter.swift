/// Counts pulses (edges in the configured direction) and derives a frequency over each report
/// period: a water or energy meter's reed switch or S0 output.
public struct PulseCounter: Sendable {
    public private(set) var total: UInt64 = 0
    private var atLastReport: UInt64 = 0
    private var lastReportTime: UInt64

    public init(now: UInt64) { lastReportTime = now }

    public mutating func pulse() { total &+= 1 }

    /// The total, and pulses per second since the previous report.
    public mutating func report(now: UInt64) -> (total: UInt64, hertz: Double) {
        let elapsed = now > lastReportTime ? Double(now - lastReportTime) / 1e9 : 0
        let hertz = elapsed > 0 ? Double(total &- atLastReport) / elapsed : 0
        atLastReport = total
        lastReportTime = now
        return (total, hertz)
    }
}
