import Glibc
import Testing

@testable import Sensors

/// The DS18B20's w1_slave read never runs on the caller's thread. Under the systemd unit's sandbox
/// `therm_bulk_read` is not writable, and reading w1_slave makes the kernel convert for 750 ms: here
/// w1_slave is a FIFO, whose read waits until this test (the "kernel") writes, and there is no
/// therm_bulk_read at all.
@Suite struct DS18B20OffTheLoop {
    static func now() -> UInt64 { monotonicNanoseconds() }

    @Test func aReadThatWaitsDoesNotBlockTheLoop() throws {
        var template = Array("/tmp/w1-test-XXXXXX".utf8CString)
        let root = String(cString: mkdtemp(&template)!)
        let id = "28-0316a2798aff"
        mkdir("\(root)/\(id)", 0o755)
        let fifo = "\(root)/\(id)/w1_slave"
        #expect(mkfifo(fifo, 0o644) == 0)
        defer { unlink(fifo); rmdir("\(root)/\(id)"); rmdir(root) }
        let driver = try DS18B20(options: DriverOptions(["id": id], driver: "ds18b20"), sysfsRoot: root)
        try driver.configure()
        let before = Self.now()
        let wait = try driver.start()
        #expect(wait == DS18B20.conversionNanoseconds)
        var m = Measurement()
        #expect(try driver.collect(into: &m) == DS18B20.pollNanoseconds) // not converted yet: poll again
        #expect(Self.now() - before < 100_000_000, "start and collect returned at once")
        // The "kernel" finishes the conversion 300 ms later.
        usleep(300_000)
        #expect(try driver.collect(into: &m) == DS18B20.pollNanoseconds)
        let writer = open(fifo, O_WRONLY)
        #expect(writer >= 0)
        let text = "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n"
        _ = text.withCString { write(writer, $0, strlen($0)) }
        close(writer)
        var result: UInt64? = DS18B20.pollNanoseconds
        for _ in 0..<100 where result != nil {
            usleep(10_000)
            result = try driver.collect(into: &m)
        }
        #expect(result == nil)
        #expect(m["temperature_c"] == 23.125)
    }
}
