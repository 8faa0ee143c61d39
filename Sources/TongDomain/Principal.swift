import Crypto
import Foundation

/// Who is calling the API.
public enum Principal: Sendable, Equatable {
    /// No or unknown token.
    case anonymous
    /// The node's admin.
    case admin
    /// Staff of one department.
    case department(String)
}

extension Principal {
    /// Throws 401 without a known token, 403 for a token that is not this node's admin.
    package func requireAdmin(_ forbidden: String = "admin only") throws {
        switch self {
        case .admin: return
        case .anonymous: throw NodeError.unauthorized("an admin token is required")
        case .department: throw NodeError.forbidden(forbidden)
        }
    }
}

/// Bearer tokens, kept only as SHA-256 hashes and compared in constant time.
public struct TokenAuth: Sendable {
    private var entries: [(hash: [UInt8], principal: Principal)] = []

    /// Empty.
    public init() {}

    /// Registers a token.
    public mutating func add(token: String, for principal: Principal) {
        entries.append((Array(SHA256.hash(data: Data(token.utf8))), principal))
    }

    /// Resolves an `Authorization` header value. Every stored hash is compared, in constant
    /// time, so timing says nothing about which token was close.
    public func principal(authorization: String?) -> Principal? {
        guard let token = Self.bearerToken(authorization) else { return nil }
        let h = Array(SHA256.hash(data: Data(token.utf8)))
        var found: Principal?
        for e in entries where Self.constantTimeEqual(e.hash, h) { found = e.principal }
        return found
    }

    /// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive
    /// (RFC 9110 §11.1). Nil if absent, empty or over 256 bytes.
    package static func bearerToken(_ authorization: String?) -> String? {
        guard let a = authorization, a.count > 7, a.prefix(7).lowercased() == "bearer " else { return nil }
        let token = a.dropFirst(7).trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty, token.utf8.count <= 256 else { return nil }
        return token
    }

    package static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var d: UInt8 = 0
        for i in 0..<a.count { d |= a[i] ^ b[i] }
        return d == 0
    }
}
