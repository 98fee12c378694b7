import ArgumentParser

struct SpoolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "spool", abstract: "Inspect the on-disk buffer of readings.")
}
