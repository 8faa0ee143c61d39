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
