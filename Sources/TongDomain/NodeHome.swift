import Crypto
import Foundation
import TongCore
import TongPeer

/// A node home folder, per the contract: node.toml, certs/, data/, admin.token, tokens/.
public struct NodeHome: Sendable {
    /// The folder.
    public var path: String
    /// Makes a handle (nothing is read yet).
    public init(path: String) { self.path = path }

    /// `node.toml`.
    public var configFile: String { path + "/node.toml" }
    /// The federation topology this node follows.
    public var topologyFile: String { path + "/topology.toml" }
    /// Federation CA certificate.
    public var caFile: String { path + "/certs/ca.pem" }
    /// This node's certificate.
    public var certFile: String { path + "/certs/node.pem" }
    /// This node's private key (0600).
    public var keyFile: String { path + "/certs/node.key" }
    /// The pending certificate signing request for `keyFile` (a first certificate).
    public var requestFile: String { path + "/certs/node.csr" }
    /// A renewal's new private key, until `tong ca install` swaps it in (0600).
    public var nextKeyFile: String { path + "/certs/next.key" }
    /// A renewal's certificate signing request.
    public var nextRequestFile: String { path + "/certs/next.csr" }
    /// Certificates this node used before (kept for audit; their keys are not).
    public var retiredDir: String { path + "/certs/retired" }
    /// The replica.
    public var databaseFile: String { path + "/data/tong.sqlite" }
    /// The admin token (0600).
    public var adminTokenFile: String { path + "/admin.token" }
    /// Department tokens (0600 each).
    public var tokensDir: String { path + "/tokens" }
    /// Private keys of this node's departments and of the node itself for sealed feedback (0600).
    public var sealKeysDir: String { path + "/keys" }

    package static func read(_ file: String, what: String) throws -> String {
        guard let d = FileManager.default.contents(atPath: file), let s = String(data: d, encoding: .utf8) else {
            throw NodeError.config("cannot read \(what) at \(file)")
        }
        return s
    }

    /// Writes a secret file, 0600 from the start (an existing file is replaced, not reused).
    package static func writeSecret(_ text: String, to file: String) throws {
        do { try KeyFile.writePrivate(text, to: file) } catch { throw NodeError.config("cannot write \(file): \(error)") }
    }

    /// A fresh random token: 32 bytes, URL-safe base64.
    package static func newToken() -> String {
        var g = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &g) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
