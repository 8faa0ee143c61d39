import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import TongCore
import X509

/// A complete HTTP response from a peer.
public struct PeerResponse: Sendable {
    /// HTTP status code.
    public var status: Int
    /// Full response body.
    public var body: [UInt8]
    /// Content-Type header, if any.
    public var contentType: String?

    /// Creates a response value.
    public init(status: Int, body: [UInt8], contentType: String?) {
        self.status = status
        self.body = body
        self.contentType = contentType
    }
}

/// HTTP/1.1-over-mutual-TLS client that pins each request to the node id the caller expects.
///
/// Built on raw NIO rather than AsyncHTTPClient because the expected server identity differs per request
/// and must be checked via hostname verification against "<id>.node.tong", independent of the dialled address.
public final class PeerClient: Sendable {
    /// Largest response body accepted; bounds memory if a peer misbehaves.
    public static let maxResponseBytes = 64 * 1024 * 1024

    let sslContext: NIOSSLContext
    let group: any EventLoopGroup
    let policy: PeerCertificatePolicy?

    /// Builds the TLS context once so connections don't re-parse keys. With a `policy`, the
    /// server's certificate is checked by it (revocations included) instead of BoringSSL alone.
    /// - Throws: `PeerError.invalidCredential` if the TLS context cannot be built.
    public init(credentials: PeerCredentials, group: any EventLoopGroup, policy: PeerCertificatePolicy? = nil) throws {
        do {
            self.sslContext = try NIOSSLContext(configuration: PeerTLS.client(credentials))
        } catch {
            throw PeerError(.invalidCredential, "cannot build client TLS context: \(error)")
        }
        self.group = group
        self.policy = policy
    }

    /// The TLS handler of a connection to `expectedNodeID`.
    func tlsHandler(hostname: String, expectedNodeID: String) throws -> NIOSSLClientHandler {
        guard let policy else { return try NIOSSLClientHandler(context: sslContext, serverHostname: hostname) }
        return try NIOSSLClientHandler(
            context: sslContext, serverHostname: hostname, customVerificationCallback: policy.callback(expectedNodeID: expectedNodeID))
    }

    /// One request to the peer at host:port, which must present a certificate for `expectedNodeID` (verified via hostname verification of
    /// "<id>.node.tong" against the SAN). Throws PeerError on connect/TLS/timeout failures.
    public func request(
        method: String,
        host: String,
        port: Int,
        path: String,
        expectedNodeID: String,
        body: [UInt8]?,
        contentType: String = "application/json",
        timeout: Duration = .seconds(10)
    ) async throws -> PeerResponse {
        try FederationCA.validate(nodeID: expectedNodeID)
        let (seconds, attoseconds) = timeout.components
        let timeAmount = TimeAmount.nanoseconds(max(1, seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
        let deadline = NIODeadline.now() + timeAmount
        let hostname = NodeIdentity.hostname(for: expectedNodeID)
        let loop = group.next()
        let promise = loop.makePromise(of: PeerResponse.self)

        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeAmount)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tls = try self.tlsHandler(hostname: hostname, expectedNodeID: expectedNodeID)
                    try channel.pipeline.syncOperations.addHandler(tls)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(
                        ResponseCollector(promise: promise, expectedNodeID: expectedNodeID, maxBytes: Self.maxResponseBytes)
                    )
                }
            }

        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            var code = PeerError.Code.connectFailed
            if case ChannelError.connectTimeout = error { code = .timeout }
            let wrapped = PeerError(code, "connect to \(host):\(port) failed: \(error)")
            promise.fail(wrapped)
            throw wrapped
        }
        let timer = loop.scheduleTask(deadline: deadline) {
            promise.fail(PeerError(.timeout, "\(method) \(path) to \(expectedNodeID) at \(host):\(port) timed out"))
            channel.close(promise: nil)
        }
        defer {
            timer.cancel()
            channel.close(promise: nil)
        }

        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "\(hostname):\(port)")
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Content-Length", value: String(body?.count ?? 0))
        if body != nil { headers.add(name: "Content-Type", value: contentType) }
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body, !body.isEmpty {
            channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
        }
        // Write failures also surface through errorCaught/channelInactive, but failing here gives the precise cause.
        channel.writeAndFlush(HTTPClientRequestPart.end(nil)).whenFailure { error in
            promise.fail(PeerError.classify(error, context: "sending request"))
        }
        return try await promise.futureResult.get()
    }
}

extension PeerClient {
    /// Opens a mutual-TLS connection to `expectedNodeID` at host:port for `PeerConnection`.
    /// - Throws: `PeerError` (`invalidNodeID`, `connectFailed`, `timeout`).
    func connect(host: String, port: Int, expectedNodeID: String, timeout: Duration) async throws -> any Channel {
        try FederationCA.validate(nodeID: expectedNodeID)
        let hostname = NodeIdentity.hostname(for: expectedNodeID)
        let bootstrap = ClientBootstrap(group: group.next())
            .connectTimeout(Self.timeAmount(timeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tls = try self.tlsHandler(hostname: hostname, expectedNodeID: expectedNodeID)
                    try channel.pipeline.syncOperations.addHandler(tls)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(
                        KeptAliveHandler(expectedNodeID: expectedNodeID, maxBytes: Self.maxResponseBytes))
                }
            }
        do {
            return try await bootstrap.connect(host: host, port: port).get()
        } catch {
            var code = PeerError.Code.connectFailed
            if case ChannelError.connectTimeout = error { code = .timeout }
            throw PeerError(code, "connect to \(host):\(port) failed: \(error)")
        }
    }

    /// A `Duration` as NIO's `TimeAmount` (at least 1 ns).
    static func timeAmount(_ d: Duration) -> TimeAmount {
        let (seconds, attoseconds) = d.components
        return .nanoseconds(max(1, seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
    }
}

extension PeerError {
    /// Maps NIO/BoringSSL errors onto PeerError codes so callers can tell "not trusted" from "not reachable".
    static func classify(_ error: any Error, context: String) -> PeerError {
        if let e = error as? PeerError { return e }
        if error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError {
            return PeerError(.tlsFailed, "TLS failure while \(context): \(error)")
        }
        if error is HTTPParserError {
            return PeerError(.protocolError, "malformed HTTP while \(context): \(error)")
        }
        return PeerError(.connectionClosed, "connection failed while \(context): \(error)")
    }
}

/// Collects one HTTP response and completes the promise exactly once with it or with a PeerError.
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<PeerResponse>
    private let expectedNodeID: String
    private var reader: ResponseReader

    init(promise: EventLoopPromise<PeerResponse>, expectedNodeID: String, maxBytes: Int) {
        self.promise = promise
        self.expectedNodeID = expectedNodeID
        self.reader = ResponseReader(expectedNodeID: expectedNodeID, maxBytes: maxBytes)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            guard let (response, _) = try reader.read(unwrapInboundIn(data), context: context) else { return }
            promise.succeed(response)
            context.close(promise: nil)
        } catch {
            fail(context, error as? PeerError ?? PeerError(.protocolError, "\(error)"))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context, PeerError.classify(error, context: "talking to \(expectedNodeID)"))
    }

    func channelInactive(context: ChannelHandlerContext) {
        // No-op if the response already completed; otherwise the peer hung up mid-exchange (often a TLS rejection).
        promise.fail(PeerError(.connectionClosed, "connection to \(expectedNodeID) closed before a complete response"))
        context.fireChannelInactive()
    }

    private func fail(_ context: ChannelHandlerContext, _ error: PeerError) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
