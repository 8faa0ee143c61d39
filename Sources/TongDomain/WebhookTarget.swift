import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where an enterprise's webhook may point (contract, 送达): `http` or `https` only, and never at
/// a private, loopback, link-local, multicast or reserved address unless node.toml's
/// `[delivery] webhook_allow` lists the host or a CIDR block containing the address, so that a
/// registration cannot turn the node into a scanner of its own network. Checked at
/// registration and again, on a fresh resolution, before every attempt (DNS may change).
package enum WebhookTarget {
    /// One `webhook_allow` entry: a host name, an IP address or a CIDR block.
    package enum Allowance: Sendable, Equatable {
        case host(String)
        case network([UInt8], prefix: Int)

        /// Parses an entry; nil if it is none of the three.
        package init?(_ s: String) {
            let parts = s.split(separator: "/", maxSplits: 1).map(String.init)
            if let bytes = WebhookTarget.address(parts[0]) {
                let bits = bytes.count * 8
                let prefix = parts.count == 2 ? Int(parts[1]) : bits
                guard let prefix, (0...bits).contains(prefix) else { return nil }
                self = .network(bytes, prefix: prefix)
            } else {
                guard parts.count == 1, !s.isEmpty, s.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }) else { return nil }
                self = .host(s.lowercased())
            }
        }

        func allows(host: String, address: [UInt8]) -> Bool {
            switch self {
            case .host(let h): return h == host.lowercased()
            case .network(let net, let prefix): return WebhookTarget.contains(net, prefix, address)
            }
        }
    }

    /// Checks a webhook URL; returns why it is refused (Chinese, for the enterprise), or nil.
    /// With `resolve`, a host name is looked up and every address it has must be allowed.
    package static func refusal(_ url: String, allow: [String], resolve: Bool = true) -> String? {
        guard url.count <= 2_000, let u = URL(string: url), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            return "webhook 地址须为 http 或 https 网址"
        }
        guard let host = u.host, !host.isEmpty, u.user == nil, u.password == nil else { return "webhook 地址须含主机名，且不得含用户名或密码" }
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        if let port = u.port, !(1...65_535).contains(port) { return "webhook 地址的端口须在 1–65535 之间" }
        // Numeric hosts only as a dotted quad or an IPv6 literal: resolvers read `2130706433`,
        // `0x7f.1` or `127.1` as addresses that HTTP clients then refuse, or reach differently.
        let numeric = !bare.contains(":") && bare.lowercased().allSatisfy { "0123456789abcdefx.".contains($0) }
            && bare.split(separator: ".").last.map { $0.allSatisfy(\.isNumber) || $0.lowercased().hasPrefix("0x") } == true
        if numeric, address(bare) == nil || bare.split(separator: ".").contains(where: { $0.count > 1 && $0.hasPrefix("0") }) {
            return "webhook 地址的主机须为域名或规范的 IP 地址（如 203.0.113.5）"
        }
        let allowances = allow.compactMap(Allowance.init)
        var addresses: [[UInt8]] = []
        if let a = address(bare) {
            addresses = [a]
        } else if resolve {
            addresses = lookup(bare)
            if addresses.isEmpty { return "无法解析 webhook 主机 \(bare)" }
        } else {
            return nil
        }
        for a in addresses where isRestricted(a) && !allowances.contains(where: { $0.allows(host: bare, address: a) }) {
            return "webhook 地址 \(bare) 指向内网、回环或保留地址，本节点不允许（可由节点管理员在 [delivery] webhook_allow 中放行）"
        }
        return nil
    }

    /// The bytes of an IPv4 or IPv6 literal (4 or 16 bytes), or nil.
    package static func address(_ s: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, s, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, s, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// Every address `host` resolves to (empty if it does not).
    static func lookup(_ host: String) -> [[UInt8]] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &res) == 0, let first = res else { return [] }
        defer { freeaddrinfo(first) }
        var out: [[UInt8]] = []
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let ai = p {
            if ai.pointee.ai_family == AF_INET, let sa = ai.pointee.ai_addr {
                var a = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                out.append(withUnsafeBytes(of: &a) { Array($0) })
            } else if ai.pointee.ai_family == AF_INET6, let sa = ai.pointee.ai_addr {
                var a = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                out.append(withUnsafeBytes(of: &a) { Array($0) })
            }
            p = ai.pointee.ai_next
        }
        return out
    }

    /// Loopback, private (RFC 1918, RFC 4193), shared (RFC 6598), link-local, multicast,
    /// benchmarking, reserved and unspecified addresses; IPv4-mapped IPv6 as its IPv4 address.
    package static func isRestricted(_ a: [UInt8]) -> Bool {
        if a.count == 16 {
            if a[0..<10].allSatisfy({ $0 == 0 }), a[10] == 0xFF, a[11] == 0xFF { return isRestricted(Array(a[12...])) }
            // NAT64 (RFC 6052, 64:ff9b::/96) carries an IPv4 address in its last four bytes.
            if a[0..<12].elementsEqual([0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0]) { return isRestricted(Array(a[12...])) }
            let blocked: [([UInt8], Int)] = [
                ([UInt8](repeating: 0, count: 16), 128), ([UInt8](repeating: 0, count: 15) + [1], 128),
                ([0xFC] + [UInt8](repeating: 0, count: 15), 7), ([0xFE, 0x80] + [UInt8](repeating: 0, count: 14), 10),
                ([0xFF] + [UInt8](repeating: 0, count: 15), 8), ([0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 12), 32),
            ]
            return blocked.contains { contains($0.0, $0.1, a) }
        }
        guard a.count == 4 else { return true }
        let blocked: [([UInt8], Int)] = [
            ([0, 0, 0, 0], 8), ([10, 0, 0, 0], 8), ([100, 64, 0, 0], 10), ([127, 0, 0, 0], 8), ([169, 254, 0, 0], 16),
            ([172, 16, 0, 0], 12), ([192, 0, 0, 0], 24), ([192, 0, 2, 0], 24), ([192, 168, 0, 0], 16), ([198, 18, 0, 0], 15),
            ([198, 51, 100, 0], 24), ([203, 0, 113, 0], 24), ([224, 0, 0, 0], 4), ([240, 0, 0, 0], 4),
        ]
        return blocked.contains { contains($0.0, $0.1, a) }
    }

    static func contains(_ net: [UInt8], _ prefix: Int, _ a: [UInt8]) -> Bool {
        guard net.count == a.count else { return false }
        var bits = prefix
        for k in 0..<net.count {
            guard bits > 0 else { return true }
            let mask: UInt8 = bits >= 8 ? 0xFF : UInt8(0xFF << (8 - bits) & 0xFF)
            if net[k] & mask != a[k] & mask { return false }
            bits -= 8
        }
        return true
    }
}
