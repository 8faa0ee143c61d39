/// Where a change set may travel: the flow rules of design.md, rules 3 and 4.
public enum Scope: Sendable, Hashable {
    /// Nodes and departments: every node.
    case directory
    /// Public records owned by a node: that node, its ancestors and its descendants.
    case owned(String)
    /// Feedback: the tree path between the submitting node and the owning department's node.
    case route(from: String, to: String)

    /// Whether `node` holds change sets of this scope.
    public func isHeld(by node: String, in topology: Topology) -> Bool {
        switch self {
        case .directory: return true
        case .owned(let owner): return topology.holds(node: node, recordOwnedBy: owner)
        case .route(let from, let to):
            return topology.path(from: from, to: to).contains(node)
        }
    }

    /// JSON form used inside a change-set payload.
    public var json: JSONValue {
        switch self {
        case .directory: return ["directory": true]
        case .owned(let o): return ["owner": .string(o)]
        case .route(let f, let t): return ["from": .string(f), "to": .string(t)]
        }
    }

    /// Parses the JSON form.
    public init?(json: JSONValue) {
        guard let o = json.objectValue else { return nil }
        if o.count == 1, o["directory"] == .bool(true) { self = .directory; return }
        if o.count == 1, let owner = o["owner"]?.stringValue { self = .owned(owner); return }
        if o.count == 2, let f = o["from"]?.stringValue, let t = o["to"]?.stringValue { self = .route(from: f, to: t); return }
        return nil
    }

    /// A compact text key for storage and indexing ("dir", "own:330100", "route:330106>320100").
    public var key: String {
        switch self {
        case .directory: return "dir"
        case .owned(let o): return "own:\(o)"
        case .route(let f, let t): return "route:\(f)>\(t)"
        }
    }

    /// Parses the compact key.
    public init?(key: String) {
        if key == "dir" { self = .directory; return }
        if key.hasPrefix("own:") { self = .owned(String(key.dropFirst(4))); return }
        if key.hasPrefix("route:") {
            let parts = key.dropFirst(6).split(separator: ">")
            guard parts.count == 2 else { return nil }
            self = .route(from: String(parts[0]), to: String(parts[1])); return
        }
        return nil
    }
}
