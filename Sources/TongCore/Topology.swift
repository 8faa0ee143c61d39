/// The federation tree of nodes (national → province → city → county), validated once and then queried cheaply.
public struct Topology: Sendable, Equatable {
    /// A department hosted by a node; its id is `<node id>-<slug>`.
    public struct Department: Sendable, Equatable, Codable {
        /// `<node id>-<slug>`, e.g. `100000-mof`.
        public var id: String
        /// Display name, e.g. 财政部.
        public var name: String

        /// Creates a department.
        public init(id: String, name: String) {
            self.id = id
            self.name = name
        }
    }

    /// One federation member, identified by its GB/T 2260 division code.
    public struct Node: Sendable, Equatable, Codable {
        /// Six-digit division code.
        public var id: String
        /// Display name, e.g. 浙江省.
        public var name: String
        /// The parent node id; nil only for the root.
        public var parent: String?
        /// `host:port` of the public HTTP listener, if this node serves one.
        public var http: String?
        /// `host:port` of the peer (node-to-node) listener.
        public var peer: String?
        /// Departments hosted by this node, in file order.
        public var departments: [Department]

        /// Creates a node.
        public init(
            id: String, name: String, parent: String? = nil, http: String? = nil, peer: String? = nil,
            departments: [Department] = []
        ) {
            self.id = id
            self.name = name
            self.parent = parent
            self.http = http
            self.peer = peer
            self.departments = departments
        }
    }

    /// The federation's name; nodes refuse peers from a different federation.
    public var federation: String
    /// All nodes in file order; read-only because the derived indexes below must stay consistent with it.
    public private(set) var nodes: [Node]
    /// Id of the single node without a parent.
    public let root: String

    // Derived at init so every query is a dictionary lookup plus an O(depth) walk, even for thousands of nodes.
    private let index: [String: Int]
    private let parentIndex: [Int]  // -1 for the root
    private let depths: [Int]
    private let childIDs: [[String]]

    /// Validates and indexes `nodes`; throws on any structural problem (ids, duplicates, roots, parents, cycles, departments, addresses).
    public init(federation: String, nodes: [Node]) throws(TopologyError) {
        if federation.unicodeScalars.allSatisfy({ $0.properties.isWhitespace }) {
            throw TopologyError("federation name is missing")
        }
        if let issue = Validation.text(federation, field: "federation", min: 1, max: 64) {
            throw TopologyError("federation name \(issue.message)")
        }
        guard !nodes.isEmpty else { throw TopologyError("no nodes defined") }

        var index: [String: Int] = [:]
        var departmentIDs: Set<String> = []
        for (k, n) in nodes.enumerated() {
            guard Validation.divisionCode(n.id) else {
                throw TopologyError("id '\(n.id)' must be a six-digit GB/T 2260 division code", node: "#\(k + 1)")
            }
            if index[n.id] != nil { throw TopologyError("duplicate node id", node: n.id) }
            index[n.id] = k
            if let issue = Validation.text(n.name, field: "name", min: 1, max: 128) {
                throw TopologyError("name \(issue.message)", node: n.id)
            }
            if n.parent == n.id { throw TopologyError("node is its own parent", node: n.id) }
            for (label, address) in [("http", n.http), ("peer", n.peer)] {
                if let address, !Topology.validAddress(address) {
                    throw TopologyError("\(label) address '\(address)' must be host:port with port 1-65535", node: n.id)
                }
            }
            for d in n.departments {
                guard let parsed = Validation.departmentID(d.id) else {
                    throw TopologyError("department id '\(d.id)' must be <node id>-<slug> with slug [a-z0-9-]", node: n.id)
                }
                guard parsed.node == n.id else {
                    throw TopologyError("department '\(d.id)' belongs to node \(parsed.node), not \(n.id)", node: n.id)
                }
                guard departmentIDs.insert(d.id).inserted else {
                    throw TopologyError("duplicate department id '\(d.id)'", node: n.id)
                }
                if let issue = Validation.text(d.name, field: "name", min: 1, max: 128) {
                    throw TopologyError("department '\(d.id)' name \(issue.message)", node: n.id)
                }
            }
        }

        var parentIndex = [Int](repeating: -1, count: nodes.count)
        var roots: [String] = []
        var children = [[Int]](repeating: [], count: nodes.count)
        for (k, n) in nodes.enumerated() {
            guard let p = n.parent else { roots.append(n.id); continue }
            guard let pk = index[p] else { throw TopologyError("unknown parent '\(p)'", node: n.id) }
            parentIndex[k] = pk
            children[pk].append(k)
        }
        guard let rootID = roots.first, let rootIndex = index[rootID] else {
            throw TopologyError("no root node: every node has a parent, so the parents form a cycle")
        }
        guard roots.count == 1 else {
            throw TopologyError("exactly one root node (without parent) is required, found \(roots.count): \(roots.joined(separator: ", "))")
        }

        // With one root and all parents known, any node unreachable from the root sits on or below a cycle.
        var depths = [Int](repeating: -1, count: nodes.count)
        depths[rootIndex] = 0
        var queue = [rootIndex]
        var head = 0
        while head < queue.count {
            let k = queue[head]
            head += 1
            for c in children[k] {
                depths[c] = depths[k] + 1
                queue.append(c)
            }
        }
        if queue.count != nodes.count, let start = depths.firstIndex(of: -1) {
            throw TopologyError(
                "parent links form a cycle: \(Topology.cycle(from: start, parents: parentIndex, nodes: nodes))",
                node: nodes[start].id)
        }

        self.federation = federation
        self.nodes = nodes
        self.root = rootID
        self.index = index
        self.parentIndex = parentIndex
        self.depths = depths
        self.childIDs = children.map { $0.map { nodes[$0].id }.sorted() }
    }

    /// Equality is over the declared content; the indexes are derived from it.
    public static func == (a: Topology, b: Topology) -> Bool {
        a.federation == b.federation && a.nodes == b.nodes
    }

    // MARK: - Queries

    /// The node with `id`, if it exists.
    public func node(_ id: String) -> Node? {
        index[id].map { nodes[$0] }
    }

    /// The parent id of `id`; nil for the root or an unknown id.
    public func parent(of id: String) -> String? {
        guard let k = index[id], parentIndex[k] >= 0 else { return nil }
        return nodes[parentIndex[k]].id
    }

    /// Direct children of `id`, sorted by id.
    public func children(of id: String) -> [String] {
        index[id].map { childIDs[$0] } ?? []
    }

    /// Ancestors of `id`, nearest first, ending with the root; empty for the root or an unknown id.
    public func ancestors(of id: String) -> [String] {
        guard var k = index[id] else { return [] }
        var out: [String] = []
        out.reserveCapacity(depths[k])
        while parentIndex[k] >= 0 {
            k = parentIndex[k]
            out.append(nodes[k].id)
        }
        return out
    }

    /// All descendants of `id` in breadth-first order (children sorted); empty for a leaf or unknown id.
    public func descendants(of id: String) -> [String] {
        guard let start = index[id] else { return [] }
        var out: [String] = []
        var queue = childIDs[start]
        var head = 0
        while head < queue.count {
            let c = queue[head]
            head += 1
            out.append(c)
            if let k = index[c] { queue.append(contentsOf: childIDs[k]) }
        }
        return out
    }

    /// Depth of `id` below the root (root = 0), or nil for an unknown id.
    public func depth(of id: String) -> Int? {
        index[id].map { depths[$0] }
    }

    /// Whether `a` is a strict ancestor of `b`; O(depth).
    public func isAncestor(_ a: String, of b: String) -> Bool {
        guard let ka = index[a], var kb = index[b], depths[ka] < depths[kb] else { return false }
        while depths[kb] > depths[ka] { kb = parentIndex[kb] }
        return kb == ka
    }

    /// Whether `a` and `b` are directly connected (one is the other's parent).
    public func isNeighbor(_ a: String, _ b: String) -> Bool {
        guard let ka = index[a], let kb = index[b] else { return false }
        return parentIndex[ka] == kb || parentIndex[kb] == ka
    }

    /// The tree path from `a` to `b`, both ends included; `[a]` when equal, empty if either is unknown.
    public func path(from a: String, to b: String) -> [String] {
        guard var ka = index[a], var kb = index[b] else { return [] }
        var up: [Int] = []
        var down: [Int] = []
        while depths[ka] > depths[kb] { up.append(ka); ka = parentIndex[ka] }
        while depths[kb] > depths[ka] { down.append(kb); kb = parentIndex[kb] }
        while ka != kb {
            up.append(ka); ka = parentIndex[ka]
            down.append(kb); kb = parentIndex[kb]
        }
        up.append(ka)
        return (up + down.reversed()).map { nodes[$0].id }
    }

    /// Flow rule for owned public records: a record owned by `owner` is held by `owner`, its ancestors and its descendants, nowhere else.
    public func holds(node: String, recordOwnedBy owner: String) -> Bool {
        guard index[node] != nil, index[owner] != nil else { return false }
        return node == owner || isAncestor(node, of: owner) || isAncestor(owner, of: node)
    }

    /// Every node that holds records owned by `owner` (ancestors nearest first, then `owner`, then descendants).
    public func holders(ofRecordOwnedBy owner: String) -> [String] {
        guard index[owner] != nil else { return [] }
        return ancestors(of: owner) + [owner] + descendants(of: owner)
    }

    /// The neighbour of `from` on the tree path toward `to` (nil if from == to).
    public func nextHop(from: String, toward to: String) -> String? {
        guard from != to, let kf = index[from], var kt = index[to] else { return nil }
        guard depths[kt] > depths[kf] else { return parent(of: from) }
        // Climb from the target to one level below `from`; if that lands on a child of `from`, go down, else up.
        while depths[kt] > depths[kf] + 1 { kt = parentIndex[kt] }
        return parentIndex[kt] == kf ? nodes[kt].id : parent(of: from)
    }

    /// The node hosting `departmentID` (its `<node>` prefix) if that node exists; the department need not be listed.
    public func departmentOwner(_ departmentID: String) -> String? {
        guard let parsed = Validation.departmentID(departmentID), index[parsed.node] != nil else { return nil }
        return parsed.node
    }

    // MARK: - Helpers

    /// `host:port` where host is IPv4, `localhost` or a DNS name and port is 1-65535.
    public static func validAddress(_ s: String) -> Bool {
        guard let colon = s.lastIndex(of: ":") else { return false }
        let host = s[..<colon]
        let port = s[s.index(after: colon)...]
        return Validation.validPort(port) && Validation.validHostName(host)
    }

    private static func cycle(from start: Int, parents: [Int], nodes: [Node]) -> String {
        var seenAt: [Int: Int] = [:]
        var walk: [Int] = []
        var k = start
        while k >= 0, seenAt[k] == nil {
            seenAt[k] = walk.count
            walk.append(k)
            k = parents[k]
        }
        guard k >= 0, let first = seenAt[k] else { return nodes[start].id }
        let loop = walk[first...].map { nodes[$0].id }
        return (loop + [nodes[k].id]).joined(separator: " → ")
    }
}
