import Agent
import ArgumentParser
import Hardware
import Sensors

extension String {
    func padding(toLength length: Int) -> String { count >= length ? self + " " : self + String(repeating: " ", count: length - count) }
}
