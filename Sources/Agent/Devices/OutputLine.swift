import Hardware
import MQTT
import Sensors

#if canImport(Glibc)
import Glibc
#endif

final class OutputLine {
    let settings: GPIOSettings
    let line: any GPIOOutput
    /// When a gpio-pulse ends and the line returns to its previous level.
    var pulseEndsAt: UInt64?
    /// Where its records go (RecordTarget.swift).
    var target: RecordTarget

    init(settings: GPIOSettings, line: any GPIOOutput) {
        self.settings = settings
        self.line = line
        target = RecordTarget(name: settings.name, event: true)
    }
}
