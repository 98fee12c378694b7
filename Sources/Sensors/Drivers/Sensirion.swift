import Hardware

/// Helpers shared by chips that take 8- or 16-bit commands and answer with CRC-checked words.
extension I2CBus {
    /// Sends a 1-, 2- or 3-byte command; the bytes live on the stack (no allocation per reading).
    func command(_ address: UInt8, _ a: UInt8) throws { try command(address, bytes: (a), count: 1) }
    func command(_ address: UInt8, _ a: UInt8, _ b: UInt8) throws { try command(address, bytes: (a, b), count: 2) }
    func command(_ address: UInt8, _ a: UInt8, _ b: UInt8, _ c: UInt8) throws { try command(address, bytes: (a, b, c), count: 3) }

    private func command<T>(_ address: UInt8, bytes: T, count: Int) throws {
        try withUnsafeBytes(of: bytes) { raw in
            try onBus { () throws(I2CError) in try write(address: address, UnsafeRawBufferPointer(rebasing: raw[0..<count])) }
        }
    }

    func read(_ address: UInt8, into buffer: inout [UInt8], count: Int) throws {
        try buffer.withUnsafeMutableBytes { raw in
            try onBus { () throws(I2CError) in try read(address: address, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<count])) }
        }
    }
}

/// Checks the CRC after each 2-byte word (Sensirion's framing: MSB, LSB, CRC) and returns the words.
func sensirionWords(_ bytes: [UInt8], words: Int, what: String) throws(SensorError) -> (UInt16, UInt16) {
    var values: (UInt16, UInt16) = (0, 0)
    for i in 0..<words {
        let crc = bytes.withUnsafeBytes { crc8Sensirion(UnsafeRawBufferPointer(rebasing: $0[(3 * i)..<(3 * i + 2)])) }
        guard crc == bytes[3 * i + 2] else { throw .checksum(what: "\(what) word \(i)", received: bytes[3 * i + 2], computed: crc) }
        let word = UInt16(bytes[3 * i]) << 8 | UInt16(bytes[3 * i + 1])
        if i == 0 { values.0 = word } else { values.1 = word }
    }
    return values
}

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
        m.add("temperature_c", -45 + 175 * Double(t) / 65535, decimals: 2)
        m.add("humidity_pct", 100 * Double(rh) / 65535, decimals: 2)
        return nil
    }
}

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
        m.add("temperature_c", -45 + 175 * Double(t) / 65535, decimals: 2)
        m.add("humidity_pct", min(max(-6 + 125 * Double(rh) / 65535, 0), 100), decimals: 2)
        return nil
    }
}
