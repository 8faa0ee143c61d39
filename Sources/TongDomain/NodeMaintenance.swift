import Foundation
import TongCore
import TongPeer
import TongStore

/// Backup, restore and one-step certificate commands.
public enum NodeMaintenance {
    /// Online backup of a node's replica to `file` (a plain SQLite file). With `passphrase`, a
    /// bundle (`BackupBundle`) instead: the replica plus `keys/`, the keys encrypted. Throws
    /// `NodeError(.configuration)` for a bad home or an existing `file`.
    public static func backup(home: NodeHome, to file: String, passphrase: String? = nil) throws {
        let config = try NodeConfiguration.parse(toml: NodeHome.read(home.configFile, what: "node.toml"))
        guard FileManager.default.fileExists(atPath: home.databaseFile) else { throw NodeError.config("no replica at \(home.databaseFile)") }
        if FileManager.default.fileExists(atPath: file) { throw NodeError.config("\(file) exists; refusing to overwrite") }
        guard let passphrase else {
            try TongDatabase.backup(path: home.databaseFile, nodeID: config.nodeID, to: file)
            return
        }
        let temp = file + ".db-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: temp) }
        try TongDatabase.backup(path: home.databaseFile, nodeID: config.nodeID, to: temp)
        var keys: [String: String] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: home.sealKeysDir)) ?? []
        for name in names.sorted() where name.hasSuffix(".pem") {
            keys["keys/" + name] = try NodeHome.read(home.sealKeysDir + "/" + name, what: "sealing key")
        }
        guard !keys.isEmpty else { throw NodeError.config("no sealing keys in \(home.sealKeysDir)") }
        try BackupBundle.write(out: file, node: config.nodeID, databaseFile: temp, keys: keys, passphrase: passphrase, now: Date())
    }

    /// Replaces a stopped node's replica with a backup, gives its log a new epoch and holds
    /// writes until it caught up from its peers, so no version counter is ever reused. A bundle
    /// also brings back `keys/` (0600), decrypted with `passphrase`; a wrong passphrase, a bundle
    /// of another node or a damaged file change nothing. Throws `NodeError(.configuration)`.
    public static func restore(home: NodeHome, from file: String, passphrase: String? = nil) throws {
        let config = try NodeConfiguration.parse(toml: NodeHome.read(home.configFile, what: "node.toml"))
        let fm = FileManager.default
        guard fm.fileExists(atPath: file) else { throw NodeError.config("no backup at \(file)") }
        try HomeLock.ensureStopped(home)
        try fm.createDirectory(atPath: home.path + "/data", withIntermediateDirectories: true)
        var source = file
        var keys: [String: String] = [:]
        let temp = home.path + "/data/restore-\(UUID().uuidString.prefix(8)).sqlite"
        defer { try? fm.removeItem(atPath: temp) }
        if BackupBundle.isBundle(file) {
            let opened = try BackupBundle.open(file, databaseOut: temp, passphrase: passphrase)
            guard opened.node == config.nodeID else { throw NodeError.config("\(file) is a backup of node \(opened.node), not \(config.nodeID)") }
            source = temp
            keys = opened.keys
        }
        // Check the backup is this node's before touching anything.
        try TongDatabase.checkReplica(path: source, nodeID: config.nodeID)
        for suffix in ["-wal", "-shm"] { try? fm.removeItem(atPath: source + suffix) }
        for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: home.databaseFile + suffix) }
        try fm.copyItem(atPath: source, toPath: home.databaseFile)
        let db = try TongDatabase(path: home.databaseFile, nodeID: config.nodeID, now: TongNode.now())
        try db.markRestored()
        try db.close()
        if !keys.isEmpty {
            try fm.createDirectory(atPath: home.sealKeysDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            for (path, text) in keys { try NodeHome.writeSecret(text, to: home.path + "/" + path) }
        }
    }
}
