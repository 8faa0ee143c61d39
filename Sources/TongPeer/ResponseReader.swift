import NIOCore
import NIOHTTP1
import NIOSSL
import TongCore
import X509

/// Reads one HTTP/1.1 response from a neighbour, part by part: checks at its head that the
/// server's certificate names the expected node (the URI SAN, beside the DNS SAN the TLS
/// hostname check matched; the handshake is necessarily complete by the first response byte)
/// and enforces the size cap. Shared by the one-shot `PeerClient.request` and the kept-alive
/// `PeerConnection`, so both pin the peer and cap responses the same way.
struct ResponseReader {
    /// The node id the server must prove.
    let expectedNodeID: String
    /// Largest response body accepted, in bytes.
    let maxBytes: Int
    private var head: HTTPResponseHead?
    private var body: ByteBuffer?
    private var verified = false

    init(expectedNodeID: String, maxBytes: Int) {
        self.expectedNodeID = expectedNodeID
        self.maxBytes = maxBytes
    }

    /// Forgets a partial response (before a new request on the same connection).
    mutating func reset() {
        head = nil
        body = nil
    }

    /// Takes one part; returns the response and whether the server keeps the connection open
    /// once its end arrives, nil before.
    /// - Throws: `PeerError` `.wrongPeer` (the certificate names another node), `.responseTooLarge`
    ///   (declared or received body over `maxBytes`), `.protocolError` (an end without a head).
    mutating func read(_ part: HTTPClientResponsePart, context: ChannelHandlerContext) throws -> (PeerResponse, keepAlive: Bool)? {
        switch part {
        case .head(let h):
            if !verified {
                let peer = try? context.pipeline.syncOperations.nioSSL_peerCertificate()
                let id = peer.flatMap { try? Certificate(derEncoded: $0.toDERBytes()) }.flatMap { NodeIdentity.nodeID(of: $0) }
                guard id == expectedNodeID else {
                    throw PeerError(.wrongPeer, "peer presented node \(id ?? "<none>"), expected \(expectedNodeID)")
                }
                verified = true
            }
            if let declared = h.headers.first(name: "Content-Length").flatMap(Int.init), declared > maxBytes {
                throw PeerError(.responseTooLarge, "response declares \(declared) bytes, cap is \(maxBytes)")
            }
            head = h
            return nil
        case .body(var chunk):
            if (body?.readableBytes ?? 0) + chunk.readableBytes > maxBytes {
                throw PeerError(.responseTooLarge, "response exceeds \(maxBytes) bytes")
            }
            if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
            return nil
        case .end:
            guard let h = head else { throw PeerError(.protocolError, "response ended without a head") }
            let bytes = body.map { Array($0.readableBytesView) } ?? []
            reset()
            return (PeerResponse(status: Int(h.status.code), body: bytes, contentType: h.headers.first(name: "Content-Type")), h.isKeepAlive)
        }
    }
}
