#if canImport(Glibc)
import Glibc
#endif

/// A sensor for the simulated board: temperature, humidity and pressure that drift slowly and
/// smoothly, each sensor with its own phase, so dashboards show something plausible.
struct SimulatedSensor {
    let phase: Double

    init(name: String) {
        var hash: UInt64 = 14_695_981_039_346_656_037
        for b in name.utf8 { hash = (hash ^ UInt64(b)) &* 1_099_511_628_211 }
        phase = Double(hash % 10_000) / 10_000 * 2 * Double.pi
    }

    /// Writes the reading's fields (units in the key names).
    func sample(atMilliseconds ms: Int64, into json: inout JSONWriter) {
        let t = Double(ms) / 1000
        json.key("temperature_c")
        json.number(21 + 3 * sin(t / 600 + phase) + 0.1 * sin(t / 7), decimals: 2)
        json.key("humidity_pct")
        json.number(45 + 10 * sin(t / 900 + phase * 2), decimals: 1)
        json.key("pressure_hpa")
        json.number(1013.25 + 4 * sin(t / 3600 + phase), decimals: 2)
    }
}

/// Wall-clock time in milliseconds since the Unix epoch.
func wallClockMilliseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
