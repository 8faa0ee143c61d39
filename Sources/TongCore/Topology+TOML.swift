extension Topology {
    /// Parses and validates a topology file (`federation = "…"` plus `[[node]]` / `[[node.department]]` tables); unknown keys are rejected so
    /// typos cannot silently drop settings.
    public static func parse(toml: String) throws(TopologyError) -> Topology {
        let doc: [String: TOMLValue]
        do {
            doc = try TOML.parse(toml)
        } catch {
            throw TopologyError(error.message, line: error.line)
        }
        for key in doc.keys.sorted() where key != "federation" && key != "node" {
            throw TopologyError("unknown top-level key '\(key)'")
        }
        guard let fedValue = doc["federation"] else { throw TopologyError("federation name is missing") }
        guard let federation = fedValue.stringValue else {
            throw TopologyError("'federation' must be a string, got \(fedValue.kindName)")
        }
        guard let nodeValue = doc["node"] else { throw TopologyError("no nodes defined") }
        guard let nodeTables = nodeValue.arrayValue else {
            throw TopologyError("'node' must be an array of tables ([[node]]), got \(nodeValue.kindName)")
        }
        var nodes: [Node] = []
        nodes.reserveCapacity(nodeTables.count)
        for (k, value) in nodeTables.enumerated() {
            guard let table = value.tableValue else {
                throw TopologyError("'node' must be an array of tables ([[node]])")
            }
            let label = table["id"]?.stringValue ?? "#\(k + 1)"
            var fields = TopologyFields(table: table, node: label)
            let id = try fields.required("id")
            let name = try fields.required("name")
            let parent = try fields.optional("parent")
            let http = try fields.optional("http")
            let peer = try fields.optional("peer")
            var departments: [Department] = []
            if let depValue = table["department"] {
                fields.seen.insert("department")
                guard let depTables = depValue.arrayValue else {
                    throw TopologyError("'department' must be an array of tables ([[node.department]])", node: label)
                }
                for dep in depTables {
                    guard let depTable = dep.tableValue else {
                        throw TopologyError("'department' must be an array of tables ([[node.department]])", node: label)
                    }
                    var depFields = TopologyFields(table: depTable, node: label, context: "department ")
                    let depID = try depFields.required("id")
                    let depName = try depFields.required("name")
                    try depFields.rejectUnknown()
                    departments.append(Department(id: depID, name: depName))
                }
            }
            try fields.rejectUnknown()
            nodes.append(Node(id: id, name: name, parent: parent, http: http, peer: peer, departments: departments))
        }
        return try Topology(federation: federation, nodes: nodes)
    }

    /// Writes the topology in the same format `parse(toml:)` reads, so node homes can carry a copy that round-trips exactly.
    public func toTOML() -> String {
        var out = "federation = \(Self.quote(federation))\n"
        for n in nodes {
            out += "\n[[node]]\n"
            out += "id = \(Self.quote(n.id))\n"
            out += "name = \(Self.quote(n.name))\n"
            if let p = n.parent { out += "parent = \(Self.quote(p))\n" }
            if let h = n.http { out += "http = \(Self.quote(h))\n" }
            if let p = n.peer { out += "peer = \(Self.quote(p))\n" }
            for d in n.departments {
                out += "  [[node.department]]\n"
                out += "  id = \(Self.quote(d.id))\n"
                out += "  name = \(Self.quote(d.name))\n"
            }
        }
        return out
    }

    /// A TOML basic string literal for `s`, escaping quotes, backslashes and control characters.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 || u.value == 0x7F {
                    let h = String(u.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}

/// Typed access to one table's string fields, remembering which keys were consumed so leftovers can be reported.
private struct TopologyFields {
    let table: [String: TOMLValue]
    let node: String
    var context = ""
    var seen: Set<String> = []

    init(table: [String: TOMLValue], node: String, context: String = "") {
        self.table = table
        self.node = node
        self.context = context
    }

    mutating func optional(_ key: String) throws(TopologyError) -> String? {
        seen.insert(key)
        guard let v = table[key] else { return nil }
        guard let s = v.stringValue else {
            throw TopologyError("\(context)'\(key)' must be a string, got \(v.kindName)", node: node)
        }
        return s
    }

    mutating func required(_ key: String) throws(TopologyError) -> String {
        guard let s = try optional(key) else {
            throw TopologyError("\(context)'\(key)' is missing", node: node)
        }
        return s
    }

    func rejectUnknown() throws(TopologyError) {
        for key in table.keys.sorted() where !seen.contains(key) {
            throw TopologyError("unknown \(context)key '\(key)'", node: node)
        }
    }
}
