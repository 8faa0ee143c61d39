/// Failure raised by the peer transport and certificate tooling.
public struct PeerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Broad failure category, so callers can decide to retry or give up without parsing messages.
    public enum Code: String, Sendable, Equatable {
        /// A node id that cannot be used as a DNS label.
        case invalidNodeID
        /// PEM/key/certificate material that cannot be parsed or used.
        case invalidCredential
        /// Reading or writing a file failed.
        case io
        /// TCP connect failed or the peer is unreachable.
        case connectFailed
        /// TLS handshake or certificate verification failed (either side).
        case tlsFailed
        /// The peer presented a certificate for a different node than expected.
        case wrongPeer
        /// The request did not finish within its timeout.
        case timeout
        /// The response exceeded the body size cap.
        case responseTooLarge
        /// The connection closed before a complete response arrived.
        case connectionClosed
        /// The peer spoke malformed HTTP.
        case protocolError
    }

    /// Failure category.
    public var code: Code
    /// Human-readable detail.
    public var message: String

    /// Creates an error with a category and detail.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Category and detail in one line.
    public var description: String { "PeerError.\(code.rawValue): \(message)" }
}

/// The error type thrown by `PeerClient`.
public typealias PeerClientError = PeerError
