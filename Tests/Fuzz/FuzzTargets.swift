import Spool

@testable import Agent
@testable import MQTT
@testable import Sensors

#if canImport(Glibc)
import Glibc
#endif

/// libFuzzer targets for every parser of outside bytes, in one binary: `EDGE_FUZZ_TARGET` names
/// the one to run (`scripts/fuzz.sh` builds it with `-sanitize=fuzzer,address -D FUZZING`). Built
/// without FUZZING, the same binary replays files: `edge-agent-fuzz TARGET FILE...`.
enum FuzzTarget: String, CaseIterable {
    /// A byte stream from the broker into a connected session, in chunks the first byte chooses.
    case mqtt
    /// A command request through the inbox, the parser and the command table of a real agent.
    case commands
    /// A configuration file through libyaml, the strict decoder and every check.
    case config
    /// A board file; the same bytes as the serial file `device_id: auto` reads.
    case board
    /// Spool recovery: a segment, a cursor and a sequences file from arbitrary bytes.
    case spool
    /// The kernel's w1_slave text for a DS18B20.
    case w1

    func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .mqtt: FuzzMQTT.run(bytes)
        case .commands: FuzzCommands.run(bytes)
        case .config:
            let text = String(decoding: bytes, as: UTF8.self)
            guard let (config, lines) = try? YAMLDecoder.decodeWithLines(AgentConfig.self, from: text, file: "fuzz.yaml") else { return }
            _ = try? config.check(lines, checkFiles: false)
            _ = try? config.check(lines, against: Board.simulated)
        case .board:
            if case .success(let serial) = DeviceIdentity.clean(String(decoding: bytes, as: UTF8.self)) {
                _ = DeviceIdentity.resolve("site-{serial}", serial: serial)
            }
            guard let board = try? YAMLDecoder.decode(Board.self, from: String(decoding: bytes, as: UTF8.self), file: "fuzz.board.yaml")
            else { return }
            for spec in ["pin 11", "GPIO17", "17", "pin 99"] { _ = board.lineOffset(spec) }
        case .spool: FuzzSpool.run(bytes)
        case .w1: _ = try? DS18B20.parse(ArraySlice(bytes))
        }
    }

    static let selected: FuzzTarget = {
        guard let name = getenv("EDGE_FUZZ_TARGET").map({ String(cString: $0) }), let target = FuzzTarget(rawValue: name) else {
            printError("set EDGE_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n")
            exit(2)
        }
        return target
    }()
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTarget.selected.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// SwiftPM links an executable's entry point under this name; libFuzzer's driver takes over.
@_cdecl("edge_agent_fuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    _ = FuzzTarget.selected
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) }
}
#else
@main
struct Replay {
    static func main() {
        let arguments = CommandLine.arguments
        guard arguments.count >= 2, let target = FuzzTarget(rawValue: arguments[1]) else {
            printError("usage: edge-agent-fuzz TARGET FILE...; targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n")
            exit(2)
        }
        for path in arguments.dropFirst(2) {
            guard let text = readFileBytes(path) else { printError("cannot read \(path)\n"); exit(1) }
            text.withUnsafeBytes { target.run($0) }
        }
        print("\(target.rawValue): \(arguments.count - 2) input(s) replayed")
    }
}
#endif

func readFileBytes(_ path: String) -> [UInt8]? {
    guard let fd = Optional(open(path, O_RDONLY | O_CLOEXEC)), fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = read(fd, &chunk, chunk.count)
        if n <= 0 { break }
        bytes.append(contentsOf: chunk[..<n])
    }
    return bytes
}

func printError(_ text: String) {
    var line = text
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}
