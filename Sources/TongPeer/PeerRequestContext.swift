import Hummingbird
import Logging
import NIOCore
import NIOSSL
import TongCore
import X509

/// Request context for peer routes: keeps the connection so handlers can learn which node is calling.
public struct PeerRequestContext: RequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The connection this request arrived on (TLS lives here, or on its parent for multiplexed protocols).
    public let channel: any Channel

    /// Sync batches can be large; 16 MiB keeps a full batch acceptable while bounding memory per request.
    public var maxUploadSize: Int { 16 * 1024 * 1024 }

    /// Called by Hummingbird for each request.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// Node id from the client certificate the TLS layer already verified against the federation CA; nil without TLS or cert.
    public func peerNodeID() async -> String? {
        guard let der = await peerCertificateDER(), let parsed = try? Certificate(derEncoded: der) else { return nil }
        return NodeIdentity.nodeID(of: parsed)
    }

    /// The client certificate (DER) the TLS layer verified; nil without TLS or cert.
    public func peerCertificateDER() async -> [UInt8]? {
        var current: (any Channel)? = channel
        while let ch = current {
            do {
                // Throws only when this channel has no TLS handler, in which case TLS may be on the parent (HTTP/2 streams).
                guard let cert = try await ch.nioSSL_peerCertificate().get() else { return nil }
                return try? cert.toDERBytes()
            } catch {
                current = ch.parent
            }
        }
        return nil
    }
}
