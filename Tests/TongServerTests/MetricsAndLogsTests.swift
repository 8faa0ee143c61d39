import Foundation
import Logging
import Synchronization
import Testing
import TongCore

@testable import TongDomain
@testable import TongServer
@testable import TongTools

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// One sample of the Prometheus text format.
struct Sample {
    var name: String
    var labels: [String: String]
    var value: Double

    /// Parses every sample line of a `/metrics` page.
    static func parse(_ text: String) -> [Sample] {
        text.split(separator: "\n").compactMap { line -> Sample? in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let v = Double(line[line.index(after: space)...]) else { return nil }
            let series = line[..<space]
            let name = String(series.prefix { $0 != "{" })
            var labels: [String: String] = [:]
            if let open = series.firstIndex(of: "{") {
                for pair in series[series.index(after: open)...].dropLast().split(separator: ",") {
                    let kv = pair.split(separator: "=", maxSplits: 1)
                    if kv.count == 2 { labels[String(kv[0])] = String(kv[1].dropFirst().dropLast()) }
                }
            }
            return Sample(name: name, labels: labels, value: v)
        }
    }
}

/// Log lines captured in memory (message and flattened metadata).
final class LogCapture: Sendable {
    let lines = Mutex<[(level: Logger.Level, message: String, metadata: [String: String])]>([])

    func handler(label: String) -> CaptureHandler { CaptureHandler(capture: self) }

    func matching(_ message: String, _ metadata: [String: String] = [:]) -> Int {
        lines.withLock { l in l.filter { line in line.message == message && metadata.allSatisfy { k, v in line.metadata[k] == v } }.count }
    }

    struct CaptureHandler: LogHandler {
        let capture: LogCapture
        var logLevel: Logger.Level = .info
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            var all: [String: String] = [:]
            for (k, v) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { all[k] = "\(v)" }
            capture.lines.withLock { $0.append((event.level, "\(event.message)", all)) }
        }
    }
}

@Suite(.serialized) struct MetricsAndLogsTests {
    @Test func everyFamilyHasHelpAndTypeAndPeersHaveTheirOwnSeries() async throws {
        try await withFederation(topology: TestTree.toml(["330000", "330100"])) { f in
            let p = try f.node("330100").create(kind: .policy, body: policyBody("杭州稳岗政策", dept: "330100-hrss"), by: .admin)
            _ = try f.node("330100").submitFeedback([
                "kind": "consultation", "department": "330100-hrss", "title": "咨询", "content": "如何申请？",
                "contact": ["name": "王", "phone": "13912345678"],
            ])
            try await DemoRunner.waitUntil(seconds: 15) { f.has("330000", p.id) }
            let text = try await f.request("GET", "330100", "/metrics").text
            // HELP then TYPE for every family.
            let lines = text.split(separator: "\n").map(String.init)
            var families = 0
            for (i, line) in lines.enumerated() where line.hasPrefix("# TYPE ") {
                families += 1
                let name = line.split(separator: " ")[2]
                #expect(i > 0 && lines[i - 1].hasPrefix("# HELP \(name) "), "no HELP before \(line)")
            }
            #expect(families >= 15)
            let samples = Sample.parse(text)
            func value(_ name: String, _ labels: [String: String]) -> Double? {
                samples.first { s in s.name == name && labels.allSatisfy { k, v in s.labels[k] == v } }?.value
            }
            #expect(value("tong_build_info", ["version": BuildInfo.version, "commit": BuildInfo.commit]) == 1)
            let parent = ["peer": "330000", "role": "parent"]
            #expect(value("tong_peer_connected", parent) == 1)
            #expect((value("tong_peer_last_contact_age_seconds", parent) ?? -1) >= 0)
            #expect(value("tong_peer_pending_sets", parent) != nil && value("tong_peer_lag_seconds", parent) != nil)
            #expect((value("tong_peer_sets_pushed_total", ["peer": "330000"]) ?? 0) >= 1)
            #expect((value("tong_peer_bytes_pushed_total", ["peer": "330000"]) ?? 0) > 100)
            #expect(value("tong_feedback_open", ["department": "330100-hrss"]) == 1)
            #expect(value("tong_feedback_overdue", ["department": "330100-hrss"]) == 0)
            #expect(value("tong_applications_open", ["department": "330100-hrss"]) == 0)
            #expect(value("tong_storage_ok", [:]) == 1)
            // The parent counts what it received from the child.
            let up = Sample.parse(try await f.request("GET", "330000", "/metrics").text)
            #expect((up.first { $0.name == "tong_peer_sets_received_total" && $0.labels["peer"] == "330100" }?.value ?? 0) >= 1)
            #expect((up.first { $0.name == "tong_peer_bytes_received_total" && $0.labels["peer"] == "330100" }?.value ?? 0) > 100)
            #expect(up.contains { $0.name == "tong_peer_connected" && $0.labels == ["peer": "330100", "role": "child"] })
        }
    }

    @Test func helpIsAddedOnlyWhereMissing() {
        let text = "# TYPE tong_records gauge\ntong_records{kind=\"policy\"} 3\n# HELP x given\n# TYPE x counter\nx 1\n"
        let out = NodeMetrics.addingHelp(text)
        #expect(out.hasPrefix("# HELP tong_records Records in the replica, by kind.\n# TYPE tong_records gauge\n"))
        #expect(out.components(separatedBy: "# HELP x ").count == 2)
    }

    /// docs/operations.md's alert rules and dashboard use only names /metrics exports.
    @Test func operationsDocUsesOnlyExportedMetricNames() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let whole = try String(contentsOf: root.appendingPathComponent("docs/operations.md"), encoding: .utf8)
        let section = try #require(whole.range(of: "## Metrics").flatMap { m in whole.range(of: "## Logs").map { m.lowerBound..<$0.lowerBound } })
        let doc = String(whole[section])
        let regex = try NSRegularExpression(pattern: "\\btong_[a-z_]+")
        let names = Set(regex.matches(in: doc, range: NSRange(doc.startIndex..., in: doc)).map { String(doc[Range($0.range, in: doc)!]) })
        #expect(names.count >= 8)
        for n in names where !n.hasSuffix("_") {
            let family = ["_bucket", "_sum", "_count"].reduce(n) { $0.hasSuffix($1) ? String($0.dropLast($1.count)) : $0 }
            #expect(NodeMetrics.help[family] != nil, "docs/operations.md uses \(n), which /metrics does not export")
        }
    }

    @Test func aJSONLogLineIsOneObjectWithDottedKeys() throws {
        let out = LineBox()
        var logger = Logger(label: "tong") { label in JSONLogHandler(label: label) { line in out.lines.withLock { $0.append(line) } } }
        logger[metadataKey: "node.id"] = "330100"
        logger.warning(
            "sync link down",
            metadata: [
                "peer.id": "330000", "http": ["status": "503"], "error": .stringConvertible(42), "ms": .stringConvertible(1.5),
                "ok": .stringConvertible(true), "code": "330100", "tags": ["a", .stringConvertible(7)],
                "odd": .stringConvertible(Double.nan), "say": "引号\"与\n换行",
            ])
        let lines = out.lines.withLock { $0 }
        #expect(lines.count == 1 && lines[0].hasSuffix("}\n") && lines[0].filter { $0 == "\n" }.count == 1)
        // Parsed by Foundation's JSON parser (Tong's own refuses fractions, which logs may hold).
        let v = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(v["level"] as? String == "warning" && v["message"] as? String == "sync link down" && v["label"] as? String == "tong")
        #expect(v["node.id"] as? String == "330100" && v["peer.id"] as? String == "330000" && v["http.status"] as? String == "503")
        // Numbers logged as numbers stay numbers; a string of digits (a division code) stays a string.
        #expect(v["error"] as? Int == 42 && v["ms"] as? Double == 1.5 && v["ok"] as? Bool == true && v["code"] as? String == "330100")
        #expect((v["tags"] as? [Any])?.count == 2 && (v["tags"] as? [Any])?.last as? Int == 7)
        #expect(v["odd"] as? String == "nan" && v["say"] as? String == "引号\"与\n换行")
        #expect(lines[0].hasPrefix("{\"code\":"), "keys are sorted: \(lines[0])")
        let time = try #require(v["time"] as? String)
        #expect(ISO8601DateFormatter.withFractionalSeconds.date(from: time) != nil)
    }

    @Test func aNodeThatCannotStartSaysWhyInJSONWhenTheLogIsJSON() throws {
        let r = try runTong(["serve", "--home", "/nonexistent-home", "--log-format", "json"])
        #expect(r.status == 1)
        let lines = r.err.split(separator: "\n")
        #expect(lines.count == 1, "\(r.err)")
        let v = try JSONParser.parse(Array((lines.first ?? "").utf8))
        #expect(v["level"] == "critical" && v["message"]?.stringValue?.contains("/nonexistent-home") == true, "\(r.err)")
    }

    @Test func aRepeatedRefusalIsLoggedOncePerMinuteWithTheCountItHid() {
        let throttle = LogThrottle(intervalMs: 60_000)
        #expect(throttle.admit("revoked 330100", now: 0) == 0)
        // Ten handshakes a second for a minute: none logged...
        for t in stride(from: Int64(100), to: 60_000, by: 100) { #expect(throttle.admit("revoked 330100", now: t) == nil) }
        // ...another reason is its own line...
        #expect(throttle.admit("revoked 320000", now: 30_000) == 0)
        // ...and the next line a minute on says how many it hid.
        #expect(throttle.admit("revoked 330100", now: 60_000) == 599)
        #expect(throttle.admit("revoked 330100", now: 60_001) == nil)
    }

    @Test func unknownLogLevelsAndFormatsAreRefusedInOneLine() throws {
        for (args, word) in [(["--log-level", "json"], "--log-level json"), (["--log-format", "yaml"], "--log-format yaml")] {
            let r = try runTong(["serve", "--home", "/nonexistent"] + args)
            #expect(r.status == 1)
            #expect(r.err.hasPrefix("tong: unknown \(word); use ") && r.err.filter { $0 == "\n" }.count == 1, "\(r.err)")
        }
    }

    /// Link transitions are logged once each, and every API write gets an access line.
    @Test func linkUpAndDownAreLoggedOnceEachAndWritesAreAccessLogged() async throws {
        await FederationLock.shared.acquire()
        do { try await linkTransitions() } catch {
            await FederationLock.shared.release()
            throw error
        }
        await FederationLock.shared.release()
    }

    func linkTransitions() async throws {
        let capture = LogCapture()
        var logger = Logger(label: "test") { capture.handler(label: $0) }
        logger.logLevel = .info
        let fed = try LocalFederation(
            topologyText: TestTree.toml(["330000", "330100"]), root: NSTemporaryDirectory() + "tong-logs-\(UUID().uuidString.prefix(8))",
            freePorts: true, syncIntervalMs: 300, logger: logger)
        let all = Task { try await fed.run() }
        do { try await transitions(fed, capture) } catch {
            await fed.shutdown()
            _ = try? await all.value
            throw error
        }
        await fed.shutdown()
        _ = try? await all.value
    }

    func transitions(_ fed: LocalFederation, _ capture: LogCapture) async throws {
        let child = ["node.id": "330100", "peer.id": "330000"]
        try await DemoRunner.waitUntil(seconds: 20) { capture.matching("sync link up", child) == 1 }
        // An API write and a read: only the write is access-logged.
        let token = try fed.adminToken("330100")
        var req = URLRequest(url: URL(string: "http://\(fed.http["330100"]!)/api/v1/policies")!)
        req.httpMethod = "POST"
        req.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        req.httpBody = Data(CanonicalJSON.encode(policyBody("访问日志", dept: "330100-hrss")))
        _ = try await URLSession.shared.data(for: req)
        _ = try await URLSession.shared.data(from: URL(string: "http://\(fed.http["330100"]!)/api/v1/policies")!)
        try await DemoRunner.waitUntil(seconds: 5) {
            capture.matching("api write", ["http.method": "POST", "http.path": "/api/v1/policies", "http.status": "201"]) == 1
        }
        #expect(capture.matching("api write", ["http.method": "GET"]) == 0)
        // The parent goes away: one more "down" (a link that failed before it first came up
        // logged one already), however many attempts fail.
        let downs = capture.matching("sync link down", child)
        await fed.servers["330000"]!.shutdown()
        try await DemoRunner.waitUntil(seconds: 20) { capture.matching("sync link down", child) == downs + 1 }
        try await Task.sleep(for: .milliseconds(1_500))
        #expect(capture.matching("sync link down", child) == downs + 1)
        // It comes back on the same addresses once the old server let go of the home: one more "up".
        let home = NodeHome(path: fed.root + "/330000")
        try await DemoRunner.waitUntil(seconds: 30) { (try? HomeLock.ensureStopped(home)) != nil }
        let again = NodeServer(node: fed.nodes["330000"]!)
        let parent = Task { try await again.run(signals: []) }
        try await DemoRunner.waitUntil(seconds: 20) { capture.matching("sync link up", child) == 2 }
        #expect(capture.matching("sync link down", child) == downs + 1)
        await again.shutdown()
        _ = try? await parent.value
    }
}

/// Lines written by a handler under test.
final class LineBox: Sendable {
    let lines = Mutex<[String]>([])
}

extension ISO8601DateFormatter {
    static var withFractionalSeconds: ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }
}
