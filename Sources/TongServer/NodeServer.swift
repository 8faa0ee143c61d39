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

    /// Makes a server for an opened node.
    public init(node: TongNode) { self.node = node }

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
        // A held node (restored, or its replica lost) publishes once it caught up (SyncService).
        if try !node.db.state().restorePending { try node.publishDirectoryWhenPossible() }
        let (host, port) = try NodeConfiguration.hostPort(node.config.http)
        let (phost, pport) = try NodeConfiguration.hostPort(node.config.peer)

        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ProblemMiddleware(metrics: node.metrics, logger: logger, html: true))
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
        PeerRoutes.add(to: peerRouter, node: node)
        let peerApp = try PeerServer.application(
            router: peerRouter, host: phost, port: pport, tls: PeerTLS.server(node.credentials), policy: node.peerPolicy,
            logger: logger, onServerRunning: { [self] ch in self.ports.withLock { $0.peer = ch.localAddress?.port } })
        let sync = try SyncService(node: node, group: MultiThreadedEventLoopGroup.singleton)
        let delivery = DeliveryService(node: node)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: http), .init(service: peerApp), .init(service: sync), .init(service: delivery)],
                gracefulShutdownSignals: signals, logger: logger))
        logger.info("node starting", metadata: ["http": .string(node.config.http), "peer": .string(node.config.peer)])
        let stopEarly = self.group.withLock { g in
            g = group; return stopRequested.withLock { $0 }
        }
        if stopEarly { await group.triggerGracefulShutdown() }
        try await group.run()
        try? node.db.checkpoint()
        logger.info("node stopped")
    }
}
