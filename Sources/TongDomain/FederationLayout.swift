import Foundation
import TongCore
import TongPeer

/// Lays out a federation from a topology file: one CA in `DIR/ca/`, and for every node a
/// complete home at `DIR/<node id>/` (contract.md, Commands).
public enum FederationLayout {
    /// Creates the federation. Refuses an existing non-empty `out` unless `force`.
    public static func create(
        topologyText: String, out: String, force: Bool, now: Date = Date(),
        adjust: (inout NodeConfiguration) -> Void = { _ in }
    ) throws -> Topology {
        let topology: Topology
        do { topology = try Topology.parse(toml: topologyText) } catch { throw NodeError.config("topology: \(error)") }
        let fm = FileManager.default
        if let existing = try? fm.contentsOfDirectory(atPath: out), !existing.isEmpty {
            guard force else { throw NodeError.config("\(out) exists and is not empty; pass --force to overwrite it") }
            try fm.removeItem(atPath: out)
        }
        try fm.createDirectory(atPath: out + "/ca", withIntermediateDirectories: true)
        let ca = try FederationCA.create(federation: topology.federation, now: now)
        try ca.certificatePEM.write(toFile: out + "/ca/ca.pem", atomically: true, encoding: .utf8)
        try KeyFile.writePrivate(ca.privateKeyPEM, to: out + "/ca/ca.key")
        for n in topology.nodes {
            let home = NodeHome(path: out + "/" + n.id)
            let pem = try issue(node: n.id, ca: ca, topology: topology, into: home, now: now, adjust: adjust)
            try CertificateCommands.record(issued: pem, caDir: out + "/ca")
        }
        return topology
    }

    /// Writes one node home with a key and certificate made here (the all-in-one path): certificate,
    /// config, topology copy, tokens.
    /// - Returns: the certificate, PEM.
    @discardableResult
    public static func issue(
        node id: String, ca: IssuedCredential, topology: Topology, into home: NodeHome, now: Date,
        adjust: (inout NodeConfiguration) -> Void = { _ in }
    ) throws -> String {
        guard let n = topology.node(id) else { throw NodeError.config("node \(id) is not in the topology") }
        try lay(node: id, topology: topology, into: home) { c in
            // A federation laid out here runs on one machine: its webhooks may go to loopback.
            c.webhookAllow = ["127.0.0.1"]
            adjust(&c)
        }
        let cred = try FederationCA.issueNode(nodeID: id, nodeName: n.name, ca: ca, now: now)
        try ca.certificatePEM.write(toFile: home.caFile, atomically: true, encoding: .utf8)
        try cred.certificatePEM.write(toFile: home.certFile, atomically: true, encoding: .utf8)
        try KeyFile.writePrivate(cred.privateKeyPEM, to: home.keyFile)
        return cred.certificatePEM
    }

    /// Writes a node home without certificates (the node makes its key with `tong ca request`):
    /// folders, config, topology copy, admin and department tokens.
    /// - Throws: `NodeError.configuration` if the node is not in the topology.
    public static func lay(node id: String, topology: Topology, into home: NodeHome, adjust: (inout NodeConfiguration) -> Void = { _ in }) throws {
        guard let n = topology.node(id) else { throw NodeError.config("node \(id) is not in the topology") }
        let fm = FileManager.default
        for d in ["certs", "data", "tokens", "keys"] { try fm.createDirectory(atPath: home.path + "/" + d, withIntermediateDirectories: true) }
        var config = NodeConfiguration(nodeID: id, http: n.http ?? "127.0.0.1:0", peer: n.peer ?? "127.0.0.1:0")
        adjust(&config)
        try config.toTOML().write(toFile: home.configFile, atomically: true, encoding: .utf8)
        try topology.toTOML().write(toFile: home.topologyFile, atomically: true, encoding: .utf8)
        try NodeHome.writeSecret(NodeHome.newToken() + "\n", to: home.adminTokenFile)
        for d in n.departments { try NodeHome.writeSecret(NodeHome.newToken() + "\n", to: home.tokensDir + "/\(d.id).token") }
    }
}
