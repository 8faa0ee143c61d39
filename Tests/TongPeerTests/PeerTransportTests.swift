import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Testing

@testable import TongPeer

/// Real mutual TLS over loopback. BoringSSL checks validity against the wall clock, so these certs are minted at `Date()`.
@Suite struct PeerTransportTests {
    struct Federation {
        let ca: IssuedCredential
        let a: PeerCredentials
        let b: PeerCredentials
    }

    static func federation() throws -> Federation {
        let now = Date()
        let ca = try FederationCA.create(federation: "canada", now: now)
        func creds(_ id: String) throws -> PeerCredentials {
            let n = try FederationCA.issueNode(nodeID: id, nodeName: id == "100000" ? "国家政务服务平台" : "浙江省", ca: ca, now: now)
            return try PeerCredentials(caPEM: ca.certificatePEM, certificatePEM: n.certificatePEM, privateKeyPEM: n.privateKeyPEM)
        }
        return Federation(ca: ca, a: try creds("100000"), b: try creds("330000"))
    }

    /// Request timeout for the round trips: generous, because the whole suite starts at once
    /// on two cores and a handshake can wait seconds for a thread; these tests are about what
    /// is answered, not how fast.
    static let loaded: Duration = .seconds(60)

    static let quiet = Logger(label: "tong.peer.test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Runs a PeerServer with test routes on an ephemeral loopback port for the duration of `body`.
    static func withServer(_ creds: PeerCredentials, _ body: @Sendable (Int) async throws -> Void) async throws {
        let router = Router(context: PeerRequestContext.self)
        router.get("/whoami") { _, context in
            await context.peerNodeID() ?? "anonymous"
        }
        router.post("/upload") { request, context in
            let buffer = try await request.body.collect(upTo: context.maxUploadSize)
            return String(buffer.readableBytes)
        }
        router.get("/slow") { _, _ in
            try await Task.sleep(for: .seconds(3))
            return "late"
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try PeerServer.application(
            router: router, host: "127.0.0.1", port: 0, tls: PeerTLS.server(creds), logger: quiet,
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            defer { group.cancelAll() }
            try await body(port)
        }
    }

    @Test func mutualTLSRoundTripNamesTheCaller() async throws {
        let fed = try Self.federation()
        let client = try PeerClient(credentials: fed.a, group: MultiThreadedEventLoopGroup.singleton)
        try await Self.withServer(fed.b) { port in
            let response = try await client.request(
                method: "GET", host: "127.0.0.1", port: port, path: "/whoami", expectedNodeID: "330000", body: nil,
                timeout: Self.loaded)
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == "100000")
            // A second request on a fresh connection must work just the same.
            let again = try await client.request(
                method: "GET", host: "127.0.0.1", port: port, path: "/whoami", expectedNodeID: "330000", body: nil,
                timeout: Self.loaded)
            #expect(String(decoding: again.body, as: UTF8.self) == "100000")
        }
    }

    @Test func sixteenMiBUploadIsAccepted() async throws {
        let fed = try Self.federation()
        let client = try PeerClient(credentials: fed.a, group: MultiThreadedEventLoopGroup.singleton)
        let payload = [UInt8](repeating: 0x7A, count: 16 * 1024 * 1024)
        try await Self.withServer(fed.b) { port in
            let response = try await client.request(
                method: "POST", host: "127.0.0.1", port: port, path: "/upload", expectedNodeID: "330000",
                body: payload, contentType: "application/octet-stream", timeout: Self.loaded)
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == String(payload.count))
        }
    }

    @Test func foreignClientCertificateIsRefused() async throws {
        let fed = try Self.federation()
        let rogueCA = try FederationCA.create(federation: "canada", now: Date())
        let rogue = try FederationCA.issueNode(nodeID: "100000", nodeName: "Imposter", ca: rogueCA, now: Date())
        // Trusts the real CA (so the server looks fine) but presents a certificate the server must reject.
        let creds = try PeerCredentials(caPEM: fed.ca.certificatePEM, certificatePEM: rogue.certificatePEM, privateKeyPEM: rogue.privateKeyPEM)
        let client = try PeerClient(credentials: creds, group: MultiThreadedEventLoopGroup.singleton)
        try await Self.withServer(fed.b) { port in
            do {
                let response = try await client.request(
                    method: "GET", host: "127.0.0.1", port: port, path: "/whoami", expectedNodeID: "330000", body: nil,
                    timeout: .seconds(5))
                Issue.record("rogue client got a response: \(response.status)")
            } catch let error as PeerError {
                // TLS 1.3 clients finish the handshake before the server judges their certificate, so the
                // rejection arrives as an alert on first read.
                #expect(error.code == .tlsFailed, "\(error)")
            }
        }
    }

    @Test func wrongServerIdentityIsRefused() async throws {
        let fed = try Self.federation()
        let client = try PeerClient(credentials: fed.a, group: MultiThreadedEventLoopGroup.singleton)
        try await Self.withServer(fed.b) { port in
            do {
                _ = try await client.request(
                    method: "GET", host: "127.0.0.1", port: port, path: "/whoami", expectedNodeID: "100000", body: nil)
                Issue.record("request to the wrong node succeeded")
            } catch let error as PeerError {
                #expect(error.code == .tlsFailed, "\(error)")
            }
        }
    }

    @Test func slowPeerTimesOut() async throws {
        let fed = try Self.federation()
        let client = try PeerClient(credentials: fed.a, group: MultiThreadedEventLoopGroup.singleton)
        try await Self.withServer(fed.b) { port in
            // The route answers after 3 s; only the client's own 300 ms timer raises `.timeout`
            // (wall time is not asserted: on a loaded machine the handshake alone can take seconds).
            do {
                _ = try await client.request(
                    method: "GET", host: "127.0.0.1", port: port, path: "/slow", expectedNodeID: "330000", body: nil,
                    timeout: .milliseconds(300))
                Issue.record("slow request did not time out")
            } catch let error as PeerError {
                #expect(error.code == .timeout, "\(error)")
            }
            // Let the abandoned handler finish before the server is cancelled (swift-nio #3481).
            try await Task.sleep(for: .seconds(3.5))
        }
    }

    @Test func connectionRefusedIsConnectFailed() async throws {
        let fed = try Self.federation()
        let client = try PeerClient(credentials: fed.a, group: MultiThreadedEventLoopGroup.singleton)
        do {
            _ = try await client.request(method: "GET", host: "127.0.0.1", port: 1, path: "/", expectedNodeID: "330000", body: nil)
            Issue.record("connect to a closed port succeeded")
        } catch let error as PeerError {
            #expect(error.code == .connectFailed, "\(error)")
        }
    }

    @Test func credentialsLoadFromNodeHome() throws {
        let now = Date()
        let ca = try FederationCA.create(federation: "canada", now: now)
        let node = try FederationCA.issueNode(nodeID: "nb", nodeName: "New Brunswick", ca: ca, now: now)
        let home = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: home) }
        try FileManager.default.createDirectory(atPath: home + "/certs", withIntermediateDirectories: true)
        try ca.certificatePEM.write(toFile: home + "/certs/ca.pem", atomically: true, encoding: .utf8)
        try node.certificatePEM.write(toFile: home + "/certs/node.pem", atomically: true, encoding: .utf8)
        try KeyFile.writePrivate(node.privateKeyPEM, to: home + "/certs/node.key")
        let creds = try PeerCredentials.load(home: home)
        #expect(creds.nodeID == "nb")
        #expect(throws: PeerError.self) { try PeerCredentials.load(home: home + "/missing") }
    }
}
