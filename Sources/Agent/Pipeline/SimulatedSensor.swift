import Sensors

#if canImport(Glibc)
import Glibc
#endif

/// The `simulated` driver: temperature, humidity and pressure that drift slowly and smoothly,
/// each sensor with its own phase, so dashboards show something plausible with no chip at all.
/// (On the simulated board, real drivers such as `bme280` talk to chip models instead.)
final class SimulatedSensorDriver: SensorDriver {
    let phase: Double

    init(name: String) {
        var hash: UInt64 = 14_695_981_039_346_656_037
        for b in name.utf8 { hash = (hash ^ UInt64(b)) &* 1_099_511_628_211 }
        phase = Double(hash % 10_000) / 10_000 * 2 * Double.pi
    }

    var quantities: [Quantity] { [.temperature, .humidity, .pressure] }

    func configure() throws {}
    func start() throws -> UInt64 { 0 }

    func collect(into m: inout Measurement) throws -> UInt64? {
        let t = Double(wallClockMilliseconds()) / 1000
        m.add(.temperature, 21 + 3 * sin(t / 600 + phase) + 0.1 * sin(t / 7), decimals: 2)
        m.add(.humidity, 45 + 10 * sin(t / 900 + phase * 2), decimals: 1)
        m.add(.pressure, 1013.25 + 4 * sin(t / 3600 + phase), decimals: 2)
        return nil
    }
}

/// Wall-clock time in milliseconds since the Unix epoch.
func wallClockMilliseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
