import Hardware

/// Sensirion SHT40/41/45 (SHT4x datasheet): high-precision measurement (0xFD, 8.3 ms max),
/// identified by its serial number (0x89), CRC-8 on every word. The soft reset's 1 ms and the
/// serial number's 1 ms are steps of the two-step contract, not sleeps on the loop.
public final class SHT4x: SensorDriver {
    enum Step { case resetting, identifying, ready }

    let bus: any I2CBus
    let address: UInt8
    private var buffer = [UInt8](repeating: 0, count: 6)
    private var step = Step.resetting
    private var readyAt: UInt64 = 0
    public private(set) var serialNumber: UInt32 = 0
    /// Datasheet Table 4 (soft reset) and section 4.5 (serial number): 1 ms each.
    static let commandNanoseconds: UInt64 = 1_000_000

    public init(bus: any I2CBus, address: UInt8, options: DriverOptions) throws {
        self.bus = bus
        self.address = address
        try options.finish()
    }

    public var quantities: [Quantity] { [.temperature, .humidity] }

    public func configure() throws {
        try bus.command(address, 0x94) // soft reset
        step = .resetting
        readyAt = monotonicNanoseconds() + SHT4x.commandNanoseconds
    }

    public func start() throws -> UInt64 {
        if step == .resetting {
            let now = monotonicNanoseconds()
            return readyAt > now ? readyAt - now : 0 // collect asks for the serial number then
        }
        try bus.command(address, 0xFD)
        return 8_300_000
    }

    public func collect(into m: inout Measurement) throws -> UInt64? {
        switch step {
        case .resetting:
            try bus.command(address, 0x89) // serial number
            step = .identifying
            return SHT4x.commandNanoseconds
        case .identifying:
            try bus.read(address, into: &buffer, count: 6)
            let (high, low) = try sensirionWords(buffer, words: 2, what: "serial number (is this an SHT4x?)")
            serialNumber = UInt32(high) << 16 | UInt32(low)
            step = .ready
            return try start()
        case .ready:
            break
        }
        do { try bus.read(address, into: &buffer, count: 6) } catch SensorError.bus(let e) where e.isNoAcknowledge {
            throw SensorError.conversionStuck("SHT4x still converting after 8.3 ms (\(e))")
        }
        let (t, rh) = try sensirionWords(buffer, words: 2, what: "measurement")
        // Section 4.6: T = -45 + 175 * S_T / 65535; RH = -6 + 125 * S_RH / 65535, cropped to 0...100.
        m.add(.temperature, -45 + 175 * Double(t) / 65535, decimals: 2)
        m.add(.humidity, min(max(-6 + 125 * Double(rh) / 65535, 0), 100), decimals: 2)
        return nil
    }
}
