import Hardware
import Sensors

#if canImport(Glibc)
import Glibc
#endif

/// The hardware a configuration describes, opened for the board it runs on: I2C buses, the GPIO
/// chip, IO expanders, sensor drivers and GPIO lines. On the simulated board every sensor gets a
/// chip model on a simulated bus and lines live on a simulated chip.
///
/// Nothing here is fatal: a bus that does not exist yet, a chip that does not answer, a line
/// that cannot be requested are reported and retried (sensors) or logged (lines), and the rest
/// of the agent runs.
final class Devices {
    let board: Board
    private var buses: [Int: any I2CBus] = [:]
    private(set) var chip: (any GPIOChip)?
    private var expanders: [String: any GPIOChip] = [:]
    var sensors: [SensorRunner] = []
    var inputs: [InputLine] = []
    var outputs: [OutputLine] = []

    init(config: AgentConfig, board: Board, now: UInt64) {
        self.board = board
        for settings in config.sensors {
            sensors.append(SensorRunner(settings: settings, driver: makeDriver(settings), now: now))
        }
        openGPIO(config, now: now)
    }

    func bus(_ number: Int) -> any I2CBus {
        if let bus = buses[number] { return bus }
        let bus: any I2CBus = board.isSimulated ? SimulatedI2CBus(number: number) : ReopeningI2CBus(number: number)
        buses[number] = bus
        return bus
    }

    private func makeDriver(_ s: SensorSettings) -> Result<any SensorDriver, any Error> {
        if s.driver == "simulated" { return .success(SimulatedSensorDriver(name: s.name)) }
        let number = s.bus ?? board.i2cBus
        let address = s.address?.value ?? SensorCatalog.defaultAddress(s.driver)
        let bus = self.bus(number)
        if let address { attachSimulatedChip(s.driver, on: bus, at: address) }
        return Result { try SensorCatalog.makeDriver(s.driver, bus: bus, address: address, options: s.options) }
    }

    /// On a simulated bus, puts the chip model for `driver` at `address` unless one is there.
    private func attachSimulatedChip(_ driver: String, on bus: any I2CBus, at address: UInt8) {
        guard let simulated = bus as? SimulatedI2CBus, simulated.devices[address] == nil,
            let model = SensorCatalog.simulatedChip(for: driver)
        else { return }
        simulated.attach(model, at: address)
    }

    private func openGPIO(_ config: AgentConfig, now: UInt64) {
        guard !config.gpio.isEmpty else { return }
        if board.isSimulated {
            let simulated = SimulatedGPIOChip(name: "gpiochip-sim", lineCount: board.gpioLines)
            for (output, input) in board.wires {
                if let o = board.lineOffset(output), let i = board.lineOffset(input) { simulated.wire(output: o, to: i) }
            }
            chip = simulated
        } else {
            do { chip = try LinuxGPIOChip(lookup: board.gpioChip) } catch { Log.error("GPIO: \(error); GPIO lines are unavailable") }
        }
        for e in config.expanders {
            let address = e.address?.value ?? SensorCatalog.defaultAddress(e.driver) ?? 0x20
            let bus = self.bus(e.bus ?? board.i2cBus)
            attachSimulatedChip(e.driver, on: bus, at: address)
            do {
                expanders[e.name] =
                    e.driver == "pcf8574"
                    ? try PCF8574(name: e.name, bus: bus, address: address)
                    : try MCP23017(name: e.name, bus: bus, address: address)
            } catch { Log.error("expander \(e.name): \(error); its lines are unavailable") }
        }
        for settings in config.gpio {
            let target = settings.chip.map { expanders[$0] } ?? chip
            guard let target else { continue }
            guard let offset = settings.chip == nil ? board.lineOffset(settings.line) : expanderOffset(settings.line) else {
                Log.error("GPIO \(settings.name): line '\(settings.line)' not found"); continue
            }
            do {
                switch settings.direction {
                case .output:
                    let line = try target.requestOutput(
                        offset: offset,
                        GPIOOutputOptions(consumer: "edge-agent:\(settings.name)", initial: settings.initial, activeLow: settings.activeLow)
                    )
                    outputs.append(OutputLine(settings: settings, line: line))
                case .input, .counter:
                    let edge: GPIOEdge =
                        switch settings.edge {
                        case .rising: .rising;
                        case .falling: .falling;
                        case .both: .both
                        }
                    let bias: GPIOBias =
                        switch settings.bias {
                        case .asIs: .asIs;
                        case .disabled: .disabled;
                        case .pullUp: .pullUp;
                        case .pullDown: .pullDown
                        }
                    let line = try target.requestInput(
                        offset: offset,
                        GPIOInputOptions(
                            consumer: "edge-agent:\(settings.name)", bias: bias,
                            edge: settings.direction == .counter ? edge : .both, activeLow: settings.activeLow,
                            debounce: settings.debounce.nanoseconds))
                    inputs.append(InputLine(settings: settings, line: line, now: now))
                }
            } catch { Log.error("GPIO \(settings.name): \(error)") }
        }
    }

    /// Expander lines: `3`, `P3` (PCF8574), `A3` or `B0` (MCP23017: B0 is line 8).
    private func expanderOffset(_ spec: String) -> Int? {
        let upper = spec.uppercased()
        if let n = Int(upper) { return n }
        guard let first = upper.first, let n = Int(upper.dropFirst()), (0..<8).contains(n) else { return nil }
        switch first {
        case "P", "A": return n;
        case "B": return 8 + n;
        default: return nil
        }
    }
}

/// One reading of one sensor of a config, for `edge-agent read`: opens only that sensor's bus,
/// takes the reading (waiting out its conversion) and returns the fields. No spool, no network.
public func readSensorOnce(config: AgentConfig, configPath: String, sensor name: String) throws -> [(
    key: String, value: Double, decimals: Int
)] {
    guard let settings = config.sensors.first(where: { $0.name == name }) else {
        throw AgentError.config(
            "no sensor named '\(name)' in \(configPath); sensors: \(config.sensors.map(\.name).joined(separator: ", "))")
    }
    var single = config
    single.sensors = [settings]
    single.gpio = []
    let devices = Devices(config: single, board: try Board.load(config.board, configPath: configPath), now: 0)
    let runner = devices.sensors[0]
    try runner.readBlocking()
    return runner.measurement.fields.map { ("\($0.key)", $0.value, $0.decimals) }
}
