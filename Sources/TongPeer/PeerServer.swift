import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL

/// Builds the mutual-TLS HTTP/1.1 server that peers sync against.
public enum PeerServer {
    /// A Hummingbird application serving `router` over TLS on host:port; `onServerRunning` exposes the bound channel (port 0 in tests).
    /// With a `policy`, each client certificate is checked by it (revocations included) during the handshake.
    public static func application(
        router: Router<PeerRequestContext>,
        host: String,
        port: Int,
        tls: TLSConfiguration,
        policy: PeerCertificatePolicy? = nil,
        logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let configuration = TLSChannelConfiguration(tlsConfiguration: tls, customVerificationCallback: policy?.callback(expectedNodeID: nil))
        return Application(
            router: router,
            server: try .tls(.http1(), configuration: configuration),
            configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: onServerRunning,
            logger: logger
        )
    }
}
