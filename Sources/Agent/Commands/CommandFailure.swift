/// Why a request was refused; its message is the reply's `error`.
struct CommandFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
