import ArgumentParser
import MQTT

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure throughput.",
        subcommands: [BenchPublish.self, BenchSpool.self])
}

/// A fixed-point rendering without Foundation's String(format:).
func format(_ value: Double, _ decimals: Int) -> String {
    var scale = 1
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int((value * Double(scale)).rounded())
    let whole = scaled / scale
    var fraction = String(abs(scaled % scale))
    while fraction.count < decimals { fraction = "0" + fraction }
    let sign = scaled < 0 && whole == 0 ? "-" : ""
    return decimals == 0 ? String(whole) : "\(sign)\(whole).\(fraction)"
}
