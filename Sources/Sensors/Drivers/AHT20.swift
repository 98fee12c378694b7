import Hardware

/// Aosong AHT20 (datasheet v1.1, section 7.4): after power-on wait 40 ms, read the status and, if
/// the calibration bit is clear, initialise (0xBE 0x08 0x00, 10 ms); then trigger 0xAC 0x33 0x00,
/// wait 80 ms, read status, 20-bit humidity, 20-bit temperature and a CRC-8 (Sensirion's
/// polynomial). Every wait is a step of the two-step contract, never a sleep on the loop.
public final class AHT20: SensorDriver {
    enum Step { case poweringOn, initialising, ready, measuring }

    let bus: any I2CBus
    let address: UInt8
    private var buffer = [UInt8](repeating: 0, count: 7)
    private var step = Step.poweringOn
    /// When the chip may first be spoken to: 40 ms after the driver (and, at boot, the chip) started.
    private var readyAt: UInt64 = 0
    static let powerOnNanoseconds: UInt64 = 40_000_000

    public init(bus: any I2CBus, address: UInt8, options: DriverOptions) throws {
        self.bus = bus; self.address = address
        try options.finish()
    }

    public var quantities: [Quantity] { [.temperature, .humidity] }

    public func configure() throws {
        step = .poweringOn
        readyAt = monotonicNanoseconds() + AHT20.powerOnNanoseconds
    }

    public func start() throws -> UInt64 {
        if step == .poweringOn {
            let now = monotonicNanoseconds()
            return readyAt > now ? readyAt - now : 0 // collect reads the status then
        }
        try bus.command(address, 0xAC, 0x33, 0x00)
        step = .measuring
        return 80_000_000
    }

    public func collect(into m: inout Measurement) throws -> UInt64? {
        switch step {
        case .poweringOn:
            try bus.command(address, 0x71) // get status
            try bus.read(address, into: &buffer, count: 1)
            if buffer[0] & 0x08 == 0 { // calibration not enabled: initialise
                try bus.command(address, 0xBE, 0x08, 0x00)
                step = .initialising
                return 10_000_000
            }
            step = .ready
            return try start()
        case .initialising:
            step = .ready
            return try start()
        case .ready, .measuring:
            break
        }
        try bus.read(address, into: &buffer, count: 7)
        if buffer[0] & 0x80 != 0 { throw SensorError.conversionStuck("AHT20 status still busy after 80 ms") }
        let crc = buffer.withUnsafeBytes { crc8Sensirion(UnsafeRawBufferPointer(rebasing: $0[0..<6])) }
        guard crc == buffer[6] else { throw SensorError.checksum(what: "AHT20 measurement", received: buffer[6], computed: crc) }
        let rawRH = UInt32(buffer[1]) << 12 | UInt32(buffer[2]) << 4 | UInt32(buffer[3] >> 4)
        let rawT = UInt32(buffer[3] & 0x0F) << 16 | UInt32(buffer[4]) << 8 | UInt32(buffer[5])
        // Section 8: RH = S_RH / 2^20 * 100 %; T = S_T / 2^20 * 200 - 50 °C.
        m.add(.temperature, Double(rawT) / 1_048_576 * 200 - 50, decimals: 2)
        m.add(.humidity, Double(rawRH) / 1_048_576 * 100, decimals: 2)
        return nil
    }
}
