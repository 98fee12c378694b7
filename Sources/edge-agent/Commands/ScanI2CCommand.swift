import Agent
import ArgumentParser
import Hardware
import Sensors

struct ScanI2CCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan-i2c",
        abstract: "List the devices answering on an I2C bus (like i2cdetect), naming known chips by their id registers.")

    @Option(help: "The bus number N of /dev/i2c-N.")
    var bus: Int

    func run() throws {
        let i2c: LinuxI2CBus
        do { i2c = try LinuxI2CBus(number: bus) } catch { printError("\(error)"); throw ExitCode(1) }
        var text = "i2c-\(bus):\n"
        var found = 0
        for address in UInt8(0x08)...UInt8(0x77) where i2c.probe(address: address) {
            found += 1
            text += "  \(hex(address))  \(SensorCatalog.identify(bus: i2c, address: address))\n"
        }
        text += found == 0 ? "  no devices answered\n" : ""
        writeOut(text)
    }
}
