import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal HTTP/1.1 client over a blocking socket with a manual cookie jar and no redirect
/// following, so tests see exactly what a browser would receive (303s, Set-Cookie flags).
final class PortalTestClient: @unchecked Sendable {
    /// One response.
    struct Reply {
        var status: Int
        var headers: [(String, String)]
        var body: String
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        var setCookies: [String] { headers.filter { $0.0.lowercased() == "set-cookie" }.map(\.1) }
    }

    let host: String
    let port: Int
    var cookies: [String: String] = [:]

    init(address: String) {
        let parts = address.split(separator: ":")
        host = String(parts[0]); port = Int(parts[1])!
    }

    func get(_ path: String) async throws -> Reply { try await send("GET", path, body: nil, contentType: nil) }

    /// POSTs fields url-encoded; `csrf: true` adds the `_csrf` field from the cookie jar.
    func post(_ path: String, _ fields: [(String, String)], csrf: Bool = true) async throws -> Reply {
        var f = fields
        if csrf, let t = cookies["tong_csrf"] { f.append(("_csrf", t)) }
        let body = f.map { Self.encode($0.0) + "=" + Self.encode($0.1) }.joined(separator: "&")
        return try await send("POST", path, body: Array(body.utf8), contentType: "application/x-www-form-urlencoded")
    }

    static func encode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            if (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || b == 0x2D || b == 0x2E || b == 0x5F {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else if b == 0x20 {
                out += "+"
            } else {
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }

    /// Sends one request. The blocking socket work runs on its own thread: the server under
    /// test handles requests on Swift's cooperative pool (two threads on a two-core machine),
    /// and a test blocking one of them while waiting for the server could starve it.
    func send(_ method: String, _ path: String, body: [UInt8]?, contentType: String?, extraHeaders: [String] = []) async throws -> Reply {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Reply, any Error>) in
            Thread {
                c.resume(with: Result { try self.sendBlocking(method, path, body: body, contentType: contentType, extraHeaders: extraHeaders) })
            }.start()
        }
    }

    private func sendBlocking(_ method: String, _ path: String, body: [UInt8]?, contentType: String?, extraHeaders: [String]) throws -> Reply {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr(host)
        let ok = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard ok else { throw POSIXError(.ECONNREFUSED) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        if !cookies.isEmpty {
            head += "Cookie: " + cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") + "\r\n"
        }
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        for h in extraHeaders { head += h + "\r\n" }
        head += "Content-Length: \(body?.count ?? 0)\r\n\r\n"
        let out = Array(head.utf8) + (body ?? [])
        var sent = 0
        while sent < out.count {
            let n = out[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            data += buf[0..<n]
        }
        return try parse(data)
    }

    private func parse(_ data: [UInt8]) throws -> Reply {
        let sep: [UInt8] = [13, 10, 13, 10]
        guard let i = (0..<max(0, data.count - 3)).first(where: { Array(data[$0..<$0 + 4]) == sep }) else { throw POSIXError(.EBADMSG) }
        let lines = String(decoding: data[0..<i], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(lines[0].split(separator: " ")[1]) ?? 0
        var headers: [(String, String)] = []
        for l in lines.dropFirst() {
            guard let c = l.firstIndex(of: ":") else { continue }
            headers.append((String(l[..<c]), l[l.index(after: c)...].trimmingCharacters(in: .whitespaces)))
        }
        var body = Array(data[(i + 4)...])
        if headers.contains(where: { $0.0.lowercased() == "transfer-encoding" && $0.1.lowercased().contains("chunked") }) {
            var out: [UInt8] = [], p = 0
            while p < body.count {
                guard let e = (p..<body.count - 1).first(where: { body[$0] == 13 && body[$0 + 1] == 10 }),
                    let size = Int(String(decoding: body[p..<e], as: UTF8.self).split(separator: ";")[0], radix: 16), size > 0
                else { break }
                out += body[(e + 2)..<min(body.count, e + 2 + size)]
                p = e + 2 + size + 2
            }
            body = out
        }
        let reply = Reply(status: status, headers: headers, body: String(decoding: body, as: UTF8.self))
        // Markup that reached a plain String by mistake shows up escaped or as a debug description.
        for sign in ["PortalHTML(", "class=&quot;", "&lt;li", "&lt;p&gt;", "&lt;a href", "&lt;span", "&lt;td"] where reply.body.contains(sign) {
            Issue.record("page markup was escaped as text (\(sign)) in a \(status) response")
        }
        for c in reply.setCookies {
            let kv = c.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            let name = String(kv[0]), value = kv.count > 1 ? String(kv[1]) : ""
            if value.isEmpty || c.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
        }
        return reply
    }
}
