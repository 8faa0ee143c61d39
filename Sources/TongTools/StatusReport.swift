import Foundation
import TongCore
import TongDomain

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `tong status`: asks a running node (found through its home's node.toml and admin.token) for
/// its sync status and its subtree's federation status, and renders them for people or scripts.
public enum StatusReport {
    /// Fetches `{"sync": …, "federation": …}` from the node whose home is `home`: its
    /// `/api/v1/sync/status` and `/api/v1/federation/status`. Throws `NodeError(.configuration)`
    /// when the home is unreadable and `NodeError(.unavailable)` when the node does not answer.
    public static func fetch(home: NodeHome, timeout: TimeInterval = 10) async throws -> JSONValue {
        let config = try NodeConfiguration.parse(toml: readFile(home.configFile, what: "node.toml"))
        let token = try readFile(home.adminTokenFile, what: "admin token").trimmingCharacters(in: .whitespacesAndNewlines)
        let base = "http://\(localAddress(config.http))"
        var out: [String: JSONValue] = [:]
        for (key, path) in [("sync", "/api/v1/sync/status"), ("federation", "/api/v1/federation/status")] {
            guard let url = URL(string: base + path) else { throw NodeError.config("node.toml: http address \(config.http) is not usable") }
            var req = URLRequest(url: url, timeoutInterval: timeout)
            req.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            let data: Data, response: URLResponse
            do { (data, response) = try await URLSession.shared.data(for: req) } catch {
                throw NodeError(
                    .unavailable,
                    "node \(config.nodeID) (home \(home.path)) does not answer at \(base): is it running? (\(error.localizedDescription))")
            }
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            guard status == 200, let v = try? JSONParser.parse(Array(data)) else {
                throw NodeError(.unavailable, "\(base)\(path) answered \(status): \(String(decoding: data.prefix(200), as: UTF8.self))")
            }
            out[key] = v
        }
        return .object(out)
    }

    /// A listen address as a client reaches it: a wildcard host becomes loopback.
    static func localAddress(_ listen: String) -> String {
        guard let (host, port) = try? splitHostPort(listen) else { return listen }
        return (["0.0.0.0", "::", "[::]", ""].contains(host) ? "127.0.0.1" : host) + ":\(port)"
    }

    static func splitHostPort(_ s: String) throws -> (String, Int) {
        guard let i = s.lastIndex(of: ":"), let p = Int(s[s.index(after: i)...]) else { throw NodeError.config("\(s) is not host:port") }
        return (String(s[..<i]), p)
    }

    static func readFile(_ path: String, what: String) throws -> String {
        guard let d = FileManager.default.contents(atPath: path), let s = String(data: d, encoding: .utf8) else {
            throw NodeError.config("cannot read \(what) at \(path)")
        }
        return s
    }

    /// The report as aligned text tables: this node and its links, then its subtree.
    public static func table(_ report: JSONValue) -> String {
        let sync = report["sync"] ?? .null, fed = report["federation"] ?? .null
        var lines: [String] = []
        let me = sync["node"]?.stringValue ?? "?"
        lines.append(
            "node \(me): applied \(num(sync["applied"])), rejected \(num(sync["rejected"])), conflicts \(num(sync["conflicts"]))"
                + ((sync["restore_pending"] == .bool(true)) ? ", catching up after a restore (writes held)" : ""))
        var links: [[String]] = [["PEER", "ROLE", "CONNECTED", "PENDING", "LAST SYNC", "LAST ERROR"]]
        for p in sync["peers"]?.arrayValue ?? [] {
            links.append([
                p["id"]?.stringValue ?? "?", p["role"]?.stringValue ?? "", p["connected"] == .bool(true) ? "yes" : "NO",
                num(p["pending"]), p["last_sync"]?.stringValue ?? "never", String((p["last_error"]?.stringValue ?? "").prefix(60)),
            ])
        }
        lines.append("")
        lines.append("links:")
        lines += align(links).map { "  " + $0 }
        var nodes: [[String]] = [["NODE", "NAME", "VERSION", "LAST CONTACT", "PENDING", "LAG", "REJECTED", "CONFLICTS"]]
        for n in fed["nodes"]?.arrayValue ?? [] {
            let depth = Int(n["depth"]?.intValue ?? 0) - Int((fed["nodes"]?.arrayValue?.first?["depth"]?.intValue) ?? 0)
            let contact: String = n["last_contact"]?.stringValue == nil ? "never" : "\(age(n["last_contact_age_seconds"]?.intValue ?? 0)) ago"
            nodes.append([
                String(repeating: "  ", count: max(0, depth)) + (n["id"]?.stringValue ?? "?"), n["name"]?.stringValue ?? "",
                n["version"]?.stringValue ?? "-", contact, num(n["pending"]), n["lag_seconds"] == nil ? "-" : age(n["lag_seconds"]?.intValue ?? 0),
                num(n["rejected"]), num(n["conflicts"]),
            ])
        }
        lines.append("")
        lines.append("subtree (from the stats each node publishes):")
        lines += align(nodes).map { "  " + $0 }
        return lines.joined(separator: "\n")
    }

    static func num(_ v: JSONValue?) -> String { v?.intValue.map(String.init) ?? "-" }

    static func age(_ seconds: Int64) -> String {
        seconds < 120 ? "\(seconds)s" : seconds < 7_200 ? "\(seconds / 60)m" : seconds < 172_800 ? "\(seconds / 3_600)h" : "\(seconds / 86_400)d"
    }

    /// Pads columns to their widest cell (CJK characters count as two columns).
    static func align(_ rows: [[String]]) -> [String] {
        func width(_ s: String) -> Int { s.unicodeScalars.reduce(0) { $0 + ($1.value >= 0x1100 ? 2 : 1) } }
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], width(c)) } }
        return rows.map { r in
            r.enumerated().map { i, c in i == r.count - 1 ? c : c + String(repeating: " ", count: widths[i] - width(c) + 2) }.joined()
                .trimmingCharacters(in: .whitespaces)
        }
    }
}
