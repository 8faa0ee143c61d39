import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import TongCore
import X509

/// One kept-alive mutual-TLS HTTP/1.1 connection to one neighbour: a sync link sends every
/// hello and push over it, so a federation pays one TLS handshake per link, not per push.
/// Requests are sequential (one outstanding at a time, as a link works). The server's node id
/// is pinned as in `PeerClient.request`. A request that finds the kept connection closed by the
/// peer (idle timeout, restart) is sent once more on a fresh connection; sync requests are
/// idempotent (a push applies at the receiver's cursor only), so that is safe. One cut short by
/// `close` is not.
public actor PeerConnection {
    private let client: PeerClient
    /// The address dialled.
    public let host: String
    /// The port dialled.
    public let port: Int
    /// The node id the server must prove.
    public let expectedNodeID: String
    private var channel: (any Channel)?
    /// The response the request in flight waits for, failed at once by `close`.
    private var outstanding: EventLoopPromise<PeerResponse>?
    /// `close` cut the request in flight short: it fails, and is not sent again.
    private var interrupted = false
    /// TLS handshakes made so far (1 for a link whose connection never dropped).
    public private(set) var connections = 0

    /// A connection (made lazily) to `expectedNodeID` at host:port.
    public init(client: PeerClient, host: String, port: Int, expectedNodeID: String) {
        self.client = client; self.host = host; self.port = port; self.expectedNodeID = expectedNodeID
    }

    /// Sends one request and returns the full response.
    /// - Throws: `PeerError` (`connectFailed`, `tlsFailed`, `wrongPeer`, `timeout`, `responseTooLarge`,
    ///   `connectionClosed`, `protocolError`); after an error the connection is dropped.
    public func request(
        method: String, path: String, body: [UInt8]?, contentType: String = "application/json",
        timeout: Duration = .seconds(10)
    ) async throws -> PeerResponse {
        interrupted = false
        for attempt in 0..<2 {
            // A cancelled link (a stopping node) sends nothing more: its `close` may have come
            // before this request began, when there was nothing in flight to fail.
            if Task.isCancelled { throw PeerError(.connectionClosed, "request to \(expectedNodeID) not sent: the link was stopped") }
            let reused = channel != nil
            let ch = try await connected(timeout: timeout)
            if Task.isCancelled {
                drop()
                throw PeerError(.connectionClosed, "request to \(expectedNodeID) not sent: the link was stopped")
            }
            do {
                return try await exchange(on: ch, method: method, path: path, body: body, contentType: contentType, timeout: timeout)
            } catch let e as PeerError where e.code == .connectionClosed && reused && attempt == 0 && !interrupted {
                drop()
                continue
            } catch {
                drop()
                throw error
            }
        }
        throw PeerError(.connectionClosed, "connection to \(expectedNodeID) closed twice")
    }

    /// Closes the connection (a later request opens a new one). A request in flight fails at
    /// once with `connectionClosed`: a TLS close waits to flush what it still has to send, which
    /// never happens while the peer is hung and its receive window is full, so the request would
    /// otherwise wait for its timeout (a stopping node must not).
    public func close() {
        if let outstanding {
            interrupted = true
            outstanding.fail(PeerError(.connectionClosed, "connection to \(expectedNodeID) closed by this node"))
        }
        outstanding = nil
        drop()
    }

    private func drop() {
        channel?.close(promise: nil)
        channel = nil
    }

    private func connected(timeout: Duration) async throws -> any Channel {
        if let c = channel, c.isActive { return c }
        channel = nil
        let c = try await client.connect(host: host, port: port, expectedNodeID: expectedNodeID, timeout: timeout)
        connections += 1
        channel = c
        return c
    }

    private func exchange(
        on ch: any Channel, method: String, path: String, body: [UInt8]?, contentType: String,
        timeout: Duration
    ) async throws -> PeerResponse {
        let promise = ch.eventLoop.makePromise(of: PeerResponse.self)
        outstanding = promise
        defer { outstanding = nil }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "\(NodeIdentity.hostname(for: expectedNodeID)):\(port)")
        headers.add(name: "Content-Length", value: String(body?.count ?? 0))
        if body != nil { headers.add(name: "Content-Type", value: contentType) }
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path, headers: headers)
        let exchange = PeerExchange(head: head, body: body.map { ByteBuffer(bytes: $0) }, promise: promise)
        let what = "\(method) \(path) to \(expectedNodeID) at \(host):\(port)"
        let timer = ch.eventLoop.scheduleTask(in: PeerClient.timeAmount(timeout)) {
            promise.fail(PeerError(.timeout, "\(what) timed out"))
            ch.close(promise: nil)
        }
        defer { timer.cancel() }
        ch.writeAndFlush(exchange).whenFailure { error in
            promise.fail(PeerError.classify(error, context: "sending request"))
        }
        return try await promise.futureResult.get()
    }
}

/// One request on a kept connection, with the promise its response completes.
struct PeerExchange: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer?
    var promise: EventLoopPromise<PeerResponse>
}

/// Writes each `PeerExchange` and completes its promise with the next full response, keeping
/// the connection open unless the server says `Connection: close`.
final class KeptAliveHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = PeerExchange
    typealias OutboundOut = HTTPClientRequestPart

    private let expectedNodeID: String
    private var pending: EventLoopPromise<PeerResponse>?
    private var reader: ResponseReader

    init(expectedNodeID: String, maxBytes: Int) {
        self.expectedNodeID = expectedNodeID
        self.reader = ResponseReader(expectedNodeID: expectedNodeID, maxBytes: maxBytes)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let ex = unwrapOutboundIn(data)
        guard pending == nil else {
            ex.promise.fail(PeerError(.protocolError, "a request is already outstanding on this connection"))
            promise?.fail(PeerError(.protocolError, "busy"))
            return
        }
        pending = ex.promise
        reader.reset()
        context.write(wrapOutboundOut(.head(ex.head)), promise: nil)
        if let b = ex.body, b.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(b))), promise: nil) }
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            guard let (response, keepAlive) = try reader.read(unwrapInboundIn(data), context: context) else { return }
            guard let p = pending else { throw PeerError(.protocolError, "a response without a request") }
            pending = nil
            p.succeed(response)
            if !keepAlive { context.close(promise: nil) }
        } catch {
            fail(context, error as? PeerError ?? PeerError(.protocolError, "\(error)"))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context, PeerError.classify(error, context: "talking to \(expectedNodeID)"))
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending?.fail(PeerError(.connectionClosed, "connection to \(expectedNodeID) closed before a complete response"))
        pending = nil
        context.fireChannelInactive()
    }

    private func fail(_ context: ChannelHandlerContext, _ error: PeerError) {
        pending?.fail(error)
        pending = nil
        context.close(promise: nil)
    }
}
