import Agent
import ArgumentParser
import MQTT
import Spool

#if canImport(Glibc)
import Glibc
#endif

/// /proc/self/io: `wchar` counts bytes passed to write(2); `write_bytes` bytes sent to the device.
struct IOCounters {
    var wchar: Int64 = 0
    var writeBytes: Int64 = 0

    static func read() -> IOCounters {
        var counters = IOCounters()
        guard let text = readFile("/proc/self/io") else { return counters }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = Int64(parts[1]) else { continue }
            if parts[0] == "wchar:" { counters.wchar = value }
            if parts[0] == "write_bytes:" { counters.writeBytes = value }
        }
        return counters
    }
}
