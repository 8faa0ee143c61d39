import Foundation
import Logging
import Testing
import TongCore

@testable import TongDomain
@testable import TongServer
@testable import TongTools

/// `tong backup --include-keys` and `tong restore` of the bundle.
@Suite struct BackupBundleTests {
    /// A stopped single-node home with one policy and its sealing keys made.
    static func home() throws -> NodeHome {
        let home = try TestTree.singleHome("bundle")
        let node = try TongNode.open(home: home, logger: Logger(label: "test"))
        try node.publishDirectory()
        _ = try node.create(kind: .policy, body: policyBody("备份前的政策", dept: "330000-hrss"), by: .admin)
        try node.db.checkpoint()
        try node.db.close()
        return home
    }

    static func keys(_ home: NodeHome) throws -> [String: String] {
        var out: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: home.sealKeysDir) {
            out[name] = try String(contentsOfFile: home.sealKeysDir + "/" + name, encoding: .utf8)
        }
        return out
    }

    @Test func aBundleBringsBackTheReplicaAndTheKeysOnlyWithThePassphrase() throws {
        let home = try Self.home()
        let originalKeys = try Self.keys(home)
        #expect(originalKeys.count == 3)  // the node and its two departments
        let bundle = home.path + "/../backup.tong"
        try NodeMaintenance.backup(home: home, to: bundle, passphrase: "长风破浪会有时 2026")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: bundle))
        #expect(bytes.starts(with: Array("TONG-BACKUP 1\n".utf8)))
        // The keys are not in the file in the clear.
        #expect(bytes.range(of: Data("PRIVATE KEY".utf8)) == nil)
        #expect((try FileManager.default.attributesOfItem(atPath: bundle)[.posixPermissions] as! NSNumber).intValue == 0o600)

        // The home loses its replica and its keys.
        try FileManager.default.removeItem(atPath: home.sealKeysDir)
        try FileManager.default.removeItem(atPath: home.path + "/data")
        // Without the passphrase, or with a wrong one: refused, nothing written.
        #expect(throws: NodeError.self) { try NodeMaintenance.restore(home: home, from: bundle) }
        do {
            try NodeMaintenance.restore(home: home, from: bundle, passphrase: "wrong passphrase")
            Issue.record("a wrong passphrase restored")
        } catch let e as NodeError { #expect(e.message.contains("wrong passphrase")) }
        #expect(!FileManager.default.fileExists(atPath: home.sealKeysDir))
        #expect(!FileManager.default.fileExists(atPath: home.databaseFile))

        try NodeMaintenance.restore(home: home, from: bundle, passphrase: "长风破浪会有时 2026")
        #expect(try Self.keys(home) == originalKeys)
        for name in originalKeys.keys {
            let mode = try FileManager.default.attributesOfItem(atPath: home.sealKeysDir + "/" + name)[.posixPermissions] as! NSNumber
            #expect(mode.intValue == 0o600)
        }
        let node = try TongNode.open(home: home, logger: Logger(label: "test"))
        #expect(try node.db.search(.init(), kind: .policy).total == 1)
        #expect(try node.db.state().restorePending)
        try node.db.close()
    }

    @Test func theCommandLineAsksForThePassphraseFileAndKeepsPlainBackups() throws {
        let home = try Self.home()
        let r = try runTong(["backup", "--home", home.path, "--out", home.path + "/../x.tong", "--include-keys"])
        #expect(r.status == 1 && r.err == "tong: --include-keys needs --passphrase-file\n")
        let pass = home.path + "/../pass"
        try "short\n".write(toFile: pass, atomically: true, encoding: .utf8)
        let short = try runTong(["backup", "--home", home.path, "--out", home.path + "/../x.tong", "--include-keys", "--passphrase-file", pass])
        #expect(short.status == 1 && short.err.contains("shorter than 8 characters"))
        // Without --include-keys the backup is still a plain SQLite file.
        let plain = home.path + "/../plain.sqlite"
        #expect(try runTong(["backup", "--home", home.path, "--out", plain]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: plain)).starts(with: Array("SQLite format 3\0".utf8)))
    }
}
