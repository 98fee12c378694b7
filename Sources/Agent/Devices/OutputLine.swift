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
    /// Its slot in `Agent.states`; -1 without state topics.
    var stateSlot = -1

    init(settings: GPIOSettings, line: any GPIOOutput) {
        self.settings = settings
        self.line = line
    }
}
