import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL

/// Builds the mutual-TLS HTTP/1.1 server that peers sync against.
public enum PeerServer {
    /// A Hummingbird application serving `router` over TLS on host:port; `onServerRunning` exposes the bound channel (port 0 in tests).
    public static func application(
        router: Router<PeerRequestContext>,
        host: String,
        port: Int,
        tls: TLSConfiguration,
        logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        Application(
            router: router,
            server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: onServerRunning,
            logger: logger
        )
    }
}
