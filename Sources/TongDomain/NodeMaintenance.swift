import Foundation
import TongCore
import TongPeer
import TongStore

/// Backup, restore and one-step certificate commands.
public enum NodeMaintenance {
    /// Online backup of a node's replica.
    public static func backup(home: NodeHome, to file: String) throws {
        let config = try NodeConfiguration.parse(toml: NodeHome.read(home.configFile, what: "node.toml"))
        guard FileManager.default.fileExists(atPath: home.databaseFile) else { throw NodeError.config("no replica at \(home.databaseFile)") }
        if FileManager.default.fileExists(atPath: file) { throw NodeError.config("\(file) exists; refusing to overwrite") }
        let db = try TongDatabase(path: home.databaseFile, nodeID: config.nodeID, now: TongNode.now())
        try db.backup(to: file)
        try db.close()
    }

    /// Replaces a stopped node's replica with a backup, gives its log a new epoch and holds
    /// writes until it caught up from its peers, so no version counter is ever reused.
    public static func restore(home: NodeHome, from file: String) throws {
        let config = try NodeConfiguration.parse(toml: NodeHome.read(home.configFile, what: "node.toml"))
        let fm = FileManager.default
        guard fm.fileExists(atPath: file) else { throw NodeError.config("no backup at \(file)") }
        // Check the backup is this node's before touching anything.
        let check = try TongDatabase(path: file, nodeID: config.nodeID, now: TongNode.now())
        try check.close()
        for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: home.databaseFile + suffix) }
        try fm.createDirectory(atPath: home.path + "/data", withIntermediateDirectories: true)
        try fm.copyItem(atPath: file, toPath: home.databaseFile)
        let db = try TongDatabase(path: home.databaseFile, nodeID: config.nodeID, now: TongNode.now())
        try db.markRestored()
        try db.close()
    }
}

/// `tong ca init` / `tong ca issue`.
public enum CertificateCommands {
    /// Makes a CA in `out`.
    public static func initCA(federation: String, out: String) throws {
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        guard !FileManager.default.fileExists(atPath: out + "/ca.key") else {
            throw NodeError.config("\(out)/ca.key exists; refusing to overwrite a CA")
        }
        let ca = try FederationCA.create(federation: federation, now: Date())
        try ca.certificatePEM.write(toFile: out + "/ca.pem", atomically: true, encoding: .utf8)
        try KeyFile.writePrivate(ca.privateKeyPEM, to: out + "/ca.key")
    }

    /// Issues one node home from a CA folder and a topology.
    public static func issue(caDir: String, topologyFile: String, node: String, out: String) throws {
        let ca = IssuedCredential(
            certificatePEM: try NodeHome.read(caDir + "/ca.pem", what: "CA certificate"),
            privateKeyPEM: try NodeHome.read(caDir + "/ca.key", what: "CA key"))
        let topology: Topology
        do { topology = try Topology.parse(toml: NodeHome.read(topologyFile, what: "topology")) } catch let e as NodeError { throw e } catch {
            throw NodeError.config("topology: \(error)")
        }
        if FileManager.default.fileExists(atPath: out + "/node.toml") { throw NodeError.config("\(out) already holds a node home") }
        try FederationLayout.issue(node: node, ca: ca, topology: topology, into: NodeHome(path: out), now: Date())
    }
}
