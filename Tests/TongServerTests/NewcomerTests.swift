import Foundation
import Logging
import Testing
import TongCore

@testable import TongDomain
@testable import TongServer
@testable import TongTools

/// What a newcomer meets first: the demo, a second start, an import under a running node,
/// secret files others can read, and a JSON log from a real `tong serve`.
@Suite(.serialized) struct NewcomerTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func theDemoOutsideTheRepositoryNamesTheMissingFile() throws {
        let r = try runTong(["demo", "--once"], currentDirectory: NSTemporaryDirectory())
        #expect(r.status == 1)
        #expect(r.err.hasPrefix("tong: topology file ") && r.err.contains("peers/demo.toml not found"))
        #expect(r.err.filter { $0 == "\n" }.count == 1, "\(r.err)")
    }

    @Test func theDemoSaysWhereTheTokensAreAndRemovesItsFolder() throws {
        let r = try runTong(["demo", "--once", "--free-ports"], currentDirectory: Self.repoRoot)
        #expect(r.status == 0, "\(r.err)")
        let first = try #require(r.out.split(separator: "\n").first)
        let root = try #require(first.range(of: " laid out in ").map { String(first[$0.upperBound...]) })
        #expect(r.out.contains("\(root)/100000/admin.token") && r.out.contains("/tokens/") && r.out.contains("/inbox"))
        #expect(r.out.contains("converged."))
        #expect(!FileManager.default.fileExists(atPath: root), "the demo left \(root) behind")
    }

    @Test func secretFilesOthersCanReadAreReportedAtOpen() throws {
        let root = NSTemporaryDirectory() + "tong-perm-\(UUID().uuidString.prefix(8))"
        _ = try FederationLayout.create(topologyText: TestTree.toml(["330000"]), out: root, force: true)
        let home = NodeHome(path: root + "/330000")
        #expect(TongNode.exposedSecrets(home).isEmpty)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: home.keyFile)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: home.adminTokenFile)
        let capture = LogCapture()
        let node = try TongNode.open(home: home, logger: Logger(label: "test") { capture.handler(label: $0) })
        try node.db.close()
        let warning = "secret file is readable by group or others; chmod 600 it"
        #expect(capture.matching(warning, ["file": home.keyFile, "file.mode": "644"]) == 1)
        #expect(capture.matching(warning, ["file": home.adminTokenFile, "file.mode": "640"]) == 1)
        #expect(capture.matching(warning) == 2)
    }

    /// A real `tong serve --log-format json`; a second start, an import and a restore on its home.
    @Test func aRunningHomeIsNamedWhenUsedTwiceAndLogsJSON() async throws {
        let root = NSTemporaryDirectory() + "tong-twice-\(UUID().uuidString.prefix(8))"
        let http = "127.0.0.1:\(try LocalFederation.freePort())"
        let peer = "127.0.0.1:\(try LocalFederation.freePort())"
        _ = try FederationLayout.create(topologyText: TestTree.toml(["330000"]), out: root, force: true) { c in
            c.http = http
            c.peer = peer
        }
        let home = root + "/330000"
        let errFile = root + "/serve.log"
        FileManager.default.createFile(atPath: errFile, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: DurabilityTests.binary)
        p.arguments = ["serve", "--home", home, "--log-format", "json", "--exit-with-parent"]
        p.standardInput = Pipe()  // --exit-with-parent: the node exits when this pipe closes
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errFile))
        try p.run()
        defer { if p.isRunning { p.terminate(); p.waitUntilExit() } }
        try await DemoRunner.waitUntil(seconds: 30) {
            FaultTests.curlGet("http://\(http)/healthz").status == 200
        }
        // Twice: refused in one line naming the home and the running node's addresses.
        let twice = try runTong(["serve", "--home", home])
        #expect(twice.status == 1)
        #expect(twice.err.hasPrefix("tong: node home \(home) is in use by another tong process (pid \(p.processIdentifier), http \(http)"))
        #expect(twice.err.filter { $0 == "\n" }.count == 1, "\(twice.err)")
        // An import under the running node: refused, nothing imported.
        let file = root + "/p.jsonl"
        try String(decoding: CanonicalJSON.encode(policyBody("导入", dept: "330000-hrss")), as: UTF8.self).write(
            toFile: file, atomically: true, encoding: .utf8)
        let imp = try runTong(["policy", "import", "--home", home, file])
        #expect(imp.status == 1 && imp.err.hasPrefix("tong: node home \(home) is in use"))
        let restore = try runTong(["restore", "--home", home, "--from", file])
        #expect(restore.status == 1 && restore.err.hasPrefix("tong: node home \(home) is in use"))
        // Stop it as a dying harness would, by closing its standard input: it shuts down on its own.
        try (p.standardInput as? Pipe)?.fileHandleForWriting.close()
        try await DemoRunner.waitUntil(seconds: 20) { !p.isRunning }
        #expect(p.terminationStatus == 0)
        // The log so far is JSON, one object per line.
        let log = try String(contentsOfFile: errFile, encoding: .utf8).split(separator: "\n")
        #expect(!log.isEmpty)
        for line in log {
            let v = try JSONParser.parse(Array(line.utf8))
            #expect(v["time"]?.stringValue != nil && v["level"]?.stringValue != nil && v["message"]?.stringValue != nil, "\(line)")
        }
        let starting = log.compactMap { try? JSONParser.parse(Array($0.utf8)) }.first { $0["message"] == "node starting" }
        #expect(starting?["node.id"] == "330000" && starting?["http"]?.stringValue == http)
        // Stopped, the import goes through.
        #expect(try runTong(["policy", "import", "--home", home, file]).status == 0)
    }
}
