struct JSONSyntaxError: Error, CustomStringConvertible {
    let offset: Int
    let message: String
    var description: String { "malformed JSON at byte \(offset): \(message)" }
}
