import NIOCore
import NIOSSL

/// TLS configurations for node-to-node traffic: TLS 1.3, federation CA only, certificates both ways.
public enum PeerTLS {
    /// TLS 1.3 only; requires and verifies a client certificate against the federation CA.
    public static func server(_ c: PeerCredentials) throws -> TLSConfiguration {
        var config = TLSConfiguration.makeServerConfiguration(
            certificateChain: c.certificateChain.map { .certificate($0) },
            privateKey: .privateKey(c.privateKey)
        )
        config.minimumTLSVersion = .tlsv13
        config.maximumTLSVersion = .tlsv13
        // Clients connect by IP, so hostname checks on client certs would reject every honest node; the CA
        // signature is what authenticates them, and handlers read the node id from the SAN afterwards.
        config.certificateVerification = .noHostnameVerification
        config.trustRoots = .certificates(c.caCertificates)
        // Advertising the CA lets tools like curl pick the right client certificate.
        config.sendCANameList = true
        config.shutdownTimeout = closeNotifyTimeout
        return config
    }

    /// How long a closing connection waits for the other side's TLS close_notify (NIOSSL's
    /// default is 5 s). A peer's kept-alive link reads nothing while idle, so it never answers a
    /// close_notify; at shutdown the server closes such connections (HTTP quiesce) and would wait
    /// the whole default for each, past `tong serve`'s 5-second stop. Every response is complete
    /// by then; the close_notify only protects against truncation, which HTTP framing already
    /// detects.
    static let closeNotifyTimeout: TimeAmount = .milliseconds(500)

    /// TLS 1.3 only; presents our certificate; trusts only the federation CA.
    public static func client(_ c: PeerCredentials) throws -> TLSConfiguration {
        var config = TLSConfiguration.makeClientConfiguration()
        config.certificateChain = c.certificateChain.map { .certificate($0) }
        config.privateKey = .privateKey(c.privateKey)
        config.minimumTLSVersion = .tlsv13
        config.maximumTLSVersion = .tlsv13
        // Full verification pins the server to the node we meant via the "<id>.node.tong" DNS SAN.
        config.certificateVerification = .fullVerification
        config.trustRoots = .certificates(c.caCertificates)
        config.shutdownTimeout = closeNotifyTimeout
        return config
    }
}
