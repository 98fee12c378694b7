import Agent
import ArgumentParser

/// `edge-agent sign-config`: the request `config-set` (or a group topic) takes, signed with the
/// Ed25519 private key whose public half the boards name in `remote_config.public_key`.
struct SignConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign-config",
        abstract: "Sign a configuration for config-set or a group topic; prints the request (JSON).",
        discussion: """
            A key pair: openssl genpkey -algorithm ed25519 -out remote-config.key
                        openssl pkey -in remote-config.key -pubout -out remote-config.pub
            The configuration needs a top-level config_version higher than the one the boards run.
            """)

    @Option(help: "The configuration to push.")
    var config: String

    @Option(help: "Ed25519 private key (PEM); leave out only for boards with allow_unsigned: true.")
    var key: String?

    @Option(help: "The request's id, echoed in its replies.")
    var id: String?

    func run() throws {
        guard let text = readFile(config) else { printError("cannot read \(config)"); throw ExitCode(1) }
        do { writeOut(try ConfigSigning.request(text: text, keyFile: key, id: id) + "\n") } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}
