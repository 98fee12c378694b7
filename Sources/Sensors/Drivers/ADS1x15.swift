import Hardware

/// TI ADS1115 (16-bit) and ADS1015 (12-bit) ADCs (datasheets SBAS444, SBAS473): single-shot
/// conversions, one channel at a time. Config register 0x01: OS (bit 15: start; reads 1 when
/// idle), MUX (14:12), PGA (11:9), MODE (8: single-shot), DR (7:5), comparator off (1:0 = 11).
/// Conversion register 0x00: two's complement; ADS1015 left-aligned in 12 bits.
///
/// Options: `channels` (e.g. `0,1,2,3` single-ended against GND, or `0-1` differential; default
/// `0`), `gain` (full-scale volts: 6.144, 4.096, 2.048 default, 1.024, 0.512, 0.256).
public final class ADS1x15: SensorDriver {
    public enum Model: Sendable { case ads1115, ads1015 }

    struct Channel { let mux: UInt16; let quantity: Quantity }
    static let inputs: [(String, Channel)] = [
        ("0", Channel(mux: 0b100, quantity: Quantity("ain0_v", "AIN0 voltage", unit: "V", deviceClass: "voltage"))),
        ("1", Channel(mux: 0b101, quantity: Quantity("ain1_v", "AIN1 voltage", unit: "V", deviceClass: "voltage"))),
        ("2", Channel(mux: 0b110, quantity: Quantity("ain2_v", "AIN2 voltage", unit: "V", deviceClass: "voltage"))),
        ("3", Channel(mux: 0b111, quantity: Quantity("ain3_v", "AIN3 voltage", unit: "V", deviceClass: "voltage"))),
        ("0-1", Channel(mux: 0b000, quantity: Quantity("ain0_ain1_v", "AIN0-AIN1 voltage", unit: "V", deviceClass: "voltage"))),
        ("0-3", Channel(mux: 0b001, quantity: Quantity("ain0_ain3_v", "AIN0-AIN3 voltage", unit: "V", deviceClass: "voltage"))),
        ("1-3", Channel(mux: 0b010, quantity: Quantity("ain1_ain3_v", "AIN1-AIN3 voltage", unit: "V", deviceClass: "voltage"))),
        ("2-3", Channel(mux: 0b011, quantity: Quantity("ain2_ain3_v", "AIN2-AIN3 voltage", unit: "V", deviceClass: "voltage"))),
    ]
    static let gains: [(String, (Double, UInt16))] = [
        ("6.144", (6.144, 0b000)), ("4.096", (4.096, 0b001)), ("2.048", (2.048, 0b010)),
        ("1.024", (1.024, 0b011)), ("0.512", (0.512, 0b100)), ("0.256", (0.256, 0b101)),
    ]

    let bus: any I2CBus
    let address: UInt8
    public let model: Model
    let channels: [Channel]
    let fullScale: Double
    let pgaBits: UInt16
    private var current = 0

    public init(bus: any I2CBus, address: UInt8, model: Model, options: DriverOptions) throws {
        self.bus = bus; self.address = address; self.model = model
        var options = options
        let list = (options.string("channels") ?? "0").split(separator: ",").map { $0.trimmingCharacters(in: " ") }
        channels = try list.map { name throws(SensorError) in
            guard let channel = ADS1x15.inputs.first(where: { $0.0 == name })?.1 else {
                throw .option("\(options.driver): channels: '\(name)' is not one of \(ADS1x15.inputs.map(\.0).joined(separator: ", "))")
            }
            return channel
        }
        (fullScale, pgaBits) = try options.choice("gain", default: (2.048, 0b010), ADS1x15.gains)
        try options.finish()
    }

    public var quantities: [Quantity] { channels.map(\.quantity) }

    public func configure() throws {
        // No id register: a config register whose comparator-queue bits read back as written is
        // the best check; here reading it at all proves something answers.
        _ = try onBus { () throws(I2CError) in try bus.readWordBigEndian(address: address, register: 0x01) }
    }

    /// 128 SPS (ADS1115, 7.8 ms) or 1600 SPS (ADS1015, 0.625 ms); the wait adds 10 % for the
    /// internal oscillator's tolerance and the wake-up from power-down.
    var conversionNanoseconds: UInt64 { model == .ads1115 ? 8_700_000 : 800_000 }

    private func startConversion(_ channel: Channel) throws(SensorError) {
        let config: UInt16 = 1 << 15 | channel.mux << 12 | pgaBits << 9 | 1 << 8 | 0b100 << 5 | 0b11
        try onBus { () throws(I2CError) in try bus.writeWordBigEndian(address: address, register: 0x01, config) }
    }

    public func start() throws -> UInt64 {
        current = 0
        try startConversion(channels[0])
        return conversionNanoseconds
    }

    public func collect(into m: inout Measurement) throws -> UInt64? {
        let config = try onBus { () throws(I2CError) in try bus.readWordBigEndian(address: address, register: 0x01) }
        guard config & 0x8000 != 0 else {
            throw SensorError.conversionStuck("ADS1x15 still converting (OS bit 0) after \(conversionNanoseconds / 1000) us")
        }
        let raw = try onBus { () throws(I2CError) in try bus.readWordBigEndian(address: address, register: 0x00) }
        m.add(channels[current].quantity, volts(raw), decimals: model == .ads1115 ? 5 : 4)
        current += 1
        guard current < channels.count else { return nil }
        try startConversion(channels[current])
        return conversionNanoseconds
    }

    /// Output code to volts (SBAS444 Table 3): FS / 2^15 per count; ADS1015: FS / 2^11, 12 bits left-aligned.
    func volts(_ raw: UInt16) -> Double {
        switch model {
        case .ads1115: return Double(Int16(bitPattern: raw)) * fullScale / 32768
        case .ads1015: return Double(Int16(bitPattern: raw) >> 4) * fullScale / 2048
        }
    }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}
