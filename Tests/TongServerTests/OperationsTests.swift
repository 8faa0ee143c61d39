import Foundation
import Testing
import TongCore

@testable import TongDomain
@testable import TongServer
@testable import TongTools

/// Runs the `tong` executable; returns its exit status, standard output and standard error.
func runTong(_ args: [String], environment: [String: String]? = nil, currentDirectory: String? = nil) throws -> (
    status: Int32, out: String, err: String
) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: DurabilityTests.binary)
    p.arguments = args
    if let environment { p.environment = environment }
    if let currentDirectory { p.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    // Standard error goes to a file, so neither stream can fill a pipe nobody reads.
    let errFile = NSTemporaryDirectory() + "tong-stderr-\(UUID().uuidString)"
    FileManager.default.createFile(atPath: errFile, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: errFile) }
    let out = Pipe()
    p.standardOutput = out
    p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errFile))
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let e = FileManager.default.contents(atPath: errFile) ?? Data()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

@Suite(.serialized) struct OperationsTests {
    @Test func versionPrintsTheReleaseAndTheCommitOrUnknown() throws {
        let r = try runTong(["--version"])
        #expect(r.status == 0)
        let line = r.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(line == "tong \(BuildInfo.version) (commit \(BuildInfo.commit))")
        #expect(line.hasPrefix("tong 0.3.0 (commit "))
    }

    /// A three-tier federation: the root sees the county through the stats that flowed up.
    @Test func statusAtTheRootShowsTheWholeSubtree() async throws {
        try await withFederation(topology: TestTree.toml(["330000", "330100", "330106"])) { f in
            try await DemoRunner.waitUntil(seconds: 20) {
                let nodes = try f.node("330000").federationStatus()["nodes"]?.arrayValue ?? []
                return nodes.count == 3 && nodes.allSatisfy { $0["version"]?.stringValue == BuildInfo.version }
            }
            // The library call `tong status` makes, over the node's real HTTP API.
            let report = try await StatusReport.fetch(home: NodeHome(path: f.fed.root + "/330000"))
            let nodes = report["federation"]?["nodes"]?.arrayValue ?? []
            #expect(nodes.map { $0["id"]?.stringValue ?? "" } == ["330000", "330100", "330106"])
            let county = try #require(nodes.first { $0["id"]?.stringValue == "330106" })
            #expect(county["parent"]?.stringValue == "330100")
            #expect(county["last_contact"]?.stringValue != nil)
            #expect((county["last_contact_age_seconds"]?.intValue ?? -1) >= 0)
            #expect(county["pending"]?.intValue != nil && county["lag_seconds"]?.intValue != nil)
            #expect(county["rejected"]?.intValue == 0 && county["conflicts"]?.intValue == 0)
            #expect(county["links"]?["330100"]?["role"]?.stringValue == "parent")
            #expect(report["sync"]?["node"]?.stringValue == "330000")
            let table = StatusReport.table(report)
            #expect(table.contains("330106") && table.contains("西湖区") && table.contains(BuildInfo.version))
            // The command itself, as a script would call it.
            let cli = try runTong(["status", "--home", f.fed.root + "/330000", "--json"])
            #expect(cli.status == 0)
            let parsed = try JSONParser.parse(Array(cli.out.utf8))
            #expect(parsed["federation"]?["nodes"]?.arrayValue?.count == 3)
            // A node that is not running: one clear line naming the home.
            let stopped = try runTong(["status", "--home", f.fed.root + "/nowhere"])
            #expect(stopped.status != 0 && stopped.err.hasPrefix("tong: cannot read node.toml"))
        }
    }

    @Test func syncReportsAreRepublishedOnlyWhenSomethingSignificantChanged() {
        let base: [String: JSONValue] = [
            "version": "0.3.0", "applied": 10, "rejected": 0, "conflicts": 0, "reported_at": 1_000,
            "peers": ["100000": ["role": "parent", "connected": true, "pending": 0, "oldest_pending_at": nil]],
        ]
        var busier = base
        busier["applied"] = 99
        busier["reported_at"] = 2_000
        #expect(!TongNode.syncReportChanged(old: .object(base), new: busier, now: 2_000))
        var down = base
        down["peers"] = ["100000": ["role": "parent", "connected": false, "pending": 3, "oldest_pending_at": 1_500]]
        #expect(TongNode.syncReportChanged(old: .object(base), new: down, now: 2_000))
        #expect(TongNode.syncReportChanged(old: .object(base), new: busier, now: 1_000 + TongNode.syncReportHeartbeatMs))
        #expect(TongNode.syncReportChanged(old: nil, new: base, now: 1_000))
    }

    /// The hardened unit in docs/operations.md passes `systemd-analyze verify` without a warning.
    @Test func theSystemdUnitInTheDocsVerifies() throws {
        guard let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first(where: FileManager.default.isExecutableFile) else {
            print("note: systemd-analyze is not installed; the unit in docs/operations.md was not verified")
            return
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("docs/operations.md"), encoding: .utf8)
        let start = try #require(doc.range(of: "```ini\n"))
        let end = try #require(doc.range(of: "```", range: start.upperBound..<doc.endIndex))
        var unit = String(doc[start.upperBound..<end.lowerBound])
        #expect(unit.contains("ProtectSystem=strict") && unit.contains("NoNewPrivileges=yes") && unit.contains("ReadWritePaths=/srv/tong/%i"))
        // verify checks that ExecStart's program exists: point it at the binary under test.
        unit = unit.replacingOccurrences(of: "/usr/local/bin/tong", with: DurabilityTests.binary)
        let dir = NSTemporaryDirectory() + "tong-unit-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try unit.write(toFile: dir + "/tong@.service", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: analyze)
        p.arguments = ["verify", dir + "/tong@330000.service"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        // verify exits 0 even for unknown keys and bad values; it only says so.
        let complaints = text.split(separator: "\n").filter { $0.contains("tong@") }
        #expect(complaints.isEmpty, "\(complaints)")
    }
}
