/// Why a topology file or node list was rejected; the description names the TOML line or the node concerned.
public struct TopologyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Short English explanation.
    public var message: String
    /// 1-based line in the topology file, when the error came from TOML syntax.
    public var line: Int?
    /// The node id (or `node #k` position when the id itself is unusable) the error concerns.
    public var node: String?

    /// Creates an error, optionally located by line or node.
    public init(_ message: String, line: Int? = nil, node: String? = nil) {
        self.message = message
        self.line = line
        self.node = node
    }

    /// "topology line N: message" or "topology node X: message".
    public var description: String {
        if let line { return "topology line \(line): \(message)" }
        if let node { return "topology node \(node): \(message)" }
        return "topology: \(message)"
    }
}
