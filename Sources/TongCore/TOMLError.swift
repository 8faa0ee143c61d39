/// A TOML syntax or structure error, located by 1-based line number.
public struct TOMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line where the problem was found.
    public var line: Int
    /// Short English explanation.
    public var message: String

    /// Creates an error at `line`.
    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    /// "line N: message".
    public var description: String { "line \(line): \(message)" }
}
