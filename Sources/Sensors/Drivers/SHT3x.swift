import Hardware

/// Sensirion SHT30/31/35 (SHT3x-DIS datasheet): single-shot measurement, high repeatability,
/// clock stretching disabled (command 0x2400, section 4.3), CRC-8 on every word (section 4.12).
/// The chip has no id register; reading its status register with a valid CRC identifies it. The
/// 1.5 ms after a soft reset are a step of the two-step contract, not a sleep on the loop.
public final class SHT3x: SensorDriver {
    enum Step { case resetting, ready }

    let bus: any I2CBus
    let address: UInt8
    private var buffer = [UInt8](repeating: 0, count: 6)
    private var step = Step.resetting
    private var readyAt: UInt64 = 0
    /// Section 4.9 and Table 4: the soft reset takes at most 1.5 ms.
    static let resetNanoseconds: UInt64 = 1_500_000

    public init(bus: any I2CBus, address: UInt8, options: DriverOptions) throws {
        self.bus = bus
        self.address = address
        try options.finish()
    }

    public var quantities: [Quantity] { [.temperature, .humidity] }

    public func configure() throws {
        try bus.command(address, 0x30, 0xA2) // soft reset (4.9)
        step = .resetting
        readyAt = monotonicNanoseconds() + SHT3x.resetNanoseconds
    }

    public func start() throws -> UInt64 {
        if step == .resetting {
            let now = monotonicNanoseconds()
            return readyAt > now ? readyAt - now : 0 // collect identifies the chip then
        }
        try bus.command(address, 0x24, 0x00)
        return 15_500_000 // Table 4: high repeatability, max 15.5 ms
    }

    public func collect(into m: inout Measurement) throws -> UInt64? {
        if step == .resetting {
            try bus.command(address, 0xF3, 0x2D) // read status register (4.11)
            try bus.read(address, into: &buffer, count: 3)
            _ = try sensirionWords(buffer, words: 1, what: "status register (is this an SHT3x?)")
            step = .ready
            return try start()
        }
        // While converting, the chip does not acknowledge a read header (section 4.4).
        do { try bus.read(address, into: &buffer, count: 6) } catch SensorError.bus(let e) where e.isNoAcknowledge {
            throw SensorError.conversionStuck("SHT3x still converting after 15.5 ms (\(e))")
        }
        let (t, rh) = try sensirionWords(buffer, words: 2, what: "measurement")
        // Section 4.13: T = -45 + 175 * S_T / (2^16 - 1); RH = 100 * S_RH / (2^16 - 1).
        m.add(.temperature, -45 + 175 * Double(t) / 65535, decimals: 2)
        m.add(.humidity, 100 * Double(rh) / 65535, decimals: 2)
        return nil
    }
}
