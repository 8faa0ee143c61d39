import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import TongCore
import TongDomain
import TongPeer
import UnixSignals

/// Runs one node: the HTTP listener (portal + API), the mutual-TLS peer listener and the sync
/// service, in one ServiceGroup that stops gracefully on SIGINT/SIGTERM.
public final class NodeServer: Sendable {
    /// The node.
    public let node: TongNode
    let ports = Mutex<(http: Int?, peer: Int?)>((nil, nil))
    let group = Mutex<ServiceGroup?>(nil)
    let stopRequested = Mutex(false)
    /// Most API and portal requests admitted at once (`RequestExecutor.queueLimit`); nil: the default.
    let requestQueueLimit: Int?

    /// Makes a server for an opened node; tests lower `requestQueueLimit`.
    public init(node: TongNode, requestQueueLimit: Int? = nil) {
        self.node = node
        self.requestQueueLimit = requestQueueLimit
    }

    /// Bound HTTP port once listening.
    public var httpPort: Int? { ports.withLock { $0.http } }
    /// Bound peer port once listening.
    public var peerPort: Int? { ports.withLock { $0.peer } }

    /// Stops the node gracefully, as SIGTERM would. Prefer this to cancelling `run()`: a
    /// cancelled server can trap on a connection it accepted but never served (swift-nio #3481).
    public func shutdown() async {
        let g = group.withLock { g -> ServiceGroup? in
            stopRequested.withLock { $0 = true }; return g
        }
        await g?.triggerGracefulShutdown()
    }

    /// Runs until cancelled or signalled.
    public func run(signals: [UnixSignal] = [.sigterm, .sigint]) async throws {
        let logger = node.logger
        let home = ((node.db.path as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        // One process per home: a second `tong serve` (or an import) names the first instead of
        // failing on a busy port or writing under a running node.
        let lock = try HomeLock.acquire(
            databaseFile: node.db.path, holder: "pid \(getpid()), http \(node.config.http), peer \(node.config.peer)")
        defer { lock.release() }
        let (host, port) = try NodeConfiguration.hostPort(node.config.http)
        let (phost, pport) = try NodeConfiguration.hostPort(node.config.peer)
        for (what, h, p) in [("http", host, port), ("peer", phost, pport)] where p != 0 {
            if let problem = Self.cannotListen(host: h, port: p) {
                throw NodeError.config("node home \(home): cannot listen on \(what) address \(h):\(p): \(problem)")
            }
        }
        // A held node (restored, or its replica lost) publishes once it caught up (SyncService).
        if try !node.db.state().restorePending { try node.publishDirectoryWhenPossible() }

        // Handlers run on threads of their own, off Swift's cooperative pool (RequestExecutor).
        // The peer routes have their own, admitting at least two requests per neighbour (each
        // link has one in flight): a flood of public requests must never refuse a push.
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let executor = RequestExecutor(threads: RequestExecutor.threads(cores: cores), queueLimit: requestQueueLimit)
        let peerThreads = max(2, cores)
        let peerExecutor = RequestExecutor(
            threads: peerThreads, queueLimit: max(peerThreads * RequestExecutor.queuePerThread, 2 * node.neighbours.count))
        // Both pools stop whatever happens below (a listener that cannot start included).
        do {
            try await serve(executor: executor, peerExecutor: peerExecutor, host: host, port: port, phost: phost, pport: pport, signals: signals)
        } catch {
            try? await executor.shutdown()
            try? await peerExecutor.shutdown()
            throw error
        }
        try? await executor.shutdown()
        try? await peerExecutor.shutdown()
        try? node.db.checkpoint()
        logger.info("node stopped")
    }

    /// Builds the listeners and services on the two executors and runs them until they stop.
    /// - Throws: what a listener or service throws.
    private func serve(
        executor: RequestExecutor, peerExecutor: RequestExecutor, host: String, port: Int, phost: String, pport: Int, signals: [UnixSignal]
    ) async throws {
        let logger = node.logger
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ProblemMiddleware(metrics: node.metrics, logger: logger, html: true))
        router.add(middleware: RequestExecutorMiddleware(executor: executor))
        APIRoutes.add(to: router, node: node)
        EnterpriseRoutes.add(to: router, node: node)
        ApplicationRoutes.add(to: router, node: node)
        TrustRoutes.add(to: router, node: node)
        Portal.add(to: router, node: node)
        let http = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "tong"),
            onServerRunning: { [self] ch in self.ports.withLock { $0.http = ch.localAddress?.port } },
            logger: logger)

        let peerRouter = Router(context: PeerRequestContext.self)
        peerRouter.add(middleware: ProblemMiddleware(metrics: node.metrics, logger: logger, html: false))
        peerRouter.add(middleware: RequestExecutorMiddleware(executor: peerExecutor))
        PeerRoutes.add(to: peerRouter, node: node)
        let peerApp = try PeerServer.application(
            router: peerRouter, host: phost, port: pport, tls: PeerTLS.server(node.credentials), policy: node.peerPolicy,
            logger: logger, onServerRunning: { [self] ch in self.ports.withLock { $0.peer = ch.localAddress?.port } })
        let sync = try SyncService(node: node, group: MultiThreadedEventLoopGroup.singleton)
        let delivery = DeliveryService(node: node)
        let integrity = IntegrityService(node: node)
        let postings = PostingsService(node: node)
        // Stopped in reverse order: the API and portal stop accepting first, then the peer
        // listener, then the background services. Whatever is still running 4 s after the
        // signal is cancelled, so the node exits within the contract's 5 s.
        var configuration = ServiceGroupConfiguration(
            services: [
                .init(service: postings), .init(service: integrity), .init(service: delivery), .init(service: sync),
                .init(service: peerApp), .init(service: http),
            ],
            gracefulShutdownSignals: signals, logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(4)
        let group = ServiceGroup(configuration: configuration)
        logger.info("node starting", metadata: ["http": .string(node.config.http), "peer": .string(node.config.peer)])
        let stopEarly = self.group.withLock { g in
            g = group; return stopRequested.withLock { $0 }
        }
        if stopEarly { await group.triggerGracefulShutdown() }
        try await group.run()
    }

    /// Why `host:port` cannot be listened on (e.g. "Address already in use"), or nil if it can:
    /// a bind with SO_REUSEADDR, as the listeners do, released at once.
    static func cannotListen(host: String, port: Int) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &res) == 0, let ai = res else { return nil }  // the listener reports it
        defer { freeaddrinfo(res) }
        let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        return bind(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 ? nil : String(cString: strerror(errno))
    }
}
