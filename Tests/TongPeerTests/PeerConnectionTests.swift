import Foundation
import NIOPosix
import Testing

@testable import TongPeer

/// A sync link's kept-alive connection: one TLS handshake for many requests, the server's node
/// id pinned, and a fresh connection when the kept one is gone.
@Suite struct PeerConnectionTests {
    @Test func manyRequestsShareOneHandshake() async throws {
        let fed = try PeerTransportTests.federation()
        let client = try PeerClient(credentials: fed.a, group: MultiThreadedEventLoopGroup.singleton)
        try await PeerTransportTests.withServer(fed.b) { port in
            let link = PeerConnection(client: client, host: "127.0.0.1", port: port, expectedNodeID: "330000")
            for k in 0..<20 {
                let r = try await link.request(method: k.isMultiple(of: 2) ? "GET" : "POST", path: k.isMultiple(of: 2) ? "/whoami" : "/upload",
                                               body: k.isMultiple(of: 2) ? nil : [UInt8](repeating: 0x41, count: 1_000 * k),
                                               timeout: PeerTransportTests.loaded)
                #expect(r.status == 200)
                #expect(String(decoding: r.body, as: UTF8.self) == (k.isMultiple(of: 2) ? "100000" : String(1_000 * k)))
            }
            #expect(await link.connections == 1)
            // Dropped under it (as a peer's idle timeout or restart would): the next request reconnects.
            await link.close()
            let r = try await link.request(method: "GET", path: "/whoami", body: nil, timeout: PeerTransportTests.loaded)
            #expect(String(decoding: r.body, as: UTF8.self) == "100000")
            #expect(await link.connections == 2)
        }
    }

    @Test func theServerMustBeTheExpectedNode() async throws {
        let fed = try PeerTransportTests.federation()
        let client = try PeerClient(credentials: fed.a, group: MultiThreadedEventLoopGroup.singleton)
        try await PeerTransportTests.withServer(fed.b) { port in
            let link = PeerConnection(client: client, host: "127.0.0.1", port: port, expectedNodeID: "320000")
            await #expect(throws: PeerError.self) {
                _ = try await link.request(method: "GET", path: "/whoami", body: nil, timeout: PeerTransportTests.loaded)
            }
        }
    }

    @Test func aSlowAnswerTimesOutAndTheLinkRecovers() async throws {
        let fed = try PeerTransportTests.federation()
        let client = try PeerClient(credentials: fed.a, group: MultiThreadedEventLoopGroup.singleton)
        try await PeerTransportTests.withServer(fed.b) { port in
            let link = PeerConnection(client: client, host: "127.0.0.1", port: port, expectedNodeID: "330000")
            await #expect(throws: PeerError.self) { _ = try await link.request(method: "GET", path: "/slow", body: nil, timeout: .milliseconds(300)) }
            let r = try await link.request(method: "GET", path: "/whoami", body: nil, timeout: PeerTransportTests.loaded)
            #expect(String(decoding: r.body, as: UTF8.self) == "100000")
            // Let the abandoned slow handler finish before the server is cancelled: cancelling a
            // server mid-response traps in NIOAsyncWriter (swift-nio #3481) and takes the run down.
            try await Task.sleep(for: .seconds(3.5))
        }
    }
}
