import Foundation
import Logging
import NIOPosix
import Synchronization
import TongCore
import TongDomain
import TongServer

/// A whole federation on this machine: homes laid out from a topology, every node opened and
/// served on loopback. Used by `tong demo`, the benchmark and the end-to-end tests.
public final class LocalFederation: Sendable {
    /// Where the homes are.
    public let root: String
    /// The tree.
    public let topology: Topology
    /// Opened nodes by id.
    public let nodes: [String: TongNode]
    /// Servers by id.
    public let servers: [String: NodeServer]
    /// HTTP addresses by id.
    public let http: [String: String]

    /// Lays out `topologyText` under `root`. With `freePorts`, every node gets free loopback
    /// ports instead of the file's; `configure` adjusts every node's settings (tests shorten
    /// timers with it).
    /// `prepare` runs on the laid-out root before any node opens (tests replace certificates
    /// or write history there).
    public init(
        topologyText: String, root: String, freePorts: Bool, syncIntervalMs: Int64 = 1_000, logger: Logger,
        configure: (inout NodeConfiguration) -> Void = { _ in },
        prepare: (String) throws -> Void = { _ in }
    ) throws {
        let topo0 = try Topology.parse(toml: topologyText)
        var httpPorts: [String: String] = [:], peerPorts: [String: String] = [:]
        for n in topo0.nodes {
            httpPorts[n.id] = freePorts ? "127.0.0.1:\(try Self.freePort())" : (n.http ?? "127.0.0.1:0")
            peerPorts[n.id] = freePorts ? "127.0.0.1:\(try Self.freePort())" : (n.peer ?? "127.0.0.1:0")
        }
        topology = try FederationLayout.create(topologyText: topologyText, out: root, force: true) { c in
            c.http = httpPorts[c.nodeID]!
            c.peer = peerPorts[c.nodeID]!
            c.syncIntervalMs = syncIntervalMs
            for (id, a) in peerPorts where topo0.isNeighbor(id, c.nodeID) { c.peerAddresses[id] = a }
            configure(&c)
        }
        self.root = root
        try prepare(root)
        var nodes: [String: TongNode] = [:], servers: [String: NodeServer] = [:]
        for n in topology.nodes {
            let node = try TongNode.open(home: NodeHome(path: root + "/" + n.id), logger: logger)
            nodes[n.id] = node
            servers[n.id] = NodeServer(node: node)
        }
        self.nodes = nodes
        self.servers = servers
        self.http = httpPorts
    }

    /// Runs every node (or those in `only`) until cancelled.
    public func run(only: Set<String>? = nil) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for (id, s) in servers where only?.contains(id) ?? true { group.addTask { try await s.run(signals: []) } }
        }
    }

    /// Stops every node gracefully (`run()` then returns).
    public func shutdown() async {
        for s in servers.values { await s.shutdown() }
    }

    /// The admin token of a node.
    public func adminToken(_ id: String) throws -> String {
        try NodeHome.read(root + "/\(id)/admin.token", what: "admin token").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A department's token.
    public func departmentToken(_ dept: String) throws -> String {
        let node = String(dept.prefix(6))
        return try NodeHome.read(root + "/\(node)/tokens/\(dept).token", what: "token").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static let handedOut = Mutex<Set<Int>>([])

    /// A free TCP port on loopback (bound, read, released), never the same twice in a process,
    /// so two federations laid out side by side cannot pick the same port.
    public static func freePort() throws -> Int {
        for _ in 0..<100 {
            let p = try probePort()
            if handedOut.withLock({ $0.insert(p).inserted }) { return p }
        }
        throw NodeError.config("no free port found")
    }

    static func probePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NodeError.config("socket failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw NodeError.config("bind failed") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
