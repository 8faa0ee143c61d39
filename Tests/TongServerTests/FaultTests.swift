import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import Testing
import TongCore
import TongPeer

@testable import TongDomain
@testable import TongServer
@testable import TongTools

/// Faults answered clearly: a full disk, a damaged replica, bodies that are not JSON.
@Suite(.serialized) struct FaultTests {
    /// A POST with curl, so the Content-Type header is exactly what the test says (or absent).
    static func curlPost(_ url: String, body: String, contentType: String?, token: String? = nil) throws -> (status: Int, body: String) {
        // The body from a file: a large one does not fit on a command line.
        let file = NSTemporaryDirectory() + "tong-body-\(UUID().uuidString)"
        try body.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        var args = ["-X", "POST", url, "--data-binary", "@" + file]
        args += ["-H", contentType.map { "Content-Type: \($0)" } ?? "Content-Type:"]
        if let token { args += ["-H", "Authorization: Bearer \(token)"] }
        return curl(args)
    }

    @Test func jsonRoutesRefuseBodiesThatAreNotApplicationJSON() async throws {
        try await withFederation(topology: TestTree.toml(["330000"])) { f in
            let base = "http://\(f.fed.http["330000"]!)"
            let admin = try f.fed.adminToken("330000")
            let feedback = String(
                decoding: CanonicalJSON.encode([
                    "kind": "consultation", "department": "330000-hrss", "title": "咨询", "content": "如何申请？",
                    "contact": ["name": "王", "phone": "13912345678"],
                ]), as: UTF8.self)
            let policy = String(decoding: CanonicalJSON.encode(policyBody("跨站提交", dept: "330000-hrss")), as: UTF8.self)
            for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", nil] {
                let r = try Self.curlPost(base + "/api/v1/feedback", body: feedback, contentType: type)
                #expect(r.status == 415, "feedback as \(type ?? "no type") answered \(r.status)")
                #expect(r.body.contains("unsupported-media-type"))
                let a = try Self.curlPost(base + "/api/v1/policies", body: policy, contentType: type, token: admin)
                #expect(a.status == 415, "admin write as \(type ?? "no type") answered \(a.status)")
            }
            #expect(try f.node("330000").db.search(.init()).total == 0)
            // The same bodies as JSON are taken.
            #expect(try Self.curlPost(base + "/api/v1/feedback", body: feedback, contentType: "application/json").status == 201)
            #expect(
                try Self.curlPost(base + "/api/v1/policies", body: policy, contentType: "application/json; charset=utf-8", token: admin).status == 201
            )
        }
    }

    /// A GET with curl: the status and the body.
    static func curlGet(_ url: String) -> (status: Int, body: String) { curl([url]) }

    /// Runs curl with `args` (silent, body to stdout, the status code on a last line of its own):
    /// the status (0 when curl could not run or reach the server) and the body.
    static func curl(_ args: [String]) -> (status: Int, body: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}"] + args
        let out = Pipe()
        p.standardOutput = out
        guard (try? p.run()) != nil else { return (0, "") }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard let nl = text.lastIndex(of: "\n"), let code = Int(text[text.index(after: nl)...]) else { return (0, text) }
        return (code, String(text[..<nl]))
    }

    /// Mounts a tmpfs of `megabytes` at a fresh folder; nil where mounting is not allowed.
    static func tmpfs(megabytes: Int) -> String? {
        let dir = NSTemporaryDirectory() + "tong-tmpfs-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["mount", "-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", dir]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        p.waitUntilExit()
        return p.terminationStatus == 0 ? dir : nil
    }

    static func unmount(_ dir: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["umount", "-l", dir]
        try? p.run()
        p.waitUntilExit()
    }

    /// A node whose disk is full answers 507 with the reason, and takes writes again once there is room.
    /// On a real tmpfs when the test may mount one (root), else with SQLite's page limit.
    @Test func aFullDiskIs507WithTheReasonAndWritesResumeAfterwards() async throws {
        await FederationLock.shared.acquire()
        do { try await fullDisk() } catch {
            await FederationLock.shared.release()
            throw error
        }
        await FederationLock.shared.release()
    }

    func fullDisk() async throws {
        let mount = Self.tmpfs(megabytes: 16)
        defer { if let mount { Self.unmount(mount) } }
        let root = (mount ?? NSTemporaryDirectory()) + "/fed-\(UUID().uuidString.prefix(8))"
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let fed = try LocalFederation(topologyText: TestTree.toml(["330000"]), root: root, freePorts: true, logger: logger)
        let run = Task { try await fed.run() }
        do { try await fill(fed, root: root, mounted: mount != nil) } catch {
            await fed.shutdown()
            _ = try? await run.value
            throw error
        }
        await fed.shutdown()
        _ = try? await run.value
    }

    func fill(_ fed: LocalFederation, root: String, mounted: Bool) async throws {
        let mount: String? = mounted ? root : nil
        try await DemoRunner.waitUntil(seconds: 20) { fed.servers["330000"]!.httpPort != nil }
        let url = "http://\(fed.http["330000"]!)/api/v1/policies"
        let admin = try fed.adminToken("330000")
        let big = String(repeating: "对受疫情影响生产经营困难的中小微企业可申请缓缴社会保险费。", count: 2_000)
        let body = String(decoding: CanonicalJSON.encode(policyBody("满盘", dept: "330000-hrss", body: big)), as: UTF8.self)
        let filler = root + "/filler"
        if mount != nil {
            // Fill the file system to the last byte.
            FileManager.default.createFile(atPath: filler, contents: nil)
            let h = try FileHandle(forWritingTo: URL(fileURLWithPath: filler))
            let chunk = Data(count: 64 << 10)
            while (try? h.write(contentsOf: chunk)) != nil {}
            try? h.close()
        } else {
            try fed.nodes["330000"]!.db.limitSize(extraPages: 0)
        }
        let full = try Self.curlPost(url, body: body, contentType: "application/json", token: admin)
        #expect(full.status == 507, "\(full.body)")
        let problem = try JSONParser.parse(Array(full.body.utf8))
        #expect(problem["type"]?.stringValue?.hasSuffix("/storage-full") == true)
        #expect(problem["detail"]?.stringValue?.contains("database or disk is full") == true)
        // Space comes back: the same write goes through.
        if mount != nil { try FileManager.default.removeItem(atPath: filler) } else { try fed.nodes["330000"]!.db.limitSize(extraPages: nil) }
        #expect(try Self.curlPost(url, body: body, contentType: "application/json", token: admin).status == 201)
    }

    @Test func aReplicaDamagedWhileRunningMakesHealthzSayCorrupt() async throws {
        try await withFederation(topology: TestTree.toml(["330000"])) { f in
            let node = f.node("330000")
            let lines = (0..<400).map { i in
                String(
                    decoding: CanonicalJSON.encode(policyBody("第\(i)号", dept: "330000-hrss", body: String(repeating: "稳岗返还第\(i)条。", count: 30))),
                    as: UTF8.self)
            }
            #expect(try node.importPolicies(lines: lines).imported == 400)
            try node.db.checkpoint()
            #expect(node.checkIntegrity() == nil)
            #expect(try await f.request("GET", "330000", "/healthz").status == 200)
            try OperationsFiles.corrupt(node.db.path, page: 100)
            let problem = try #require(node.checkIntegrity())
            #expect(problem.contains(node.db.path) && problem.contains("is corrupt"))
            let h = try await f.request("GET", "330000", "/healthz")
            #expect(h.status == 503)
            #expect(h.json?["status"] == "corrupt" && h.json?["reason"]?.stringValue == problem)
            let m = Sample.parse(try await f.request("GET", "330000", "/metrics").text)
            #expect(m.first { $0.name == "tong_storage_ok" }?.value == 0)
        }
    }

    /// The parent hangs (a host that stopped answering): the child's link to it waits in the
    /// middle of a request. SIGTERM must still stop the child within the contract's 5 seconds,
    /// without waiting for that request to time out. Two hangs: before the TLS handshake (a
    /// socket nobody accepts from) and after it (a TLS server with the parent's real
    /// certificate that reads the request and never answers).
    @Test(arguments: [false, true]) func aStopDoesNotWaitForAParentThatHangs(afterHandshake: Bool) async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let root = NSTemporaryDirectory() + "tong-hang-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let hung = HungPeer()
        defer { hung.close() }
        let fed = try LocalFederation(topologyText: TestTree.toml(["100000", "330000"]), root: root, freePorts: true, logger: logger) { c in
            if c.nodeID == "330000" { c.peerAddresses["100000"] = "127.0.0.1:\(hung.port)" }
        } prepare: { root in
            if afterHandshake { try hung.answerHandshakes(as: PeerCredentials.load(home: root + "/100000")) }
        }
        let run = Task { try await fed.run(only: ["330000"]) }
        try await DemoRunner.waitUntil(seconds: 30) { fed.servers["330000"]?.httpPort != nil }
        // Long enough for the link to be inside its first request to the hung parent.
        try await Task.sleep(for: .milliseconds(1_500))
        let clock = ContinuousClock()
        let t0 = clock.now
        await fed.servers["330000"]!.shutdown()
        _ = try? await run.value
        let took = clock.now - t0
        #expect(took < .seconds(5), "stopping took \(took)")
        if afterHandshake { #expect(hung.handshakes() >= 1, "the child reached the hung parent's TLS server") }
    }
}

enum OperationsFiles {
    /// Overwrites page `page` (1-based, 4 KiB pages) of a replica with seeded random bytes.
    static func corrupt(_ path: String, page: Int) throws {
        let h = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? h.close() }
        var rng = SplitMix64(seed: 16)
        var bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) }
        bytes[0] = 0  // never a valid b-tree page type
        try h.seek(toOffset: UInt64((page - 1) * 4096))
        try h.write(contentsOf: bytes)
        try h.synchronize()
    }
}

/// A peer address where nothing ever answers. Until `answerHandshakes`, a listening socket that
/// is never accepted from (the kernel completes the TCP handshake, the TLS hello waits); after it,
/// a TLS server with real node credentials that completes the handshake, reads whatever comes
/// and never writes a byte of HTTP.
final class HungPeer: @unchecked Sendable {
    private let fd: Int32
    let port: Int
    private var server: (any Channel)?
    private let count = Count()

    final class Count: Sendable {
        let value = Mutex(0)
    }

    init() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        port = Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Serves TLS on the same port instead (the plain socket is closed first).
    func answerHandshakes(as credentials: PeerCredentials) throws {
        Foundation.close(fd)
        let context = try NIOSSLContext(configuration: PeerTLS.server(credentials))
        let count = self.count
        server = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try ch.pipeline.syncOperations.addHandler(HandshakeCounter(count: count))
                }
            }
            .bind(host: "127.0.0.1", port: port).wait()
    }

    func handshakes() -> Int { count.value.withLock { $0 } }

    func close() {
        if let server { try? server.close().wait() } else { Foundation.close(fd) }
    }

    /// Counts requests that arrived over a finished handshake, and drops their bytes.
    final class HandshakeCounter: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let count: Count
        init(count: Count) { self.count = count }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { count.value.withLock { $0 += 1 } }
    }
}
