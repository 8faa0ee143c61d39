import Foundation
import Testing
import TongCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@testable import TongDomain
@testable import TongTools

/// certs/README.md's command blocks marked "tested", run exactly as written with the real `tong`
/// binary in a scratch folder; then the homes they made must serve, sync, renew and revoke.
@Suite(.serialized) struct CertificateCommandTests {
    /// The commands of the block after `<!-- tested: name -->` in certs/README.md, comments dropped.
    static func block(_ name: String) throws -> [String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let text = try String(contentsOfFile: root + "/certs/README.md", encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        guard let marker = lines.firstIndex(of: "<!-- tested: \(name) -->"), lines[marker + 1] == "```sh" else {
            throw NodeError.config("certs/README.md has no tested block \(name)")
        }
        var out: [String] = []
        for line in lines[(marker + 2)...] {
            if line == "```" { break }
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty || t.hasPrefix("#") { continue }
            out.append(t)
        }
        return out
    }

    final class Scratch: @unchecked Sendable {
        let dir = NSTemporaryDirectory() + "tong-readme-\(UUID().uuidString.prefix(8))"
        var http: [String: String] = [:]
        var procs: [String: Process] = [:]
        var serveLines: [String: String] = [:]

        init() throws {
            try FileManager.default.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: dir + "/bin/tong", withDestinationPath: DurabilityTests.binary)
            // The federation's topology, with free loopback ports for each node.
            var nodes = TestTree.nodes.filter { ["100000", "330000"].contains($0.id) }
            for i in nodes.indices {
                nodes[i].http = "127.0.0.1:\(try LocalFederation.freePort())"
                nodes[i].peer = "127.0.0.1:\(try LocalFederation.freePort())"
                http[nodes[i].id] = nodes[i].http
            }
            try Topology(federation: "示范", nodes: nodes).toTOML().write(toFile: dir + "/topology.toml", atomically: true, encoding: .utf8)
        }

        /// Runs README commands in the scratch folder with `tong` on PATH; `tong serve` lines are
        /// remembered for `start`. Fails on the first command that fails.
        func run(_ commands: [String]) async throws { try await Self.offPool { try self.runBlocking(commands) } }

        /// Waits for blocking work (a child process) on a thread of its own, never on the
        /// cooperative pool that every other test's tasks share (it has one thread per core).
        static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
            try await withCheckedThrowingContinuation { c in
                Thread.detachNewThread { c.resume(with: Result { try work() }) }
            }
        }

        func runBlocking(_ commands: [String]) throws {
            var script: [String] = []
            for c in commands {
                if c.hasPrefix("tong serve ") {
                    let home = c.components(separatedBy: " ").last ?? ""
                    serveLines[home] = c
                } else {
                    script.append(c)
                }
            }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = ["-euo", "pipefail", "-c", script.joined(separator: "\n")]
            p.currentDirectoryURL = URL(fileURLWithPath: dir)
            var env = ProcessInfo.processInfo.environment
            env["PATH"] = dir + "/bin:" + (env["PATH"] ?? "/usr/bin:/bin")
            p.environment = env
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw NodeError.config("README commands failed: \(stderr)") }
        }

        /// Runs `tong ARGS` in the scratch folder and returns what it printed.
        func tong(_ args: [String]) async throws -> String { try await Self.offPool { try self.tongBlocking(args) } }

        func tongBlocking(_ args: [String]) throws -> String {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: DurabilityTests.binary)
            p.arguments = args
            p.currentDirectoryURL = URL(fileURLWithPath: dir)
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            return text
        }

        /// Starts the README's `tong serve` line for a node (quiet, and gone with the test).
        func start(_ id: String) async throws {
            guard let line = serveLines[id] else { throw NodeError.config("the README starts no node \(id)") }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: DurabilityTests.binary)
            p.arguments = Array(line.components(separatedBy: " ").dropFirst()) + ["--log-level", "critical", "--exit-with-parent"]
            p.currentDirectoryURL = URL(fileURLWithPath: dir)
            p.standardInput = Pipe()  // --exit-with-parent: the node exits when this pipe closes
            p.standardError = FileHandle.nullDevice
            try p.run()
            procs[id] = p
            try await CertificateCommandTests.eventually("\(id) serves") { try await self.call("GET", id, "/healthz").status == 200 }
        }

        func stop(_ id: String) async throws {
            guard let p = procs[id] else { return }
            procs[id] = nil
            p.terminate()
            try await Self.offPool { p.waitUntilExit() }
        }

        func token(_ id: String) throws -> String {
            try String(contentsOfFile: dir + "/\(id)/admin.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func call(_ method: String, _ id: String, _ path: String, body: JSONValue? = nil) async throws -> (status: Int, json: JSONValue?) {
            var req = URLRequest(url: URL(string: "http://\(http[id]!)\(path)")!)
            req.httpMethod = method
            if path.hasPrefix("/api/v1/sync") || body != nil { req.setValue("Bearer \(try token(id))", forHTTPHeaderField: "Authorization") }
            if let body {
                req.httpBody = Data(CanonicalJSON.encode(body))
                req.setValue("application/json", forHTTPHeaderField: "Content-Type")
            }
            do {
                let (data, resp) = try await URLSession.shared.data(for: req)
                return ((resp as? HTTPURLResponse)?.statusCode ?? 0, try? JSONParser.parse(Array(data)))
            } catch {
                return (0, nil)
            }
        }

        func mode(_ path: String) throws -> Int {
            ((try FileManager.default.attributesOfItem(atPath: dir + "/" + path))[.posixPermissions] as? NSNumber)?.intValue ?? -1
        }

        deinit { for p in procs.values { kill(p.processIdentifier, SIGKILL) } }
    }

    /// Polls `condition` (without blocking a thread) for up to 30 s.
    static func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("never happened: \(what)")
        throw NodeError.config("timed out: \(what)")
    }

    @Test func theReadmeCommandsMakeHomesThatServeSyncRenewAndRevoke() async throws {
        // Ten `tong` processes and two nodes: not while an in-process federation starts on two cores.
        await FederationLock.shared.acquire()
        do { try await readme() } catch {
            await FederationLock.shared.release()
            throw error
        }
        await FederationLock.shared.release()
    }

    func readme() async throws {
        let s = try Scratch()
        try await s.run(try Self.block("setup"))
        // Each key was made where it lives, 0600; what travelled holds no private key.
        #expect(try s.mode("ca/ca.key") == 0o600 && s.mode("100000/certs/node.key") == 0o600 && s.mode("330000/certs/node.key") == 0o600)
        for f in ["100000.pem", "330000.pem", "100000/certs/node.csr", "330000/certs/node.csr"] {
            let text = (try? String(contentsOfFile: s.dir + "/" + f, encoding: .utf8)) ?? ""
            #expect(!text.contains("PRIVATE"), "\(f)")
        }
        #expect(!FileManager.default.fileExists(atPath: s.dir + "/ca/100000.key"))

        try await s.start("100000")
        try await s.start("330000")
        let created = try await s.call("POST", "330000", "/api/v1/policies", body: policyBody("示范稳岗政策", dept: "330000-hrss"))
        #expect(created.status == 201)
        let id = try #require(created.json?["id"]?.stringValue)
        try await Self.eventually("the policy synced up") { try await s.call("GET", "100000", "/api/v1/policies/\(id)").status == 200 }

        // Renewal, then a restart: the node signs with the new key and its history closes the old one.
        try await s.run(try Self.block("renew"))
        #expect(try s.mode("330000/certs/node.key") == 0o600)
        try await s.stop("330000")
        try await s.start("330000")
        let keys = try await s.call("GET", "330000", "/api/v1/sync/status").json?["keys"]?.arrayValue ?? []
        #expect(keys.count == 2 && keys[0]["last_counter"]?.intValue != nil && keys[1]["current"] == .bool(true), "\(keys)")
        let renewed = try await s.call("POST", "330000", "/api/v1/policies", body: policyBody("续期后的政策", dept: "330000-hrss"))
        let renewedID = try #require(renewed.json?["id"]?.stringValue)
        try await Self.eventually("a set signed with the renewed key synced up") {
            try await s.call("GET", "100000", "/api/v1/policies/\(renewedID)").status == 200
        }

        // Revocation, installed at the stopped national node: 330000 is cut off.
        try await s.stop("100000")
        try await s.run(try Self.block("revoke"))
        try await s.start("100000")
        let status = try await s.call("GET", "100000", "/api/v1/sync/status").json
        #expect(status?["revocations"]?.arrayValue?.count == 2, "\(String(describing: status))")
        let shown = try await s.tong(["ca", "trust", "--home", "100000"])
        #expect(shown.contains("revoked certificates: 2") && shown.contains("330000 serial"), "\(shown)")
        let after = try await s.call("POST", "330000", "/api/v1/policies", body: policyBody("吊销后的政策", dept: "330000-hrss"))
        let afterID = try #require(after.json?["id"]?.stringValue)
        try await Self.eventually("the revoked node's link is down") {
            try await s.call("GET", "330000", "/api/v1/sync/status").json?["peers"]?.arrayValue?.first?["connected"] == .bool(false)
        }
        try await Task.sleep(for: .seconds(1))
        #expect(try await s.call("GET", "100000", "/api/v1/policies/\(afterID)").status == 404)
        try await s.stop("100000")
        try await s.stop("330000")
    }
}
